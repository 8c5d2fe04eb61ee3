// What a znode costs in memory, and how long a snapshot of the tree takes to write and to
// read back: the 1,000,000-znode case of issue 15, measured on a DataTree alone (no
// server, no sockets), so each change to the node's shape can be weighed in isolation.
//
//   node --expose-gc dist/bench/tree-heap.js [--nodes N] [--data BYTES] [--group G] [--repeat K] [--heap-snapshot]
//
// The tree is built as the server builds it: create txns are encoded and decoded (the path
// and data objects are the ones a replica's decoder makes) and applied in zxid order, under
// /app/g<k>/ in groups of G (default 1,000), one node in 50 ephemeral (200 sessions) and one group of
// sequential nodes. "Beyond data" subtracts the data bytes themselves (N x BYTES) from the
// growth of heap + array buffers; the path strings count as overhead, as ZooKeeper's do.
// --heap-snapshot (use a smaller N: the file is ~50x the heap) writes a V8 heap snapshot
// and prints the self size of each constructor/type, per znode. Snapshot and image times
// are the fastest of K runs (default 3): the machine is shared, and the minimum is the
// least disturbed.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync, unlinkSync } from "node:fs";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { JuteWriter, OpCode, writeStat } from "../src/jute/index.js";
import { ImageDecoder, encodeImageChunks, installImage, nodeDisk, FuzzySnapshot, parseSnapshot, restoreSnapshot, versionDir } from "../src/storage/index.js";
import { DataTree, OPEN_ACL_UNSAFE, type Effect } from "../src/tree/index.js";
import { decodeTxnEntry, encodeTxnEntry, type TxnEntry } from "../src/txn/index.js";
import { asSessionId, asZxid } from "../src/util/index.js";

const EPHEMERAL_EVERY = 50;
const SESSIONS = 200;

interface Args {
  nodes: number;
  dataBytes: number;
  heapSnapshot: boolean;
  repeat: number;
  group: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { nodes: 1_000_000, dataBytes: 100, heapSnapshot: false, repeat: 3, group: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--nodes") args.nodes = Number(argv[++i]);
    else if (a === "--data") args.dataBytes = Number(argv[++i]);
    else if (a === "--heap-snapshot") args.heapSnapshot = true;
    else if (a === "--repeat") args.repeat = Number(argv[++i]);
    else if (a === "--group") args.group = Number(argv[++i]);
    else throw new Error(`unknown argument ${String(a)}`);
  }
  if (!Number.isInteger(args.nodes) || args.nodes < 1) throw new Error("--nodes must be a positive integer");
  if (!Number.isInteger(args.group) || args.group < 1) throw new Error("--group must be a positive integer");
  if (!Number.isInteger(args.repeat) || args.repeat < 1 || args.repeat > 20) throw new Error("--repeat must be 1..20");
  return args;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 3; i++) g();
}

/** Heap used plus array-buffer bytes (Buffer data lives outside the V8 heap). */
function memory(): { heap: number; buffers: number; total: number } {
  gc();
  const heap = getHeapStatistics().used_heap_size;
  const buffers = process.memoryUsage().arrayBuffers;
  return { heap, buffers, total: heap + buffers };
}

let zxid = 0n;
const TIME0 = 1_765_000_000_000;

function entry(sessionId: bigint, txn: TxnEntry["txn"], opCode: number): TxnEntry {
  zxid++;
  const e: TxnEntry = { hdr: { sessionId: asSessionId(sessionId), cxid: Number(zxid & 0xffffn), zxid: asZxid(zxid), timeMs: TIME0 + Number(zxid), opCode }, txn };
  // Through the codec, as a replica gets it: the data Buffer and path strings it makes.
  return decodeTxnEntry(encodeTxnEntry(e));
}

function createTxn(path: string, data: Buffer, owner: bigint, parentCVersion = -1): TxnEntry["txn"] {
  return { type: "create", path, data, acl: OPEN_ACL_UNSAFE, ephemeralOwner: owner, parentCVersion };
}

