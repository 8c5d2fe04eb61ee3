// ZAB's TRUNC and SNAP on disk (Storage.truncateAfter, Storage.resetTo), crashed at every
// disk operation: the machine dies at operation k (FakeDisk crashAtOp), keeps a random
// part of what was not synced (several draws per k, torn writes included), restarts, and
// must recover. For every k the recovered tree must be, field for field, one of:
//  - the old history (the learner's own log) up to some zxid R, with R at or past the
//    target zxid Z when the old history reached it: the old state, or the old state with
//    some of its txns past Z dropped, which is what the TRUNC to Z is doing (the leader
//    sent Z because nothing past it was committed);
//  - the new state: the old history up to Z (TRUNC) or the leader's image at Z (SNAP),
//    then a prefix of the txns appended after it;
// never a refusal to start, never an old txn past Z replayed on top of the new state,
// never a mixture of the two histories.

import { describe, expect, it } from "vitest";
import { FakeDisk, Storage, type StorageOptions } from "../../../src/storage/index.js";
import { DataTree } from "../../../src/tree/index.js";
import type { TxnEntry } from "../../../src/txn/index.js";
import { SeededPrng, silentLogger, zxidOf } from "../../../src/util/index.js";
import { create, entry, treeText } from "./helpers.js";

/** Different afterCrash draws per crash point. */
const DRAWS_PER_CRASH = 4;

