// A follower applies committed txns without waiting for its own fsync (issue 14, item 7),
// as ZooKeeper's CommitProcessor does independently of its SyncRequestProcessor: a read
// on a follower after a write committed elsewhere does not wait for the follower's disk.
// Its ACKs still wait for its fsync, and nothing it applied ahead is lost to it.
//
// The follower's log fsyncs are held on a gate; the write commits with the leader and the
// other follower; the held follower's tree has it (a watch set on that follower fires)
// while its fsync is still held.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient, type WatchEvent } from "../../src/client/index.js";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { nodeDisk, recover, versionDir, type Disk, type DiskFile } from "../../src/storage/index.js";
import { DataTree } from "../../src/tree/index.js";
import { silentLogger } from "../../src/util/index.js";

/** fsyncs of log files wait while the gate is closed; everything else is the real disk. */
class SyncGate {
  closed = false;
  held = 0;
  #waiters: (() => void)[] = [];

  wait(): Promise<void> {
    if (!this.closed) return Promise.resolve();
    this.held++;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  open(): void {
    this.closed = false;
    for (const w of this.#waiters.splice(0)) w();
    this.held = 0;
  }

  disk(): Disk {
    const gated = (f: DiskFile): DiskFile => ({
      path: f.path,
      write: (d, at) => f.write(d, at),
      truncate: (n) => f.truncate(n),
      close: () => f.close(),
      sync: async () => {
        if (/[\\/]log\.[0-9a-f]+$/.test(f.path)) await this.wait();
        await f.sync();
      },
    });
    return {
      ...nodeDisk,
      create: async (p) => gated(await nodeDisk.create(p)),
      openForWrite: async (p) => gated(await nodeDisk.openForWrite(p)),
    };
  }
}

let ens: TestEnsemble | undefined;
let root: string | undefined;
const gates = new Map<bigint, SyncGate>();
const clients: CorralClient[] = [];

afterEach(async () => {
  for (const g of gates.values()) g.open();
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await ens?.stop();
  ens = undefined;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  gates.clear();
});

describe("a follower applies commits ahead of its own fsync", () => {
  it("a write committed elsewhere is visible on a follower whose fsync is held, and is durable there once released", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-follower-apply-"));
    ens = await startEnsembleForTest({
      participants: 3,
      dataDirRoot: root,
      diskOf: (id) => {
        const g = new SyncGate();
        gates.set(id, g);
        return g.disk();
      },
    });
    const leader = ens.leader()!;
    const slow = ens.followers()[0]!;
    const writer = await connect(ens.connectStringOf(leader), { sessionTimeoutMs: 6000 });
    const reader = await connect(ens.connectStringOf(slow), { sessionTimeoutMs: 6000 });
    clients.push(writer, reader);
    await writer.create("/before", "x");
    await reader.sync("/before");

    let created: (e: WatchEvent) => void = () => {};
    const event = new Promise<WatchEvent>((resolve) => (created = resolve));
    expect(await reader.exists("/after", { watch: created })).toBeNull();

    const gate = gates.get(slow.me.id)!;
    gate.closed = true;
    const ahead = slow.aheadCommits;
    await writer.create("/after", "y");
    // Before this change the commit waited behind the held fsync: no event until release.
    const seen = await Promise.race([event, new Promise<undefined>((r) => setTimeout(r, 5000, undefined))]);
    expect(seen, "the follower applied the commit only after its held fsync").toMatchObject({ type: "NodeCreated", path: "/after" });
    expect(gate.held).toBeGreaterThan(0); // the follower's fsync of /after is still held
    expect(slow.aheadCommits).toBeGreaterThan(ahead);
    expect((await reader.getData("/after")).data?.toString()).toBe("y");

    gate.open();
    // Its log catches up: stopped, its own data dir recovers the write (no sync from a leader).
    await writer.create("/later", "z");
    await reader.sync("/later");
    expect(await reader.exists("/later")).not.toBeNull();
    await reader.close();
    await ens.stopMember(slow);
    const dir = versionDir(join(root, String(slow.me.id)));
    const tree = new DataTree();
    await recover({ disk: nodeDisk, snapDir: dir, logDir: dir, log: silentLogger }, tree);
    expect(tree.get("/after")?.data?.toString()).toBe("y");
    expect(tree.get("/later")?.data?.toString()).toBe("z");
  }, 30_000);
});
