// The transaction log: appends txns with group commit, rolls files, and reads them back.
//
// Format. Files live in <dataLogDir>/version-2/ and are named log.<hex zxid of their
// first txn> (files.ts). Each file is
//
//   header  = "CRLG" | u32 format version (1) | u64 zxid of the first txn (= the name's)
//   record* = one frame each (frame.ts): u32 length | u32 CRC-32 | payload
//   payload = one TxnEntry as txn/codec.ts encodes it: TxnHeader {sessionId, cxid, zxid,
//             timeMs, opCode} then the txn
//   then zeros to the end of the file, where it was preallocated (preAllocSize): a
//   record never has length 0, so reading stops there, and a zero tail is no damage
//
// CRC-32 (not ZooKeeper's Adler-32): it catches every burst error up to 32 bits, and
// node:zlib computes it natively. Zxids in a file strictly increase and, within an
// epoch, count up by one (files.ts zxidGap); that is asserted when appending and checked
// again when reading.
//
// Group commit. append() encodes nothing and returns at once with a promise; appends
// queue. When no batch is in flight, the queue is taken as one batch once the event
// loop's current turn is over (setImmediate: after every socket read the poll phase
// found ready, not only the current one, so requests that arrived together share one
// fsync — in a contended lock the next holder's release and the last holder's new
// enqueue arrive together, and a microtask took them as two batches: 2.0 fsyncs per
// hand-off, 1.4 now; an idle loop runs it at once): its records are encoded into one
// buffer, written with one write and made durable with one fsync (fdatasync), then
// the batch is acknowledged: the appends of one turn share one promise, so a txn costs
// no promise of its own. Appends that arrive while a
// batch is being written wait and form the next batch, so the number of fsyncs grows
// with time, not with the number of concurrent writers. Fsyncs are pipelined: once a
// batch is written, its fsync runs while the next batch is written and synced (at most
// SYNCS_IN_FLIGHT at once; Linux overlaps them), so a txn that arrives during an fsync
// waits for about one fsync, not the rest of that one plus its own. Writes stay in file
// order and batches resolve strictly in order: a batch is acknowledged only after every
// earlier batch is durable. The first batch in a new file also fsyncs the directory,
// which makes the file's name durable. With
// forceSync=false the fsyncs are skipped and a promise resolves once its batch is
// written to the OS. A failed write or fsync fails that batch and every later append:
// the server must not acknowledge txns it cannot make durable.
//
// Rolling. A batch starts a new file when the current one holds `rollTxns` txns
// (snapCount) or `rollBytes` bytes, or when roll() was called (a snapshot starts), so a
// snapshot's replay starts in the file after the one it was taken in, or that one.

import { join } from "node:path";
import { JuteError, JuteReader, JuteWriter } from "../jute/index.js";
import { readTxnEntry, readTxnHeader, writeTxnEntry, type TxnEntry } from "../txn/index.js";
import { assert, asZxid, type Zxid } from "../util/index.js";
import type { Disk, DiskFile } from "./disk.js";
import { logFileName, zxidGap, zxidHex } from "./files.js";
import { FRAME_HEADER_BYTES, readFrame, sealFrame } from "./frame.js";

export const LOG_MAGIC = "CRLG";
export const LOG_FORMAT_VERSION = 1;
export const LOG_HEADER_BYTES = 16;
/** A record longer than this is corrupt (ZooKeeper's jute.maxbuffer is 1 MiB by default). */
export const LOG_RECORD_BYTES_MAX = 64 * 1024 * 1024;
/** Bounds on one group-commit batch; what does not fit waits for the next one. */
export const LOG_BATCH_TXNS_MAX = 16_384;
export const LOG_BATCH_BYTES_MAX = 16 * 1024 * 1024;
/** Default file size bound when txnLogSizeLimitInKb is not set. */
export const LOG_ROLL_BYTES_DEFAULT = 256 * 1024 * 1024;
/** Batches whose fsync may be in progress at once. */
const SYNCS_IN_FLIGHT = 2;

