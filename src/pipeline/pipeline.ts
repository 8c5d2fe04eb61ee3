// The request path (DESIGN.md "One write, end to end"): per-session FIFO queues, then
// prep -> commit -> apply -> reply. Writes are prepared at once (so a session may have
// many in flight), committed through the CommitLog, and applied strictly in zxid order;
// a read waits behind its session's earlier writes and runs when they are answered.
// After each apply the effects go to subscribers (watches here; the recipe engine is
// subscribed by server). No I/O: connections and the commit step are interfaces.

import { Err, OpCode, PathSchema, Xid, encodeRecord, isEphemeralMode, type ACL, type Id } from "../jute/index.js";
import { SessionIdGenerator, type SessionTable } from "../session/index.js";
import { checkAcl, type AccessCheck, type ApplyResult, type DataTree, type Effect } from "../tree/index.js";
import type { Txn, TxnEntry } from "../txn/index.js";
import { asSessionId, asZxid, assert, type Clock, type SessionId, type Zxid } from "../util/index.js";
import type { WatchRegistry } from "../watch/index.js";
import { Prep } from "./prep.js";
import { Reads } from "./reads.js";
import { writeReply } from "./replies.js";
import { isWrite, type ReadReq, type Request, type WriteReq } from "./requests.js";
import type { CommitLog, Conn, ExtensionCall, ReconfigPlanner, RequestExtension, SessionEndPlanner } from "./types.js";
import { decodeRequest } from "./requests.js";
import type { JuteReader } from "../jute/index.js";
import { opCodeOfWrite, type Forwarded } from "./forward.js";

export interface PipelineOptions {
  tree: DataTree;
  sessions: SessionTable;
  watches: WatchRegistry;
  log: CommitLog;
  clock: Clock;
  serverId: bigint;
  extendedTypesEnabled: boolean;
  /**
   * The server's ACL check (accessCheck(skipACL)); the owner gives the watch registry
   * the same one. Default: checkAcl.
   */
  allows?: AccessCheck;
  /** reconfigEnabled: without it the reconfig op answers ReconfigDisabled. */
  reconfigEnabled?: boolean;
  /** Requests a connection may have queued before it stops being read. */
  outstandingMax: number;
  /**
   * The highest session id recovery found (storage's highestSessionId). It lifts this
   * server's id counter only if it carries this server's id byte: another member's ids
   * are that member's to issue (src/session/ids.ts).
   */
  sessionIdFloor?: bigint | undefined;
}

/** Called after every applied txn, in zxid order. */
export type ApplySubscriber = (entry: TxnEntry, result: ApplyResult, effects: readonly Effect[]) => void;

interface PendingWrite {
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

interface Committing {
  readonly entry: TxnEntry;
  durable: boolean;
  readonly done: ((result: ApplyResult) => void) | undefined;
}

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
}

export class Pipeline {
  readonly tree: DataTree;
  readonly sessions: SessionTable;
  readonly watches: WatchRegistry;
  /** The ACL check every request of this server goes through (skipACL: none). */
  readonly allows: AccessCheck;
  readonly #opts: PipelineOptions;
  readonly #prep: Prep;
  readonly #reads: Reads;
  readonly #committing: Committing[] = [];
  #committingHead = 0;
  /**
   * The last promise the commit step returned, and the highest zxid it stands for: a
   * log that returns one promise for many appends (a group commit) gets one reaction,
   * not one per txn.
   */
  #awaited: { promise: Promise<void>; zxid: bigint } | undefined;
  /** Counts abandonOutstanding() calls: a reaction from before one has nothing to commit. */
  #abandoned = 0;
  readonly #subscribers: ApplySubscriber[] = [];
  /** The connection currently bound to each session. */
  readonly #queues = new Map<SessionId, SessionQueue>();
  #lastZxid: bigint;
  readonly #sessionIds: SessionIdGenerator;
  #extension: RequestExtension | undefined;
  /** Read-only mode: a partitioned member serving reads to read-only clients. */
  #readOnly = false;
  readonly #readOnlySessions = new Set<SessionId>();
  /** localSessionsEnabled: new sessions live on this server only until they need more. */
  #localSessionsEnabled = false;
  #localSessionsUpgrading = false;
  readonly #localSessions = new Set<SessionId>();
  /** Set on a learner: writes go to the leader instead of being prepared here. */
  #forwarder: ((f: Forwarded) => void) | undefined;
  readonly #pendingCreates = new Map<bigint, (id: SessionId) => void>();
  readonly #internalAwaiting = new Map<string, (r: ApplyResult) => void>();
  #internalCxid = INTERNAL_CXID_BASE;
  #reconfigPlanner: ReconfigPlanner | undefined;

