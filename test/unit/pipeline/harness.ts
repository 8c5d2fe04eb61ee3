// An in-process pipeline for unit tests: fake connections that decode every reply with the
// jute codec and record watch events and closes in the order they happen, a ManualClock,
// and either the synchronous memoryCommitLog or a ManualCommitLog whose appends stay
// uncommitted until the test releases them (group commit). Requests are encoded to bytes
// and decoded with the pipeline's own decodeRequest, as the network layer would do.

import {
  AddWatchRequestSchema,
  Create2ResponseSchema,
  CreateRequestSchema,
  CreateResponseSchema,
  CreateTTLRequestSchema,
  CreateMode,
  Err,
  ErrorResponseSchema,
  GetACLResponseSchema,
  GetAllChildrenNumberResponseSchema,
  GetChildren2ResponseSchema,
  GetChildrenResponseSchema,
  GetDataResponseSchema,
  GetEphemeralsRequestSchema,
  GetEphemeralsResponseSchema,
  JuteReader,
  JuteWriter,
  MultiHeaderSchema,
  OpCode,
  PathSchema,
  PathTypeSchema,
  PathVersionSchema,
  PathWatchSchema,
  SetACLRequestSchema,
  SetDataRequestSchema,
  SetWatches2Schema,
  StatResponseSchema,
  Xid,
  decodeRecord,
  encodeRecord,
  type ACL,
  type Id,
  type RecordType,
  type Schema,
  type Stat,
} from "../../../src/jute/index.js";
import {
  Pipeline,
  decodeRequest,
  memoryCommitLog,
  type CommitLog,
  type Conn,
  type SessionQueue,
} from "../../../src/pipeline/index.js";
import { SessionTable } from "../../../src/session/index.js";
import { DataTree, OPEN_ACL_UNSAFE, accessCheck } from "../../../src/tree/index.js";
import type { TxnEntry } from "../../../src/txn/index.js";
import { ManualClock, asSessionId, type SessionId } from "../../../src/util/index.js";
import { WatchRegistry } from "../../../src/watch/index.js";

// ---------------------------------------------------------------------------------------
// What a fake connection saw.

export interface Reply {
  readonly kind: "reply";
  readonly xid: number;
  readonly zxid: bigint;
  readonly err: number;
  /** The body bytes (empty when the pipeline wrote none or err != 0). */
  readonly body: Buffer;
}
export interface WatchEvent {
  readonly kind: "event";
  readonly type: number;
  readonly path: string;
}
export interface Closed {
  readonly kind: "close";
  readonly reason: string;
}
export type Output = Reply | WatchEvent | Closed;

/** A Conn that keeps everything the pipeline sends it, in order. */
export class FakeConn implements Conn {
  readonly sessionId: SessionId;
  readonly authIds: Id[];
  readonly out: Output[] = [];
  closed = false;
  backpressure = false;
  /** Replies or events the pipeline tried to send after close (it must not). */
  sentAfterClose = 0;

  constructor(sessionId: SessionId, authIds: Id[]) {
    this.sessionId = sessionId;
    this.authIds = authIds;
  }

  get watchId(): bigint {
    return this.sessionId;
  }

  reply(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): void {
    if (this.closed) this.sentAfterClose++;
    const w = new JuteWriter(64);
    // As the real connection: a body is written only for a successful reply.
    if (body !== undefined && err === Err.Ok) body(w);
    this.out.push({ kind: "reply", xid, zxid, err, body: w.toBuffer() });
  }

  deliver(type: number, path: string): void {
    if (this.closed) this.sentAfterClose++;
    this.out.push({ kind: "event", type, path });
  }

  close(reason: string): void {
    this.closed = true;
    this.out.push({ kind: "close", reason });
  }

  setBackpressure(on: boolean): void {
    this.backpressure = on;
  }

  replies(): Reply[] {
    return this.out.filter((o): o is Reply => o.kind === "reply");
  }

  events(): WatchEvent[] {
    return this.out.filter((o): o is WatchEvent => o.kind === "event");
  }

  /** Events as `[type, path]` pairs, for compact assertions. */
  eventList(): [number, string][] {
    return this.events().map((e) => [e.type, e.path]);
  }

