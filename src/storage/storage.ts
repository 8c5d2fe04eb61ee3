// Storage: one server's transaction log, snapshots and purge, behind the pipeline's
// commit step. `Storage.open` recovers the tree (recovery.ts) before anything else runs;
// then `append` is the CommitLog (group-committed, txnlog.ts), `applied` must be called
// for every applied txn in zxid order (it counts towards the next snapshot and feeds
// the snapshot being written), and snapshots run in the background (snapshot.ts).
//
// Snapshot schedule (ZooKeeper's SyncRequestProcessor): after a random number of txns
// in [snapCount/2 + 1, snapCount] — drawn anew each time from the injected PRNG so
// replicas do not snapshot together — the log rolls and a snapshot starts. If one is
// still being written, ZooKeeper skips the new one; we start it as soon as the running
// one is done instead, so a burst of writes cannot leave the log growing unchecked.
// Ordering: a snapshot starts in its own turn of the event loop, between two applies,
// so its zxid and session table are those of one applied prefix.
//
// TRUNC and SNAP (truncateAfter, resetTo) rewrite the directories in an order where a
// crash after any disk operation leaves a data dir that starts: files past the target
// go newest first, each removal fsynced (its directory) before the next, then the file
// holding the target is cut and fsynced; a SNAP's snapshot is durable before any old
// file goes; and the log reopens for appends only once all of that is durable.

import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { join } from "node:path";
import type { DataTree, Effect } from "../tree/index.js";
import type { TxnEntry } from "../txn/index.js";
import { asZxid, assert, type Logger, type Prng } from "../util/index.js";
import type { Disk } from "./disk.js";
import { StorageError } from "./errors.js";
import { filesOf, snapshotFileName, versionDir, zxidHex, type NamedFile } from "./files.js";
import { purge, type PurgeResult } from "./purge.js";
import { recover, type Recovered } from "./recovery.js";
import { loadOrCreateSecret } from "./secret.js";
import { FuzzySnapshot, parseSnapshot, type SnapshotResult, type SnapshotSession } from "./snapshot.js";
import { LOG_ROLL_BYTES_DEFAULT, TxnLog, scanLog, type TxnLogStats } from "./txnlog.js";

export interface StorageOptions {
  disk: Disk;
  dataDir: string;
  /** Defaults to dataDir. */
  dataLogDir?: string | undefined;
  snapCount: number;
  forceSync: boolean;
  txnLogSizeLimitBytes?: number | undefined;
  /** preAllocSize: log files grow in zero-filled blocks of this size (0 or unset: none). */
  preallocBytes?: number | undefined;
  /** Draws the snapshot points. */
  prng: Prng;
  log: Logger;
  /** Wall-clock ms, for the snapshot header. */
  nowMs: () => number;
  /** For a new session secret; default node:crypto. */
  randomBytes?: (n: number) => Buffer;
  snapshotSliceBytes?: number;
  yieldTurn?: () => Promise<void>;
}

export class Storage {
  readonly secret: Buffer;
  readonly recovered: Recovered;
  readonly snapDir: string;
  readonly logDir: string;
  readonly #opts: StorageOptions;
  readonly #tree: DataTree;
  #log: TxnLog;
  #sessionSource: () => Iterable<SnapshotSession> = () => [];
  #highestSessionId: bigint;
  #sinceSnapshot = 0;
  #snapshotAfter: number;
  #snapshot: FuzzySnapshot | undefined;
  #snapshotDone: Promise<SnapshotResult | undefined> | undefined;
  #closed = false;
  readonly #snapBytes: Map<string, number>;
  readonly #logBytes: Map<string, number>;
  #snapshotWanted = false;
  snapshotsTaken = 0;
  /** Snapshots due while another was being written, started once it was done. */
  snapshotsDeferred = 0;

  private constructor(opts: StorageOptions, tree: DataTree, secret: Buffer, recovered: Recovered, snapDir: string, logDir: string) {
    assert(opts.snapCount >= 2, "snapCount must be at least 2");
    this.#opts = opts;
    this.#tree = tree;
    this.secret = secret;
    this.recovered = recovered;
    this.snapDir = snapDir;
    this.logDir = logDir;
    this.#highestSessionId = recovered.highestSessionId;
    this.#snapBytes = new Map(recovered.snapshotBytes);
    this.#logBytes = new Map(recovered.logBytes);
    this.#snapshotAfter = this.#drawSnapshotPoint();
    this.#log = this.#openLog(recovered.lastZxid);
  }

