// Apache ZooKeeper 3.5–3.9 on-disk files, read (never written): `snapshot.<zxid>` and
// `log.<zxid>` in a `version-2` directory. Pure functions over a file's bytes; every
// problem is a StorageError naming the file and the byte offset where it was found.
//
// Snapshot (FileSnap), all jute (big-endian ints and longs, int-length strings/buffers):
//
//   FileHeader   int magic "ZKSN" | int version (2) | long dbid
//   sessions     int count | count x (long sessionId | int timeoutMs)
//   ACL cache    int count | count x (long index | int n | n x ACL{int perms | ustring scheme | ustring id})
//   nodes        (ustring path | buffer data | long aclIndex | StatPersisted)* then the path "/"
//                  StatPersisted = long czxid | long mzxid | long ctime | long mtime |
//                                  int version | int cversion | int aversion |
//                                  long ephemeralOwner | long pzxid
//                  the root's path is ""; parents come before their children (pre-order);
//                  aclIndex -1 is OPEN_ACL_UNSAFE, any other must be in the ACL cache
//   seal         long Adler-32 of every byte before it | ustring "/"
//   3.6+ digest  long zxid | int digestVersion | long digest (a hex ustring when the
//                version is < 2), then another seal (Adler-32 of everything before it)
//   3.9+         long lastProcessedZxid, then another seal (when that option is on)
//
// A snapshot is fuzzy: written while txns were applied, so it may hold effects of txns
// after the zxid in its name. Replaying the log from that zxid + 1 repairs it.
// `snapshot.<zxid>.gz` is the same stream gzipped, `.snappy` the same stream in
// snappy-java's format (snappy.ts); offsets past the header are then of the unpacked stream.
//
// Log (FileTxnLog):
//
//   FileHeader   int magic "ZKLG" | int version (2) | long dbid
//   record*      long Adler-32 of the entry | int length | entry | byte 'B'
//                  entry = TxnHeader{long clientId | int cxid | long zxid | long time | int type}
//                          then the txn record of that type (txn.ts), then (3.6+) an
//                          optional TxnDigest{int version | long treeDigest}
//   zeros        the file is preallocated: a record of length 0 ends it
//
// A record cut short at the end of a file (a crash mid-write; ZooKeeper acknowledged
// nothing in it, since it acknowledges only after fsync) is reported as `torn`; the
// caller decides whether that is acceptable (only at the end of the last file).

import { gunzipSync } from "node:zlib";
import { JuteError, JuteReader, type ACL } from "../../jute/index.js";
import { OPEN_ACL_UNSAFE, type ZNodeRecord } from "../../tree/index.js";
import { asZxid, type Zxid } from "../../util/index.js";
import { StorageError } from "../errors.js";
import { adler32 } from "./adler32.js";
import { SnappyError, unsnappyStream } from "./snappy.js";

export const ZK_SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
export const ZK_LOG_MAGIC = 0x5a4b4c47; // "ZKLG"
export const ZK_FORMAT_VERSION = 2;
export const ZK_FILE_HEADER_BYTES = 16;
/** ACL index ZooKeeper's ACL cache reserves for OPEN_ACL_UNSAFE. */
const OPEN_UNSAFE_ACL_INDEX = -1n;
/** Bytes a record needs before its entry: the checksum and the length. */
const RECORD_PREFIX_BYTES = 12;
/** End-of-record marker after each log entry ('B'). */
const EOR = 0x42;
/** A log entry longer than this is damage, not data (ZooKeeper refuses far smaller ones). */
export const ZK_LOG_ENTRY_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes of a TxnDigest record. */
export const ZK_TXN_DIGEST_BYTES = 12;

/** Whether the first bytes of `buf` are a ZooKeeper snapshot's or log's magic. */
export function zkMagicOf(buf: Buffer): "snapshot" | "log" | undefined {
  if (buf.length < 4) return undefined;
  const m = buf.readInt32BE(0);
  return m === ZK_SNAP_MAGIC ? "snapshot" : m === ZK_LOG_MAGIC ? "log" : undefined;
}

export interface ZkSnapshotNode {
  /** "/" for the root (ZooKeeper writes it as ""). */
  readonly path: string;
  readonly node: ZNodeRecord;
  readonly aclIndex: bigint;
  /** Where the node's record starts. */
  readonly offset: number;
}

