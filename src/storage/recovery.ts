// Recovery on start (ZOOKEEPER.md §1.11): the newest snapshot whose checksums verify,
// then every logged txn after its zxid, replayed in zxid order.
//
// What is repaired and what stops start-up:
//  - a snapshot that does not verify is skipped (logged with file and offset) for the
//    next older one; a leftover snapshot.*.tmp (a crash while writing one) is removed;
//  - a torn or corrupt record at the tail of the last log file — nothing verifying after
//    it — is what a crash during a write leaves: the file is cut at that record (logged
//    with file and offset) and recovery goes on. Nothing cut there was acknowledged:
//    a txn is acknowledged only after its batch's fsync;
//  - anything else stops start-up with a StorageError naming file and offset: damage in
//    a log file that is not the last, damage followed by records that verify, a record
//    that verifies but does not decode or breaks zxid continuity, a gap between the
//    snapshot and the log, or no valid snapshot while the log does not reach back to
//    the first zxid (without a snapshot, the first txn must be the first of its epoch).
// Ordering: the tree is restored and replayed completely before anything else runs.

import { JuteError } from "../jute/index.js";
import type { DataTree } from "../tree/index.js";
import type { TxnEntry } from "../txn/index.js";
import { asZxid, type Logger, type SessionId, type Zxid, asSessionId } from "../util/index.js";
import type { Disk } from "./disk.js";
import { StorageError } from "./errors.js";
import { TMP_SUFFIX, filesOf, zxidGap, zxidHex, type NamedFile } from "./files.js";
import { LOG_HEADER_BYTES, scanLog } from "./txnlog.js";
import { parseSnapshot, restoreSnapshot, type ParsedSnapshot } from "./snapshot.js";

/** How many of the last replayed txns recovery hands back (ZooKeeper's commitLogCount). */
export const RECENT_TXNS_KEPT = 500;

export interface RecoverOptions {
  disk: Disk;
  /** <dataDir>/version-2 */
  snapDir: string;
  /** <dataLogDir>/version-2 */
  logDir: string;
  log: Logger;
}

export interface Recovered {
  /** The last zxid in the tree (and in the log): the next txn takes the one after. */
  readonly lastZxid: Zxid;
  /** Live sessions and their negotiated timeouts. */
  readonly sessions: Map<SessionId, number>;
  /**
   * The highest session id (unsigned) of any createSession in the snapshot's header or
   * the replayed log, whichever member issued it. Not a floor for new ids as such:
   * src/session/ids.ts uses it only when it carries this server's byte.
   */
  readonly highestSessionId: bigint;
  readonly snapshot: NamedFile | undefined;
  /** The snapshot's fuzzy window: its zxid, and the last zxid applied while it was written. */
  readonly snapshotZxids: { readonly from: Zxid; readonly to: Zxid } | undefined;
  readonly txnsReplayed: number;
  /** The last RECENT_TXNS_KEPT txns replayed, oldest first (a ZAB leader DIFFs learners from them). */
  readonly recent: readonly TxnEntry[];
  readonly truncated: { readonly file: string; readonly offset: number; readonly bytes: number } | undefined;
  /** Bytes of the snapshot and log files now on disk. */
  readonly snapshotBytes: Map<string, number>;
  readonly logBytes: Map<string, number>;
}

interface SnapFailure {
  readonly error: StorageError;
}