export interface TxnLogOptions {
  disk: Disk;
  /** <dataLogDir>/version-2 */
  dir: string;
  forceSync: boolean;
  /** Txns per file before it rolls (snapCount). */
  rollTxns: number;
  /** Bytes per file before it rolls. */
  rollBytes: number;
  /** The last zxid already in the log (from recovery): the next append must follow it. */
  lastZxid: bigint;
  /** Told the size of each write, for the dirs four-letter word. */
  onWrite?: (file: string, bytes: number) => void;
  /**
   * preAllocSize: files grow in blocks of this many zero bytes (at most 1 MiB; see
   * #preallocate), written ahead of the records (0: no preallocation). An fdatasync after
   * appending into space already written needs no metadata update (the file size does
   * not change), which makes it cheaper: p50 ~120 vs ~170-200 us on these machines.
   */
  preallocBytes?: number;
}

/**
 * The appends of one turn share one promise (a txn costs no promise of its own): it
 * resolves once every one of them is durable, or rejects with the first failure.
 */
interface Group {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  /** Its appends not yet durable. */
  remaining: number;
}

interface Pending {
  readonly entry: TxnEntry;
  /** The entry as encodeTxnEntry makes it, when the caller already has those bytes. */
  readonly encoded: Uint8Array | undefined;
  readonly group: Group;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, remaining: 0 };
}

function durable(p: Pending): void {
  if (--p.group.remaining === 0) p.group.resolve();
}

function failed(p: Pending, e: unknown): void {
  p.group.reject(e);
}

interface OpenLog {
  readonly name: string;
  readonly handle: DiskFile;
  txns: number;
  /** Bytes of header and records: where the next batch goes. */
  bytes: number;
  /** The file's size: records and the zeros preallocated after them. */
  allocated: number;
  /** Its name is not yet durable (no directory fsync since it was created). */
  fresh: boolean;
}

export interface TxnLogStats {
  batches: number;
  fsyncs: number;
  txns: number;
  bytes: number;
  /** The largest batch so far, in txns. */
  batchTxnsMax: number;
}

export class TxnLog {
  readonly #opts: TxnLogOptions;
  #queue: Pending[] = [];
  /** The group appends join until the next batch is taken. */
  #group: Group | undefined;
  /** The group of the newest append (see flushed). */
  #lastGroup: Group | undefined;
  #flushing: Promise<void> | undefined;
  /** Settles (never rejects) when every batch written so far is resolved (true) or failed. */
  #synced: Promise<boolean> = Promise.resolve(true);
  /** Those settle promises of batches still in flight, oldest first. */
  readonly #inflight: Promise<boolean>[] = [];
  #file: OpenLog | undefined;
  #rollRequested = false;
  #lastAppended: bigint;
  #failed: unknown;
  #closed = false;
  readonly #writer = new JuteWriter(64 * 1024);
  /** Where each record of the batch being written starts in #writer (reused). */
  readonly #frameStarts: number[] = [];
  readonly stats: TxnLogStats = { batches: 0, fsyncs: 0, txns: 0, bytes: 0, batchTxnsMax: 0 };

  constructor(opts: TxnLogOptions) {
    assert(opts.rollTxns > 0 && opts.rollBytes > 0, "log roll bounds must be positive");
    this.#opts = opts;
    this.#lastAppended = opts.lastZxid;
  }

