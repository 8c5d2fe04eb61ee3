// Storage as the server uses it: the randomised snapshot schedule, the persisted session
// secret, session ids and sizes across restarts, and closing with a snapshot under way.

import { describe, expect, it } from "vitest";
import { FakeDisk, Storage, type StorageOptions } from "../../../src/storage/index.js";
import { DataTree } from "../../../src/tree/index.js";
import type { TxnEntry } from "../../../src/txn/index.js";
import { SeededPrng, silentLogger } from "../../../src/util/index.js";
import { creates, entry } from "./helpers.js";

function options(disk: FakeDisk, over: Partial<StorageOptions> = {}): StorageOptions {
  return {
    disk,
    dataDir: "/data",
    dataLogDir: "/logs",
    snapCount: 100,
    forceSync: true,
    prng: new SeededPrng(42),
    log: silentLogger,
    nowMs: () => 1_700_000_000_000,
    ...over,
  };
}

const idle = async (s: Storage): Promise<void> => {
  await new Promise((r) => setImmediate(r));
  while (s.snapshotInProgress) await new Promise((r) => setImmediate(r));
};

async function applyAll(s: Storage, tree: DataTree, entries: readonly TxnEntry[], wait = true): Promise<void> {
  for (const e of entries) {
    await s.append(e);
    tree.apply(e, []);
    s.applied(e, []);
    if (wait) await idle(s);
  }
}