export async function recover(opts: RecoverOptions, tree: DataTree): Promise<Recovered> {
  const { disk, snapDir, logDir, log } = opts;
  await disk.mkdirp(snapDir);
  await disk.mkdirp(logDir);
  const snapNames = await disk.list(snapDir);
  for (const name of snapNames.filter((n) => n.startsWith("snapshot.") && n.endsWith(TMP_SUFFIX))) {
    log.info({ file: name }, "removing a snapshot left unfinished by a crash");
    await disk.remove(`${snapDir}/${name}`);
  }
  const snapshotBytes = new Map<string, number>();
  const { snap, file: snapFile, failure } = await loadNewestSnapshot(opts, filesOf(snapDir, snapNames, "snapshot"), tree, snapshotBytes);

  const z0: bigint = snap?.zxid ?? 0n;
  const sessions = new Map<SessionId, number>();
  for (const s of snap?.sessions ?? []) sessions.set(asSessionId(s.id), s.timeoutMs);
  let highestSessionId = snap?.highestSessionId ?? 0n;

  const logs = filesOf(logDir, await disk.list(logDir), "log");
  let start = 0;
  // Replay starts in the file holding z0 + 1: the last one starting at or before it.
  for (let i = 0; i < logs.length; i++) if (logs[i]!.zxid <= z0 + 1n) start = i;
  const logBytes = new Map<string, number>();
  for (const f of logs.slice(0, start)) logBytes.set(f.path, (await disk.sizeOf(f.path)) ?? 0);

  let prevRead: bigint | undefined;
  let prevApplied = z0;
  let replayed = 0;
  let recent: TxnEntry[] = [];
  let truncated: Recovered["truncated"];
  for (let i = start; i < logs.length; i++) {
    const f = logs[i]!;
    const buf = await disk.readFile(f.path);
    // What the snapshot holds is only checked, not decoded: it is not replayed.
    const scan = scanLog(buf, f.zxid, prevRead, { headersOnlyThrough: z0 });
    if (scan.lastZxid !== undefined) prevRead = scan.lastZxid;
    for (const rec of scan.records) {
      const { hdr, txn } = rec.entry;
      prevRead = hdr.zxid;
      if (hdr.zxid <= z0) continue;
      const gap = zxidGap(prevApplied, hdr.zxid) ?? firstTxnGap(prevApplied, hdr.zxid);
      if (gap !== undefined) throw gapError(f, rec.offset, gap, snapFile, failure, z0);
      tree.replay(rec.entry, snap !== undefined && hdr.zxid <= snap.lastZxid ? snap.closes.get(hdr.zxid) : undefined);
      if (txn.type === "createSession") {
        sessions.set(hdr.sessionId, txn.timeoutMs);
        if (BigInt.asUintN(64, hdr.sessionId) > BigInt.asUintN(64, highestSessionId)) highestSessionId = hdr.sessionId;
      } else if (txn.type === "closeSession") {
        sessions.delete(hdr.sessionId);
      }
      prevApplied = hdr.zxid;
      replayed++;
      recent.push(rec.entry);
      if (recent.length >= 2 * RECENT_TXNS_KEPT) recent = recent.slice(-RECENT_TXNS_KEPT);
    }
    logBytes.set(f.path, buf.length);
    const d = scan.damage;
    if (d === undefined) continue;
    const last = i === logs.length - 1;
    if (d.hard || !last || d.validAfter !== undefined) {
      const why = d.hard
        ? d.reason
        : !last
          ? `${d.reason}, in a log file that is not the last (${logs[logs.length - 1]!.name} follows)`
          : `${d.reason}, followed by a valid record at offset ${d.validAfter}`;
      throw new StorageError(f.path, d.offset, `corrupt transaction log: ${why}; refusing to drop committed txns`);
    }
    // A torn tail: cut it off (or drop the file if nothing in it survived).
    const cut = buf.length - scan.goodEnd;
    log.warn({ file: f.path, offset: scan.goodEnd, bytes: cut, reason: d.reason }, "truncating a torn record at the end of the transaction log");
    truncated = { file: f.path, offset: scan.goodEnd, bytes: cut };
    if (scan.records.length === 0 || scan.goodEnd <= LOG_HEADER_BYTES) {
      await disk.remove(f.path);
      await disk.syncDir(logDir);
      logBytes.delete(f.path);
    } else {
      const h = await disk.openForWrite(f.path);
      await h.truncate(scan.goodEnd);
      await h.sync();
      await h.close();
      logBytes.set(f.path, scan.goodEnd);
    }
  }
  // Every snapshot is corrupt and there is no log to rebuild from: never start empty.
  if (snap === undefined && failure !== undefined && prevApplied === 0n) {
    throw new StorageError(failure.error.file, failure.error.offset, `no snapshot verifies and there is no transaction log to rebuild from (${failure.error.message})`);
  }
  tree.lastProcessedZxid = asZxid(prevApplied > tree.lastProcessedZxid ? prevApplied : tree.lastProcessedZxid);
  log.info(
    {
      snapshot: snapFile?.name,
      snapshotZxid: zxidHex(z0),
      lastZxid: zxidHex(tree.lastProcessedZxid),
      txnsReplayed: replayed,
      sessions: sessions.size,
      nodes: tree.nodeCount,
    },
    "recovered",
  );
  return {
    lastZxid: tree.lastProcessedZxid,
    sessions,
    highestSessionId,
    snapshot: snapFile,
    snapshotZxids: snap === undefined ? undefined : { from: snap.zxid, to: snap.lastZxid },
    txnsReplayed: replayed,
    recent: recent.slice(-RECENT_TXNS_KEPT),
    truncated,
    snapshotBytes,
    logBytes,
  };
}

