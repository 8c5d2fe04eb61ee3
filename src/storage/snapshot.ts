// Snapshots: the data tree and the session table, written in the background while
// writes continue (fuzzy, as ZooKeeper's), and read back at recovery.
//
// Format. Files live in <dataDir>/version-2/ and are named snapshot.<hex zxid>, the zxid
// being the tree's lastProcessedZxid when the snapshot started (Z0). A snapshot is
// written as snapshot.<zxid>.tmp and renamed once sealed and fsynced, so a final name
// always holds a complete file. Layout:
//
//   header = "CRSN" | u32 format version (1)                (8 bytes, not framed)
//   block* = one frame each (frame.ts: u32 length | u32 CRC-32 | payload); the payload's
//            first byte is the block kind:
//     1 HEADER   : long Z0 | long timeMs | long highestSessionId | int sessionCount
//     2 SESSIONS : int n | n x (long sessionId | int timeoutMs)
//     3 NODES    : records until the end of the payload, each a tag byte then
//                    1 ACL     : int aclIndex | int n | n x (int perms | ustring scheme | ustring id)
//                    2 NODE    : ustring path | buffer data | int aclIndex | long czxid |
//                                long mzxid | long pzxid | long ctimeMs | long mtimeMs |
//                                int version | int cversion | int aversion | long ephemeralOwner
//     4 END      : long Z1 | long nodeRecords | int closes |
//                  closes x (long zxid | int n | n x ustring path) | u32 seal
//                  seal = CRC-32 of every byte of the file before this block's frame
//
// An ACL record comes before the first node that uses its index. Children are not
// stored: a node's parent is always an earlier record, because nodes are written in
// the tree's insertion order, in which a parent precedes its children.
//
// Fuzziness. Sessions and HEADER are taken at once, at Z0. Nodes are serialised in
// slices of about `sliceBytes`, yielding to the event loop between slices while txns
// keep being applied, so each node record shows the node as it was at some zxid in
// [Z0, Z1] (Z1: lastProcessedZxid when the last slice was cut). A path deleted and
// created again during the walk may appear twice; the later record wins. Recovery
// replays the log from Z0 + 1 with DataTree.replay, which redoes each txn over what the
// snapshot caught. The one thing replay cannot re-derive is which ephemerals a
// closeSession in (Z0, Z1] deleted, if the walk missed them: END lists those paths.

import { join } from "node:path";
import { JuteError, JuteReader, JuteWriter, writeAcls, type ACL } from "../jute/index.js";
import { EffectKind, type DataTree, type Effect, type ZNode, type ZNodeRecord, type ZNodeStat } from "../tree/index.js";
import type { TxnEntry } from "../txn/index.js";
import { asZxid, assert, type Zxid } from "../util/index.js";
import type { Disk, DiskFile } from "./disk.js";
import { StorageError } from "./errors.js";
import { snapshotFileName, TMP_SUFFIX } from "./files.js";
import { crc32 } from "./crc.js";
import { FRAME_HEADER_BYTES, readFrame, sealFrame } from "./frame.js";

export const SNAP_MAGIC = "CRSN";
export const SNAP_FORMAT_VERSION = 1;
export const SNAP_HEADER_BYTES = 8;
/** A block longer than this is corrupt (slices are far smaller; END holds the close lists). */
export const SNAP_BLOCK_BYTES_MAX = 512 * 1024 * 1024;
/** Sessions per SESSIONS block. */
const SESSIONS_PER_BLOCK = 65_536;
export const SNAP_SLICE_BYTES_DEFAULT = 64 * 1024;

const Block = { header: 1, sessions: 2, nodes: 3, end: 4 } as const;
const Tag = { acl: 1, node: 2 } as const;
const TAG_ACL = Uint8Array.of(Tag.acl);
const TAG_NODE = Uint8Array.of(Tag.node);

export interface SnapshotSession {
  readonly id: bigint;
  readonly timeoutMs: number;
}