export interface ZkSnapshot {
  readonly dbid: bigint;
  readonly sessions: Map<bigint, number>;
  readonly acls: Map<bigint, readonly ACL[]>;
  readonly nodes: ZkSnapshotNode[];
  /** The 3.6+ digest trailer, when present (zxid 0: written before any digest existed). */
  readonly digest: { readonly zxid: Zxid; readonly version: number; readonly value: bigint } | undefined;
  /** The 3.9+ lastProcessedZxid trailer, when present. */
  readonly lastProcessedZxid: Zxid | undefined;
  readonly bytes: number;
}

/** What a compressed snapshot that ends early (ZooKeeper stopped while writing it) is refused with. */
export const ZK_GZIP_CUT_SHORT = "the gzip stream is cut short";
export const ZK_SNAPPY_CUT_SHORT = "the snappy stream is cut short";

/** Unpacks a `.gz` or `.snappy` snapshot; other names are returned as they are. */
export function zkSnapshotStream(buf: Buffer, file: string): Buffer {
  if (file.endsWith(".snappy")) {
    try {
      return unsnappyStream(buf);
    } catch (e) {
      if (!(e instanceof SnappyError)) throw e;
      throw new StorageError(file, e.offset, e.message, { cause: e }); // a cut names ZK_SNAPPY_CUT_SHORT
    }
  }
  if (!file.endsWith(".gz")) return buf;
  try {
    return gunzipSync(buf);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "Z_BUF_ERROR") throw new StorageError(file, buf.length, `${ZK_GZIP_CUT_SHORT}: ${(e as Error).message}`, { cause: e });
    throw new StorageError(file, 0, `not a gzip stream: ${(e as Error).message}`, { cause: e });
  }
}

function readHeader(r: JuteReader, file: string, magic: number, what: string): bigint {
  if (r.remaining() < ZK_FILE_HEADER_BYTES) throw new StorageError(file, 0, `partial file header (${r.remaining()} bytes): not a complete ZooKeeper ${what}`);
  const m = r.int();
  if (m !== magic) {
    const text = Buffer.alloc(4);
    text.writeInt32BE(m);
    throw new StorageError(file, 0, `not a ZooKeeper ${what} (bad magic ${JSON.stringify(text.toString("latin1"))})`);
  }
  const version = r.int();
  if (version !== ZK_FORMAT_VERSION) throw new StorageError(file, 4, `unsupported ZooKeeper file format version ${version} (expected ${ZK_FORMAT_VERSION})`);
  return r.long();
}

function readAclList(r: JuteReader): ACL[] {
  const n = r.count(12);
  const acl: ACL[] = [];
  for (let i = 0; i < n; i++) acl.push({ perms: r.int(), id: { scheme: r.ustring(), id: r.ustring() } });
  return acl;
}

/**
 * Reads a seal: the Adler-32 of every byte before it, then the string "/". Returns an
 * error text, or undefined when it holds.
 */
function checkSeal(r: JuteReader, buf: Buffer): string | undefined {
  const want = adler32(buf, 0, r.offset);
  const stored = r.long();
  const slash = r.ustring();
  if (stored !== BigInt(want)) return `checksum mismatch: the seal holds Adler-32 0x${BigInt.asUintN(64, stored).toString(16)}, the bytes before it give 0x${want.toString(16)}`;
  if (slash !== "/") return `seal ends with ${JSON.stringify(slash)}, not "/"`;
  return undefined;
}

/**
 * Parses and verifies a whole ZooKeeper snapshot stream (already unzipped): header,
 * sessions, ACL cache, nodes, seal, and the optional digest and lastProcessedZxid
 * trailers with their seals. Nothing after the last seal is allowed.
 */
