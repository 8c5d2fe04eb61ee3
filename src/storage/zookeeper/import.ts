// `corral import-zookeeper`: Apache ZooKeeper's data directory in, an equivalent Corral
// data directory out — the same znodes (data, ACL, Stat), the same last zxid, the same
// live sessions with their timeouts (their ephemerals stay) and ZooKeeper's passwords
// for them (sessions.ts).
//
// What ZooKeeper does at start-up is done here, in the same order (FileTxnSnapLog.restore,
// ZooKeeperServer.loadData): load the newest snapshot, replay every logged txn after its
// zxid (a fuzzy snapshot may already hold some of their effects: DataTree.replay redoes
// each txn's assignments over it), then drop the ephemerals of sessions that no longer
// exist. The result is written as one Corral snapshot at the last zxid, with no log: the
// next txn Corral logs is the one after it.
//
// All or nothing. Every input file is read and verified before anything is written; the
// output is built in a temporary directory beside the target and renamed into place at
// the end, so a failure at any point leaves the target as it was. The target must be
// empty (a `myid` file is allowed and kept): importing never merges into data.
//
// Not carried over: `/zookeeper/config` (restored from a snapshot or written by a reconfig
// txn). It describes ZooKeeper's ensemble; Corral's comes from Corral's own zoo.cfg, which
// seeds the node at start-up as it does for a fresh data directory. The reconfig txns are
// still read, checked and counted, and their zxids kept.
//
// Which snapshot: the newest. One cut short (ZooKeeper was killed while writing it: it
// ends before its seal) is skipped for the next older one, as ZooKeeper skips it; any
// other damage stops the import. Logs: from the file holding the snapshot's zxid + 1 on,
// each record verified (Adler-32, end marker) and zxids continuous (files.ts zxidGap); a
// record cut short at the very end of the last file (a crash mid-write, never
// acknowledged) is dropped with a warning, as ZooKeeper drops it.

import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Err, JuteError, OpCode } from "../../jute/index.js";
import { DataTree, isEphemeralOwner } from "../../tree/index.js";
import type { TxnEntry } from "../../txn/index.js";
import { asSessionId, asZxid, epochOf, type Logger, type Zxid } from "../../util/index.js";
import type { Disk } from "../disk.js";
import { writeEpochs, readEpochs, type Epochs } from "../epochs.js";
import { StorageError } from "../errors.js";
import { SECRET_FILE_MODE } from "../secret.js";
import { VERSION_DIR, zxidGap, zxidHex } from "../files.js";
import { FuzzySnapshot } from "../snapshot.js";
import { ZK_GZIP_CUT_SHORT, ZK_SNAPPY_CUT_SHORT, parseZkSnapshot, scanZkLog, zkSnapshotStream, type ZkSnapshot } from "./format.js";
import { ZK_SESSIONS_FILE, formatZkSessions } from "./sessions.js";
import { decodeZkTxn, zkOpName } from "./txn.js";

/** ZooKeeper's ensemble configuration node: Corral keeps its own (see the file header). */
const CONFIG_NODE = "/zookeeper/config";

/** Files a target directory may already hold (a member's id, put there before the import). */
const TARGET_FILES_ALLOWED = new Set(["myid"]);

export interface ZkFile {
  readonly name: string;
  readonly path: string;
  readonly zxid: Zxid;
}

const ZK_NAME = /^(log|snapshot)\.([0-9a-fA-F]{1,16})(\.gz|\.snappy)?$/;

