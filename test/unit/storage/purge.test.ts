// Purge retention (ZooKeeper's PurgeTxnLog): the newest N snapshots that verify, the log
// files after the oldest of them and the one log file before it; a purged directory
// still recovers to the same tree.

import { describe, expect, it } from "vitest";
import { FakeDisk, Storage, planPurge, type NamedFile } from "../../../src/storage/index.js";
import { DataTree } from "../../../src/tree/index.js";
import { asZxid, SeededPrng, silentLogger } from "../../../src/util/index.js";
import { creates, treeText } from "./helpers.js";

function named(prefix: "log" | "snapshot", zxids: number[]): NamedFile[] {
  return zxids.map((z) => ({ name: `${prefix}.${z.toString(16)}`, path: `/d/${prefix}.${z.toString(16)}`, zxid: asZxid(BigInt(z)) }));
}

describe("purge", () => {
  it("keeps the newest N valid snapshots, the logs after the oldest kept and the log before it", () => {
    const snaps = named("snapshot", [10, 20, 30, 40, 50]);
    const logs = named("log", [1, 8, 15, 25, 35, 45, 55]);
    const plan = planPurge(snaps, new Set(snaps.map((s) => s.path)), logs, 3);
    expect(plan.keepSnapshots.map((s) => s.name)).toEqual(["snapshot.1e", "snapshot.28", "snapshot.32"]);
    expect(plan.removeSnapshots.map((s) => s.name)).toEqual(["snapshot.a", "snapshot.14"]);
    // log.19 (25) holds zxid 30's successors: it and everything after stay.
    expect(plan.removeLogs.map((s) => s.name)).toEqual(["log.1", "log.8", "log.f"]);
  });

  it("keeps the log that starts exactly at the oldest kept snapshot's zxid, and no earlier one", () => {
    const snaps = named("snapshot", [10, 20]);
    const logs = named("log", [1, 11, 20, 21]);
    const plan = planPurge(snaps, new Set(snaps.map((s) => s.path)), logs, 1);
    expect(plan.removeLogs.map((s) => s.name)).toEqual(["log.1", "log.b"]);
    expect(plan.removeSnapshots.map((s) => s.name)).toEqual(["snapshot.a"]);
  });

  it("does not count snapshots that fail verification, and removes nothing without a valid one", () => {
    const snaps = named("snapshot", [10, 20, 30]);
    const logs = named("log", [1, 15, 25]);
    const onlyOld = new Set([snaps[0]!.path]);
    const plan = planPurge(snaps, onlyOld, logs, 2);
    expect(plan.keepSnapshots.map((s) => s.name)).toEqual(["snapshot.a"]);
    expect(plan.removeSnapshots).toEqual([]);
    expect(plan.removeLogs).toEqual([]);
    expect(planPurge(snaps, new Set(), logs, 3)).toEqual({ keepSnapshots: [], removeSnapshots: [], removeLogs: [] });
  });

  it("purging a live directory leaves one that recovers to the same tree", async () => {
    const disk = new FakeDisk();
    const opts = {
      disk,
      dataDir: "/d",
      snapCount: 10,
      forceSync: true,
      prng: new SeededPrng(3),
      log: silentLogger,
      nowMs: () => 0,
      randomBytes: (n: number) => Buffer.alloc(n, 1),
    };
    const tree = new DataTree();
    const storage = await Storage.open(opts, tree);
    for (const e of creates(100)) {
      await storage.append(e);
      tree.apply(e, []);
      storage.applied(e, []);
      // Let a triggered snapshot finish before the next txn, so there are many.
      await new Promise((r) => setImmediate(r));
      while (storage.snapshotInProgress) await new Promise((r) => setImmediate(r));
    }
    const before = [...disk.files().keys()].filter((p) => p.includes("snapshot.")).length;
    expect(before).toBeGreaterThan(5);
    const result = await storage.purge(3);
    await storage.close();
    const after = [...disk.files().keys()];
    expect(after.filter((p) => p.includes("snapshot."))).toHaveLength(3);
    expect(result.removeSnapshots.length).toBe(before - 3);
    expect(result.removeLogs.length).toBeGreaterThan(0);
    expect(result.bytesRemoved).toBeGreaterThan(0);
    const back = new DataTree();
    const again = await Storage.open(opts, back);
    expect(treeText(back)).toBe(treeText(tree));
    await again.close();
    // Even from the oldest kept snapshot (the two newer ones rotted) the kept logs suffice.
    const kept = result.keepSnapshots;
    for (const f of kept.slice(1)) disk.corrupt(f.path, 20, Buffer.from("rot"));
    const fromOldest = new DataTree();
    const third = await Storage.open(opts, fromOldest);
    expect(third.recovered.snapshot?.name).toBe(kept[0]!.name);
    expect(treeText(fromOldest)).toBe(treeText(tree));
    await third.close();
  });
});