  clearEvents(): void {
    for (let i = this.out.length - 1; i >= 0; i--) if (this.out[i]!.kind === "event") this.out.splice(i, 1);
  }
}

// ---------------------------------------------------------------------------------------
// Requests as the wire carries them.

export interface Req {
  readonly opCode: number;
  readonly write?: (w: JuteWriter) => void;
}

export interface CreateOpts {
  mode?: number;
  acl?: ACL[];
  /** Defaults to create2 (the reply carries the Stat). */
  opCode?: number;
  ttl?: bigint;
}

function bytes(data: string | Buffer | null): Buffer | null {
  return typeof data === "string" ? Buffer.from(data) : data;
}

/** Request builders; each gives an op code and the body encoder. */
export const rq = {
  create(path: string, data: string | Buffer | null = "", opts: CreateOpts = {}): Req {
    const opCode = opts.opCode ?? OpCode.create2;
    const flags = opts.mode ?? (opCode === OpCode.createContainer ? CreateMode.Container : CreateMode.Persistent);
    const body = { path, data: bytes(data), acl: opts.acl ?? OPEN_ACL_UNSAFE, flags };
    if (opCode === OpCode.createTTL) {
      const ttl = opts.ttl ?? 1000n;
      return { opCode, write: (w) => encodeRecord(w, CreateTTLRequestSchema, { ...body, ttl }) };
    }
    return { opCode, write: (w) => encodeRecord(w, CreateRequestSchema, body) };
  },
  delete(path: string, version = -1): Req {
    return { opCode: OpCode.delete, write: (w) => encodeRecord(w, PathVersionSchema, { path, version }) };
  },
  setData(path: string, data: string | Buffer | null, version = -1): Req {
    const body = { path, data: bytes(data), version };
    return { opCode: OpCode.setData, write: (w) => encodeRecord(w, SetDataRequestSchema, body) };
  },
  check(path: string, version: number): Req {
    return { opCode: OpCode.check, write: (w) => encodeRecord(w, PathVersionSchema, { path, version }) };
  },
  setACL(path: string, acl: ACL[], version = -1): Req {
    return { opCode: OpCode.setACL, write: (w) => encodeRecord(w, SetACLRequestSchema, { path, acl, version }) };
  },
  getData(path: string, watch = false): Req {
    return { opCode: OpCode.getData, write: (w) => encodeRecord(w, PathWatchSchema, { path, watch }) };
  },
  exists(path: string, watch = false): Req {
    return { opCode: OpCode.exists, write: (w) => encodeRecord(w, PathWatchSchema, { path, watch }) };
  },
  getChildren(path: string, watch = false): Req {
    return { opCode: OpCode.getChildren, write: (w) => encodeRecord(w, PathWatchSchema, { path, watch }) };
  },
  getChildren2(path: string, watch = false): Req {
    return { opCode: OpCode.getChildren2, write: (w) => encodeRecord(w, PathWatchSchema, { path, watch }) };
  },
  getACL(path: string): Req {
    return { opCode: OpCode.getACL, write: (w) => encodeRecord(w, PathSchema, { path }) };
  },
  sync(path: string): Req {
    return { opCode: OpCode.sync, write: (w) => encodeRecord(w, PathSchema, { path }) };
  },
  getAllChildrenNumber(path: string): Req {
    return { opCode: OpCode.getAllChildrenNumber, write: (w) => encodeRecord(w, PathSchema, { path }) };
  },
  getEphemerals(prefixPath: string): Req {
    return { opCode: OpCode.getEphemerals, write: (w) => encodeRecord(w, GetEphemeralsRequestSchema, { prefixPath }) };
  },
  addWatch(path: string, mode: number): Req {
    return { opCode: OpCode.addWatch, write: (w) => encodeRecord(w, AddWatchRequestSchema, { path, mode }) };
  },
  checkWatches(path: string, type: number): Req {
    return { opCode: OpCode.checkWatches, write: (w) => encodeRecord(w, PathTypeSchema, { path, type }) };
  },
  removeWatches(path: string, type: number): Req {
    return { opCode: OpCode.removeWatches, write: (w) => encodeRecord(w, PathTypeSchema, { path, type }) };
  },
  setWatches2(relativeZxid: bigint, w: Partial<Record<SetWatchList, string[]>>): Req {
    const body = {
      relativeZxid,
      dataWatches: w.dataWatches ?? [],
      existWatches: w.existWatches ?? [],
      childWatches: w.childWatches ?? [],
      persistentWatches: w.persistentWatches ?? [],
      persistentRecursiveWatches: w.persistentRecursiveWatches ?? [],
    };
    return { opCode: OpCode.setWatches2, write: (wr) => encodeRecord(wr, SetWatches2Schema, body) };
  },
  multi(ops: readonly Req[]): Req {
    return {
      opCode: OpCode.multi,
      write: (w) => {
        for (const op of ops) {
          encodeRecord(w, MultiHeaderSchema, { type: op.opCode, done: false, err: -1 });
          op.write?.(w);
        }
        encodeRecord(w, MultiHeaderSchema, { type: -1, done: true, err: -1 });
      },
    };
  },
  closeSession(): Req {
    return { opCode: OpCode.closeSession };
  },
  ping(): Req {
    return { opCode: OpCode.ping };
  },
};