/** ZooKeeper's log or snapshot files in `dir`, oldest first (snapshots may be .gz or .snappy). */
export function zkFilesOf(dir: string, names: readonly string[], prefix: "log" | "snapshot"): ZkFile[] {
  const out: ZkFile[] = [];
  for (const name of names) {
    const m = ZK_NAME.exec(name);
    if (m === null || m[1] !== prefix || (prefix === "log" && m[3] !== undefined)) continue;
    out.push({ name, path: join(dir, name), zxid: asZxid(BigInt.asIntN(64, BigInt("0x" + m[2]!))) });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

export interface ZkImportSource {
  /** ZooKeeper's dataDir (holding version-2/snapshot.*), or its version-2 directory itself. */
  dataDir: string;
  /** ZooKeeper's dataLogDir when it is not dataDir (holding version-2/log.*). */
  dataLogDir?: string | undefined;
}

export interface ZkImportResult {
  readonly snapshot: string | undefined;
  readonly snapshotZxid: Zxid;
  readonly logFiles: readonly string[];
  readonly txnsReplayed: number;
  readonly lastZxid: Zxid;
  readonly nodes: number;
  readonly sessions: ReadonlyMap<bigint, number>;
  /** Ephemerals of sessions that were gone, dropped as ZooKeeper drops them at start-up. */
  readonly orphanEphemerals: number;
  readonly warnings: readonly string[];
  readonly epochs: Epochs;
}

export interface LoadedZk extends ZkImportResult {
  readonly tree: DataTree;
  readonly highestSessionId: bigint;
}

/** Where ZooKeeper's version-2 directories are, given what the user named. */
async function versionDirs(disk: Disk, src: ZkImportSource): Promise<{ snapDir: string; logDir: string; epochDir: string }> {
  const resolve = async (dir: string): Promise<string> => {
    if (basename(dir) === VERSION_DIR) return dir;
    const inner = join(dir, VERSION_DIR);
    if ((await disk.list(inner)).length > 0) return inner;
    if ((await disk.list(dir)).length === 0) throw new StorageError(dir, undefined, "no such directory, or it is empty: not a ZooKeeper data directory");
    throw new StorageError(dir, undefined, `no ${VERSION_DIR} directory: not a ZooKeeper data directory`);
  };
  const snapDir = await resolve(src.dataDir);
  const logDir = src.dataLogDir === undefined ? snapDir : await resolve(src.dataLogDir);
  // ZooKeeper keeps acceptedEpoch and currentEpoch in the version-2 directory (QuorumPeer), Corral in dataDir.
  return { snapDir, logDir, epochDir: snapDir };
}

/** Reads and verifies ZooKeeper's files and rebuilds its tree in memory. Writes nothing. */
export async function loadZooKeeperData(disk: Disk, src: ZkImportSource, log?: Logger): Promise<LoadedZk> {
  const { snapDir, logDir, epochDir } = await versionDirs(disk, src);
  const warnings: string[] = [];
  const warn = (msg: string, fields: Record<string, unknown> = {}): void => {
    warnings.push(msg);
    log?.warn(fields, msg);
  };
  const snaps = zkFilesOf(snapDir, await disk.list(snapDir), "snapshot");
  const logs = zkFilesOf(logDir, await disk.list(logDir), "log");
  if (snaps.length === 0 && logs.length === 0) throw new StorageError(snapDir, undefined, "holds no ZooKeeper snapshot.* or log.* files");

  const tree = new DataTree();
  let snapFile: ZkFile | undefined;
  let snap: ZkSnapshot | undefined;
  for (let i = snaps.length - 1; i >= 0 && snap === undefined; i--) {
    const f = snaps[i]!;
    let buf: Buffer | undefined;
    try {
      buf = zkSnapshotStream(await disk.readFile(f.path), f.path);
      snap = parseZkSnapshot(buf, f.path);
      snapFile = f;
    } catch (e) {
      // Cut short (no seal yet): ZooKeeper was stopped while writing it, and skips it.
      const cutShort = buf === undefined ? e instanceof StorageError && (e.message.includes(ZK_GZIP_CUT_SHORT) || e.message.includes(ZK_SNAPPY_CUT_SHORT)) : isIncomplete(buf);
      if (e instanceof StorageError && i > 0 && cutShort) {
        warn(`skipping ${f.name}: ${e.message} (a snapshot ZooKeeper did not finish writing)`, { file: f.path });
        continue;
      }
      throw e;
    }
  }
  const z0: Zxid = snapFile?.zxid ?? asZxid(0n);
  const sessions = new Map<bigint, number>(snap?.sessions ?? []);
  let highestSessionId = 0n;
  const noteSession = (id: bigint): void => {
    if (BigInt.asUintN(64, id) > BigInt.asUintN(64, highestSessionId)) highestSessionId = id;
  };
  for (const id of sessions.keys()) noteSession(id);
  if (snap !== undefined) {
    for (const n of snap.nodes) {
      if (n.path === CONFIG_NODE) continue;
      if (!tree.restoreNode(n.path, n.node)) throw new StorageError(snapFile!.path, n.offset, `node ${n.path} comes before its parent`);
    }
    tree.lastProcessedZxid = z0;
  }

  // Replay starts in the file holding z0 + 1: the last one starting at or before it.
  let start = 0;
  for (let i = 0; i < logs.length; i++) if (logs[i]!.zxid <= z0 + 1n) start = i;
  const used: string[] = [];
  let prev: bigint = z0;
  let replayed = 0;
  for (let i = start; i < logs.length; i++) {
    const f = logs[i]!;
    const scan = scanZkLog(await disk.readFile(f.path), f.path);
    used.push(f.path);
    for (const rec of scan.records) {
      if (rec.zxid <= prev) {
        if (rec.zxid > z0) warn(`${f.path} at offset ${rec.offset}: zxid ${zxidHex(rec.zxid)} was logged before; skipped`, { file: f.path, offset: rec.offset });
        continue;
      }
      const gap = zxidGap(prev, rec.zxid) ?? (prev === 0n && (rec.zxid & 0xffff_ffffn) !== 1n ? `zxid ${zxidHex(rec.zxid)} is not the first txn of its epoch, and there is no snapshot before it` : undefined);
      if (gap !== undefined) {
        const from = snapFile === undefined ? "an empty tree" : `${snapFile.name} (zxid ${zxidHex(z0)})`;
        throw new StorageError(f.path, rec.offset, `the transaction logs do not continue from ${from}: ${gap}`);
      }
      let txn;
      try {
        txn = decodeZkTxn(rec.entry);
      } catch (e) {
        if (e instanceof JuteError) throw new StorageError(f.path, rec.offset, `txn ${zxidHex(rec.zxid)} does not decode: ${e.message}`, { cause: e });
        throw e;
      }
      applyTxn(tree, txn.entry, txn.closedPaths, sessions);
      if (txn.entry.txn.type === "createSession") noteSession(txn.entry.hdr.sessionId);
      prev = rec.zxid;
      replayed++;
    }
    if (scan.torn !== undefined) {
      if (i !== logs.length - 1) {
        throw new StorageError(f.path, scan.torn.offset, `${scan.torn.reason}, in a log file that is not the last (${logs[logs.length - 1]!.name} follows)`);
      }
      warn(`${f.path} at offset ${scan.torn.offset}: dropped a record cut short at the end of the last log (${scan.torn.reason}): a write ZooKeeper never acknowledged`, {
        file: f.path,
        offset: scan.torn.offset,
      });
    }
  }
  if (snapFile === undefined && replayed === 0) throw new StorageError(logDir, undefined, "no snapshot and no txns: nothing to import");
  const orphanEphemerals = dropOrphanEphemerals(tree, sessions);
  const lastZxid = tree.lastProcessedZxid;
  const zkEpochs = await readEpochs(disk, epochDir).catch((e: unknown) => {
    throw new StorageError(epochDir, undefined, `ZooKeeper's epoch files: ${(e as Error).message}`, { cause: e });
  });
  const epoch = epochOf(lastZxid);
  const epochs: Epochs = { acceptedEpoch: Math.max(zkEpochs.acceptedEpoch, epoch), currentEpoch: Math.max(zkEpochs.currentEpoch, epoch) };
  return {
    tree,
    highestSessionId,
    snapshot: snapFile?.path,
    snapshotZxid: z0,
    logFiles: used,
    txnsReplayed: replayed,
    lastZxid,
    nodes: tree.nodeCount,
    sessions,
    orphanEphemerals,
    warnings,
    epochs,
  };
}

/** A snapshot that ends before its seal: its last 5 bytes are not the string "/". */
function isIncomplete(buf: Buffer): boolean {
  return buf.length < 5 || buf.readInt32BE(buf.length - 5) !== 1 || buf[buf.length - 1] !== 0x2f;
}

/** Applies one ZooKeeper txn as ZooKeeper's restore does (FileTxnSnapLog.processTransaction). */
function applyTxn(tree: DataTree, entry: TxnEntry, closedPaths: readonly string[] | undefined, sessions: Map<bigint, number>): void {
  const { hdr, txn } = entry;
  if (hdr.opCode === OpCode.reconfig) {
    // ZooKeeper's membership, not Corral's: the zxid is kept, the change is not.
    tree.replay({ hdr, txn: { type: "error", err: Err.Ok } });
    return;
  }
  if (txn.type === "createSession") sessions.set(hdr.sessionId, txn.timeoutMs);
  if (txn.type === "closeSession") {
    sessions.delete(hdr.sessionId);
    // The txn's list and the tree's own: ZooKeeper deletes both (DataTree.killSession).
    const paths = new Set(closedPaths ?? []);
    for (const p of tree.ephemeralsOf(hdr.sessionId)) paths.add(p);
    tree.replay(entry, [...paths]);
    return;
  }
  tree.replay(entry);
}

/**
 * Ephemerals whose session is not live: ZooKeeper deletes them when it loads its data
 * (ZooKeeperServer.loadData), at its last zxid and without a txn. Done the same way: a
 * closeSession replayed at the last zxid (the tree's zxid stays where it was).
 */
function dropOrphanEphemerals(tree: DataTree, sessions: ReadonlyMap<bigint, number>): number {
  const last = tree.lastProcessedZxid;
  let dropped = 0;
  const owners = new Set<bigint>();
  for (const [, n] of tree.nodes()) if (isEphemeralOwner(n.ephemeralOwner) && !sessions.has(n.ephemeralOwner)) owners.add(n.ephemeralOwner);
  for (const owner of owners) {
    if (last === 0n) break;
    const paths = [...tree.ephemeralsOf(owner)];
    dropped += paths.length;
    tree.lastProcessedZxid = asZxid(last - 1n);
    const time = Math.max(0, ...paths.map((p) => tree.get(p)?.mtimeMs ?? 0));
    tree.replay({ hdr: { sessionId: asSessionId(owner), cxid: 0, zxid: last, timeMs: time, opCode: -11 }, txn: { type: "closeSession" } }, paths);
  }
  tree.lastProcessedZxid = last;
  return dropped;
}

export interface ZkImportTarget {
  /** Corral's dataDir: gets version-2/snapshot.<lastZxid>, the epoch files and zookeeper-sessions. */
  dataDir: string;
  /** Corral's dataLogDir (default dataDir): must be empty; the server starts its log there. */
  dataLogDir?: string | undefined;
}

/** Names of what a target directory holds that an import may not overwrite. */
async function targetContents(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !TARGET_FILES_ALLOWED.has(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/**
 * Imports ZooKeeper's data into an empty Corral data directory. Everything is verified
 * and built before the target is touched; the target appears whole or not at all.
 */
export async function importZooKeeper(disk: Disk, src: ZkImportSource, target: ZkImportTarget, opts: { log?: Logger; nowMs?: () => number } = {}): Promise<ZkImportResult> {
  for (const dir of new Set([target.dataDir, target.dataLogDir ?? target.dataDir])) {
    const have = await targetContents(dir);
    if (have.length > 0) {
      throw new StorageError(dir, undefined, `is not empty (${have.slice(0, 5).join(", ")}${have.length > 5 ? ", ..." : ""}): import-zookeeper writes only into an empty data directory`);
    }
  }
  const loaded = await loadZooKeeperData(disk, src, opts.log);
  const parent = dirname(target.dataDir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target.dataDir)}.import-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    await writeImage(disk, loaded, tmp, target.dataDir, opts.nowMs ?? Date.now);
    await swapIn(disk, tmp, target.dataDir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const { tree: _tree, highestSessionId: _h, ...result } = loaded;
  return result;
}

async function writeImage(disk: Disk, z: LoadedZk, dir: string, dataDir: string, nowMs: () => number): Promise<void> {
  const snapDir = join(dir, VERSION_DIR);
  await disk.mkdirp(snapDir);
  for (const name of TARGET_FILES_ALLOWED) {
    const from = join(dataDir, name);
    if ((await disk.sizeOf(from)) === undefined) continue;
    const f = await disk.create(join(dir, name));
    await f.write(await disk.readFile(from), 0);
    await f.sync();
    await f.close();
  }
  const snapshot = new FuzzySnapshot({
    disk,
    dir: snapDir,
    tree: z.tree,
    sessions: [...z.sessions].map(([id, timeoutMs]) => ({ id, timeoutMs })),
    highestSessionId: z.highestSessionId,
    timeMs: nowMs(),
    yieldTurn: () => Promise.resolve(),
  });
  const written = await snapshot.run();
  if (written === undefined || written.zxid !== z.lastZxid || written.lastZxid !== z.lastZxid) {
    throw new Error(`the imported snapshot was not written at ${zxidHex(z.lastZxid)}`);
  }
  await writeEpochs(disk, dir, z.epochs);
  if (z.sessions.size > 0) {
    // ZooKeeper's session passwords derive from the ids alone: as secret as corral-secret.
    const f = await disk.create(join(dir, ZK_SESSIONS_FILE), SECRET_FILE_MODE);
    await f.write(Buffer.from(formatZkSessions(z.sessions.keys()), "utf8"), 0);
    await f.sync();
    await f.close();
  }
  await disk.syncDir(dir);
}

/** Puts the built directory in the target's place (the target is absent or holds only allowed files). */
async function swapIn(disk: Disk, tmp: string, dataDir: string): Promise<void> {
  let existed = true;
  try {
    await stat(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    existed = false;
  }
  if (!existed) {
    await rename(tmp, dataDir);
  } else {
    // Its allowed files were copied into tmp: move the old one aside, the new one in.
    const aside = `${tmp}.old`;
    await rename(dataDir, aside);
    try {
      await rename(tmp, dataDir);
    } catch (e) {
      await rename(aside, dataDir);
      throw e;
    }
    await rm(aside, { recursive: true, force: true });
  }
  await disk.syncDir(dirname(dataDir));
}