export function parseZkSnapshot(buf: Buffer, file: string): ZkSnapshot {
  const r = new JuteReader(buf);
  let at = 0;
  const fail = (reason: string, offset = at): never => {
    throw new StorageError(file, offset, reason);
  };
  const step = <T>(what: string, fn: () => T, from = r.offset): T => {
    at = from;
    try {
      return fn();
    } catch (e) {
      if (e instanceof JuteError) throw new StorageError(file, at, `${what} does not decode (the file is truncated or damaged): ${e.message}`, { cause: e });
      throw e;
    }
  };
  const dbid = readHeader(r, file, ZK_SNAP_MAGIC, "snapshot");
  const sessions = new Map<bigint, number>();
  const count = step("session count", () => r.int());
  if (count < 0 || count * 12 > r.remaining()) fail(`bad session count ${count}`);
  for (let i = 0; i < count; i++) step("session", () => sessions.set(r.long(), r.int()));
  const acls = new Map<bigint, readonly ACL[]>();
  const aclCount = step("ACL cache size", () => r.int());
  if (aclCount < 0 || aclCount * 12 > r.remaining()) fail(`bad ACL cache size ${aclCount}`);
  for (let i = 0; i < aclCount; i++) {
    step("ACL cache entry", () => {
      const index = r.long();
      if (acls.has(index)) fail(`ACL index ${index} appears twice in the ACL cache`);
      acls.set(index, readAclList(r));
    });
  }
  const nodes: ZkSnapshotNode[] = [];
  for (;;) {
    const path = step("node path", () => r.ustring());
    if (path === "/") break;
    const offset = at;
    const node = step(`node ${JSON.stringify(path)}`, () => {
      const data = r.buffer();
      const aclIndex = r.long();
      const czxid = r.long();
      const mzxid = r.long();
      const ctime = r.long();
      const mtime = r.long();
      const version = r.int();
      const cversion = r.int();
      const aversion = r.int();
      const ephemeralOwner = r.long();
      const pzxid = r.long();
      const acl = aclIndex === OPEN_UNSAFE_ACL_INDEX ? OPEN_ACL_UNSAFE : acls.get(aclIndex);
      if (acl === undefined) fail(`node ${JSON.stringify(path)} uses ACL index ${aclIndex}, which the ACL cache does not hold`, offset);
      const rec: ZNodeRecord = { data, acl: acl!, czxid, mzxid, pzxid, ctimeMs: Number(ctime), mtimeMs: Number(mtime), version, cversion, aversion, ephemeralOwner };
      return { rec, aclIndex };
    }, offset);
    const p = path === "" ? "/" : path;
    if (!p.startsWith("/") || (p !== "/" && p.endsWith("/"))) fail(`bad node path ${JSON.stringify(path)}`, offset);
    nodes.push({ path: p, node: node.rec, aclIndex: node.aclIndex, offset });
  }
  const sealAt = r.offset;
  const bad = step("snapshot seal", () => checkSeal(r, buf));
  if (bad !== undefined) fail(bad, sealAt);
  // Trailers: the digest (3.6+) and lastProcessedZxid (3.9+, optional), each sealed.
  // They are told apart by size: a lastProcessedZxid trailer with its seal is 21 bytes.
  const LAST_ZXID_TRAILER_BYTES = 8 + 8 + 5;
  let digest: ZkSnapshot["digest"];
  let lastProcessedZxid: Zxid | undefined;
  if (r.remaining() > 0 && r.remaining() !== LAST_ZXID_TRAILER_BYTES) {
    const d = step("digest trailer", () => {
      const zxid = asZxid(r.long());
      const version = r.int();
      const value = version < 2 ? BigInt.asIntN(64, BigInt("0x" + (r.ustring() || "0"))) : r.long();
      return { zxid, version, value };
    });
    const digestSealAt = r.offset;
    const badDigest = step("digest seal", () => checkSeal(r, buf));
    if (badDigest !== undefined) fail(badDigest, digestSealAt);
    digest = d;
  }
  if (r.remaining() === LAST_ZXID_TRAILER_BYTES) {
    lastProcessedZxid = step("lastProcessedZxid trailer", () => asZxid(r.long()));
    const lastSealAt = r.offset;
    const badLast = step("lastProcessedZxid seal", () => checkSeal(r, buf));
    if (badLast !== undefined) fail(badLast, lastSealAt);
  }
  if (r.remaining() !== 0) fail(`${r.remaining()} unexpected bytes after the snapshot's last seal`, r.offset);
  return { dbid, sessions, acls, nodes, digest, lastProcessedZxid, bytes: buf.length };
}