type SetWatchList = "dataWatches" | "existWatches" | "childWatches" | "persistentWatches" | "persistentRecursiveWatches";

// ---------------------------------------------------------------------------------------
// Reply decoding.

export function decodeBody<S extends Schema>(reply: Reply, schema: S): RecordType<S> {
  const r = new JuteReader(reply.body);
  const v = decodeRecord(r, schema);
  if (r.remaining() !== 0) throw new Error(`${r.remaining()} bytes left after the reply body`);
  return v;
}

export interface MultiResult {
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
}

/** A MultiResponse, read as ZooKeeper's Java client reads it (unknown types throw). */
export function decodeMulti(reply: Reply): MultiResult[] {
  const r = new JuteReader(reply.body);
  const out: MultiResult[] = [];
  for (;;) {
    const h = decodeRecord(r, MultiHeaderSchema);
    if (h.done) break;
    switch (h.type) {
      case OpCode.create:
        out.push({ type: h.type, err: 0, path: decodeRecord(r, CreateResponseSchema).path });
        break;
      case OpCode.create2: {
        const c = decodeRecord(r, Create2ResponseSchema);
        out.push({ type: h.type, err: 0, path: c.path, stat: c.stat });
        break;
      }
      case OpCode.delete:
      case OpCode.check:
        out.push({ type: h.type, err: 0 });
        break;
      case OpCode.setData:
        out.push({ type: h.type, err: 0, stat: decodeRecord(r, StatResponseSchema).stat });
        break;
      case OpCode.error:
        out.push({ type: h.type, err: decodeRecord(r, ErrorResponseSchema).err });
        break;
      default:
        throw new Error(`Invalid type ${h.type} in MultiResponse`);
    }
  }
  if (r.remaining() !== 0) throw new Error("bytes left after the MultiResponse");
  return out;
}

// ---------------------------------------------------------------------------------------
// A client: one fake connection bound to a session.

export class Client {
  readonly h: Harness;
  readonly conn: FakeConn;
  readonly queue: SessionQueue;
  #xid = 0;

  constructor(h: Harness, conn: FakeConn, queue: SessionQueue) {
    this.h = h;
    this.conn = conn;
    this.queue = queue;
  }

  get sessionId(): SessionId {
    return this.conn.sessionId;
  }

  /** Submits a request; returns its xid. */
  send(req: Req): number {
    const xid = req.opCode === OpCode.ping ? Xid.ping : req.opCode === OpCode.setWatches2 ? Xid.setWatches : ++this.#xid;
    const w = new JuteWriter(64);
    req.write?.(w);
    const decoded = decodeRequest(req.opCode, new JuteReader(w.toBuffer()));
    this.h.pipeline.submit(this.queue, xid, req.opCode, decoded);
    return xid;
  }

  /** The reply to `xid`, if it has come. */
  replyTo(xid: number): Reply | undefined {
    return this.conn.replies().find((r) => r.xid === xid);
  }