describe("storage", () => {
  it("snapshots after a random number of txns in [snapCount/2+1, snapCount], rolling the log each time", async () => {
    const disk = new FakeDisk();
    const tree = new DataTree();
    const s = await Storage.open(options(disk), tree);
    await applyAll(s, tree, creates(1000));
    await s.close();
    const files = [...disk.files().keys()];
    const snapZxids = files.filter((f) => f.startsWith("/data/version-2/snapshot.")).map((f) => parseInt(f.split(".").pop()!, 16)).sort((a, b) => a - b);
    const gaps = snapZxids.map((z, i) => z - (i === 0 ? 0 : snapZxids[i - 1]!));
    expect(snapZxids.length).toBeGreaterThanOrEqual(10);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(51);
      expect(g).toBeLessThanOrEqual(100);
    }
    expect(new Set(gaps).size).toBeGreaterThan(3);
    // Every snapshot rolled the log: a log file starts with the txn that triggered it.
    const logStarts = new Set(files.filter((f) => f.startsWith("/logs/version-2/log.")).map((f) => parseInt(f.split(".").pop()!, 16)));
    for (const z of snapZxids) expect(logStarts.has(z)).toBe(true);
  });

  it("a snapshot due while another is written is deferred, not skipped", async () => {
    const disk = new FakeDisk({ syncTurns: 2 });
    const tree = new DataTree();
    const s = await Storage.open(options(disk, { snapCount: 10, snapshotSliceBytes: 20 }), tree);
    await applyAll(s, tree, creates(60), false);
    expect(s.snapshotsDeferred).toBeGreaterThan(0);
    await idle(s);
    await idle(s);
    expect(s.snapshotsTaken).toBeGreaterThanOrEqual(2);
    const snaps = [...disk.files().keys()].filter((f) => f.includes("snapshot."));
    expect(snaps.some((f) => f.endsWith(".tmp"))).toBe(false);
    await s.close();
  });

  it("keeps the session secret in dataDir across restarts", async () => {
    const disk = new FakeDisk();
    const first = await Storage.open(options(disk, { randomBytes: (n) => Buffer.alloc(n, 0xab) }), new DataTree());
    await first.close();
    const second = await Storage.open(options(disk, { randomBytes: () => Buffer.alloc(32, 0x01) }), new DataTree());
    expect(second.secret).toEqual(Buffer.alloc(32, 0xab));
    expect(disk.files().get("/data/corral-secret")!.toString()).toBe("ab".repeat(32) + "\n");
    await second.close();
  });

  it("remembers the highest session id and the sessions through snapshots and logs", async () => {
    const disk = new FakeDisk();
    const tree = new DataTree();
    const s = await Storage.open(options(disk, { snapCount: 4 }), tree);
    const sessions = new Map<bigint, number>();
    s.setSessionSource(() => [...sessions].map(([id, timeoutMs]) => ({ id, timeoutMs })));
    const ids = [0x500n, 0x501n, 0x502n];
    const txns: TxnEntry[] = [
      entry(1, { type: "createSession", timeoutMs: 4000 }, ids[0]),
      entry(2, { type: "createSession", timeoutMs: 5000 }, ids[1]),
      entry(3, { type: "createSession", timeoutMs: 6000 }, ids[2]),
      entry(4, { type: "closeSession" }, ids[2]),
      ...creates(10, 5),
    ];
    for (const e of txns) {
      await s.append(e);
      tree.apply(e, []);
      if (e.txn.type === "createSession") sessions.set(e.hdr.sessionId, e.txn.timeoutMs);
      if (e.txn.type === "closeSession") sessions.delete(e.hdr.sessionId);
      s.applied(e, []);
      await idle(s);
    }
    await s.purge(3);
    await s.close();
    const again = await Storage.open(options(disk), new DataTree());
    expect(again.recovered.snapshot).toBeDefined();
    expect(again.highestSessionId).toBe(0x502n);
    expect([...again.recovered.sessions]).toEqual([
      [0x500n, 4000],
      [0x501n, 5000],
    ]);
    expect(again.recovered.lastZxid).toBe(14n);
    await again.close();
  });

  it("reports the bytes of its files", async () => {
    const disk = new FakeDisk();
    const tree = new DataTree();
    const s = await Storage.open(options(disk, { snapCount: 20 }), tree);
    await applyAll(s, tree, creates(50));
    const sum = (prefix: string): number =>
      [...disk.files()].filter(([p]) => p.startsWith(prefix) && !p.endsWith("corral-secret")).reduce((n, [, b]) => n + b.length, 0);
    expect(s.sizes()).toEqual({ dataDirBytes: sum("/data/"), dataLogDirBytes: sum("/logs/") });
    await s.close();
    const shared = new FakeDisk();
    const t2 = new DataTree();
    const s2 = await Storage.open(options(shared, { dataLogDir: undefined, snapCount: 20 }), t2);
    await applyAll(s2, t2, creates(30));
    const total = [...shared.files()].filter(([p]) => p.includes("version-2")).reduce((n, [, b]) => n + b.length, 0);
    expect(s2.sizes()).toEqual({ dataDirBytes: total, dataLogDirBytes: total });
    await s2.close();
  });

  it("a SNAP reset racing close() removes nothing: no snapshot of the image can be written then", async () => {
    const disk = new FakeDisk();
    const tree = new DataTree();
    const s = await Storage.open(options(disk, { snapCount: 10 }), tree);
    await applyAll(s, tree, creates(30));
    await s.close();
    const before = [...disk.files().keys()].sort();
    tree.reset();
    for (const e of creates(40)) tree.apply(e, []);
    await s.resetTo(40n);
    expect([...disk.files().keys()].sort()).toEqual(before);
    const again = new DataTree();
    await (await Storage.open(options(disk), again)).close();
    expect(again.lastProcessedZxid).toBe(30n);
  });

  it("close() stops a snapshot under way and leaves no temporary file", async () => {
    const disk = new FakeDisk();
    const tree = new DataTree();
    const s = await Storage.open(options(disk, { snapshotSliceBytes: 30 }), tree);
    await applyAll(s, tree, creates(40), false);
    const snap = s.snapshotNow();
    await new Promise((r) => setImmediate(r));
    expect(s.snapshotInProgress).toBe(true);
    await s.close();
    expect(await snap).toBeUndefined();
    expect([...disk.files().keys()].filter((p) => p.includes("snapshot"))).toEqual([]);
  });
});
