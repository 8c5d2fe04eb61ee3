// The request path (DESIGN.md "One write, end to end"): per-session FIFO queues, then
// prep -> commit -> apply -> reply. Writes are prepared at once (so a session may have
// many in flight), committed through the CommitLog, and applied strictly in zxid order;
// a read waits behind its session's earlier writes and runs when they are answered.
// After each apply the effects go to subscribers (watches here; the recipe engine is
// subscribed by server). No I/O: connections and the commit step are interfaces.
//
// This file routes requests; the jobs are in their own modules: session-queues.ts (each
// connection's FIFO and its replies), commit-queue.ts (zxids, the log step, applying in
// order), session-modes.ts (local and read-only sessions), learner-link.ts (a learner
// forwarding writes to its leader and completing them when its txns are applied).

import { CorralOp, Err, OpCode, PathSchema, encodeRecord, type Id } from "../jute/index.js";
import { SessionIdGenerator, type SessionTable } from "../session/index.js";
import { checkAcl, type AccessCheck, type ApplyResult, type DataTree, type Effect } from "../tree/index.js";
import type { TxnEntry } from "../txn/index.js";
import { asSessionId, assert, type Clock, type SessionId, type Zxid } from "../util/index.js";
import type { WatchRegistry } from "../watch/index.js";
import type { JuteReader } from "../jute/index.js";
import { CommitQueue, type ApplySubscriber } from "./commit-queue.js";
import { opCodeOfWrite, type Forwarded } from "./forward.js";
import { LearnerLink } from "./learner-link.js";
import { Prep } from "./prep.js";
import { Reads } from "./reads.js";
import { decodeRequest, isWrite, type ReadReq, type Request, type WriteReq } from "./requests.js";
import { SessionModes } from "./session-modes.js";
import { SessionQueue, SessionQueues, type PendingWrite } from "./session-queues.js";
import type { CommitLog, Conn, ExtensionCall, ReconfigPlanner, RequestExtension, SessionEndPlanner } from "./types.js";

export { SessionQueue, type ApplySubscriber };

export interface PipelineOptions {
  tree: DataTree;
  sessions: SessionTable;
  watches: WatchRegistry;
  log: CommitLog;
  clock: Clock;
  serverId: bigint;
  extendedTypesEnabled: boolean;
  /** enforceQuota: refuse creates and setData past a quota's hard limit (QuotaExceeded). */
  enforceQuota?: boolean;
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

export class Pipeline {
  readonly tree: DataTree;
  readonly sessions: SessionTable;
  readonly watches: WatchRegistry;
  /** The ACL check every request of this server goes through (skipACL: none). */
  readonly allows: AccessCheck;
  readonly #opts: PipelineOptions;
  readonly #prep: Prep;
  readonly #commits: CommitQueue;
  readonly #queues: SessionQueues;
  readonly #modes: SessionModes;
  readonly #learner = new LearnerLink();
  readonly #sessionIds: SessionIdGenerator;
  #extension: RequestExtension | undefined;
  #reconfigPlanner: ReconfigPlanner | undefined;
  #engineMessages: ((sid: SessionId, authIds: readonly Id[], data: Buffer) => void) | undefined;

  constructor(opts: PipelineOptions) {
    this.#opts = opts;
    this.tree = opts.tree;
    this.sessions = opts.sessions;
    this.watches = opts.watches;
    this.allows = opts.allows ?? checkAcl;
    this.#prep = new Prep(opts.tree, this.allows);
    this.#commits = new CommitQueue(opts.tree, opts.log, opts.clock);
    this.#queues = new SessionQueues(opts.tree, opts.watches, new Reads(opts.tree, opts.watches, this.allows), opts.outstandingMax);
    this.#modes = new SessionModes(opts.sessions);
    this.#sessionIds = new SessionIdGenerator(opts.serverId, opts.clock.nowMs());
    if (opts.sessionIdFloor !== undefined) this.#sessionIds.observe(opts.sessionIdFloor);
    for (const s of opts.sessions.all()) this.#sessionIds.observe(s.id);
    // First of the subscribers: prep, the session table and watches see every txn first.
    this.#commits.subscribe((entry, _result, effects) => this.#afterApply(entry, effects));
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
    this.#commits.subscribe(fn);
  }