/** Builds the tree of `n` nodes below /app (plus the groups), returns it and its data bytes. */
function build(tree: DataTree, n: number, dataBytes: number, group: number): number {
  const effects: Effect[] = [];
  const data = Buffer.alloc(dataBytes, 0x61);
  let dataTotal = 0;
  const apply = (sessionId: bigint, txn: TxnEntry["txn"], op: number): void => {
    effects.length = 0;
    const r = tree.apply(entry(sessionId, txn, op), effects);
    if (r.err !== 0) throw new Error(`apply failed: ${r.err}`);
  };
  apply(0n, createTxn("/app", Buffer.alloc(0), 0n), OpCode.create);
  for (let s = 1; s <= SESSIONS; s++) apply(BigInt(s), { type: "createSession", timeoutMs: 30_000 }, OpCode.createSession);
  const groups = Math.ceil(n / group);
  for (let g = 0; g < groups; g++) {
    const dir = `/app/g${g}`;
    apply(0n, createTxn(dir, Buffer.alloc(0), 0n), OpCode.create);
    const sequential = g === 1;
    for (let i = g * group; i < Math.min(n, (g + 1) * group); i++) {
      const ephemeral = i % EPHEMERAL_EVERY === 0;
      const session = ephemeral ? BigInt(1 + (i % SESSIONS)) : 0n;
      const j = i - g * group;
      const path = sequential ? `${dir}/item-${String(j).padStart(10, "0")}` : `${dir}/node-${i}`;
      apply(session, createTxn(path, data, session, sequential ? j + 1 : -1), sequential ? OpCode.create2 : OpCode.create);
      dataTotal += dataBytes;
    }
  }
  return dataTotal;
}

/** CPU ms of this process (all its threads) since `from`: less disturbed by other processes than wall time. */
function cpuMs(from?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
}