  /** Sends and returns the reply, which must come at once (synchronous commit). */
  call(req: Req): Reply {
    const xid = this.send(req);
    const r = this.replyTo(xid);
    if (r === undefined) throw new Error(`no reply yet to xid ${xid} (op ${req.opCode})`);
    return r;
  }

  create(path: string, data: string | Buffer | null = "", opts: CreateOpts = {}): { err: number; path: string; stat?: Stat } {
    const req = rq.create(path, data, opts);
    const r = this.call(req);
    if (r.err !== Err.Ok) return { err: r.err, path: "" };
    if (req.opCode === OpCode.create) return { err: r.err, path: decodeBody(r, CreateResponseSchema).path };
    const c = decodeBody(r, Create2ResponseSchema);
    return { err: r.err, path: c.path, stat: c.stat };
  }

  delete(path: string, version = -1): number {
    return this.call(rq.delete(path, version)).err;
  }

  setData(path: string, data: string | Buffer | null, version = -1): { err: number; stat?: Stat } {
    const r = this.call(rq.setData(path, data, version));
    return r.err === Err.Ok ? { err: r.err, stat: decodeBody(r, StatResponseSchema).stat } : { err: r.err };
  }

  setACL(path: string, acl: ACL[], version = -1): { err: number; stat?: Stat } {
    const r = this.call(rq.setACL(path, acl, version));
    return r.err === Err.Ok ? { err: r.err, stat: decodeBody(r, StatResponseSchema).stat } : { err: r.err };
  }

  getData(path: string, watch = false): { err: number; data?: string | null; stat?: Stat } {
    const r = this.call(rq.getData(path, watch));
    if (r.err !== Err.Ok) return { err: r.err };
    const d = decodeBody(r, GetDataResponseSchema);
    return { err: r.err, data: d.data === null ? null : d.data.toString(), stat: d.stat };
  }

  exists(path: string, watch = false): { err: number; stat?: Stat } {
    const r = this.call(rq.exists(path, watch));
    return r.err === Err.Ok ? { err: r.err, stat: decodeBody(r, StatResponseSchema).stat } : { err: r.err };
  }

  getChildren(path: string, watch = false): { err: number; children?: string[] } {
    const r = this.call(rq.getChildren(path, watch));
    if (r.err !== Err.Ok) return { err: r.err };
    return { err: r.err, children: decodeBody(r, GetChildrenResponseSchema).children.sort() };
  }

  getChildren2(path: string, watch = false): { err: number; children?: string[]; stat?: Stat } {
    const r = this.call(rq.getChildren2(path, watch));
    if (r.err !== Err.Ok) return { err: r.err };
    const c = decodeBody(r, GetChildren2ResponseSchema);
    return { err: r.err, children: c.children.sort(), stat: c.stat };
  }

  getACL(path: string): { err: number; acl?: ACL[]; stat?: Stat } {
    const r = this.call(rq.getACL(path));
    if (r.err !== Err.Ok) return { err: r.err };
    const a = decodeBody(r, GetACLResponseSchema);
    return { err: r.err, acl: a.acl, stat: a.stat };
  }

  getAllChildrenNumber(path: string): { err: number; n?: number } {
    const r = this.call(rq.getAllChildrenNumber(path));
    if (r.err !== Err.Ok) return { err: r.err };
    return { err: r.err, n: decodeBody(r, GetAllChildrenNumberResponseSchema).totalNumber };
  }

  getEphemerals(prefix: string): { err: number; paths?: string[] } {
    const r = this.call(rq.getEphemerals(prefix));
    if (r.err !== Err.Ok) return { err: r.err };
    return { err: r.err, paths: decodeBody(r, GetEphemeralsResponseSchema).ephemerals };
  }

  multi(ops: readonly Req[]): { err: number; results: MultiResult[]; zxid: bigint } {
    const r = this.call(rq.multi(ops));
    return { err: r.err, results: r.err === Err.Ok ? decodeMulti(r) : [], zxid: r.zxid };
  }

  addWatch(path: string, mode: number): Reply {
    return this.call(rq.addWatch(path, mode));
  }

  closeSession(): number {
    return this.call(rq.closeSession()).err;
  }
}

// ---------------------------------------------------------------------------------------
// Commit logs.