export interface SnapshotOptions {
  disk: Disk;
  /** <dataDir>/version-2 */
  dir: string;
  tree: DataTree;
  /** The session table at Z0 (copied at once). */
  sessions: Iterable<SnapshotSession>;
  highestSessionId: bigint;
  timeMs: number;
  sliceBytes?: number;
  /** Lets the event loop run between slices; default setImmediate. */
  yieldTurn?: () => Promise<void>;
  /**
   * Resolves once every txn handed to the log so far is durable. Awaited before the
   * snapshot gets its final name: its fuzzy window (the txns applied while it was
   * written) must be in the log for recovery to replay, and an ensemble member applies
   * committed txns before its own fsync of them (every one of them appended first).
   */
  logDurable?: () => Promise<void>;
}

export interface SnapshotResult {
  readonly path: string;
  readonly zxid: Zxid;
  readonly lastZxid: Zxid;
  readonly bytes: number;
  readonly nodeRecords: number;
}

export const defaultYieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One snapshot being written. Call noteApplied for every txn applied while it runs. */
export class FuzzySnapshot {
  readonly zxid: Zxid;
  readonly path: string;
  readonly #opts: SnapshotOptions;
  readonly #sessions: SnapshotSession[];
  readonly #closes: { zxid: bigint; paths: string[] }[] = [];
  #walking = true;
  #aborted = false;
  #file: DiskFile | undefined;
  #pos = 0;
  #seal = 0;

  constructor(opts: SnapshotOptions) {
    this.#opts = opts;
    this.zxid = opts.tree.lastProcessedZxid;
    this.#sessions = [...opts.sessions].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs }));
    this.path = join(opts.dir, snapshotFileName(this.zxid));
  }

  /** Records the ephemerals a closeSession deleted while the walk is under way. */
  noteApplied(entry: TxnEntry, effects: readonly Effect[]): void {
    if (!this.#walking || entry.txn.type !== "closeSession") return;
    const paths: string[] = [];
    for (const e of effects) if (e.kind === EffectKind.Deleted) paths.push(e.path);
    this.#closes.push({ zxid: entry.hdr.zxid, paths });
  }

  /** Stops at the next slice; run() then removes the temporary file and resolves undefined. */
  abort(): void {
    this.#aborted = true;
  }

  async run(): Promise<SnapshotResult | undefined> {
    const { disk, tree } = this.#opts;
    const tmp = this.path + TMP_SUFFIX;
    const yieldTurn = this.#opts.yieldTurn ?? defaultYieldTurn;
    const sliceBytes = this.#opts.sliceBytes ?? SNAP_SLICE_BYTES_DEFAULT;
    this.#file = await disk.create(tmp);
    try {
      const w = new JuteWriter(sliceBytes + 64 * 1024);
      w.raw(Buffer.from(SNAP_MAGIC, "latin1"));
      w.int(SNAP_FORMAT_VERSION);
      await this.#write(w.view());
      await this.#writeBlock(w, Block.header, () => {
        w.long(this.zxid);
        w.longOfNumber(this.#opts.timeMs);
        w.long(this.#opts.highestSessionId);
        w.int(this.#sessions.length);
      });
      for (let i = 0; i < this.#sessions.length; i += SESSIONS_PER_BLOCK) {
        const part = this.#sessions.slice(i, i + SESSIONS_PER_BLOCK);
        await this.#writeBlock(w, Block.sessions, () => {
          w.int(part.length);
          for (const s of part) {
            w.long(s.id);
            w.int(s.timeoutMs);
          }
        });
      }
      const walk = tree.nodes();
      const aclIndex = new Map<readonly ACL[], number>();
      let nodeRecords = 0;
      let lastZxid: Zxid | undefined;
      while (lastZxid === undefined) {
        if (this.#aborted) return await this.#discard(tmp);
        await this.#writeBlock(w, Block.nodes, () => {
          while (w.length < sliceBytes) {
            const next = walk.next();
            if (next.done === true) {
              // Cut in the same turn as the last record: every record shows a state <= Z1.
              lastZxid = tree.lastProcessedZxid;
              this.#walking = false;
              return;
            }
            writeNodeRecord(w, next.value[0], next.value[1], aclIndex);
            nodeRecords++;
          }
        });
        if (lastZxid === undefined) await yieldTurn();
      }
      const z1: Zxid = lastZxid;
      await this.#writeBlock(w, Block.end, () => {
        w.long(z1);
        w.long(BigInt(nodeRecords));
        const closes = this.#closes.filter((c) => c.zxid <= z1);
        w.int(closes.length);
        for (const c of closes) {
          w.long(c.zxid);
          w.strings(c.paths);
        }
        w.int(this.#seal | 0);
      });
      await this.#file.sync();
      await this.#file.close();
      this.#file = undefined;
      await this.#opts.logDurable?.();
      await disk.rename(tmp, this.path);
      await disk.syncDir(this.#opts.dir);
      return { path: this.path, zxid: this.zxid, lastZxid: z1, bytes: this.#pos, nodeRecords };
    } catch (e) {
      await this.#file?.close().catch(() => undefined);
      throw e;
    }
  }