  /** Requests refused at prep for a quota's hard limit (enforceQuota), by namespace. */
  quotaExceededByNamespace(): ReadonlyMap<string, number> {
    return this.#prep.quotaExceeded;
  }

  get lastZxid(): Zxid {
    return this.#commits.lastZxid;
  }

  get outstandingCount(): number {
    return this.#commits.outstanding;
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
    if (this.#modes.openHere(id, timeoutMs, this.#opts.clock.monotonicMs())) {
      done(id);
    } else if (this.#learner.active) {
      this.#learner.forwardCreate(id, timeoutMs, done);
    } else {
      this.#issue(id, 0, OpCode.createSession, { type: "createSession", timeoutMs }, () => done(id));
    }
  }

  readonly #idInUse = (id: SessionId): boolean => this.sessions.get(id) !== undefined || this.#learner.creating(id);

  // ---- ensemble roles ---------------------------------------------------------------------

  /** An ensemble member's reconfig planner (standalone servers have none: Unimplemented). */
  setReconfigPlanner(planner: ReconfigPlanner | undefined): void {
    this.#reconfigPlanner = planner;
  }

  /** On a learner, forwards every write to the leader; undefined prepares them here. */
  setForwarder(fn: ((f: Forwarded) => void) | undefined): void {
    this.#learner.set(fn);
  }

  /** localSessionsEnabled / localSessionsUpgradingEnabled. */
  setLocalSessions(enabled: boolean, upgrading: boolean): void {
    this.#modes.setLocalSessions(enabled, upgrading);
  }

  isLocalSession(id: SessionId): boolean {
    return this.#modes.isLocal(id);
  }

  get localSessionCount(): number {
    return this.#modes.localCount;
  }

  /** On a learner: expires the local sessions past their deadline (global ones are the leader's). */
  expireLocalSessions(nowMs: number): SessionId[] {
    const due = this.#modes.expireLocal(nowMs);
    for (const sid of due) this.#queues.detachSession(sid, "session expired");
    return due;
  }

  /** Read-only mode: writes are refused with NotReadOnly, sessions are local. */
  setReadOnly(on: boolean): void {
    this.#modes.setReadOnly(on);
  }

  get readOnly(): boolean {
    return this.#modes.readOnly;
  }

  get forwarding(): boolean {
    return this.#learner.active;
  }