interface Held {
  readonly entry: TxnEntry;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

/**
 * A CommitLog whose appends are committed only when the test says so, in append order
 * (as a group fsync or a quorum ack would). With `holding` false it commits at once.
 */
export class ManualCommitLog implements CommitLog {
  holding = true;
  readonly appended: TxnEntry[] = [];
  readonly #held: Held[] = [];

  append(entry: TxnEntry): Promise<void> | undefined {
    this.appended.push(entry);
    if (!this.holding && this.#held.length === 0) return undefined;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#held.push({ entry, promise, resolve });
    return promise;
  }

  get pending(): number {
    return this.#held.length;
  }

  /** Commits the oldest `n` held txns and lets the pipeline run its callbacks. */
  async release(n = 1): Promise<void> {
    const batch = this.#held.splice(0, n);
    if (batch.length !== n) throw new Error(`only ${batch.length} txns were held, not ${n}`);
    for (const h of batch) h.resolve();
    // The pipeline subscribed to each promise when it appended, so its callbacks run
    // before this await returns.
    for (const h of batch) await h.promise;
  }

  async releaseAll(): Promise<void> {
    await this.release(this.#held.length);
  }
}

// ---------------------------------------------------------------------------------------
// The harness.

export interface HarnessOptions {
  log?: CommitLog;
  tickMs?: number;
  extendedTypesEnabled?: boolean;
  /** enforceQuota: creates and setData past a quota's hard limit are refused. */
  enforceQuota?: boolean;
  serverId?: bigint;
  outstandingMax?: number;
  /** skipACL=yes: the pipeline and the watch registry check no ACL. */
  skipAcl?: boolean;
}

/** Deterministic 16-byte password for a session id (stands in for the server's HMAC). */
export function testPassword(id: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt.asUintN(64, id), 0);
  b.writeBigUInt64BE(BigInt.asUintN(64, id ^ 0xb3415c00n), 8);
  return b;
}

export class Harness {
  readonly clock = new ManualClock();
  readonly tree = new DataTree();
  readonly watches: WatchRegistry;
  readonly sessions: SessionTable;
  readonly pipeline: Pipeline;
  readonly log: CommitLog;

  constructor(opts: HarnessOptions = {}) {
    this.log = opts.log ?? memoryCommitLog;
    const allows = accessCheck(opts.skipAcl ?? false);
    this.watches = new WatchRegistry(allows);
    this.sessions = new SessionTable({ tickMs: opts.tickMs ?? 2000, passwordFor: testPassword });
    this.pipeline = new Pipeline({
      tree: this.tree,
      sessions: this.sessions,
      watches: this.watches,
      log: this.log,
      clock: this.clock,
      serverId: opts.serverId ?? 1n,
      extendedTypesEnabled: opts.extendedTypesEnabled ?? true,
      enforceQuota: opts.enforceQuota ?? false,
      outstandingMax: opts.outstandingMax ?? 1000,
      allows,
    });
  }

  /** A new session (its createSession txn must commit at once) and a connection to it. */
  connect(opts: { timeoutMs?: number; authIds?: Id[] } = {}): Client {
    let id: SessionId | undefined;
    this.pipeline.createSession(opts.timeoutMs ?? 30_000, (sid) => (id = sid));
    if (id === undefined) throw new Error("createSession did not commit synchronously");
    return this.attach(id, opts.authIds ?? []);
  }

  /** A new connection bound to an existing session (a reconnect). */
  attach(sessionId: SessionId, authIds: Id[] = []): Client {
    const conn = new FakeConn(sessionId, authIds);
    return new Client(this, conn, this.pipeline.attach(conn));
  }

  /** Every path in the tree with its Stat and data, for before/after comparisons. */
  snapshot(): Map<string, { data: string | null; stat: Stat; acl: readonly ACL[] }> {
    const out = new Map<string, { data: string | null; stat: Stat; acl: readonly ACL[] }>();
    for (const p of [...this.tree.paths()].sort()) {
      const n = this.tree.get(p)!;
      out.set(p, { data: n.data === null ? null : n.data.toString(), stat: this.tree.statOf(n), acl: n.acl });
    }
    return out;
  }
}

export { asSessionId };