  async #discard(tmp: string): Promise<undefined> {
    await this.#file?.close();
    this.#file = undefined;
    await this.#opts.disk.remove(tmp);
    return undefined;
  }

  /** Frames what `body` writes as one block (the seal covers everything before END). */
  async #writeBlock(w: JuteWriter, kind: number, body: () => void): Promise<void> {
    w.reset();
    w.int(0);
    w.int(0);
    w.raw(Uint8Array.of(kind));
    body();
    const view = w.view();
    sealFrame(view, 0, view.length - FRAME_HEADER_BYTES);
    await this.#write(view);
  }

  async #write(bytes: Buffer): Promise<void> {
    this.#seal = crc32(bytes, this.#seal);
    await this.#file!.write(bytes, this.#pos);
    this.#pos += bytes.length;
  }
}

/** The tag bytes that start an ACL record and a node record in a format. */
export interface NodeRecordTags {
  readonly acl: Uint8Array;
  readonly node: Uint8Array;
}

const SNAPSHOT_TAGS: NodeRecordTags = { acl: TAG_ACL, node: TAG_NODE };

/**
 * One node as a record (the snapshot file and the SNAP image share it, each with its own
 * tags): an ACL record first when the node's ACL list is new to `aclIndex`, then the node
 * with the index of its ACL list.
 */
export function writeNodeRecord(w: JuteWriter, path: string, n: ZNode, aclIndex: Map<readonly ACL[], number>, tags: NodeRecordTags = SNAPSHOT_TAGS): void {
  let acl = aclIndex.get(n.acl);
  if (acl === undefined) {
    acl = aclIndex.size;
    aclIndex.set(n.acl, acl);
    w.raw(tags.acl);
    w.int(acl);
    writeAcls(w, n.acl);
  }
  w.raw(tags.node);
  w.ustring(path);
  w.bufferLatin1(n.dataLatin1);
  w.int(acl);
  writeNodeStat(w, n);
}

/** A node record's stat fields, in the order both snapshot formats use. */
export function writeNodeStat(w: JuteWriter, n: ZNodeStat): void {
  w.long(n.czxid);
  w.long(n.mzxid);
  w.long(n.pzxid);
  w.longOfNumber(n.ctimeMs);
  w.longOfNumber(n.mtimeMs);
  w.int(n.version);
  w.int(n.cversion);
  w.int(n.aversion);
  w.long(n.ephemeralOwner);
}

/** Reads what writeNodeStat wrote. */
export function readNodeStat(r: JuteReader): ZNodeStat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    pzxid: r.long(),
    ctimeMs: Number(r.long()),
    mtimeMs: Number(r.long()),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
  };
}

// Reading.

export interface ParsedSnapshot {
  readonly zxid: Zxid;
  readonly lastZxid: Zxid;
  readonly timeMs: number;
  readonly highestSessionId: bigint;
  readonly sessions: SnapshotSession[];
  /** NODES payloads (without the kind byte) and their frames' offsets in the file. */
  readonly nodeBlocks: { readonly payload: Buffer; readonly offset: number }[];
  readonly nodeRecords: number;
  /** closeSession zxid -> the ephemerals it deleted, for closes during the walk. */
  readonly closes: Map<bigint, string[]>;
  readonly bytes: number;
}

/**
 * Checks every block's checksum, the block order and the seal, and decodes everything
 * but the nodes. Throws StorageError naming the file and the offset of what is wrong.
 */
