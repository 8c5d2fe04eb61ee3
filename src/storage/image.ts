// The image a ZAB leader streams to a learner in SNAP sync: the tree and the session
// table, encoded incrementally from the live tree in chunks of bounded size, and decoded
// by the learner into a fresh tree as the chunks arrive. No I/O here: the driver carries
// the chunks (SNAPCHUNK frames) and decides when to ask for the next one.
//
// Chunk payload = record*, a record never split across chunks:
//   1 SESSION : long id | int timeoutMs
//   2 ACL     : int index | int n | n x (int perms | ustring scheme | ustring id)
//   3 NODE    : ustring path | buffer data | int aclIndex | stat (snapshot.ts's writeNodeStat)
//   4 TXN     : buffer txnEntry | int n | n x ustring path   (n = -1: no list)
//   5 END     : long Z1 | int sessions | long nodeRecords | long txnRecords
// Records come in this order: the sessions at Z0, the nodes, the txns, END (last record of
// the last chunk). An ACL record comes before the first node that uses its index. END's
// counts let the learner tell a complete image from one cut at a chunk boundary.
//
// Fuzziness, as snapshot.ts's (and ZooKeeper's SNAP sync): the sessions are taken at Z0
// (the tree's lastProcessedZxid when the stream starts), then the nodes are walked in
// slices while the leader keeps applying txns, so each node record shows the node at
// some zxid in [Z0, Z1] (Z1: lastProcessedZxid when the walk ended, in the same turn as
// its last record). Every txn applied during the walk is captured (noteApplied) and sent
// after the nodes, with the ephemerals each closeSession deleted. The learner replays them
// over the fuzzy nodes with DataTree.replay, as recovery replays a log over a fuzzy
// snapshot (same property, same closeSession lists): the decoded tree is then exactly the
// leader's at Z1, which SNAPEND names. A node record is never longer than a node, so a
// chunk is at most chunkBytes plus one record.

import { JuteReader, JuteWriter, readAcls, type ACL } from "../jute/index.js";
import { DataTree, EffectKind, type Effect, type ZNode } from "../tree/index.js";
import { decodeTxnEntry, encodeTxnEntry, type TxnEntry } from "../txn/index.js";
import { asZxid, assert, hex64, type Zxid } from "../util/index.js";
import { readNodeStat, writeNodeRecord, type NodeRecordTags } from "./snapshot.js";

export interface ImageSession {
  id: bigint;
  timeoutMs: number;
}

/**
 * About this many bytes per chunk (one SNAPCHUNK frame). 256 KiB of small nodes is ~1,500
 * records: a few ms to cut on the leader, ~20 ms to decode on the learner (its tree's
 * inserts dominate), so neither event loop is held long by one chunk.
 */
export const IMAGE_CHUNK_BYTES_DEFAULT = 256 * 1024;

const Rec = { session: 1, acl: 2, node: 3, txn: 4, end: 5 } as const;

/** The leader's side: one chunk per next() call, cut from the live tree. */
export class ImageEncoder {
  /** Z0: the tree's zxid when the stream started; the sessions are as of it. */
  readonly zxid: Zxid;
  readonly #tree: DataTree;
  readonly #chunkBytes: number;
  readonly #sessions: ImageSession[];
  #sessionAt = 0;
  readonly #walk: IterableIterator<[string, ZNode]>;
  readonly #aclIndex = new Map<readonly ACL[], number>();
  /** Txns applied since Z0 while the walk runs: encoded entry and, for a close, what it deleted. */
  readonly #tail: { zxid: bigint; data: Buffer; closed: string[] | undefined }[] = [];
  #tailAt = 0;
  #walking = true;
  #lastZxid: Zxid | undefined;
  #ended = false;
  readonly #w: JuteWriter;
  nodeRecords = 0;
  chunks = 0;
  bytes = 0;

  constructor(tree: DataTree, sessions: Iterable<ImageSession>, chunkBytes = IMAGE_CHUNK_BYTES_DEFAULT) {
    assert(chunkBytes > 0, "image chunks need a positive size");
    this.#tree = tree;
    this.zxid = tree.lastProcessedZxid;
    this.#chunkBytes = chunkBytes;
    this.#sessions = [...sessions].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs }));
    this.#walk = tree.nodes();
    this.#w = new JuteWriter(chunkBytes + 64 * 1024);
  }

  /** Z1, once the walk is over: the decoded image is the leader's tree at this zxid. */
  get lastZxid(): Zxid | undefined {
    return this.#walking ? undefined : this.#lastZxid;
  }