async function loadNewestSnapshot(
  opts: RecoverOptions,
  snaps: NamedFile[],
  tree: DataTree,
  sizes: Map<string, number>,
): Promise<{ snap: ParsedSnapshot | undefined; file: NamedFile | undefined; failure: SnapFailure | undefined }> {
  let failure: SnapFailure | undefined;
  for (const f of snaps) sizes.set(f.path, (await opts.disk.sizeOf(f.path)) ?? 0);
  for (let i = snaps.length - 1; i >= 0; i--) {
    const f = snaps[i]!;
    let parsed: ParsedSnapshot;
    try {
      parsed = parseSnapshot(await opts.disk.readFile(f.path), f.path);
    } catch (e) {
      if (!(e instanceof StorageError)) throw e;
      opts.log.warn({ file: f.path, offset: e.offset, reason: e.message }, "snapshot does not verify; trying an older one");
      failure ??= { error: e };
      continue;
    }
    if (parsed.zxid !== f.zxid) {
      const e = new StorageError(f.path, 0, `HEADER zxid ${zxidHex(parsed.zxid)} does not match the file name`);
      opts.log.warn({ file: f.path, reason: e.message }, "snapshot does not verify; trying an older one");
      failure ??= { error: e };
      continue;
    }
    try {
      restoreSnapshot(parsed, f.path, tree);
    } catch (e) {
      // Checksums held, so this is a bug or a format mismatch, and the tree is half-built.
      if (e instanceof JuteError) throw new StorageError(f.path, undefined, e.message, { cause: e });
      throw e;
    }
    return { snap: parsed, file: f, failure };
  }
  return { snap: undefined, file: undefined, failure };
}

/**
 * From an empty tree (no snapshot), the first txn must be the first of its epoch: zxidGap
 * lets a new epoch start anywhere after an older one, which from zxid 0 would accept a
 * log whose first files are gone (a crash between removing and cutting files once
 * did that) and replay its tail onto an empty tree.
 */
function firstTxnGap(prev: bigint, next: bigint): string | undefined {
  if (prev !== 0n || (next & 0xffff_ffffn) === 1n) return undefined;
  return `zxid ${zxidHex(next)} is not the first txn of its epoch, and there is no snapshot before it`;
}

function gapError(
  f: NamedFile,
  offset: number,
  gap: string,
  snapFile: NamedFile | undefined,
  failure: SnapFailure | undefined,
  z0: bigint,
): StorageError {
  if (snapFile === undefined && failure !== undefined) {
    return new StorageError(
      failure.error.file,
      failure.error.offset,
      `no snapshot verifies (newest: ${failure.error.message}) and the transaction log does not reach back to the first txn ` +
        `(${f.name} at offset ${offset}: ${gap})`,
    );
  }
  const from = snapFile === undefined ? "an empty tree" : `${snapFile.name} (zxid ${zxidHex(z0)})`;
  return new StorageError(f.path, offset, `transaction log does not continue from ${from}: ${gap}`);
}