export function parseSnapshot(buf: Buffer, file: string): ParsedSnapshot {
  if (buf.length < SNAP_HEADER_BYTES) throw new StorageError(file, 0, `partial snapshot header (${buf.length} bytes)`);
  if (buf.toString("latin1", 0, 4) !== SNAP_MAGIC) throw new StorageError(file, 0, "not a Corral snapshot (bad magic)");
  const version = buf.readInt32BE(4);
  if (version !== SNAP_FORMAT_VERSION) throw new StorageError(file, 4, `unknown snapshot format version ${version}`);
  let offset = SNAP_HEADER_BYTES;
  let header: { zxid: Zxid; timeMs: number; highestSessionId: bigint; sessionCount: number } | undefined;
  const sessions: SnapshotSession[] = [];
  const nodeBlocks: { payload: Buffer; offset: number }[] = [];
  for (;;) {
    const f = readFrame(buf, offset, SNAP_BLOCK_BYTES_MAX);
    if (f.kind === "end") throw new StorageError(file, offset, "snapshot ends before its END block (incomplete)");
    if (f.kind === "bad") throw new StorageError(file, offset, f.reason);
    const kind = f.payload[0];
    const r = new JuteReader(f.payload, 1);
    const at = offset;
    const fail = (reason: string): never => {
      throw new StorageError(file, at, reason);
    };
    try {
      if (header === undefined && kind !== Block.header) fail(`block kind ${String(kind)} before HEADER`);
      switch (kind) {
        case Block.header:
          if (header !== undefined) fail("second HEADER block");
          header = { zxid: asZxid(r.long()), timeMs: Number(r.long()), highestSessionId: r.long(), sessionCount: r.int() };
          break;
        case Block.sessions: {
          const n = r.count(12);
          for (let i = 0; i < n; i++) sessions.push({ id: r.long(), timeoutMs: r.int() });
          break;
        }
        case Block.nodes:
          nodeBlocks.push({ payload: f.payload.subarray(1), offset: at });
          break;
        case Block.end: {
          const seal = crc32(buf.subarray(0, at)) | 0;
          const lastZxid = asZxid(r.long());
          const nodeRecords = Number(r.long());
          const closes = new Map<bigint, string[]>();
          const n = r.count(12);
          for (let i = 0; i < n; i++) closes.set(r.long(), r.strings());
          const stored = r.int();
          if (stored !== seal) fail(`seal mismatch: the blocks before END do not match its checksum`);
          if (f.next !== buf.length) throw new StorageError(file, f.next, `${buf.length - f.next} bytes after the END block`);
          const h = header!;
          if (sessions.length !== h.sessionCount) fail(`HEADER promises ${h.sessionCount} sessions, found ${sessions.length}`);
          if (lastZxid < h.zxid) fail(`END zxid ${lastZxid} before HEADER zxid ${h.zxid}`);
          return { ...h, lastZxid, sessions, nodeBlocks, nodeRecords, closes, bytes: buf.length };
        }
        default:
          fail(`unknown block kind ${String(kind)}`);
      }
      if (kind !== Block.nodes && r.remaining() !== 0) fail(`${r.remaining()} stray bytes in block`);
    } catch (e) {
      if (e instanceof JuteError) throw new StorageError(file, at, `block does not decode: ${e.message}`, { cause: e });
      throw e;
    }
    offset = f.next;
  }
}