  #openLog(lastZxid: bigint): TxnLog {
    const logDir = this.logDir;
    return new TxnLog({
      disk: this.#opts.disk,
      dir: logDir,
      forceSync: this.#opts.forceSync,
      rollTxns: this.#opts.snapCount,
      rollBytes: this.#opts.txnLogSizeLimitBytes ?? LOG_ROLL_BYTES_DEFAULT,
      preallocBytes: this.#opts.preallocBytes ?? 0,
      lastZxid,
      onWrite: (name, bytes) => {
        const path = join(logDir, name);
        this.#logBytes.set(path, (this.#logBytes.get(path) ?? 0) + bytes);
      },
    });
  }

  /**
   * ZAB's TRUNC: drops every logged txn after `zxid` (a quorum never committed them),
   * and every snapshot that holds one. If the tree had applied some of them (the start-up
   * replay does), it is rebuilt from what is left on disk; then the recovered state is
   * returned so the caller can reset its session table too.
   *
   * Ordering (#discardAfter): a crash at any point leaves the old history, cut at some
   * zxid at or past `zxid`; the log is open for appends only once the cut is durable.
   */
  async truncateAfter(zxid: bigint, tree: DataTree): Promise<Recovered | undefined> {
    await this.#quiesce();
    const disk = this.#opts.disk;
    await this.#discardAfter(zxid);
    this.#log = this.#openLog(zxid);
    this.#opts.log.info({ zxid: zxidHex(zxid) }, "log truncated (TRUNC from the leader)");
    if (tree.lastProcessedZxid <= zxid) return undefined;
    tree.reset();
    const recovered = await recover({ disk, snapDir: this.snapDir, logDir: this.logDir, log: this.#opts.log }, tree);
    assert(tree.lastProcessedZxid === asZxid(zxid), `rebuilt tree at ${zxidHex(tree.lastProcessedZxid)}, not ${zxidHex(zxid)}`);
    return recovered;
  }

  /**
   * ZAB's SNAP: the tree (already loaded from the leader's image) replaces everything on
   * disk: it is written as a snapshot, and every older log and snapshot goes, since they
   * may hold a history the ensemble never committed.
   *
   * Ordering: the snapshot of the image is the commit point. Before it, the data dir
   * holds the old history (recovery finds it); once its rename is durable, recovery
   * starts from it, being the newest snapshot, and replays nothing, every logged txn
   * being at or before it. So: (1) anything of the old history past `zxid` is dropped
   * first, as TRUNC would (the leader only sends SNAP to a learner behind it, so this is
   * normally nothing); (2) the snapshot is written to a temporary file, fsynced, renamed
   * and its directory fsynced (FuzzySnapshot.run); (3) only then do the old files go,
   * with both directories fsynced before the log is opened for appends.
   */
  async resetTo(zxid: bigint): Promise<void> {
    // Closed (the server is stopping): no snapshot can be written, so nothing may go.
    if (this.#closed) return;
    await this.#quiesce();
    const disk = this.#opts.disk;
    assert(this.#tree.lastProcessedZxid === asZxid(zxid), "resetTo: the tree is not at the snapshot's zxid");
    await this.#discardAfter(zxid);
    const newPath = join(this.snapDir, snapshotFileName(zxid));
    this.#snapBytes.delete(newPath); // an old snapshot of this zxid is replaced, not kept
    const written = await this.snapshotNow();
    assert(written !== undefined && written.path === newPath, `resetTo: the snapshot at ${zxidHex(zxid)} was not written`);
    const oldSnaps = filesOf(this.snapDir, await disk.list(this.snapDir), "snapshot").filter((f) => f.path !== newPath);
    const oldLogs = filesOf(this.logDir, await disk.list(this.logDir), "log");
    for (const f of oldSnaps) {
      await disk.remove(f.path);
      this.#snapBytes.delete(f.path);
    }
    for (const f of oldLogs) {
      await disk.remove(f.path);
      this.#logBytes.delete(f.path);
    }
    await disk.syncDir(this.snapDir);
    if (this.logDir !== this.snapDir) await disk.syncDir(this.logDir);
    this.#log = this.#openLog(zxid);
    this.#sinceSnapshot = 0;
  }

  /**
   * Removes every log record after `zxid` and every snapshot that holds a txn after it,
   * so that a crash after any disk operation leaves a prefix of the old history that
   * still reaches `zxid`: never a cut file followed by a later file that survived (a
   * gap that refuses to start, or, across epochs, later txns replayed on top of the cut),
   * never a snapshot without the log its fuzzy window needs.
   *
   * Files go newest first, each removal made durable (its directory fsynced) before the
   * next, so what is left is always every file up to some point. A snapshot is keyed by
   * the last zxid it may hold (the end of its fuzzy window: at most the next snapshot's
   * zxid, since snapshots run one at a time) and goes before any log file it needs.
   * Only then is the file holding `zxid` cut and fsynced: with nothing after it left, a
   * crash mid-cut loses only txns past `zxid`.
   */
  async #discardAfter(zxid: bigint): Promise<void> {
    const disk = this.#opts.disk;
    const logs = filesOf(this.logDir, await disk.list(this.logDir), "log");
    const snaps = filesOf(this.snapDir, await disk.list(this.snapDir), "snapshot");
    const cutFile = logs.filter((f) => f.zxid <= zxid).at(-1);
    let cut: { file: NamedFile; at: number } | undefined;
    let loggedPast = false;
    if (cutFile !== undefined) {
      const buf = await disk.readFile(cutFile.path);
      const scan = scanLog(buf, cutFile.zxid, undefined);
      const keep = scan.records.filter((r) => r.entry.hdr.zxid <= zxid).length;
      loggedPast = keep < scan.records.length;
      // Also cuts a damaged or zero tail: this file stops being the last one.
      const at = loggedPast ? scan.records[keep]!.offset : scan.goodEnd;
      if (at < buf.length) cut = { file: cutFile, at };
    }
    const doomed: { file: NamedFile; key: bigint; snapshot: boolean }[] = [];
    for (const f of logs) if (f.zxid > zxid) doomed.push({ file: f, key: f.zxid, snapshot: false });
    // Nothing logged past zxid: no snapshot holds anything past it (a snapshot's window
    // ends at an applied, so logged, txn).
    if (!loggedPast && doomed.length === 0 && (snaps.at(-1)?.zxid ?? 0n) <= zxid) {
      await this.#cut(cut);
      return;
    }
    const straddler = snaps.filter((f) => f.zxid <= zxid).at(-1);
    for (let i = 0; i < snaps.length; i++) {
      const f = snaps[i]!;
      if (f.zxid < (straddler?.zxid ?? 0n)) continue;
      let windowEnd: bigint = snaps[i + 1]?.zxid ?? BigInt.asIntN(64, (1n << 63n) - 1n);
      if (f === straddler) {
        try {
          windowEnd = parseSnapshot(await disk.readFile(f.path), f.path).lastZxid;
        } catch (e) {
          if (!(e instanceof StorageError)) throw e; // corrupt: recovery skips it anyway; drop it first
        }
        if (windowEnd <= zxid) continue;
      }
      doomed.push({ file: f, key: windowEnd, snapshot: true });
    }
    // Newest first; on a tie the snapshot goes first, since it may need that log file.
    doomed.sort((a, b) => (a.key !== b.key ? (a.key > b.key ? -1 : 1) : a.snapshot === b.snapshot ? 0 : a.snapshot ? -1 : 1));
    for (const d of doomed) {
      await disk.remove(d.file.path);
      await disk.syncDir(d.snapshot ? this.snapDir : this.logDir);
      (d.snapshot ? this.#snapBytes : this.#logBytes).delete(d.file.path);
    }
    await this.#cut(cut);
  }

  async #cut(cut: { file: NamedFile; at: number } | undefined): Promise<void> {
    const disk = this.#opts.disk;
    if (cut !== undefined) {
      const fh = await disk.openForWrite(cut.file.path);
      try {
        await fh.truncate(cut.at);
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.#logBytes.set(cut.file.path, cut.at);
    }
  }

  /** Waits for appends and any snapshot in progress, and closes the current log file. */
  async #quiesce(): Promise<void> {
    this.#snapshot?.abort();
    await this.#snapshotDone?.catch(() => undefined);
    await this.#log.close();
  }

  /** Recovers `tree` (a fresh DataTree) from the directories, then opens the log for appends. */
  static async open(opts: StorageOptions, tree: DataTree): Promise<Storage> {
    const snapDir = versionDir(opts.dataDir);
    const logDir = versionDir(opts.dataLogDir ?? opts.dataDir);
    const secret = await loadOrCreateSecret(opts.disk, opts.dataDir, opts.randomBytes ?? cryptoRandomBytes);
    const recovered = await recover({ disk: opts.disk, snapDir, logDir, log: opts.log }, tree);
    return new Storage(opts, tree, secret, recovered, snapDir, logDir);
  }

  get logStats(): TxnLogStats {
    return this.#log.stats;
  }

  /** Every txn appended to the log so far is durable (tests and simulations). */
  get logIdle(): boolean {
    return this.#log.idle;
  }

  get snapshotInProgress(): boolean {
    return this.#snapshot !== undefined;
  }

  /** Where snapshots get the session table from (the server's SessionTable). */
  setSessionSource(fn: () => Iterable<SnapshotSession>): void {
    this.#sessionSource = fn;
  }

  /** The CommitLog step: resolves once `entry` is durable (`encoded`: see TxnLog.append). */
  append(entry: TxnEntry, encoded?: Uint8Array): Promise<void> {
    const done = this.#log.append(entry, encoded);
    if (++this.#sinceSnapshot >= this.#snapshotAfter) {
      this.#sinceSnapshot = 0;
      this.#snapshotAfter = this.#drawSnapshotPoint();
      if (this.#snapshot !== undefined) {
        this.snapshotsDeferred++;
        this.#snapshotWanted = true;
      } else {
        this.#startSnapshot();
      }
    }
    return done;
  }

  /** Call for every applied txn, in zxid order, with the effects apply reported. */
  applied(entry: TxnEntry, effects: readonly Effect[]): void {
    if (entry.txn.type === "createSession" && BigInt.asUintN(64, entry.hdr.sessionId) > BigInt.asUintN(64, this.#highestSessionId)) {
      this.#highestSessionId = entry.hdr.sessionId;
    }
    this.#snapshot?.noteApplied(entry, effects);
  }

  /**
   * The highest session id (as an unsigned 64-bit number) of any createSession recovered
   * or applied so far, whichever member issued it. It is a floor for this server's own
   * ids only: src/session/ids.ts lifts its counter with an id only when the id carries
   * this server's byte, since another member's ids are that member's to issue.
   */
  get highestSessionId(): bigint {
    return this.#highestSessionId;
  }

  /**
   * Takes a snapshot now (unless one is running: then waits for that one). Resolves
   * with what was written, or undefined if it was aborted or a snapshot of this zxid
   * already exists.
   */
  async snapshotNow(): Promise<SnapshotResult | undefined> {
    if (this.#snapshotDone !== undefined) return this.#snapshotDone;
    if (this.#closed) return undefined;
    const snap = new FuzzySnapshot({
      disk: this.#opts.disk,
      dir: this.snapDir,
      tree: this.#tree,
      sessions: this.#sessionSource(),
      highestSessionId: this.#highestSessionId,
      timeMs: this.#opts.nowMs(),
      logDurable: () => this.#log.flushed(),
      ...(this.#opts.snapshotSliceBytes === undefined ? {} : { sliceBytes: this.#opts.snapshotSliceBytes }),
      ...(this.#opts.yieldTurn === undefined ? {} : { yieldTurn: this.#opts.yieldTurn }),
    });
    if (this.#snapBytes.has(snap.path)) return undefined;
    this.#snapshot = snap;
    const done = snap.run().then(
      (r) => {
        if (r !== undefined) {
          this.#snapBytes.set(r.path, r.bytes);
          this.snapshotsTaken++;
          this.#opts.log.info({ file: r.path, zxid: `0x${r.zxid.toString(16)}`, nodes: r.nodeRecords, bytes: r.bytes }, "snapshot written");
        }
        return r;
      },
    );
    this.#snapshotDone = done;
    try {
      return await done;
    } finally {
      this.#snapshot = undefined;
      this.#snapshotDone = undefined;
      if (this.#snapshotWanted && !this.#closed) {
        this.#snapshotWanted = false;
        this.#startSnapshot();
      }
    }
  }

  /** Removes old snapshots and logs, keeping the newest `retain` snapshots (purge.ts). */
  async purge(retain: number): Promise<PurgeResult> {
    const r = await purge({ disk: this.#opts.disk, snapDir: this.snapDir, logDir: this.logDir, retain, log: this.#opts.log });
    for (const f of r.removeSnapshots) this.#snapBytes.delete(f.path);
    for (const f of r.removeLogs) this.#logBytes.delete(f.path);
    return r;
  }

  /** Bytes in the snapshot and log directories, as the `dirs` four-letter word reports. */
  sizes(): { dataDirBytes: number; dataLogDirBytes: number } {
    let snap = 0;
    let logs = 0;
    for (const b of this.#snapBytes.values()) snap += b;
    for (const b of this.#logBytes.values()) logs += b;
    return this.snapDir === this.logDir ? { dataDirBytes: snap + logs, dataLogDirBytes: snap + logs } : { dataDirBytes: snap, dataLogDirBytes: logs };
  }

  /** Makes queued appends durable, stops a running snapshot, closes the log. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#snapshot?.abort();
    await this.#snapshotDone?.catch(() => undefined);
    await this.#log.close();
  }

  #startSnapshot(): void {
    this.#log.roll();
    setImmediate(() => void this.snapshotNow().catch((e: unknown) => this.#snapshotFailed(e)));
  }

  #drawSnapshotPoint(): number {
    const half = Math.floor(this.#opts.snapCount / 2);
    return half + 1 + this.#opts.prng.nextInt(this.#opts.snapCount - half);
  }

  #snapshotFailed(e: unknown): void {
    // A failed snapshot loses nothing (the log still holds every txn); say so and go on.
    this.#opts.log.error({ err: e instanceof Error ? e.message : String(e) }, "snapshot failed");
  }
}