  /**
   * A leader stepped down: txns it proposed but did not see committed are no longer its
   * to apply (the next leader commits or truncates them, and this server learns which
   * in sync). Their clients were disconnected; their replies are never sent.
   */
  abandonOutstanding(): void {
    this.#commits.abandon();
    this.#prep.reset();
    // The closeSessions among them will never be applied: their sessions are live until a
    // leader closes them again (else a member that marked one closing here, and leads again
    // later, would never expire it, and its ephemerals — locks, taken jobs — would stay).
    this.sessions.reopenClosing(this.#opts.clock.monotonicMs());
  }

  /** A new leader's zxids continue from the start of its epoch. */
  resetZxid(zxid: bigint): void {
    this.#commits.resetZxid(zxid);
  }

  /** Leader: a write a learner forwarded on behalf of one of its sessions. */
  submitForwarded(f: Forwarded): void {
    const sid = asSessionId(f.sessionId);
    if (f.req.kind === "engine") {
      this.#engineMessages?.(sid, f.authIds, f.req.data);
      return;
    }
    if (f.req.kind === "createSession") {
      this.#issue(sid, 0, OpCode.createSession, { type: "createSession", timeoutMs: f.req.timeoutMs }, () => {});
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
    assert(this.outstandingCount === 0 || this.#learner.active, "remote txns interleaved with local ones");
    const result = this.#commits.applyRemote(entry);
    if (this.#learner.settle(entry, result)) return;
    const q = this.#queues.get(entry.hdr.sessionId);
    if (q === undefined) return;
    // The leader expired it: the client learns it on its next connect.
    if (entry.txn.type === "closeSession" && !q.closing()) {
      this.#queues.detach(q, "session expired");
      return;
    }
    const p = q.waitingWrite(entry.hdr.cxid);
    if (p !== undefined) this.#queues.complete(q, p, result);
  }

  touchSession(id: SessionId): void {
    this.sessions.touch(id, this.#opts.clock.monotonicMs());
  }

  /** Binds a connection to its (existing) session; a previous connection is closed. */
  attach(conn: Conn): SessionQueue {
    return this.#queues.attach(conn);
  }

  /** Unbinds a closed connection: its watches go, its session stays until it expires. */
  detach(q: SessionQueue, reason: string): void {
    this.#queues.detach(q, reason);
  }

  /** Takes one decoded request from a connection, in the order they arrived. */
  submit(q: SessionQueue, xid: number, opCode: number, req: Request): void {
    if (q.closed) return;
    const queues = this.#queues;
    const sid = q.conn.sessionId;
    const session = this.sessions.get(sid);
    if (session === undefined || session.closing) {
      // Replies stay in request order: behind earlier requests the error waits its turn.
      if (req.kind !== "closeSession") queues.fail(q, xid, Err.SessionExpired);
      return;
    }
    this.sessions.touch(sid, this.#opts.clock.monotonicMs());
    if (this.#modes.readOnly && (isWrite(req) || req.kind === "extension")) {
      queues.fail(q, xid, Err.NotReadOnly);
      return;
    }
    if (req.kind === "closeSession" && this.#modes.isLocal(sid) && q.size === 0) {
      q.conn.reply(xid, this.tree.lastProcessedZxid, Err.Ok);
      this.#modes.dropLocal(sid);
      queues.detach(q, "client closed the session");
      return;
    }
    // On a learner, sync goes through the leader as a no-op check of "/": once it is
    // applied here, so is everything the leader had proposed before it.
    const syncing = req.kind === "sync" && this.#learner.active ? syncCall(req.path) : undefined;
    const planned = req.kind === "extension" ? this.#plan(sid, req.call) : syncing !== undefined ? SYNC_WRITE : undefined;
    if (planned === undefined && !isWrite(req)) {
      queues.read(q, xid, req as ReadReq);
      queues.checkBackpressure(q);
      return;
    }
    const write = planned ?? (req as WriteReq);
    const mode = this.#modes.beforeWrite(sid, write);
    if (mode === "refuse") {
      queues.fail(q, xid, Err.EphemeralOnLocalSession);
      return;
    }
    if (mode === "upgrade") this.#upgrade(sid, session.timeoutMs);
    const ext = req.kind === "extension" ? req.call : syncing;
    const item: PendingWrite = { kind: "write", xid, req: write, ext, result: undefined };
    q.pending.push(item);
    // After a closeSession nothing more is accepted for the session.
    if (req.kind === "closeSession") this.sessions.markClosing(sid);
    if (this.#learner.active) {
      const fwdOp = planned === undefined ? opCode : opCodeOfWrite(write);
      this.#learner.forward({ sessionId: sid, cxid: xid, opCode: fwdOp, authIds: q.conn.authIds, req: write });
    } else {
      this.#prepAndCommit(sid, xid, opCode, write, (result) => queues.complete(q, item, result));
    }
    queues.checkBackpressure(q);
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
  submitInternal(sid: SessionId, opCode: number, req: WriteReq, done: (result: ApplyResult) => void, authIds?: readonly Id[]): void {
    if (this.#learner.active) {
      this.#learner.forwardInternal(sid, opCode, req, authIds ?? this.#queues.get(sid)?.conn.authIds ?? [], done);
      return;
    }
    this.#prepAndCommit(sid, 0, opCode, req, done, authIds);
  }

  /**
   * Learner: sends `data` to the leader's recipe engine about session `sid` (with the
   * identities it proved here), in order with that session's forwarded writes; false on a
   * server that prepares its own writes.
   */
  sendToLeaderEngine(sid: SessionId, data: Buffer): boolean {
    if (!this.#learner.active) return false;
    const authIds = this.#queues.get(sid)?.conn.authIds ?? [];
    this.#learner.forward({ sessionId: sid, cxid: 0, opCode: CorralOp.engineMessage, authIds, req: { kind: "engine", data } });
    return true;
  }

  /** Leader: where learners' engine messages go (the recipe engine). */
  setEngineMessageHandler(fn: ((sid: SessionId, authIds: readonly Id[], data: Buffer) => void) | undefined): void {
    this.#engineMessages = fn;
  }

  /** Whether `sid` is a session of the ensemble this server knows, and not closing. */
  sessionOpen(sid: SessionId): boolean {
    const s = this.sessions.get(sid);
    return s !== undefined && !s.closing;
  }

  /** Whether `path` will exist once every prepared txn is applied. */
  willExist(path: string): boolean {
    return this.#prep.willExist(path);
  }

  /** Starts closing a session that timed out; its ephemerals go with the closeSession txn. */
  expire(sid: SessionId): void {
    if (!this.sessions.markClosing(sid)) return;
    this.#prepAndCommit(sid, 0, OpCode.closeSession, { kind: "closeSession" }, () => this.#queues.detachSession(sid, "session expired"));
  }

  /** Expires every session past its deadline at `nowMs` (monotonic). */
  expireSessions(nowMs: number): SessionId[] {
    const due = this.sessions.expired(nowMs);
    for (const sid of due) {
      if (this.#modes.isLocal(sid)) {
        this.#modes.dropLocal(sid);
        this.#queues.detachSession(sid, "session expired");
      } else {
        this.expire(sid);
      }
    }
    return due;
  }

  /**
   * A local session that needs to own ephemerals becomes global: a createSession txn for
   * its id goes first, in the session's order (localSessionsUpgradingEnabled).
   */
  #upgrade(sid: SessionId, timeoutMs: number): void {
    if (this.#learner.active) this.#learner.forwardCreate(sid, timeoutMs);
    else this.#issue(sid, 0, OpCode.createSession, { type: "createSession", timeoutMs }, () => {});
  }

  /** Deletes containers and TTL nodes that are due, at most `max` of them. */
  reapContainers(max: number): string[] {
    const reaped: string[] = [];
    for (const path of this.tree.expiredContainersAndTtls(this.#opts.clock.nowMs())) {
      if (reaped.length >= max) break;
      const zxid = this.#commits.nextZxid;
      const txn = this.#prep.prepReapDelete(path, zxid);
      if (txn === undefined) continue;
      this.#commits.issue(asSessionId(0n), 0, OpCode.deleteContainer, txn, zxid, undefined);
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
    const zxid = this.#commits.nextZxid;
    const txn = this.#prep.prep(req, zxid, {
      sessionId: sid,
      authIds: authIds ?? this.#queues.get(sid)?.conn.authIds ?? NO_IDS,
      extendedTypesEnabled: this.#opts.extendedTypesEnabled,
      enforceQuota: this.#opts.enforceQuota ?? false,
      reconfigEnabled: this.#opts.reconfigEnabled ?? false,
      reconfigPlanner: this.#reconfigPlanner,
    });
    this.#commits.issue(sid, cxid, opCode, txn, zxid, done);
  }

  /** A txn prep does not make (createSession): issued at the next zxid. */
  #issue(sid: SessionId, cxid: number, opCode: number, txn: TxnEntry["txn"], done: (r: ApplyResult) => void): void {
    this.#commits.issue(sid, cxid, opCode, txn, this.#commits.nextZxid, done);
  }

  /**
   * The leader's commit step says every txn up to `zxid` is committed: apply them now, in
   * order (see CommitQueue.commitThrough).
   */
  commitThrough(zxid: bigint): void {
    this.#commits.commitThrough(zxid);
  }

  readonly #aclOf = (path: string) => this.tree.get(path)?.acl;

  /** What every applied txn does beyond the tree: prep's view, the session table, watches. */
  #afterApply(entry: TxnEntry, effects: readonly Effect[]): void {
    const { hdr, txn } = entry;
    this.#prep.applied(hdr.zxid);
    if (txn.type === "createSession") {
      this.sessions.add(hdr.sessionId, txn.timeoutMs, this.#opts.clock.monotonicMs());
      // One of this server's ids from before a restart (a DIFF replays them): go above it.
      this.#sessionIds.observe(hdr.sessionId);
    } else if (txn.type === "closeSession") {
      this.sessions.remove(hdr.sessionId);
    }
    if (effects.length > 0) this.watches.trigger(effects, this.#aclOf);
  }
}

const NO_IDS: readonly Id[] = [];

/**
 * What `sync` sends a learner's leader: a no-op check of "/". Once it is applied here, so
 * is everything the leader had prepared before it (the recipe engine orders by it too).
 */
export const SYNC_WRITE: WriteReq = { kind: "check", path: "/", version: -1 };

function syncCall(path: string): ExtensionCall {
  return {
    plan: () => SYNC_WRITE,
    answer: () => ({ err: Err.Ok, body: (w) => encodeRecord(w, PathSchema, { path }) }),
  };
}