  /** Every append made so far is durable: none queued, being written or being synced. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#flushing === undefined && this.#inflight.length === 0;
  }

  get lastAppendedZxid(): Zxid {
    return asZxid(this.#lastAppended);
  }

  /**
   * Resolves once `entry` is durable (written, with forceSync=false). Appends made
   * before the next batch is taken return the same promise, which resolves once all of
   * them are durable (never before `entry` is). `encoded`: the entry's bytes as
   * encodeTxnEntry makes them, if the caller has them (an ensemble member has: a
   * proposal carries them), so they are not encoded again.
   */
  append(entry: TxnEntry, encoded?: Uint8Array): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    assert(!this.#closed, "append to a closed transaction log");
    const gap = zxidGap(this.#lastAppended, entry.hdr.zxid);
    assert(gap === undefined, `transaction log append: ${gap}`);
    this.#lastAppended = entry.hdr.zxid;
    const group = (this.#group ??= newGroup());
    this.#lastGroup = group;
    group.remaining++;
    this.#queue.push({ entry, encoded, group });
    if (this.#flushing === undefined) {
      this.#flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flushAll());
    }
    return group.promise;
  }

  /**
   * Resolves once every append made so far is durable (rejects if the log failed).
   * Groups become durable in order, so the newest group's promise covers all of them.
   */
  flushed(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return this.#lastGroup?.promise ?? Promise.resolve();
  }

  /** The next batch starts a new file. */
  roll(): void {
    this.#rollRequested = true;
  }

  /** Waits for queued appends to be durable, then closes the current file. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing !== undefined) await this.#flushing;
    await this.#synced;
    const f = this.#file;
    this.#file = undefined;
    if (f !== undefined) await f.handle.close();
  }

  async #flushAll(): Promise<void> {
    let batch: Pending[] = [];
    try {
      while (this.#queue.length > 0 && this.#failed === undefined) {
        // Wait for a free fsync slot; appends meanwhile join the batch taken next.
        while (this.#inflight.length >= SYNCS_IN_FLIGHT) await this.#inflight[0];
        batch = this.#takeBatch();
        const { synced } = await this.#writeBatch(batch);
        this.#resolveInOrder(batch, synced);
        batch = [];
      }
    } catch (e) {
      this.#failed ??= e;
      for (const p of batch) failed(p, this.#failed);
    } finally {
      if (this.#failed !== undefined) {
        for (const p of this.#queue) failed(p, this.#failed);
        this.#queue = [];
      }
      this.#flushing = undefined;
    }
  }

  /**
   * Resolves `batch` once it and every earlier batch are durable. If its fsync fails, or
   * an earlier batch failed, it fails (and so does the log: see append).
   */
  #resolveInOrder(batch: Pending[], synced: Promise<void>): void {
    synced.catch(() => {}); // handled below, possibly after an earlier batch settles
    const earlier = this.#synced;
    const done = (async (): Promise<boolean> => {
      let ok = await earlier;
      if (ok) {
        try {
          await synced;
        } catch (e) {
          this.#failed ??= e;
          ok = false;
        }
      }
      if (ok) for (const p of batch) durable(p);
      else for (const p of batch) failed(p, this.#failed);
      return ok;
    })();
    this.#inflight.push(done);
    void done.then(() => this.#inflight.shift());
    this.#synced = done;
  }

  #takeBatch(): Pending[] {
    this.#group = undefined; // later appends wait for a later batch
    if (this.#queue.length <= LOG_BATCH_TXNS_MAX) {
      const all = this.#queue;
      this.#queue = [];
      return all;
    }
    return this.#queue.splice(0, LOG_BATCH_TXNS_MAX);
  }

  /** Encodes and writes `batch`; `synced` settles once it is durable (its fsync is not awaited here). */
  async #writeBatch(batch: Pending[]): Promise<{ synced: Promise<void> }> {
    const first = batch[0]!.entry.hdr.zxid;
    const file = await this.#fileFor(first);
    const w = this.#writer;
    w.reset();
    if (file.bytes === 0) writeLogHeader(w, first);
    // Frames are sealed once the batch is encoded, in one view of the writer's buffer
    // (a view per record was a Buffer object per txn).
    const starts = this.#frameStarts;
    starts.length = 0;
    let n = 0;
    for (const p of batch) {
      const at = w.length;
      w.int(0);
      w.int(0);
      if (p.encoded !== undefined) w.raw(p.encoded);
      else writeTxnEntry(w, p.entry);
      const length = w.length - at - FRAME_HEADER_BYTES;
      assert(length <= LOG_RECORD_BYTES_MAX, `txn ${zxidHex(p.entry.hdr.zxid)} of ${length} bytes is too large to log`);
      starts.push(at);
      n++;
      // An oversized batch is cut here; the rest goes back to the head of the queue.
      if (w.length >= LOG_BATCH_BYTES_MAX && n < batch.length) {
        this.#queue.unshift(...batch.splice(n));
        break;
      }
    }
    const bytes = w.view();
    for (let i = 0; i < starts.length; i++) {
      const at = starts[i]!;
      const end = i + 1 < starts.length ? starts[i + 1]! : bytes.length;
      sealFrame(bytes, at, end - at - FRAME_HEADER_BYTES);
    }
    const sizeBefore = file.allocated;
    await this.#preallocate(file, file.bytes + bytes.length);
    await file.handle.write(bytes, file.bytes);
    file.bytes += bytes.length;
    file.txns += batch.length;
    file.allocated = Math.max(file.allocated, file.bytes);
    this.#opts.onWrite?.(file.name, file.allocated - sizeBefore);
    const fresh = file.fresh;
    file.fresh = false;
    this.stats.batches++;
    this.stats.txns += batch.length;
    this.stats.bytes += bytes.length;
    if (batch.length > this.stats.batchTxnsMax) this.stats.batchTxnsMax = batch.length;
    if (!this.#opts.forceSync) return { synced: Promise.resolve() };
    const synced = (async () => {
      await file.handle.sync();
      this.stats.fsyncs++;
      if (fresh) await this.#opts.disk.syncDir(this.#opts.dir);
    })();
    return { synced };
  }

  /**
   * Grows `file` with zeros until it holds `end` bytes, in blocks of preAllocSize but
   * at most 1 MiB: the batch that extends the file waits for the zeros to be written and
   * its fsync flushes them, which costs ~2 ms for 1 MiB here but ~50 ms for ZooKeeper's
   * 64 MiB block, a stall every client in flight would see. The zeros become durable
   * with the batch's own fsync; recovery reads a zero tail as the end of the log.
   */
  async #preallocate(file: OpenLog, end: number): Promise<void> {
    const block = Math.min(this.#opts.preallocBytes ?? 0, PREALLOC_STEP_MAX);
    if (block <= 0 || end <= file.allocated) return;
    const target = Math.ceil(end / block) * block;
    const zeros = (zeroBlock ??= Buffer.alloc(ZERO_BLOCK_BYTES));
    for (let at = file.allocated; at < target; at += zeros.length) {
      await file.handle.write(zeros.subarray(0, Math.min(zeros.length, target - at)), at);
    }
    file.allocated = target;
  }

  async #fileFor(firstZxid: bigint): Promise<OpenLog> {
    const cur = this.#file;
    if (cur !== undefined && !this.#rollRequested && cur.txns < this.#opts.rollTxns && cur.bytes < this.#opts.rollBytes) {
      return cur;
    }
    this.#rollRequested = false;
    this.#file = undefined;
    if (cur !== undefined) {
      await this.#synced; // its last fsyncs must finish before the handle closes
      await cur.handle.close();
    }
    const name = logFileName(firstZxid);
    const handle = await this.#opts.disk.create(join(this.#opts.dir, name));
    const file: OpenLog = { name, handle, txns: 0, bytes: 0, allocated: 0, fresh: true };
    this.#file = file;
    return file;
  }
}

/** A block of zeros that preallocation writes from (shared: it is only ever read). */
let zeroBlock: Buffer | undefined;
const ZERO_BLOCK_BYTES = 1024 * 1024;
const PREALLOC_STEP_MAX = 1024 * 1024;

function writeLogHeader(w: JuteWriter, firstZxid: bigint): void {
  w.raw(Buffer.from(LOG_MAGIC, "latin1"));
  w.int(LOG_FORMAT_VERSION);
  w.long(firstZxid);
}

// Reading.

export interface LogRecord {
  readonly entry: TxnEntry;
  /** Byte offset of the record's frame in its file. */
  readonly offset: number;
}

export interface LogDamage {
  readonly offset: number;
  readonly reason: string;
  /**
   * True when the bytes cannot be a write torn by a crash: a record whose checksum holds
   * but that does not decode or breaks zxid continuity.
   */
  readonly hard: boolean;
  /** Offset of a valid record found after the damage, if any (then it is not a torn tail). */
  readonly validAfter: number | undefined;
}

export interface LogScan {
  /** The records read, but for those only checked (see scanLog's `headersOnlyThrough`). */
  readonly records: LogRecord[];
  /** The zxid of the last good record, checked or read (undefined: none). */
  readonly lastZxid: bigint | undefined;
  /** Offset just past the last good record (or the header): where a torn tail is cut. */
  readonly goodEnd: number;
  readonly damage: LogDamage | undefined;
}

/**
 * Reads a log file: its header, then records while they verify. `prevZxid` is the zxid
 * the file's first record must follow (continuity across files), or undefined when
 * unknown. Stops at the first record that does not verify and reports it.
 * `headersOnlyThrough`: records up to this zxid are checked (checksum, continuity) but
 * only their headers decoded, and they are not returned: recovery skips what its snapshot
 * already holds (a snapshot at the end of a 100,000-txn file cost a full decode of each).
 */
export function scanLog(buf: Buffer, nameZxid: bigint, prevZxid: bigint | undefined, opts: { headersOnlyThrough?: bigint } = {}): LogScan {
  const records: LogRecord[] = [];
  const header = checkLogHeader(buf, nameZxid);
  if (header !== undefined) {
    return { records, lastZxid: undefined, goodEnd: 0, damage: { offset: 0, reason: header, hard: false, validAfter: findValidRecord(buf, 1, prevZxid) } };
  }
  const through = opts.headersOnlyThrough;
  let offset = LOG_HEADER_BYTES;
  let prev = prevZxid;
  let first = true;
  const done = (damage: LogDamage | undefined): LogScan => ({ records, lastZxid: first ? undefined : prev, goodEnd: offset, damage });
  for (;;) {
    const f = readFrame(buf, offset, LOG_RECORD_BYTES_MAX);
    // The end of the records, or of the records and the zeros preallocated after them.
    if (f.kind === "end" || (f.kind === "bad" && zeroFrom(buf, offset))) return done(undefined);
    if (f.kind === "bad") {
      const validAfter = findValidRecord(buf, offset + 1, prev);
      return done({ offset, reason: f.reason, hard: false, validAfter });
    }
    // Zxids only grow: once past `through`, every record is decoded in full (its header once).
    const headerZxid = through === undefined || (prev !== undefined && prev >= through) ? undefined : decodeRecordZxid(f.payload);
    if (typeof headerZxid === "string") return done({ offset, reason: headerZxid, hard: true, validAfter: undefined });
    const decoded = headerZxid !== undefined && headerZxid <= through! ? undefined : decodeRecord(f.payload);
    if (typeof decoded === "string") return done({ offset, reason: decoded, hard: true, validAfter: undefined });
    const zxid = decoded?.hdr.zxid ?? headerZxid!;
    const gap =
      first && zxid !== nameZxid
        ? `first record has zxid ${zxidHex(zxid)}, the file name says ${zxidHex(nameZxid)}`
        : prev === undefined
          ? undefined
          : zxidGap(prev, zxid);
    if (gap !== undefined) return done({ offset, reason: gap, hard: true, validAfter: undefined });
    if (decoded !== undefined) records.push({ entry: decoded, offset });
    prev = zxid;
    first = false;
    offset = f.next;
  }
}

/** The zxid in a record's header, or why the header does not decode. */
function decodeRecordZxid(payload: Buffer): bigint | string {
  try {
    return readTxnHeader(new JuteReader(payload)).zxid;
  } catch (e) {
    if (e instanceof JuteError) return `record passed its checksum but its header does not decode: ${e.message}`;
    throw e;
  }
}

/** Whether every byte of `buf` from `offset` on is zero. */
function zeroFrom(buf: Buffer, offset: number): boolean {
  const zeros = (zeroBlock ??= Buffer.alloc(ZERO_BLOCK_BYTES));
  for (let at = offset; at < buf.length; at += zeros.length) {
    const n = Math.min(zeros.length, buf.length - at);
    if (buf.compare(zeros, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}

function checkLogHeader(buf: Buffer, nameZxid: bigint): string | undefined {
  if (buf.length < LOG_HEADER_BYTES) return `partial file header (${buf.length} bytes)`;
  if (buf.toString("latin1", 0, 4) !== LOG_MAGIC) return "not a Corral transaction log (bad magic)";
  const version = buf.readInt32BE(4);
  if (version !== LOG_FORMAT_VERSION) return `unknown log format version ${version}`;
  const first = buf.readBigInt64BE(8);
  if (first !== nameZxid) return `header says first zxid ${zxidHex(first)}, the file name says ${zxidHex(nameZxid)}`;
  return undefined;
}

function decodeRecord(payload: Buffer): TxnEntry | string {
  try {
    const r = new JuteReader(payload);
    const entry = readTxnEntry(r);
    if (r.remaining() !== 0) return `${r.remaining()} bytes after the txn in a record that passed its checksum`;
    return entry;
  } catch (e) {
    if (e instanceof JuteError) return `record passed its checksum but does not decode: ${e.message}`;
    throw e;
  }
}

/**
 * Looks for any verifying record at or after `from` whose zxid follows `prev`: if one
 * exists, the damage before it is not a torn tail but lost data in the middle.
 */
function findValidRecord(buf: Buffer, from: number, prev: bigint | undefined): number | undefined {
  for (let at = from; at + FRAME_HEADER_BYTES < buf.length; at++) {
    const length = buf.readUInt32BE(at);
    if (length === 0 || length > buf.length - at - FRAME_HEADER_BYTES) continue;
    const f = readFrame(buf, at, LOG_RECORD_BYTES_MAX);
    if (f.kind !== "ok") continue;
    const decoded = decodeRecord(f.payload);
    if (typeof decoded === "string") continue;
    if (prev === undefined || decoded.hdr.zxid > prev) return at;
  }
  return undefined;
}