  constructor(opts: PipelineOptions) {
    this.#opts = opts;
    this.tree = opts.tree;
    this.sessions = opts.sessions;
    this.watches = opts.watches;
    this.allows = opts.allows ?? checkAcl;
    this.#prep = new Prep(opts.tree, this.allows);
    this.#reads = new Reads(opts.tree, opts.watches, this.allows);
    this.#lastZxid = opts.tree.lastProcessedZxid;
    this.#sessionIds = new SessionIdGenerator(opts.serverId, opts.clock.nowMs());
    if (opts.sessionIdFloor !== undefined) this.#sessionIds.observe(opts.sessionIdFloor);
    for (const s of opts.sessions.all()) this.#sessionIds.observe(s.id);
    this.subscribe((entry, _result, effects) => this.#afterApply(entry, effects));
  }

  /** Installs the decoder of op codes beyond ZooKeeper's (the recipe engine's). */
  setExtension(ext: RequestExtension): void {
    this.#extension = ext;
  }

  /** Decodes a request body: ZooKeeper's op codes, then the extension's. */
  decodeRequest(opCode: number, r: JuteReader): Request {
    const call = this.#extension?.decode(opCode, r);
    return call === undefined ? decodeRequest(opCode, r) : { kind: "extension", call };
  }

  /** Installs what a closeSession moves back before its ephemerals go (the recipe engine's). */
  setSessionEndPlanner(planner: SessionEndPlanner | undefined): void {
    this.#prep.setSessionEndPlanner(planner);
  }

  subscribe(fn: ApplySubscriber): void {
    this.#subscribers.push(fn);
  }

  get lastZxid(): Zxid {
    return asZxid(this.#lastZxid);
  }

  get outstandingCount(): number {
    return this.#committing.length - this.#committingHead;
  }

  connectionCount(): number {
    return this.#queues.size;
  }

  queueOf(sessionId: SessionId): SessionQueue | undefined {
    return this.#queues.get(sessionId);
  }

  /** Creates a session through a createSession txn; `done` runs once it is applied. */
  createSession(timeoutMs: number, done: (id: SessionId) => void): void {
    const id = this.#sessionIds.next(this.#idInUse);
    if (this.#localSessionsEnabled && !this.#readOnly) {
      // A local session (ZooKeeper's localSessionsEnabled): no txn, known to this server only.
      this.sessions.add(id, timeoutMs, this.#opts.clock.monotonicMs());
      this.#localSessions.add(id);
      done(id);
      return;
    }
    if (this.#readOnly) {
      // A read-only session is local to this server (no quorum to log it with); it goes
      // when the server rejoins the quorum and drops its read-only clients.
      this.sessions.add(id, timeoutMs, this.#opts.clock.monotonicMs());
      this.#readOnlySessions.add(id);
      done(id);
      return;
    }
    if (this.#forwarder !== undefined) {
      this.#pendingCreates.set(id, done);
      this.#forwarder({ sessionId: id, cxid: 0, opCode: OpCode.createSession, authIds: [], req: { kind: "createSession", timeoutMs } });
      return;
    }
    this.#commit(id, 0, OpCode.createSession, { type: "createSession", timeoutMs }, () => done(id));
  }

  readonly #idInUse = (id: SessionId): boolean => this.sessions.get(id) !== undefined || this.#pendingCreates.has(id);

  // ---- ensemble roles ---------------------------------------------------------------------

  /** An ensemble member's reconfig planner (standalone servers have none: Unimplemented). */
  setReconfigPlanner(planner: ReconfigPlanner | undefined): void {
    this.#reconfigPlanner = planner;
  }

  /** On a learner, forwards every write to the leader; undefined prepares them here. */
  setForwarder(fn: ((f: Forwarded) => void) | undefined): void {
    this.#forwarder = fn;
  }

  /** localSessionsEnabled / localSessionsUpgradingEnabled. */
  setLocalSessions(enabled: boolean, upgrading: boolean): void {
    this.#localSessionsEnabled = enabled;
    this.#localSessionsUpgrading = upgrading;
  }

  isLocalSession(id: SessionId): boolean {
    return this.#localSessions.has(id);
  }

  get localSessionCount(): number {
    return this.#localSessions.size;
  }

  /** A local session ends here: no txn (it owns no ephemerals). */
  #dropLocal(sid: SessionId, reason: string): void {
    this.#localSessions.delete(sid);
    this.sessions.remove(sid);
    const q = this.#queues.get(sid);
    if (q !== undefined) this.detach(q, reason);
  }

  /** On a learner: expires the local sessions past their deadline (global ones are the leader's). */
  expireLocalSessions(nowMs: number): SessionId[] {
    const due = this.sessions.expired(nowMs).filter((sid) => this.#localSessions.has(sid));
    for (const sid of due) this.#dropLocal(sid, "session expired");
    return due;
  }

  /** Read-only mode: writes are refused with NotReadOnly, sessions are local. */
  setReadOnly(on: boolean): void {
    this.#readOnly = on;
    if (on) return;
    // The quorum never knew the read-only sessions: they end here (their clients come
    // back with a new session, as ZooKeeper's clients do after a read-only start).
    for (const id of this.#readOnlySessions) this.sessions.remove(id);
    this.#readOnlySessions.clear();
  }

  get readOnly(): boolean {
    return this.#readOnly;
  }

  get forwarding(): boolean {
    return this.#forwarder !== undefined;
  }

  /**
   * A leader stepped down: txns it proposed but did not see committed are no longer its
   * to apply (the next leader commits or truncates them, and this server learns which
   * in sync). Their clients were disconnected; their replies are never sent.
   */
  abandonOutstanding(): void {
    this.#awaited = undefined;
    this.#abandoned++;
    this.#committing.length = 0;
    this.#committingHead = 0;
    this.#prep.reset();
    this.#lastZxid = this.tree.lastProcessedZxid;
    // The closeSessions among them will never be applied: their sessions are live until a
    // leader closes them again (else a member that marked one closing here, and leads again
    // later, would never expire it, and its ephemerals — locks, taken jobs — would stay).
    this.sessions.reopenClosing(this.#opts.clock.monotonicMs());
  }

  /** A new leader's zxids continue from the start of its epoch. */
  resetZxid(zxid: bigint): void {
    assert(this.outstandingCount === 0, "cannot move the zxid base with txns in flight");
    assert(zxid >= this.tree.lastProcessedZxid, "the zxid base must not go back");
    this.#lastZxid = zxid;
  }

  /** Leader: a write a learner forwarded on behalf of one of its sessions. */
  submitForwarded(f: Forwarded): void {
    const sid = asSessionId(f.sessionId);
    if (f.req.kind === "createSession") {
      this.#commit(sid, 0, OpCode.createSession, { type: "createSession", timeoutMs: f.req.timeoutMs }, () => {});
      return;
    }
    if (f.req.kind === "closeSession" && !this.sessions.markClosing(sid) && this.sessions.get(sid) === undefined) return;
    this.#prepAndCommit(sid, f.cxid, f.opCode, f.req, () => {}, f.authIds);
  }

  /**
   * Applies a txn committed elsewhere: on a learner every txn, on a new leader the history
   * it inherited. A txn that answers a request of a session connected here completes it.
   */
  applyRemote(entry: TxnEntry): void {
    assert(this.outstandingCount === 0 || this.#forwarder !== undefined, "remote txns interleaved with local ones");
    const effects: Effect[] = [];
    const result = this.tree.apply(entry, effects);
    if (entry.hdr.zxid > this.#lastZxid) this.#lastZxid = entry.hdr.zxid;
    this.#prep.applied(entry.hdr.zxid);
    for (const fn of this.#subscribers) fn(entry, result, effects);
    this.#completeRemote(entry, result);
  }

  #completeRemote(entry: TxnEntry, result: ApplyResult): void {
    const { sessionId, cxid } = entry.hdr;
    if (entry.txn.type === "createSession") {
      const done = this.#pendingCreates.get(sessionId);
      this.#pendingCreates.delete(sessionId);
      done?.(sessionId);
      return;
    }
    if (cxid <= INTERNAL_CXID_BASE) {
      const key = `${sessionId}:${cxid}`;
      const done = this.#internalAwaiting.get(key);
      this.#internalAwaiting.delete(key);
      done?.(result);
      return;
    }
    const q = this.#queues.get(sessionId);
    if (q === undefined) return;
    if (entry.txn.type === "closeSession") {
      // The leader expired it: the client learns it on its next connect.
      const own = q.pending.some((p) => p !== undefined && p.kind === "write" && p.req.kind === "closeSession");
      if (!own) {
        this.detach(q, "session expired");
        return;
      }
    }
    for (const p of q.pending) {
      if (p !== undefined && p.kind === "write" && p.result === undefined && p.xid === cxid) {
        p.result = result;
        this.#drain(q);
        return;
      }
    }
  }


  touchSession(id: SessionId): void {
    this.sessions.touch(id, this.#opts.clock.monotonicMs());
  }

  /** Binds a connection to its (existing) session; a previous connection is closed. */
  attach(conn: Conn): SessionQueue {
    const old = this.#queues.get(conn.sessionId);
    if (old !== undefined && old.conn !== conn) this.detach(old, "session moved to a new connection");
    const q = new SessionQueue(conn);
    this.#queues.set(conn.sessionId, q);
    return q;
  }

  /** Unbinds a closed connection: its watches go, its session stays until it expires. */
  detach(q: SessionQueue, reason: string): void {
    if (q.closed) return;
    q.closed = true;
    this.watches.removeTarget(q.conn);
    if (this.#queues.get(q.conn.sessionId) === q) this.#queues.delete(q.conn.sessionId);
    q.conn.close(reason);
  }

  /** Takes one decoded request from a connection, in the order they arrived. */
  submit(q: SessionQueue, xid: number, opCode: number, req: Request): void {
    if (q.closed) return;
    const sid = q.conn.sessionId;
    const session = this.sessions.get(sid);
    if (session === undefined || session.closing) {
      if (req.kind === "closeSession") return;
      // Replies stay in request order: behind earlier requests the error waits its turn.
      if (q.size === 0) q.conn.reply(xid, this.tree.lastProcessedZxid, Err.SessionExpired);
      else q.pending.push({ kind: "fail", xid, err: Err.SessionExpired });
      return;
    }
    this.sessions.touch(sid, this.#opts.clock.monotonicMs());
    if (this.#readOnly && (isWrite(req) || req.kind === "extension")) {
      if (q.size === 0) q.conn.reply(xid, this.tree.lastProcessedZxid, Err.NotReadOnly);
      else q.pending.push({ kind: "fail", xid, err: Err.NotReadOnly });
      return;
    }
    if (this.#localSessions.has(sid) && req.kind === "closeSession" && q.size === 0) {
      q.conn.reply(xid, this.tree.lastProcessedZxid, Err.Ok);
      this.#dropLocal(sid, "client closed the session");
      return;
    }
    // On a learner, sync goes through the leader as a no-op check of "/": once it is
    // applied here, so is everything the leader had proposed before it.
    const syncing = req.kind === "sync" && this.#forwarder !== undefined ? syncCall(req.path) : undefined;
    const planned = req.kind === "extension" ? this.#plan(sid, req.call) : syncing !== undefined ? SYNC_WRITE : undefined;
    if (planned !== undefined || isWrite(req)) {
      const write = planned ?? (req as WriteReq);
      if (this.#localSessions.has(sid) && needsGlobalSession(write)) {
        if (!this.#localSessionsUpgrading) {
          if (q.size === 0) q.conn.reply(xid, this.tree.lastProcessedZxid, Err.EphemeralOnLocalSession);
          else q.pending.push({ kind: "fail", xid, err: Err.EphemeralOnLocalSession });
          return;
        }
        this.#upgrade(sid, session.timeoutMs);
      }
      const ext = req.kind === "extension" ? req.call : syncing;
      const item: PendingWrite = { kind: "write", xid, req: write, ext, result: undefined };
      q.pending.push(item);
      // After a closeSession nothing more is accepted for the session.
      if (req.kind === "closeSession") this.sessions.markClosing(sid);
      if (this.#forwarder !== undefined) {
        const fwdOp = planned === undefined ? opCode : opCodeOfWrite(write);
        this.#forwarder({ sessionId: sid, cxid: xid, opCode: fwdOp, authIds: q.conn.authIds, req: write });
      } else {
        this.#prepAndCommit(sid, xid, opCode, write, (result) => {
          item.result = result;
          this.#drain(q);
        });
      }
    } else if (q.size === 0) {
      this.#answerRead(q, xid, req as ReadReq);
    } else {
      q.pending.push({ kind: "read", xid, req: req as ReadReq });
    }
    if (q.size > this.#opts.outstandingMax) q.conn.setBackpressure(true);
  }

  #plan(sid: SessionId, call: ExtensionCall): WriteReq | undefined {
    return call.plan({
      sessionId: sid,
      tree: this.tree,
      willExist: (path) => this.#prep.willExist(path),
      ownsProtected: (path) => this.#prep.ownsProtected(sid, path),
    });
  }

  /**
   * Prepares and commits a write on a session's behalf outside its request queue (the
   * recipe engine waking a waiter); `done` runs once it is applied.
   */
  submitInternal(sid: SessionId, opCode: number, req: WriteReq, done: (result: ApplyResult) => void): void {
    if (this.#forwarder !== undefined) {
      const cxid = this.#internalCxid--;
      this.#internalAwaiting.set(`${sid}:${cxid}`, done);
      this.#forwarder({ sessionId: sid, cxid, opCode, authIds: this.#queues.get(sid)?.conn.authIds ?? [], req });
      return;
    }
    this.#prepAndCommit(sid, 0, opCode, req, done);
  }

  /** Whether `path` will exist once every prepared txn is applied. */
  willExist(path: string): boolean {
    return this.#prep.willExist(path);
  }

  /** Starts closing a session that timed out; its ephemerals go with the closeSession txn. */
  expire(sid: SessionId): void {
    if (!this.sessions.markClosing(sid)) return;
    this.#prepAndCommit(sid, 0, OpCode.closeSession, { kind: "closeSession" }, () => {
      const q = this.#queues.get(sid);
      if (q !== undefined) this.detach(q, "session expired");
    });
  }

  /** Expires every session past its deadline at `nowMs` (monotonic). */
  expireSessions(nowMs: number): SessionId[] {
    const due = this.sessions.expired(nowMs);
    for (const sid of due) {
      if (this.#localSessions.has(sid)) this.#dropLocal(sid, "session expired");
      else this.expire(sid);
    }
    return due;
  }

  /**
   * A local session that needs to own ephemerals becomes global: a createSession txn for
   * its id goes first, in the session's order (localSessionsUpgradingEnabled).
   */
  #upgrade(sid: SessionId, timeoutMs: number): void {
    this.#localSessions.delete(sid);
    if (this.#forwarder !== undefined) {
      this.#forwarder({ sessionId: sid, cxid: 0, opCode: OpCode.createSession, authIds: [], req: { kind: "createSession", timeoutMs } });
    } else {
      this.#commit(sid, 0, OpCode.createSession, { type: "createSession", timeoutMs }, () => {});
    }
  }

  /** Deletes containers and TTL nodes that are due, at most `max` of them. */
  reapContainers(max: number): string[] {
    const reaped: string[] = [];
    for (const path of this.tree.expiredContainersAndTtls(this.#opts.clock.nowMs())) {
      if (reaped.length >= max) break;
      const zxid = this.#lastZxid + 1n;
      const txn = this.#prep.prepReapDelete(path, zxid);
      if (txn === undefined) continue;
      this.#commitTxn(asSessionId(0n), 0, OpCode.deleteContainer, txn, zxid, undefined);
      reaped.push(path);
    }
    return reaped;
  }

  #prepAndCommit(
    sid: SessionId,
    cxid: number,
    opCode: number,
    req: WriteReq,
    done: (r: ApplyResult) => void,
    authIds?: readonly Id[],
  ): void {
    const zxid = this.#lastZxid + 1n;
    const txn = this.#prep.prep(req, zxid, {
      sessionId: sid,
      authIds: authIds ?? this.#queues.get(sid)?.conn.authIds ?? NO_IDS,
      extendedTypesEnabled: this.#opts.extendedTypesEnabled,
      reconfigEnabled: this.#opts.reconfigEnabled ?? false,
      reconfigPlanner: this.#reconfigPlanner,
    });
    this.#commitTxn(sid, cxid, opCode, txn, zxid, done);
  }

  #commit(sid: SessionId, cxid: number, opCode: number, txn: Txn, done: (r: ApplyResult) => void): void {
    this.#commitTxn(sid, cxid, opCode, txn, this.#lastZxid + 1n, done);
  }

  #commitTxn(
    sid: SessionId,
    cxid: number,
    opCode: number,
    txn: Txn,
    zxid: bigint,
    done: ((r: ApplyResult) => void) | undefined,
  ): void {
    assert(zxid === this.#lastZxid + 1n, "zxids must be issued in order");
    this.#lastZxid = zxid;
    const entry: TxnEntry = {
      hdr: { sessionId: sid, cxid, zxid: asZxid(zxid), timeMs: this.#opts.clock.nowMs(), opCode },
      txn,
    };
    const item: Committing = { entry, durable: false, done };
    this.#committing.push(item);
    let pending: Promise<void> | undefined;
    try {
      pending = this.#opts.log.append(entry);
    } catch (e) {
      // The commit step refused it (e.g. not the leader any more): it never happened.
      this.#committing.pop();
      this.#lastZxid = zxid - 1n;
      throw e;
    }
    if (pending === undefined) {
      item.durable = true;
      this.#applyCommitted();
      return;
    }
    const awaited = this.#awaited;
    if (awaited !== undefined && awaited.promise === pending) {
      awaited.zxid = zxid;
      return;
    }
    const next = { promise: pending, zxid };
    const abandoned = this.#abandoned;
    this.#awaited = next;
    pending.then(
      () => {
        if (this.#awaited === next) this.#awaited = undefined;
        if (abandoned === this.#abandoned) this.commitThrough(next.zxid);
      },
      (e: unknown) => {
        // A txn that cannot be made durable must not be acknowledged or applied; the
        // server cannot continue safely (ZooKeeper exits on a log write failure too).
        queueMicrotask(() => {
          throw e;
        });
      },
    );
  }

  /**
   * The commit step says every txn up to `zxid` is committed: apply them now, in order,
   * without waiting for the promises `append` returned (ZAB's driver needs the tree
   * current before it handles anything else in the same batch).
   */
  commitThrough(zxid: bigint): void {
    for (let i = this.#committingHead; i < this.#committing.length; i++) {
      const item = this.#committing[i]!;
      if (item.entry.hdr.zxid > zxid) break;
      item.durable = true;
    }
    this.#applyCommitted();
  }

  /** Applies committed txns from the head of the queue, in zxid order. */
  #applyCommitted(): void {
    while (this.#committingHead < this.#committing.length) {
      const item = this.#committing[this.#committingHead]!;
      if (!item.durable) {
        // Under steady load the queue may never empty (the log keeps a batch in flight):
        // drop the applied head now and then instead of waiting for that.
        if (this.#committingHead > 1024 && this.#committingHead * 2 > this.#committing.length) {
          this.#committing.splice(0, this.#committingHead);
          this.#committingHead = 0;
        }
        return;
      }
      this.#committing[this.#committingHead++] = undefined as unknown as Committing;
      const effects: Effect[] = [];
      const result = this.tree.apply(item.entry, effects);
      this.#prep.applied(item.entry.hdr.zxid);
      for (const fn of this.#subscribers) fn(item.entry, result, effects);
      item.done?.(result);
    }
    this.#committing.length = 0;
    this.#committingHead = 0;
  }

  readonly #aclOf = (path: string): readonly ACL[] | undefined => this.tree.get(path)?.acl;

  /** Session table changes and watch events that an applied txn causes. */
  #afterApply(entry: TxnEntry, effects: readonly Effect[]): void {
    const { hdr, txn } = entry;
    if (txn.type === "createSession") {
      this.sessions.add(hdr.sessionId, txn.timeoutMs, this.#opts.clock.monotonicMs());
      // One of this server's ids from before a restart (a DIFF replays them): go above it.
      this.#sessionIds.observe(hdr.sessionId);
    } else if (txn.type === "closeSession") {
      this.sessions.remove(hdr.sessionId);
    }
    if (effects.length > 0) this.watches.trigger(effects, this.#aclOf);
  }

  /** Answers what has become answerable at the head of a session's queue. */
  #drain(q: SessionQueue): void {
    for (let p = q.peek(); p !== undefined; p = q.peek()) {
      if (p.kind === "write") {
        if (p.result === undefined) break;
        q.shift();
        this.#answerWrite(q, p);
      } else if (p.kind === "fail") {
        q.shift();
        if (!q.closed) q.conn.reply(p.xid, this.tree.lastProcessedZxid, p.err);
      } else {
        q.shift();
        this.#answerRead(q, p.xid, p.req);
      }
    }
    if (q.size <= this.#opts.outstandingMax / 2) q.conn.setBackpressure(false);
  }

  #answerWrite(q: SessionQueue, p: PendingWrite): void {
    if (q.closed) return;
    const { err, body } = p.ext === undefined ? writeReply(p.req, p.result!, this.tree) : p.ext.answer(q.conn, p.result);
    q.conn.reply(p.xid, this.tree.lastProcessedZxid, err, body);
    if (p.req.kind === "closeSession") this.detach(q, "client closed the session");
  }

  #answerRead(q: SessionQueue, xid: number, req: ReadReq): void {
    if (q.closed) return;
    const r = this.#reads.run(q.conn, req);
    const replyXid = req.kind === "ping" ? Xid.ping : req.kind === "setWatches" ? Xid.setWatches : xid;
    q.conn.reply(replyXid, this.tree.lastProcessedZxid, r.err, r.body);
  }
}

const NO_IDS: readonly Id[] = [];

const SYNC_WRITE: WriteReq = { kind: "check", path: "/", version: -1 };

/** Writes a local session may not make: creating ephemerals (the session must be global). */
function needsGlobalSession(w: WriteReq): boolean {
  if (w.kind === "create") return isEphemeralMode(w.flags & 0xff);
  if (w.kind === "multi") return w.ops.some((op) => op.kind === "create" && isEphemeralMode(op.flags & 0xff));
  return false;
}

function syncCall(path: string): ExtensionCall {
  return {
    plan: () => SYNC_WRITE,
    answer: () => ({ err: Err.Ok, body: (w) => encodeRecord(w, PathSchema, { path }) }),
  };
}
/** cxids at or below this mark writes the recipe engine made for a session (not a client's). */
const INTERNAL_CXID_BASE = -0x10000;
