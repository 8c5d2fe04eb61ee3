// Durability benchmark hooks (issue 4), a standalone script:
//
//   npm run build && node dist/bench/durability.js [--nodes 1000000] [--log 100000]
//       [--clients 64] [--appends 200] [--slice 65536] [--dir /tmp/...]
//
// 1. Builds a tree of --nodes small znodes (1,000 parents x N/1,000 children, 16-byte
//    data) and takes a fuzzy snapshot of it on the real disk while txns keep being
//    applied, recording the longest event-loop stall (perf_hooks.monitorEventLoopDelay,
//    and a setImmediate heartbeat) — snapshots must not stall request handling.
// 2. Logs --log txns after the snapshot's zxid through the group-committed log (fsync
//    on): the ones applied while it was written, then setData txns up to --log.
// 3. Recovers from the snapshot plus the log into a fresh tree and times it.
// 4. Group commit: --clients concurrent writers each appending --appends txns one at a
//    time (each waits for its previous txn to be durable, like a client with one write
//    outstanding): fsyncs per batch, txns per fsync, throughput.
// Prints one JSON object. Not a test: the general bench harness comes later.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { FuzzySnapshot, TxnLog, nodeDisk, recover, versionDir } from "../src/storage/index.js";
import { DataTree, OPEN_ACL_UNSAFE } from "../src/tree/index.js";
import type { TxnEntry } from "../src/txn/index.js";
import { asSessionId, asZxid, silentLogger } from "../src/util/index.js";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const NODES = arg("nodes", 1_000_000);
const LOG_TXNS = arg("log", 100_000);
const CLIENTS = arg("clients", 64);
const APPENDS = arg("appends", 200);
const SLICE_BYTES = arg("slice", 64 * 1024);
const PARENTS = 1000;
const T0 = 1_700_000_000_000;

let zxid = 0n;
function next(txn: TxnEntry["txn"]): TxnEntry {
  zxid++;
  return { hdr: { sessionId: asSessionId(0n), cxid: 0, zxid: asZxid(zxid), timeMs: T0 + Number(zxid), opCode: 1 }, txn };
}

function create(path: string, parentCVersion: number): TxnEntry {
  return next({ type: "create", path, data: Buffer.alloc(16, 0x61), acl: OPEN_ACL_UNSAFE, ephemeralOwner: 0n, parentCVersion });
}

function buildTree(): DataTree {
  const tree = new DataTree();
  for (let p = 0; p < PARENTS; p++) tree.apply(create(`/p${p}`, p + 1), []);
  let made = PARENTS;
  for (let c = 0; made < NODES; c++) {
    for (let p = 0; p < PARENTS && made < NODES; p++, made++) tree.apply(create(`/p${p}/n${c}`, c + 1), []);
  }
  return tree;
}

/** The same write load and heartbeat for `ms` without a snapshot: the stall floor (GC). */
async function baselineStall(tree: DataTree, ms: number): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let running = true;
  let i = 0;
  const write = (): void => {
    if (!running) return;
    tree.apply(next({ type: "setData", path: `/p0/n${i % 100}`, data: Buffer.from(`b${i}`), version: 1 + Math.floor(i / 100) }), []);
    i++;
    setImmediate(write);
  };
  histogram.enable();
  setImmediate(write);
  await new Promise((r) => setTimeout(r, ms));
  running = false;
  histogram.disable();
  return +(histogram.max / 1e6).toFixed(2);
}

async function snapshotWithStallWatch(tree: DataTree, dir: string) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let beatMax = 0;
  let last = performance.now();
  let beating = true;
  const beat = (): void => {
    const now = performance.now();
    beatMax = Math.max(beatMax, now - last);
    last = now;
    if (beating) setImmediate(beat);
  };
  // Writes continue while the snapshot runs: a setData per turn, as a busy server would.
  let applied = 0;
  let writing = true;
  const during: TxnEntry[] = [];
  const write = (): void => {
    if (!writing) return;
    const path = `/p${applied % PARENTS}`;
    const e = next({ type: "setData", path, data: Buffer.from(`v${applied}`), version: 1 + Math.floor(applied / PARENTS) });
    tree.apply(e, []);
    during.push(e);
    applied++;
    if (writing) setImmediate(write);
  };
  histogram.enable();
  setImmediate(beat);
  setImmediate(write);
  const start = performance.now();
  const snap = new FuzzySnapshot({ disk: nodeDisk, dir, tree, sessions: [], highestSessionId: 0n, timeMs: Date.now(), sliceBytes: SLICE_BYTES });
  const result = (await snap.run())!;
  const ms = performance.now() - start;
  writing = false;
  beating = false;
  histogram.disable();
  return {
    during,
    snapshotZxid: result.zxid,
    snapshotMs: Math.round(ms),
    snapshotBytes: result.bytes,
    nodeRecords: result.nodeRecords,
    txnsAppliedDuringSnapshot: applied,
    fuzzyWindow: `${result.zxid}..${result.lastZxid}`,
    eventLoopDelayMaxMs: +(histogram.max / 1e6).toFixed(2),
    eventLoopDelayP99Ms: +(histogram.percentile(99) / 1e6).toFixed(2),
    heartbeatGapMaxMs: +beatMax.toFixed(2),
  };
}