function options(disk: FakeDisk, over: Partial<StorageOptions> = {}): StorageOptions {
  return {
    disk,
    dataDir: "/data",
    dataLogDir: "/logs",
    snapCount: 8,
    forceSync: true,
    prng: new SeededPrng(7),
    log: silentLogger,
    nowMs: () => 1_700_000_000_000,
    randomBytes: (n) => Buffer.alloc(n, 3),
    ...over,
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function idle(s: Storage): Promise<void> {
  await turn();
  while (s.snapshotInProgress) await turn();
}

/** Txns creating /<tag>-<i>, one per zxid given. */
function history(tag: string, zxids: readonly bigint[]): TxnEntry[] {
  return zxids.map((z, i) => entry(z, create(`/${tag}-${i}`, `${tag}@${z.toString(16)}`)));
}

const range = (epoch: number, from: number, to: number): bigint[] => Array.from({ length: to - from + 1 }, (_, i) => zxidOf(epoch, from + i));

async function applyAll(s: Storage, tree: DataTree, entries: readonly TxnEntry[]): Promise<void> {
  for (const e of entries) {
    await s.append(e);
    tree.apply(e, []);
    s.applied(e, []);
    await idle(s);
  }
}

function treeOf(entries: readonly TxnEntry[]): DataTree {
  const t = new DataTree();
  for (const e of entries) t.apply(e, []);
  return t;
}

interface Scenario {
  /** The learner's own history, written (with snapshots and rolls) before the sync. */
  readonly old: readonly TxnEntry[];
  /** Purge down to this many snapshots before the sync (undefined: no purge). */
  readonly retain?: number;
  /** Writes `old` (default: one txn at a time, waiting for snapshots to finish). */
  readonly setup?: (s: Storage, tree: DataTree) => Promise<void>;
  /** Storage options over the defaults (small snapCount, separate dirs). */
  readonly storage?: Partial<StorageOptions>;
  /** The sync step under test, on the opened storage and its tree. */
  readonly sync: (s: Storage, tree: DataTree) => Promise<void>;
  /** The zxid the sync cuts or resets to. */
  readonly target: bigint;
  /** The state right after the sync (old history up to Z for TRUNC, the image for SNAP). */
  readonly synced: readonly TxnEntry[];
  /** Txns the learner appends after the sync, as it would on DIFF/PROPOSAL. */
  readonly after: readonly TxnEntry[];
}

/** Runs the scenario, with the machine dying at operation `crashAtOp` (undefined: never). */
async function run(sc: Scenario, crashAtOp: number | undefined): Promise<{ disk: FakeDisk; setupOps: number; totalOps: number }> {
  const disk = new FakeDisk(crashAtOp === undefined ? {} : { crashAtOp });
  const tree = new DataTree();
  const s = await Storage.open(options(disk, sc.storage), tree);
  await (sc.setup ?? ((st, t) => applyAll(st, t, sc.old)))(s, tree);
  if (sc.retain !== undefined) await s.purge(sc.retain);
  const setupOps = disk.ops;
  expect(disk.crashed).toBe(false);
  const steps = async (): Promise<void> => {
    await sc.sync(s, tree);
    await applyAll(s, tree, sc.after);
    await s.close();
  };
  await Promise.race([steps(), disk.whenCrashed]);
  return { disk, setupOps, totalOps: disk.ops };
}

/** Which history the recovered tree is a prefix of, or a failure naming what it is. */
function judge(sc: Scenario, recovered: DataTree): string {
  const r = recovered.lastProcessedZxid;
  const text = treeText(recovered);
  const newHistory = [...sc.synced, ...sc.after];
  if (r >= sc.target && text === treeText(treeOf(newHistory.filter((e) => e.hdr.zxid <= r)))) return "new";
  const oldLast = sc.old.at(-1)!.hdr.zxid;
  const floor = oldLast < sc.target ? oldLast : sc.target;
  if (r >= floor && text === treeText(treeOf(sc.old.filter((e) => e.hdr.zxid <= r)))) return r === oldLast ? "old" : "old, cut past the target";
  return `neither history: recovered at 0x${r.toString(16)}`;
}

async function crashEverywhere(sc: Scenario): Promise<Map<string, number>> {
  const clean = await run(sc, undefined);
  // Sanity: without a crash, the sync ends in the new state.
  const tree = new DataTree();
  await (await Storage.open(options(clean.disk.afterCrash(new SeededPrng(1)), sc.storage), tree)).close();
  expect(judge(sc, tree)).toBe("new");
  expect(tree.lastProcessedZxid).toBe(sc.after.at(-1)!.hdr.zxid);
  const outcomes = new Map<string, number>();
  const failures: string[] = [];
  for (let k = clean.setupOps + 1; k <= clean.totalOps + 1; k++) {
    const crashed = await run(sc, k);
    expect(crashed.setupOps).toBe(clean.setupOps); // deterministic: op k is the same op every time
    for (let draw = 0; draw < DRAWS_PER_CRASH; draw++) {
      const after = crashed.disk.afterCrash(new SeededPrng(k * 31 + draw));
      const t = new DataTree();
      let verdict: string;
      try {
        await (await Storage.open(options(after, sc.storage), t)).close();
        verdict = judge(sc, t);
      } catch (e) {
        verdict = `refused to start: ${e instanceof Error ? e.message : String(e)}`;
      }
      outcomes.set(verdict, (outcomes.get(verdict) ?? 0) + 1);
      if (!verdict.startsWith("new") && !verdict.startsWith("old")) failures.push(`crash at op ${k - clean.setupOps}/${clean.totalOps - clean.setupOps}, draw ${draw}: ${verdict}`);
    }
  }
  expect(failures).toEqual([]);
  expect(outcomes.get("new")).toBeGreaterThan(0);
  return outcomes;
}

describe("TRUNC and SNAP survive a crash at every disk operation", () => {
  it("TRUNC into an earlier epoch: later-epoch log files and snapshots never come back on top of the cut", async () => {
    const old = [...history("e1", range(1, 1, 30)), ...history("e2", range(2, 1, 30))];
    const target = zxidOf(1, 22);
    const outcomes = await crashEverywhere({
      old,
      target,
      sync: async (s, tree) => {
        await s.truncateAfter(target, tree);
      },
      synced: old.filter((e) => e.hdr.zxid <= target),
      after: history("e3", range(3, 1, 3)),
    });
    expect(outcomes.get("old")).toBeGreaterThan(0);
  }, 60_000);

  // Logs roll every few txns. Cut in the middle of epoch 1, a later file of epoch 1 that came
  // back would be a gap (refusing to start); cut in the last file of epoch 1, an epoch-2
  // file that came back would be replayed on top of the cut.
  for (const [shared, counter] of [
    [false, 17],
    [true, 17],
    [false, 29],
  ] as const) {
    it(`TRUNC to (epoch 1, counter ${counter}) with no snapshot past the cut, logs rolled by size${shared ? ", one directory for both" : ""}: a removed later file never comes back`, async () => {
      const old = [...history("e1", range(1, 1, 30)), ...history("e2", range(2, 1, 20))];
      const target = zxidOf(1, counter);
      const outcomes = await crashEverywhere({
        old,
        target,
        storage: { snapCount: 1000, txnLogSizeLimitBytes: 400, ...(shared ? { dataLogDir: undefined } : {}) },
        sync: async (s, tree) => {
          await s.truncateAfter(target, tree);
        },
        synced: old.filter((e) => e.hdr.zxid <= target),
        after: history("e3", range(3, 1, 3)),
      });
      expect(outcomes.get("old, cut past the target")).toBeGreaterThan(0);
    }, 60_000);
  }

  it("TRUNC within one epoch: a cut file never meets a later file of the same epoch", async () => {
    const old = history("e1", range(1, 1, 45));
    const target = zxidOf(1, 13);
    await crashEverywhere({
      old,
      target,
      sync: async (s, tree) => {
        await s.truncateAfter(target, tree);
      },
      synced: old.filter((e) => e.hdr.zxid <= target),
      after: history("e2", range(2, 1, 3)),
    });
  }, 60_000);

  it("TRUNC drops a snapshot taken before the cut whose fuzzy window runs past it", async () => {
    const old = history("e1", range(1, 1, 30));
    const target = zxidOf(1, 14);
    let window: { from: bigint; to: bigint } | undefined;
    const setup = async (s: Storage, tree: DataTree): Promise<void> => {
      await applyAll(s, tree, old.slice(0, 10));
      const snap = s.snapshotNow();
      for (const e of old.slice(10, 20)) {
        await s.append(e);
        tree.apply(e, []);
        s.applied(e, []);
        await turn(); // the snapshot writes a slice while txns keep coming
      }
      const r = (await snap)!;
      window = { from: r.zxid, to: r.lastZxid };
      await applyAll(s, tree, old.slice(20));
    };
    const sc: Scenario = {
      old,
      target,
      setup,
      storage: { snapCount: 1000, snapshotSliceBytes: 20 },
      sync: async (s, tree) => {
        expect(await s.truncateAfter(target, tree)).toBeDefined();
        expect(treeText(tree)).toBe(treeText(treeOf(old.filter((e) => e.hdr.zxid <= target))));
      },
      synced: old.filter((e) => e.hdr.zxid <= target),
      after: history("e2", range(2, 1, 3)),
    };
    await crashEverywhere(sc);
    expect(window!.from).toBeLessThan(target);
    expect(window!.to).toBeGreaterThan(target);
  }, 60_000);

  it("SNAP to a learner that is behind: the old snapshots go only once the image is durable", async () => {
    const old = history("old", range(1, 1, 40));
    const image = history("img", [...range(1, 1, 40), ...range(2, 1, 12)]);
    const target = zxidOf(2, 12);
    const outcomes = await crashEverywhere({
      old,
      // Only the newest snapshot and the log after it: the old state needs that snapshot.
      retain: 1,
      target,
      sync: async (s, tree) => {
        tree.reset();
        for (const e of image) tree.apply(e, []);
        await s.resetTo(target);
      },
      synced: image,
      after: history("next", range(2, 13, 15)),
    });
    expect(outcomes.get("old")).toBeGreaterThan(0);
  }, 60_000);

  it("SNAP to a learner whose own history runs past the image: none of it is replayed over the image", async () => {
    const old = [...history("old", range(1, 1, 30)), ...history("old2", range(2, 1, 20))];
    const image = history("img", range(1, 1, 25));
    const target = zxidOf(1, 25);
    await crashEverywhere({
      old,
      target,
      sync: async (s, tree) => {
        tree.reset();
        for (const e of image) tree.apply(e, []);
        await s.resetTo(target);
      },
      synced: image,
      after: history("next", range(3, 1, 3)),
    });
  }, 60_000);
});
