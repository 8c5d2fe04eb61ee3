// Per-session FIFO queues and the replies that leave them: each connection's requests are
// answered in the order they arrived. A write's answer waits for its txn to be applied; a
// read waits behind its session's earlier writes and runs when they are answered; an error
// answer (SessionExpired, NotReadOnly) waits its turn too.

import { Xid } from "../jute/index.js";
import type { ApplyResult, DataTree } from "../tree/index.js";
import type { SessionId } from "../util/index.js";
import type { WatchRegistry } from "../watch/index.js";
import type { Reads } from "./reads.js";
import { writeReply } from "./replies.js";
import type { ReadReq, WriteReq } from "./requests.js";
import type { Conn, ExtensionCall } from "./types.js";

export interface PendingWrite {
  readonly kind: "write";
  readonly xid: number;
  readonly req: WriteReq;
  /** Set when the write was planned by an extension request, which then answers it. */
  readonly ext: ExtensionCall | undefined;
  result: ApplyResult | undefined;
}
interface PendingRead {
  readonly kind: "read";
  readonly xid: number;
  readonly req: ReadReq;
}
/** An error answer (SessionExpired) that waits behind the session's earlier requests. */
interface PendingFail {
  readonly kind: "fail";
  readonly xid: number;
  readonly err: number;
}
type Pending = PendingWrite | PendingRead | PendingFail;

/** One connection's place in the pipeline: its FIFO of requests not yet answered. */
export class SessionQueue {
  readonly conn: Conn;
  readonly pending: Pending[] = [];
  #head = 0;
  closed = false;

  constructor(conn: Conn) {
    this.conn = conn;
  }

  get size(): number {
    return this.pending.length - this.#head;
  }

  peek(): Pending | undefined {
    return this.pending[this.#head];
  }

  shift(): void {
    this.pending[this.#head++] = undefined as unknown as Pending;
    if (this.#head === this.pending.length) {
      this.pending.length = 0;
      this.#head = 0;
    }
  }

  /** The write of this queue with request id `xid` still waiting for its txn, if any. */
  waitingWrite(xid: number): PendingWrite | undefined {
    for (let i = this.#head; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (p.kind === "write" && p.result === undefined && p.xid === xid) return p;
    }
    return undefined;
  }

  /** Whether the session's own closeSession is among its requests not yet answered. */
  closing(): boolean {
    for (let i = this.#head; i < this.pending.length; i++) {
      const p = this.pending[i]!;
      if (p.kind === "write" && p.req.kind === "closeSession") return true;
    }
    return false;
  }
}

/** The connection bound to each session, and the answering of their queues. */
export class SessionQueues {
  readonly #byId = new Map<SessionId, SessionQueue>();
  readonly #tree: DataTree;
  readonly #watches: WatchRegistry;
  readonly #reads: Reads;
  readonly #outstandingMax: number;

  constructor(tree: DataTree, watches: WatchRegistry, reads: Reads, outstandingMax: number) {
    this.#tree = tree;
    this.#watches = watches;
    this.#reads = reads;
    this.#outstandingMax = outstandingMax;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(sessionId: SessionId): SessionQueue | undefined {
    return this.#byId.get(sessionId);
  }

  /** Binds a connection to its (existing) session; a previous connection is closed. */
  attach(conn: Conn): SessionQueue {
    const old = this.#byId.get(conn.sessionId);
    if (old !== undefined && old.conn !== conn) this.detach(old, "session moved to a new connection");
    const q = new SessionQueue(conn);
    this.#byId.set(conn.sessionId, q);
    return q;
  }

  /** Unbinds a closed connection: its watches go, its session stays until it expires. */
  detach(q: SessionQueue, reason: string): void {
    if (q.closed) return;
    q.closed = true;
    this.#watches.removeTarget(q.conn);
    if (this.#byId.get(q.conn.sessionId) === q) this.#byId.delete(q.conn.sessionId);
    q.conn.close(reason);
  }

  /** Detaches the connection of `sid`, if one is bound. */
  detachSession(sid: SessionId, reason: string): void {
    const q = this.#byId.get(sid);
    if (q !== undefined) this.detach(q, reason);
  }

  /** Answers `err` now if nothing is ahead of it in the queue, else in its turn. */
  fail(q: SessionQueue, xid: number, err: number): void {
    if (q.size === 0) q.conn.reply(xid, this.#tree.lastProcessedZxid, err);
    else q.pending.push({ kind: "fail", xid, err });
  }

  /** Runs a read now if nothing is ahead of it, else queues it behind the session's writes. */
  read(q: SessionQueue, xid: number, req: ReadReq): void {
    if (q.size === 0) this.#answerRead(q, xid, req);
    else q.pending.push({ kind: "read", xid, req });
  }

  /** After a request was queued: too many waiting stops reading from the connection. */
  checkBackpressure(q: SessionQueue): void {
    if (q.size > this.#outstandingMax) q.conn.setBackpressure(true);
  }

  /** Answers what has become answerable at the head of a session's queue. */
  drain(q: SessionQueue): void {
    for (let p = q.peek(); p !== undefined; p = q.peek()) {
      if (p.kind === "write") {
        if (p.result === undefined) break;
        q.shift();
        this.#answerWrite(q, p);
      } else if (p.kind === "fail") {
        q.shift();
        if (!q.closed) q.conn.reply(p.xid, this.#tree.lastProcessedZxid, p.err);
      } else {
        q.shift();
        this.#answerRead(q, p.xid, p.req);
      }
    }
    if (q.size <= this.#outstandingMax / 2) q.conn.setBackpressure(false);
  }

  /** Settles a write with its txn's result and answers what that unblocks. */
  complete(q: SessionQueue, p: PendingWrite, result: ApplyResult): void {
    p.result = result;
    this.drain(q);
  }

  #answerWrite(q: SessionQueue, p: PendingWrite): void {
    if (q.closed) return;
    const { err, body } = p.ext === undefined ? writeReply(p.req, p.result!, this.#tree) : p.ext.answer(q.conn, p.result);
    q.conn.reply(p.xid, this.#tree.lastProcessedZxid, err, body);
    if (p.req.kind === "closeSession") this.detach(q, "client closed the session");
  }

  #answerRead(q: SessionQueue, xid: number, req: ReadReq): void {
    if (q.closed) return;
    const r = this.#reads.run(q.conn, req);
    const replyXid = req.kind === "ping" ? Xid.ping : req.kind === "setWatches" ? Xid.setWatches : xid;
    q.conn.reply(replyXid, this.#tree.lastProcessedZxid, r.err, r.body);
  }
}