async function timeSnapshot(tree: DataTree): Promise<{ writeMs: number; readMs: number; writeCpu: number; readCpu: number; bytes: number; nodes: number }> {
  const dir = await mkdtemp(join(tmpdir(), "corral-tree-heap-"));
  try {
    const vdir = versionDir(dir);
    await nodeDisk.mkdirp(vdir);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const snap = new FuzzySnapshot({ disk: nodeDisk, dir: vdir, tree, sessions: [], highestSessionId: 0n, timeMs: TIME0, yieldTurn: async () => {} });
    const res = await snap.run();
    const writeMs = performance.now() - t0;
    const writeCpu = cpuMs(c0);
    if (res === undefined) throw new Error("snapshot aborted");
    gc();
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const buf = await nodeDisk.readFile(res.path);
    const parsed = parseSnapshot(buf, res.path);
    const back = new DataTree();
    restoreSnapshot(parsed, res.path, back);
    back.nodeCount; // settle
    const readMs = performance.now() - t1;
    const readCpu = cpuMs(c1);
    if (back.nodeCount !== tree.nodeCount) throw new Error(`recovered ${back.nodeCount} nodes of ${tree.nodeCount}`);
    return { writeMs, readMs, writeCpu, readCpu, bytes: res.bytes, nodes: back.nodeCount };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function timeImage(tree: DataTree): { encodeMs: number; decodeMs: number; encodeCpu: number; decodeCpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { chunks, lastZxid } = encodeImageChunks(tree, []);
  const encodeMs = performance.now() - t0;
  const encodeCpu = cpuMs(c0);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const dec = new ImageDecoder(tree.lastProcessedZxid);
  for (const c of chunks) dec.push(c);
  const live = new DataTree();
  installImage(live, dec.finish(lastZxid));
  const decodeMs = performance.now() - t1;
  const decodeCpu = cpuMs(c1);
  if (live.nodeCount !== tree.nodeCount) throw new Error("image lost nodes");
  return { encodeMs, decodeMs, encodeCpu, decodeCpu };
}

/**
 * A getData's tree side and body: look the node up, take its Stat, write data and Stat as
 * the reply does, for every node in turn. Returns CPU ns per read. (Nodes without
 * dataLatin1, from a build before it, are written from their Buffer, as that build did.)
 */
function timeReads(tree: DataTree, rounds: number): number {
  const paths = [...tree.paths()];
  const w = new JuteWriter(64 * 1024);
  const t0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (const p of paths) {
      const n = tree.get(p)!;
      const stat = tree.statOf(n);
      w.reset();
      if ("dataLatin1" in n) w.bufferLatin1(n.dataLatin1);
      else w.buffer((n as { data: Buffer | null }).data);
      writeStat(w, stat);
    }
  }
  return (cpuMs(t0) * 1e6) / (paths.length * rounds);
}

/** Self sizes in a V8 heap snapshot, by node type and name, largest first. */
function heapBreakdown(file: string): [string, number, number][] {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const agg = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    let name = snap.strings[snap.nodes[i + nameAt]!]!;
    if (type === "string" || type === "concatenated string" || type === "sliced string") name = "";
    else if (type === "number") name = "heap number";
    else if (name.length > 40) name = name.slice(0, 40) + "...";
    const key = `${type}:${name}`;
    const a = agg.get(key) ?? [0, 0];
    a[0] += snap.nodes[i + sizeAt]!;
    a[1]++;
    agg.set(key, a);
  }
  return [...agg].map(([k, [size, count]]) => [k, size, count] as [string, number, number]).sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const before = memory();
  const tree = new DataTree();
  const t0 = performance.now();
  const dataTotal = build(tree, args.nodes, args.dataBytes, args.group);
  const buildMs = performance.now() - t0;
  const after = memory();
  const nodes = tree.nodeCount;
  const grown = after.total - before.total;
  const beyond = (grown - dataTotal) / nodes;
  const out = (s: string): void => void process.stdout.write(s + "\n");
  out(`tree-heap: ${nodes} znodes (groups of ${args.group}), ${args.dataBytes}-byte data, built in ${buildMs.toFixed(0)} ms (${((nodes / buildMs) * 1000).toFixed(0)} creates/s)`);
  out(`  heap +${((after.heap - before.heap) / 2 ** 20).toFixed(1)} MiB, array buffers +${((after.buffers - before.buffers) / 2 ** 20).toFixed(1)} MiB, data ${(dataTotal / 2 ** 20).toFixed(1)} MiB`);
  out(`  per znode: ${(grown / nodes).toFixed(1)} bytes in all, ${beyond.toFixed(1)} bytes beyond its data (heap ${((after.heap - before.heap) / nodes).toFixed(1)}, buffers ${((after.buffers - before.buffers) / nodes).toFixed(1)})`);
  out(`  rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  if (args.heapSnapshot) {
    const file = writeHeapSnapshot(join(tmpdir(), `corral-tree-heap-${process.pid}.heapsnapshot`));
    try {
      out(`  heap snapshot by type:name (bytes per znode, objects per znode), top 20:`);
      for (const [k, size, count] of heapBreakdown(file).slice(0, 20)) {
        out(`    ${(size / nodes).toFixed(1).padStart(7)} B  ${(count / nodes).toFixed(2).padStart(5)}  ${k}`);
      }
    } finally {
      unlinkSync(file);
    }
  }
  const runs = { write: [] as number[], read: [] as number[], encode: [] as number[], decode: [] as number[] };
  const cpu = { write: [] as number[], read: [] as number[], encode: [] as number[], decode: [] as number[] };
  let snapBytes = 0;
  for (let i = 0; i < args.repeat; i++) {
    const snap = await timeSnapshot(tree);
    gc();
    const img = timeImage(tree);
    gc();
    snapBytes = snap.bytes;
    runs.write.push(snap.writeMs);
    runs.read.push(snap.readMs);
    runs.encode.push(img.encodeMs);
    runs.decode.push(img.decodeMs);
    cpu.write.push(snap.writeCpu);
    cpu.read.push(snap.readCpu);
    cpu.encode.push(img.encodeCpu);
    cpu.decode.push(img.decodeCpu);
  }
  const fmt = (k: keyof typeof runs): string => `${Math.min(...runs[k]).toFixed(0)} ms wall, ${Math.min(...cpu[k]).toFixed(0)} ms cpu (wall runs ${runs[k].map((x) => x.toFixed(0)).join("/")})`;
  out(`  snapshot (${(snapBytes / 2 ** 20).toFixed(1)} MiB): write ${fmt("write")}; read back + restore ${fmt("read")}`);
  out(`  SNAP image: encode ${fmt("encode")}; decode + install ${fmt("decode")}`);
  const reads = Array.from({ length: args.repeat }, () => timeReads(tree, 1));
  out(`  getData's tree side and body (get, statOf, data + Stat written), every node: ${Math.min(...reads).toFixed(0)} ns cpu per read (runs ${reads.map((x) => x.toFixed(0)).join("/")})`);
}

await main();