  /** Every txn the tree applies while the walk runs must be noted here, in zxid order. */
  noteApplied(entry: TxnEntry, effects: readonly Effect[]): void {
    if (!this.#walking) return;
    const zxid = entry.hdr.zxid;
    const last = this.#tail.at(-1)?.zxid ?? this.zxid;
    assert(zxid > last, `image stream: txn ${hex64(zxid)} applied after ${hex64(last)}`);
    let closed: string[] | undefined;
    if (entry.txn.type === "closeSession") {
      closed = [];
      for (const e of effects) if (e.kind === EffectKind.Deleted) closed.push(e.path);
    }
    this.#tail.push({ zxid, data: encodeTxnEntry(entry), closed });
  }

  /** The next chunk, or undefined when the image is complete (then lastZxid is set). */
  next(): Buffer | undefined {
    const w = this.#w;
    w.reset();
    while (this.#sessionAt < this.#sessions.length && w.length < this.#chunkBytes) {
      const s = this.#sessions[this.#sessionAt++]!;
      w.raw(TAG_SESSION);
      w.long(s.id);
      w.int(s.timeoutMs);
    }
    while (this.#walking && w.length < this.#chunkBytes) {
      const next = this.#walk.next();
      if (next.done === true) {
        // Cut in the same turn as the last record: every record shows a state <= Z1, and
        // every txn after Z0 up to Z1 has been noted.
        this.#walking = false;
        const z1 = this.#tree.lastProcessedZxid;
        const tailEnd = this.#tail.at(-1)?.zxid ?? this.zxid;
        assert(z1 === tailEnd, `image stream: the tree is at ${hex64(z1)} but the txns noted end at ${hex64(tailEnd)}`);
        this.#lastZxid = z1;
        break;
      }
      writeNodeRecord(w, next.value[0], next.value[1], this.#aclIndex, IMAGE_TAGS);
      this.nodeRecords++;
    }
    while (!this.#walking && this.#tailAt < this.#tail.length && w.length < this.#chunkBytes) {
      const t = this.#tail[this.#tailAt]!;
      this.#tail[this.#tailAt++] = undefined as never; // let the bytes go as they leave
      w.raw(TAG_TXN);
      w.buffer(t.data);
      if (t.closed === undefined) w.int(-1);
      else w.strings(t.closed);
    }
    if (!this.#walking && this.#tailAt === this.#tail.length && !this.#ended) {
      this.#ended = true;
      w.raw(TAG_END);
      w.long(this.#lastZxid!);
      w.int(this.#sessions.length);
      w.long(BigInt(this.nodeRecords));
      w.long(BigInt(this.#tail.length));
    }
    if (w.length === 0) return undefined;
    this.chunks++;
    this.bytes += w.length;
    return w.toBuffer();
  }
}

const TAG_SESSION = Uint8Array.of(Rec.session);
const TAG_ACL = Uint8Array.of(Rec.acl);
const TAG_NODE = Uint8Array.of(Rec.node);
const TAG_TXN = Uint8Array.of(Rec.txn);
const TAG_END = Uint8Array.of(Rec.end);

const IMAGE_TAGS: NodeRecordTags = { acl: TAG_ACL, node: TAG_NODE };

export interface DecodedImage {
  /** Z1: the tree is exactly the leader's at this zxid. */
  zxid: Zxid;
  tree: DataTree;
  sessions: ImageSession[];
  nodeRecords: number;
  bytes: number;
}

/**
 * The learner's side: chunks are decoded into a fresh tree as they arrive (the live tree
 * is untouched until install), and finish() checks the result is the image SNAPEND names.
 * A chunk that does not decode throws; the partial image is then to be dropped.
 */
export class ImageDecoder {
  readonly zxid: Zxid;
  readonly #tree = new DataTree();
  readonly #sessions = new Map<bigint, number>();
  readonly #acls: (readonly ACL[])[] = [];
  /** Once a txn record came, no node or session may follow. */
  #replaying = false;
  #nodeRecords = 0;
  #txnRecords = 0;
  #sessionRecords = 0;
  #end: { zxid: bigint; sessions: number; nodeRecords: number; txnRecords: number } | undefined;
  #bytes = 0;
  #done = false;

  constructor(zxid: bigint) {
    this.zxid = asZxid(zxid);
    this.#tree.lastProcessedZxid = this.zxid;
  }

  push(chunk: Uint8Array): void {
    assert(!this.#done, "image chunk after the end");
    const r = new JuteReader(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#bytes += chunk.byteLength;
    while (r.remaining() > 0) {
      if (this.#end !== undefined) throw new Error("image: a record after END");
      const tag = r.buf[r.offset++];
      switch (tag) {
        case Rec.session: {
          if (this.#replaying || this.#nodeRecords > 0) throw new Error("image: session record after the nodes");
          const id = r.long();
          this.#sessions.set(id, r.int());
          this.#sessionRecords++;
          break;
        }
        case Rec.acl: {
          const index = r.int();
          if (index !== this.#acls.length) throw new Error(`image: ACL index ${index} out of order`);
          this.#acls.push(readAcls(r));
          break;
        }
        case Rec.node: {
          if (this.#replaying) throw new Error("image: node record after the txns");
          const path = r.ustring();
          const data = r.bufferLatin1();
          const aclAt = r.int();
          const acl = this.#acls[aclAt];
          if (acl === undefined) throw new Error(`image: node ${path} uses undefined ACL ${aclAt}`);
          if (!this.#tree.restoreStat(path, data, acl, readNodeStat(r))) throw new Error(`image: ${path} comes before its parent`);
          this.#nodeRecords++;
          break;
        }
        case Rec.txn: {
          this.#replaying = true;
          const entry = decodeTxnEntry(r.buffer() ?? Buffer.alloc(0));
          const n = r.int();
          let closed: string[] | undefined;
          if (n >= 0) {
            closed = [];
            for (let i = 0; i < n; i++) closed.push(r.ustring());
          }
          if (entry.hdr.zxid <= this.#tree.lastProcessedZxid) throw new Error(`image: txn ${hex64(entry.hdr.zxid)} out of order`);
          this.#tree.replay(entry, closed);
          if (entry.txn.type === "createSession") this.#sessions.set(entry.hdr.sessionId, entry.txn.timeoutMs);
          else if (entry.txn.type === "closeSession") this.#sessions.delete(entry.hdr.sessionId);
          this.#txnRecords++;
          break;
        }
        case Rec.end:
          this.#end = { zxid: r.long(), sessions: r.int(), nodeRecords: Number(r.long()), txnRecords: Number(r.long()) };
          break;
        default:
          throw new Error(`image: unknown record tag ${String(tag)}`);
      }
    }
  }

  /** The complete image: SNAPEND's zxid must be where the replayed txns ended. */
  finish(zxid: bigint): DecodedImage {
    assert(!this.#done, "image finished twice");
    this.#done = true;
    const tree = this.#tree;
    const end = this.#end;
    if (end === undefined) throw new Error("image: incomplete (no END record)");
    const counts = `${this.#sessionRecords}/${this.#nodeRecords}/${this.#txnRecords}`;
    if (counts !== `${end.sessions}/${end.nodeRecords}/${end.txnRecords}`) throw new Error(`image: END counts ${end.sessions}/${end.nodeRecords}/${end.txnRecords} sessions/nodes/txns, received ${counts}`);
    if (end.zxid !== zxid || tree.lastProcessedZxid !== zxid) throw new Error(`image: SNAPEND at ${hex64(zxid)}, END at ${hex64(end.zxid)}, the image at ${hex64(tree.lastProcessedZxid)}`);
    const sessions = [...this.#sessions].map(([id, timeoutMs]) => ({ id, timeoutMs }));
    return { zxid: tree.lastProcessedZxid, tree, sessions, nodeRecords: this.#nodeRecords, bytes: this.#bytes };
  }
}

/**
 * Replaces `live`'s content with a decoded image's, in O(1): `live` takes the image tree's
 * maps (DataTree.adoptContent), so the learner does not stall for a second pass over the
 * nodes. The image's tree is left empty.
 */
export function installImage(live: DataTree, image: DecodedImage): void {
  live.adoptContent(image.tree);
  assert(live.lastProcessedZxid === image.zxid, "image install: zxid mismatch");
}

/** The whole image as one chunk list, at once (tests and tools; the driver streams). */
export function encodeImageChunks(tree: DataTree, sessions: Iterable<ImageSession>, chunkBytes = IMAGE_CHUNK_BYTES_DEFAULT): { zxid: Zxid; chunks: Buffer[]; lastZxid: Zxid } {
  const enc = new ImageEncoder(tree, sessions, chunkBytes);
  const chunks: Buffer[] = [];
  for (let c = enc.next(); c !== undefined; c = enc.next()) chunks.push(c);
  return { zxid: enc.zxid, chunks, lastZxid: enc.lastZxid! };
}