export interface ZkLogRecord {
  /** The entry's bytes: TxnHeader, txn, optional digest (txn.ts decodes them). */
  readonly entry: Buffer;
  readonly zxid: Zxid;
  /** Where the record (its checksum) starts in the file. */
  readonly offset: number;
}

export interface ZkLogScan {
  readonly dbid: bigint;
  readonly records: ZkLogRecord[];
  /** A record cut short with nothing but zeros (or the end) after it: a crash mid-write. */
  readonly torn: { readonly offset: number; readonly reason: string } | undefined;
}

/**
 * Reads a ZooKeeper log file: the header, then every record up to the end of the file
 * or the zeros of preallocation. A record whose checksum or end marker is wrong, with
 * anything but zeros after it, is damage (StorageError); one cut short at the end is
 * reported as `torn`.
 */
export function scanZkLog(buf: Buffer, file: string): ZkLogScan {
  const r = new JuteReader(buf);
  const dbid = readHeader(r, file, ZK_LOG_MAGIC, "transaction log");
  const records: ZkLogRecord[] = [];
  let offset = ZK_FILE_HEADER_BYTES;
  const end = buf.length;
  for (;;) {
    if (offset === end) return { dbid, records, torn: undefined };
    if (end - offset < RECORD_PREFIX_BYTES) {
      if (zeroFrom(buf, offset)) return { dbid, records, torn: undefined };
      return { dbid, records, torn: { offset, reason: `${end - offset} bytes at the end are too few for a record` } };
    }
    const crc = buf.readBigInt64BE(offset);
    const length = buf.readInt32BE(offset + 8);
    if (length === 0) {
      // Preallocated space: ZooKeeper stops at the first empty entry.
      if (crc === 0n && zeroFrom(buf, offset)) return { dbid, records, torn: undefined };
      throw new StorageError(file, offset, "an empty log entry with non-zero bytes after it (damaged)");
    }
    const damaged = (reason: string, recordEnd: number): ZkLogScan => {
      if (recordEnd >= end || zeroFrom(buf, recordEnd)) return { dbid, records, torn: { offset, reason } };
      throw new StorageError(file, offset, `${reason}, and the file goes on after it (damaged, not a torn write)`);
    };
    if (length < 0 || length > ZK_LOG_ENTRY_BYTES_MAX) {
      if (zeroFrom(buf, offset + RECORD_PREFIX_BYTES)) return { dbid, records, torn: { offset, reason: `bad entry length ${length}` } };
      throw new StorageError(file, offset, `bad log entry length ${length}`);
    }
    const entryAt = offset + RECORD_PREFIX_BYTES;
    const entryEnd = entryAt + length;
    if (entryEnd + 1 > end) return { dbid, records, torn: { offset, reason: `the record needs ${entryEnd + 1 - offset} bytes, the file has ${end - offset} left` } };
    // A torn write lacks its last byte, the end marker: that is checked first. A record
    // that is whole but whose checksum fails is damage wherever it is.
    if (buf[entryEnd] !== EOR) return damaged(`the record does not end with 'B' (0x42) but 0x${buf[entryEnd]!.toString(16)}`, entryEnd + 1);
    const sum = adler32(buf, entryAt, entryEnd);
    if (crc !== BigInt(sum)) {
      throw new StorageError(file, offset, `checksum mismatch: the record holds Adler-32 0x${BigInt.asUintN(64, crc).toString(16)}, its bytes give 0x${sum.toString(16)}`);
    }
    if (length < 32) throw new StorageError(file, offset, `a log entry of ${length} bytes is too short for a TxnHeader`);
    const entry = buf.subarray(entryAt, entryEnd);
    records.push({ entry, zxid: asZxid(entry.readBigInt64BE(12)), offset });
    offset = entryEnd + 1;
  }
}

/** A block of zeros to compare tails against (ZooKeeper preallocates logs 64 MiB at a time). */
const ZEROS = Buffer.alloc(64 * 1024);

/** Whether every byte of `buf` from `offset` on is zero. */
function zeroFrom(buf: Buffer, offset: number): boolean {
  for (let at = offset; at < buf.length; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, buf.length - at);
    if (buf.compare(ZEROS, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}