async function appendLog(dir: string, during: readonly TxnEntry[], count: number, from: bigint) {
  const log = new TxnLog({ disk: nodeDisk, dir, forceSync: true, rollTxns: 100_000_000, rollBytes: 1 << 30, lastZxid: from });
  const start = performance.now();
  const pending: Promise<void>[] = [];
  // The txns applied while the snapshot was written come first, then more up to `count`.
  for (const e of during) if (e.hdr.zxid > from) pending.push(log.append(e));
  for (let i = pending.length; i < count; i++) {
    pending.push(log.append(next({ type: "setData", path: `/p${i % PARENTS}/n0`, data: Buffer.alloc(16, 0x62), version: 1 + Math.floor(i / PARENTS) })));
  }
  await Promise.all(pending);
  await log.close();
  return { logTxns: pending.length, logAppendMs: Math.round(performance.now() - start), logBatches: log.stats.batches, logBytes: log.stats.bytes };
}

async function groupCommit(dir: string) {
  const log = new TxnLog({ disk: nodeDisk, dir, forceSync: true, rollTxns: 100_000_000, rollBytes: 1 << 30, lastZxid: zxid });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < APPENDS; i++) {
        await log.append(next({ type: "setData", path: `/p${c}`, data: Buffer.alloc(32, 0x63), version: i }));
      }
    }),
  );
  const ms = performance.now() - start;
  await log.close();
  const txns = CLIENTS * APPENDS;
  return {
    clients: CLIENTS,
    txns,
    batches: log.stats.batches,
    fsyncs: log.stats.fsyncs,
    writesPerBatch: 1,
    fsyncsPerBatch: +(log.stats.fsyncs / log.stats.batches).toFixed(2),
    txnsPerFsync: +(txns / log.stats.fsyncs).toFixed(1),
    largestBatch: log.stats.batchTxnsMax,
    txnsPerSec: Math.round(txns / (ms / 1000)),
  };
}

interface RecoveryReport {
  ms: number;
  nodes: number;
  txns: number;
}

/** `--recover DIR`: recover DIR's version-2 into a fresh tree, print the time as JSON. */
async function recoverOnly(base: string): Promise<void> {
  const dir = versionDir(base);
  const t = performance.now();
  const tree = new DataTree();
  const r = await recover({ disk: nodeDisk, snapDir: dir, logDir: dir, log: silentLogger }, tree);
  const report: RecoveryReport = { ms: Math.round(performance.now() - t), nodes: tree.nodeCount, txns: r.txnsReplayed };
  console.log(JSON.stringify(report));
}

function recoverInChild(base: string): Promise<RecoveryReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [fileURLToPath(import.meta.url), "--recover", base], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err !== null) reject(err);
      else resolve(JSON.parse(stdout) as RecoveryReport);
    });
  });
}

async function main(): Promise<void> {
  const r = process.argv.indexOf("--recover");
  if (r !== -1) return recoverOnly(process.argv[r + 1]!);
  const i = process.argv.indexOf("--dir");
  const base = i === -1 ? await mkdtemp(join(tmpdir(), "corral-bench-")) : process.argv[i + 1]!;
  const dir = versionDir(base);
  await nodeDisk.mkdirp(dir);
  try {
    let t = performance.now();
    let tree: DataTree | undefined = buildTree();
    const buildMs = Math.round(performance.now() - t);
    const baselineDelayMaxMs = await baselineStall(tree, 2000);
    const { during, snapshotZxid, ...snapshot } = await snapshotWithStallWatch(tree, dir);
    // The log holds every txn after the snapshot's zxid: those applied while it was
    // written, then --log more.
    const expected = tree.nodeCount;
    tree = undefined;
    const logged = await appendLog(dir, during, LOG_TXNS, snapshotZxid);
    // Recovery runs in a fresh process, as after a restart (and not next to this one's heap).
    const rec = await recoverInChild(base);
    if (rec.nodes !== expected) throw new Error(`recovered ${rec.nodes} nodes, expected ${expected}`);
    const gcDir = join(base, "group-commit");
    await nodeDisk.mkdirp(gcDir);
    const gc = await groupCommit(gcDir);
    console.log(
      JSON.stringify(
        {
          nodes: NODES,
          treeBuildMs: buildMs,
          ...snapshot,
          eventLoopDelayMaxMsWithoutSnapshot: baselineDelayMaxMs,
          ...logged,
          recoveryMs: rec.ms,
          recoveredTxns: rec.txns,
          recoveredNodes: rec.nodes,
          groupCommit: gc,
          node: process.version,
        },
        null,
        2,
      ),
    );
  } finally {
    if (i === -1) await rm(base, { recursive: true, force: true });
  }
}

await main();