/** Restores a parsed snapshot's nodes into `tree` (a fresh one) and sets its zxid to Z0. */
export function restoreSnapshot(snap: ParsedSnapshot, file: string, tree: DataTree): void {
  const acls: ACL[][] = [];
  let records = 0;
  for (const block of snap.nodeBlocks) {
    try {
      records += restoreBlock(block.payload, acls, tree);
    } catch (e) {
      if (e instanceof StorageError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new StorageError(file, block.offset, `node block does not decode: ${why}`, { cause: e });
    }
  }
  assert(records === snap.nodeRecords, `${file}: END counts ${snap.nodeRecords} node records, found ${records}`);
  tree.lastProcessedZxid = snap.zxid;
}

const TWO_32 = 4294967296;

/**
 * Decodes one NODES block straight from the buffer (the hot loop of recovery: a million
 * nodes must not cost a million JuteReader calls and BigInts apiece). The block's
 * checksum has been verified, so a record that runs past the end is a bug: it throws.
 */
function restoreBlock(b: Buffer, acls: ACL[][], tree: DataTree): number {
  let o = 0;
  let records = 0;
  const end = b.length;
  const str = (): string => {
    const len = b.readInt32BE(o);
    o += 4;
    if (len < 0 || o + len > end) throw new RangeError(`string of ${len} bytes at ${o - 4}`);
    const v = b.toString("utf8", o, o + len);
    o += len;
    return v;
  };
  while (o < end) {
    const tag = b[o++];
    if (tag === Tag.acl) {
      const index = b.readInt32BE(o);
      const n = b.readInt32BE(o + 4);
      o += 8;
      const acl: ACL[] = new Array<ACL>(n);
      for (let i = 0; i < n; i++) {
        const perms = b.readInt32BE(o);
        o += 4;
        const scheme = str();
        acl[i] = { perms, id: { scheme, id: str() } };
      }
      if (index !== acls.length) throw new RangeError(`ACL index ${index} out of order`);
      acls.push(acl);
      continue;
    }
    if (tag !== Tag.node) throw new RangeError(`unknown record tag ${String(tag)} at ${o - 1}`);
    const path = str();
    const dataLen = b.readInt32BE(o);
    o += 4;
    // Straight into a ZNode's form of data (a latin1 string): no Buffer per node.
    let data: string | null = null;
    if (dataLen > 0) {
      if (o + dataLen > end) throw new RangeError(`data of ${dataLen} bytes at ${o - 4}`);
      data = b.toString("latin1", o, o + dataLen);
      o += dataLen;
    } else if (dataLen === 0) data = "";
    const aclAt = b.readInt32BE(o);
    const acl = acls[aclAt];
    if (acl === undefined) throw new RangeError(`node ${path} uses undefined ACL ${aclAt}`);
    // Most nodes were never changed: czxid = mzxid = pzxid, one BigInt for all three.
    const czxid = b.readBigInt64BE(o + 4);
    const mzxid = b.readInt32BE(o + 12) === b.readInt32BE(o + 4) && b.readInt32BE(o + 16) === b.readInt32BE(o + 8) ? czxid : b.readBigInt64BE(o + 12);
    const pzxid = b.readInt32BE(o + 20) === b.readInt32BE(o + 4) && b.readInt32BE(o + 24) === b.readInt32BE(o + 8) ? czxid : b.readBigInt64BE(o + 20);
    const ctimeMs = b.readInt32BE(o + 28) * TWO_32 + b.readUInt32BE(o + 32);
    const mtimeMs = b.readInt32BE(o + 36) * TWO_32 + b.readUInt32BE(o + 40);
    const version = b.readInt32BE(o + 44);
    const cversion = b.readInt32BE(o + 48);
    const aversion = b.readInt32BE(o + 52);
    const ownerHi = b.readInt32BE(o + 56);
    const ownerLo = b.readInt32BE(o + 60);
    const ephemeralOwner = ownerHi === 0 && ownerLo === 0 ? 0n : b.readBigInt64BE(o + 56);
    o += 64;
    if (o > end) throw new RangeError(`node record for ${path} runs past the block`);
    const ok = tree.restoreStat(path, data, acl, { czxid, mzxid, pzxid, ctimeMs, mtimeMs, version, cversion, aversion, ephemeralOwner });
    if (!ok) throw new RangeError(`node ${path} comes before its parent`);
    records++;
  }
  return records;
}

/** Decodes a NODES payload's records one by one (for the dump tool). */
export function* nodeRecordsOf(payload: Buffer): Generator<{ tag: "acl"; index: number; acl: ACL[] } | { tag: "node"; path: string; node: ZNodeRecord; aclIndex: number }> {
  const r = new JuteReader(payload);
  while (r.remaining() > 0) {
    const tag = r.buf[r.offset++];
    if (tag === Tag.acl) {
      const index = r.int();
      const n = r.count(12);
      const acl: ACL[] = [];
      for (let i = 0; i < n; i++) acl.push({ perms: r.int(), id: { scheme: r.ustring(), id: r.ustring() } });
      yield { tag: "acl", index, acl };
      continue;
    }
    if (tag !== Tag.node) throw new JuteError(`unknown record tag ${String(tag)}`);
    const path = r.ustring();
    const data = r.buffer();
    const aclIndex = r.int();
    const node = { data, acl: [], ...readNodeStat(r) };
    yield { tag: "node", path, node, aclIndex };
  }
}
