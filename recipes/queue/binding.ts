// FIFO and job queues on the server. `offer` is an ordinary sequential create. A take,
// FIFO or job alike, moves the head in one txn to an in-flight node owned by the taker's
// session, `_c_<requestId>-inflight-<item>[~ms]` (protected: a re-sent take finds the
// item the first send took instead of taking another), and answers with its path: the
// engine hands each item to exactly one taker, so no consumer ever loses a race for the
// head and retries. The FIFO client acks at once (the next take's `ackNode`, or a
// release), a job consumer when its job is done. An empty (or not yet existing) queue
// files the taker as a waiter; each new item wakes exactly one waiter, in the order they
// asked. When a taker's session ends, its in-flight nodes go back under their items'
// sequence numbers, counted (rules.ts), in the closeSession txn itself (planSessionEnd):
// one txn, on every replica and in recovery. A job take's visibility timeout is decided by the server that owns
// time-driven txns (standalone, leader), which rebuilds its deadlines from the tree.
//
// Job consumers may also hand an item back at once (jobNack: back under its sequence with
// its delivery count one higher) or push its visibility timeout out (jobExtend: the
// in-flight node is re-created under a name with the new timeout, so its ctime, the
// leader's time at prep, starts the new timeout). The server that owns time-driven txns
// also moves items delivered too often to their queue's dead-letter queue and makes
// delayed offers ("qd-<ms>-<seq>") items once due, one txn each (rules.ts has the names);
// every replica tracks those nodes from the tree, so a new leader picks them up.
//
// In an ensemble the leader keeps every wait, in one FIFO per queue: a follower or
// observer whose client must wait tells the leader (engine.toOwner, in order with the
// session's forwarded writes) and keeps only a note of it; the leader makes the take for
// the waiter's session when an item comes, and the member holding the waiter's
// connection pushes the item when it applies that take (the in-flight node names the
// request). Were each member to serve its own clients' waits, the members would race for
// the same items and those connected to the leader would win every race.
//
// Admin views and metrics read an index of every queue in the tree (a node with `qn-`
// children), fed by Created/Deleted effects and rebuilt from the tree: a backlog nobody
// has taken from since the server started shows too.

import {
  CREATE_IF_ABSENT_FLAG,
  CorralOp,
  CreateMode,
  Err,
  JobExtendRequestSchema,
  JobExtendResponseSchema,
  NodeRequestSchema,
  PROTECTED_CREATE_FLAG,
  Perms,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RecipeEventKind,
  decodeRecord,
  encodeRecord,
  type Id,
  type JuteReader,
  type JuteWriter,
} from "../../src/jute/index.js";
import { SYNC_WRITE, type Conn, type ExtensionCall, type PlanContext, type WriteReq } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type Move, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { basenameOf, invalidPathReason, joinPath, parentOf, type ApplyResult } from "../../src/tree/index.js";
import { createPath, findProtected, firstError } from "../common/binding.js";
import { PROTECTED_PREFIX, isRequestId, protectedName, requestIdOf, tokenOf } from "../common/rules.js";
import { SortedNames } from "../common/sequence.js";
import {
  DELAYED_PREFIX,
  INFLIGHT_PREFIX,
  ITEM_PREFIX,
  VISIBILITY_MS_MAX,
  deadLetterPrefix,
  deliveriesOf,
  inflightName,
  isDeadLetter,
  isItem,
  parseDelayed,
  parseInflight,
  parsePolicy,
  redeliveredName,
  type DeadLetterPolicy,
} from "./rules.js";

interface Taker {
  sessionId: bigint;
  requestId: string;
  job: boolean;
  /** Job takes: the visibility timeout of the item handed out (0: until the session dies). */
  visibilityMs: number;
  /**
   * Leader: a wait a learner filed for a session connected there (LEARNER_WAIT); the
   * take is made with the identities the session proved there.
   */
  remote?: { authIds: readonly Id[] };
}

/** Learner: a wait the leader keeps for a session connected here. */
interface WaitAtOwner {
  path: string;
  sessionId: bigint;
  requestId: string;
}

/** What a learner's queue binding tells the leader's (onLearnerMessage). */
const LEARNER_WAIT = 1;
const LEARNER_CANCEL = 2;

const waitKey = (sessionId: bigint, requestId: string): string => `${sessionId}:${requestId}`;

interface QueueState {
  items: SortedNames;
  /** Items handed to a taker whose txn is not applied yet. */
  claimed: Set<string>;
  waiters: Taker[];
}

interface Take {
  name: string;
  inflight: string;
  data: Buffer | null;
  ops: WriteReq[];
}

/** Items and in-flight nodes per queue, for admin views and metrics. */
interface QueueCounts {
  depth: number;
  inFlight: number;
}

type Answer = { err: number; body?: (w: JuteWriter) => void };

const found = (item: string, data: Buffer | null): Answer => ({
  err: Err.Ok,
  body: (w) => encodeRecord(w, QueueTakeResponseSchema, { found: true, item, data }),
});
const notFound: Answer = { err: Err.Ok, body: (w) => encodeRecord(w, QueueTakeResponseSchema, { found: false, item: "", data: null }) };

export class QueueBinding implements RecipeBinding {
  readonly name = "queue";
  readonly opCodes = [CorralOp.queueTake, CorralOp.jobNack, CorralOp.jobExtend];
  readonly namePrefixes = [ITEM_PREFIX, INFLIGHT_PREFIX, PROTECTED_PREFIX, DELAYED_PREFIX];
  readonly #queues = new Map<string, QueueState>();
  /** Every queue in the tree with items or in-flight nodes. */
  readonly #counts = new Map<string, QueueCounts>();
  /** In-flight nodes with a visibility timeout: path -> when it runs out (wall clock ms). */
  readonly #deadlines = new Map<string, number>();
  /** In-flight nodes whose requeue txn is on its way. */
  readonly #requeuing = new Set<string>();
  /** Items that went back after a delivery: path -> their delivery count (dead-letter candidates). */
  readonly #redelivered = new Map<string, number>();
  /** Items whose move to their dead-letter queue is on its way. */
  readonly #deadLettering = new Set<string>();
  /** Delayed offers: path -> when they become items (wall clock ms, from their ctime). */
  readonly #delayed = new Map<string, number>();
  /** Delayed offers whose promotion txn is on its way. */
  readonly #promoting = new Set<string>();
  /** The engine, for planSessionEnd (set at registration, by rebuild). */
  #engine: EngineApi | undefined;
  /** Learner: waits the leader keeps for sessions connected here, by waitKey. */
  readonly #atOwner = new Map<string, WaitAtOwner>();
  /**
   * Learner: waits given up (cancelWait) whose cancel may have crossed a take the leader
   * had already made for them: such an item goes back to the head when it arrives. Each
   * key goes once a write sent after the cancel is applied here (nothing can come later).
   */
  readonly #cancelledAtOwner = new Set<string>();

  decode(opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    if (opCode === CorralOp.jobNack) return this.#decodeNack(r);
    if (opCode === CorralOp.jobExtend) return this.#decodeExtend(r);
    const req = decodeRecord(r, QueueTakeRequestSchema);
    const visibility = req.visibilityMs;
    if (invalidPathReason(req.path) !== undefined || !isRequestId(req.requestId)) return failedCall(Err.BadArguments);
    if (visibility < 0n || visibility > BigInt(VISIBILITY_MS_MAX) || (visibility > 0n && !req.job)) return failedCall(Err.BadArguments);
    const ack = req.ackNode;
    if (ack !== "" && (invalidPathReason(ack) !== undefined || parentOf(ack) !== req.path || parseInflight(basenameOf(ack)) === undefined)) {
      return failedCall(Err.BadArguments);
    }
    const path = req.path;
    const taker = { requestId: req.requestId, job: req.job, visibilityMs: Number(visibility) };
    let take: Take | undefined;
    let acking = false;
    let err: number = Err.Ok;
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => {
        const ops: WriteReq[] = [];
        if (ack !== "" && ctx.willExist(ack)) {
          const owner = ctx.tree.get(ack)?.ephemeralOwner;
          if (owner !== undefined && owner !== ctx.sessionId) {
            err = Err.NoAuth;
            return undefined;
          }
          acking = true;
        }
        if (!ctx.willExist(path)) {
          if (!req.wait) err = Err.NoNode;
          return undefined;
        }
        take = this.#claimHead(engine, path, { sessionId: ctx.sessionId, ...taker });
        if (take !== undefined) ops.push(...take.ops);
        if (acking) ops.push({ kind: "delete", path: ack, version: -1 });
        // A re-send whose first take is still in flight (sent on a connection since lost):
        // a no-op write orders this answer after it, so the answer finds its item.
        if (take === undefined && ops.length === 0 && ctx.ownsProtected(joinPath(path, protectedName(req.requestId, INFLIGHT_PREFIX)))) {
          ops.push({ kind: "check", path, version: -1 });
        }
        return ops.length === 0 ? undefined : ops.length === 1 ? ops[0] : { kind: "multi", ops: ops as never };
      },
      answer: (conn, result: ApplyResult | undefined) => {
        if (err !== Err.Ok) return { err };
        if (take !== undefined) {
          this.#queues.get(path)?.claimed.delete(take.name);
          const failed = firstError(result);
          if (failed === Err.Ok) return found(take.inflight, take.data);
          // The ack rode with the take: acked on its own now (at worst the item would be
          // handed out again after the session ends, never lost).
          if (acking) engine.submit(conn.sessionId, { kind: "delete", path: ack, version: -1 }, () => {});
          // NodeExists on the in-flight create: a re-send (answered below). NoNode: another
          // member of an ensemble handed the head to its own taker first: not ours, wait.
          if (failed !== Err.NoNode && failed !== Err.NodeExists) return { err: failed };
        }
        // A re-send whose first take was applied: the same item again.
        const mine = findProtected(engine.tree, conn.sessionId, path, req.requestId);
        if (mine !== undefined) return found(mine, engine.tree.get(mine)?.data ?? null);
        if (!req.wait) return notFound;
        return this.#fileWaiter(engine, conn, path, { sessionId: conn.sessionId, ...taker });
      },
    };
  }

  /**
   * jobNack: the session's in-flight node goes back to its queue at once, under its
   * sequence with its delivery count one higher (one txn). NoNode if it is gone (acked, or
   * back already), NoAuth if another session's.
   */
  #decodeNack(r: JuteReader): ExtensionCall {
    const { node } = decodeRecord(r, NodeRequestSchema);
    const inflight = invalidPathReason(node) === undefined ? parseInflight(basenameOf(node)) : undefined;
    if (inflight === undefined) return failedCall(Err.BadArguments);
    let err: number = Err.Ok;
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => {
        const held = ctx.willExist(node) ? ctx.tree.get(node) : undefined;
        if (held === undefined) err = Err.NoNode;
        else if (held.ephemeralOwner !== ctx.sessionId) err = Err.NoAuth;
        if (err !== Err.Ok) return undefined;
        const del: WriteReq = { kind: "delete", path: node, version: -1 };
        // A claim beside its item (the fallback's layout): only the claim goes.
        const itemPath = joinPath(parentOf(node), inflight.item);
        if (ctx.willExist(itemPath)) return del;
        const back = { ...createPath(joinPath(parentOf(node), redeliveredName(inflight.item)), CreateMode.Persistent, held!.data), acl: [...held!.acl] };
        return { kind: "multi", ops: [back, del] as never };
      },
      answer: (_conn: Conn, result: ApplyResult | undefined) => ({ err: err !== Err.Ok ? err : firstError(result) }),
    };
  }

  /**
   * jobExtend: the session's in-flight node is re-created (same token, item, data and ACL)
   * under a name with the new visibility timeout, in one txn, so its timeout runs from now.
   * A re-send whose node was already renamed by the first send finds it by its token and
   * extends it again. NoNode if it is gone (acked, or back in the queue), NoAuth if another
   * session's, BadArguments for a timeout outside 1 ms .. 12 h.
   */
  #decodeExtend(r: JuteReader): ExtensionCall {
    const req = decodeRecord(r, JobExtendRequestSchema);
    const named = invalidPathReason(req.node) === undefined ? parseInflight(basenameOf(req.node)) : undefined;
    if (named === undefined || req.visibilityMs < 1n || req.visibilityMs > BigInt(VISIBILITY_MS_MAX)) return failedCall(Err.BadArguments);
    const dir = parentOf(req.node);
    const token = tokenOf(basenameOf(req.node)) ?? "";
    const requestId = requestIdOf(basenameOf(req.node));
    const renamed = joinPath(dir, token + inflightName(named.item, Number(req.visibilityMs)));
    let err: number = Err.Ok;
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => {
        // The node as named, or as a first send (applied or still in flight) renamed it, or
        // as an earlier extend with another timeout did (found by its token).
        let from: string | undefined = req.node;
        if (!ctx.willExist(from)) from = ctx.willExist(renamed) ? renamed : requestId === undefined ? undefined : findProtected(ctx.tree, ctx.sessionId, dir, requestId);
        if (from !== undefined && !ctx.willExist(from)) from = undefined;
        const held = from === undefined ? undefined : (ctx.tree.get(from) ?? ctx.tree.get(req.node));
        if (held === undefined) err = Err.NoNode;
        else if (held.ephemeralOwner !== ctx.sessionId) err = Err.NoAuth;
        if (err !== Err.Ok) return undefined;
        const create = { ...createPath(renamed, CreateMode.Ephemeral, held!.data), acl: [...held!.acl] };
        return { kind: "multi", ops: [{ kind: "delete", path: from!, version: -1 }, create] as never };
      },
      answer: (_conn: Conn, result: ApplyResult | undefined) => {
        if (err !== Err.Ok) return { err };
        const failed = firstError(result);
        if (failed !== Err.Ok) return { err: failed };
        return { err: Err.Ok, body: (w) => encodeRecord(w, JobExtendResponseSchema, { node: renamed }) };
      },
    };
  }

  #fileWaiter(engine: EngineApi, conn: Conn, path: string, w: Taker): Answer {
    // A waiter's take is made for it later, as it: one that could not remove an item now
    // (DELETE on the queue, CREATE for the in-flight node) is told so now. A queue that
    // does not exist yet is waited for; its ACL is checked when an item comes.
    const acl = engine.tree.get(path)?.acl;
    if (acl !== undefined && !(engine.allows(acl, Perms.Delete, conn.authIds) && engine.allows(acl, Perms.Create, conn.authIds))) return { err: Err.NoAuth };
    if (engine.waitsAtOwner(w.sessionId)) {
      const key = waitKey(w.sessionId, w.requestId);
      this.#atOwner.set(key, { path, sessionId: w.sessionId, requestId: w.requestId });
      this.#cancelledAtOwner.delete(key);
      engine.toOwner(this, w.sessionId, (out) => {
        out.int(LEARNER_WAIT);
        out.ustring(path);
        out.ustring(w.requestId);
        out.bool(w.job);
        out.long(BigInt(w.visibilityMs));
      });
      return notFound;
    }
    this.#addWaiter(engine, path, w);
    return notFound;
  }

  #addWaiter(engine: EngineApi, path: string, w: Taker): void {
    const q = this.#state(engine, path);
    // A re-send replaces the wait it repeats.
    q.waiters = q.waiters.filter((o) => o.sessionId !== w.sessionId || o.requestId !== w.requestId);
    q.waiters.push(w);
    this.#serveWaiters(engine, path);
  }

  /** Leader: a learner files or withdraws a wait of one of its sessions. */
  onLearnerMessage(sessionId: bigint, authIds: readonly Id[], r: JuteReader, engine: EngineApi): void {
    const op = r.int();
    const path = r.ustring();
    const requestId = r.ustring();
    if (invalidPathReason(path) !== undefined || !isRequestId(requestId)) return;
    if (op === LEARNER_CANCEL) {
      const q = this.#queues.get(path);
      if (q !== undefined) q.waiters = q.waiters.filter((w) => w.sessionId !== sessionId || w.requestId !== requestId);
      return;
    }
    if (op !== LEARNER_WAIT) return;
    const job = r.bool();
    const visibilityMs = r.long();
    if (visibilityMs < 0n || visibilityMs > BigInt(VISIBILITY_MS_MAX) || (visibilityMs > 0n && !job)) return;
    // A session already gone (or closing) waits for nothing: its closeSession drops waits.
    if (!engine.sessionOpen(sessionId)) return;
    this.#addWaiter(engine, path, { sessionId, requestId, job, visibilityMs: Number(visibilityMs), remote: { authIds } });
  }

  #state(engine: EngineApi, path: string): QueueState {
    let q = this.#queues.get(path);
    if (q === undefined) {
      const children = engine.tree.get(path)?.children ?? [];
      q = { items: new SortedNames(children, isItem), claimed: new Set(), waiters: [] };
      this.#queues.set(path, q);
      engine.trackDir(path, this);
    }
    return q;
  }

  /** Picks the head no one else has claimed and plans the ops that move it in flight. */
  #claimHead(engine: EngineApi, path: string, taker: Taker): Take | undefined {
    const q = this.#state(engine, path);
    // Not one another take here has claimed, nor one a prepared txn already removes, nor
    // one due for the dead-letter queue (the owner of time-driven txns moves it there).
    const policy = parsePolicy(engine.tree.get(path)?.data);
    const name = q.items.find((n) => !q.claimed.has(n) && !isDeadLetter(n, policy) && engine.willExist(joinPath(path, n)));
    if (name === undefined) return undefined;
    q.claimed.add(name);
    const itemPath = joinPath(path, name);
    const item = engine.tree.get(itemPath);
    const data = item?.data ?? null;
    const inflight = joinPath(path, protectedName(taker.requestId, inflightName(name, taker.visibilityMs)));
    // The in-flight node keeps the item's data and ACL, so the item goes back as it was.
    const create = { ...createPath(inflight, CreateMode.Ephemeral | PROTECTED_CREATE_FLAG, data), acl: [...(item?.acl ?? createPath(inflight, 0).acl)] };
    const ops: WriteReq[] = [create, { kind: "delete", path: itemPath, version: -1 }];
    return { name, inflight, data, ops };
  }

  /** Hands unclaimed items to waiters, one item per waiter, first come first served. */
  #serveWaiters(engine: EngineApi, path: string): void {
    const q = this.#queues.get(path);
    if (q === undefined) return;
    while (q.waiters.length > 0) {
      const w = q.waiters[0]!;
      // A waiter with no connection here is dropped: its client re-sends the take (same
      // request id) when it reconnects, wherever it reconnects. A learner's waiter stays
      // while its session lives: its member pushes the item, or a re-send finds it.
      if (w.remote === undefined ? !engine.sessionLive(w.sessionId) : !engine.sessionOpen(w.sessionId)) {
        q.waiters.shift();
        continue;
      }
      const take = this.#claimHead(engine, path, w);
      if (take === undefined) return;
      q.waiters.shift();
      engine.submit(w.sessionId, { kind: "multi", ops: take.ops as never }, (result) => {
        q.claimed.delete(take.name);
        const failed = firstError(result);
        if (failed === Err.Ok) {
          // Not delivered (the connection went meanwhile): the in-flight node is the
          // session's; a re-send finds it, the session's end puts it back.
          engine.push(w.sessionId, { kind: RecipeEventKind.QueueItem, path, node: take.inflight, token: 0n, data: take.data, requestId: w.requestId });
        } else if (result.multi?.[0]?.err === Err.NodeExists) {
          // The same request already holds an item (a re-send raced its own wait): that one.
          const mine = findProtected(engine.tree, w.sessionId, path, w.requestId);
          if (mine !== undefined) {
            const data = engine.tree.get(mine)?.data ?? null;
            engine.push(w.sessionId, { kind: RecipeEventKind.QueueItem, path, node: mine, token: 0n, data, requestId: w.requestId });
          }
        } else if (failed === Err.NoNode) {
          // Lost a race for the head (another member's taker in an ensemble): try again.
          q.waiters.unshift(w);
        }
        // Anything else (the queue's ACL changed under the waiter) would fail again each
        // time: the waiter is dropped (its client times out), and the next one served.
        this.#serveWaiters(engine, path);
      }, w.remote?.authIds);
    }
  }

  /** cancelWait on a queue: drops that wait; an item already taken for it goes back. */
  cancelWait(engine: EngineApi, sessionId: bigint, path: string, requestId: string): boolean {
    const key = waitKey(sessionId, requestId);
    if (this.#atOwner.get(key)?.path === path) {
      // The leader may have made the take already (it is on its way here): the item goes
      // back when it arrives. The sync write (what `sync` sends) leaves after the cancel,
      // so once it is applied here any such take has been too.
      this.#atOwner.delete(key);
      this.#cancelledAtOwner.add(key);
      engine.toOwner(this, sessionId, (out) => {
        out.int(LEARNER_CANCEL);
        out.ustring(path);
        out.ustring(requestId);
      });
      engine.submit(sessionId, SYNC_WRITE, () => this.#cancelledAtOwner.delete(key));
      return true;
    }
    const q = this.#queues.get(path);
    const before = q?.waiters.length ?? 0;
    if (q !== undefined) q.waiters = q.waiters.filter((w) => w.sessionId !== sessionId || w.requestId !== requestId);
    const cancelled = q !== undefined && q.waiters.length < before;
    const mine = findProtected(engine.tree, sessionId, path, requestId);
    if (!cancelled && mine !== undefined) {
      // Taken for the wait after the client gave up on it (its event was not delivered).
      this.#requeue(engine, mine, false);
      return true;
    }
    return cancelled;
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    const q = this.#queues.get(change.dir);
    if (q === undefined || !isItem(change.name)) return;
    if (change.kind === "created") {
      q.items.insert(change.name);
      this.#serveWaiters(engine, change.dir);
    } else {
      q.items.remove(change.name);
      // Taken (or removed by anyone): a claim whose answer never ran must not outlive it.
      q.claimed.delete(change.name);
    }
  }

  /** An item or an in-flight node, in any queue, was created or deleted. */
  onNamedChange(change: ChildChange, engine: EngineApi): void {
    const delta = change.kind === "created" ? 1 : -1;
    const path = joinPath(change.dir, change.name);
    if (isItem(change.name)) {
      this.#count(change.dir, "depth", delta);
      const deliveries = deliveriesOf(change.name);
      if (deliveries === 0) return;
      if (change.kind === "deleted") {
        this.#redelivered.delete(path);
        return;
      }
      this.#redelivered.set(path, deliveries);
      if (engine.ownsExpiry) this.#deadLetter(engine, path, deliveries);
      return;
    }
    const delayed = parseDelayed(change.name);
    if (delayed !== undefined) {
      if (change.kind === "deleted") this.#delayed.delete(path);
      else if (change.node !== undefined) this.#delayed.set(path, change.node.ctimeMs + delayed.delayMs);
      return;
    }
    const inflight = parseInflight(change.name);
    if (inflight === undefined) return;
    this.#count(change.dir, "inFlight", delta);
    if (change.kind === "created" && (this.#atOwner.size > 0 || this.#cancelledAtOwner.size > 0)) this.#takenAtOwner(engine, change, path);
    if (change.kind === "created") {
      if (inflight.visibilityMs > 0 && change.node !== undefined) this.#deadlines.set(path, change.node.ctimeMs + inflight.visibilityMs);
    } else {
      this.#deadlines.delete(path);
    }
  }

  /**
   * Learner: an in-flight node was created; if the leader made it for a wait it keeps for
   * a session connected here, that session gets the item now (or, the wait given up, the
   * item goes back to the head).
   */
  #takenAtOwner(engine: EngineApi, change: ChildChange, path: string): void {
    const owner = change.node?.ephemeralOwner;
    const requestId = requestIdOf(change.name);
    if (owner === undefined || requestId === undefined) return;
    const key = waitKey(owner, requestId);
    if (this.#cancelledAtOwner.has(key)) {
      this.#requeue(engine, path, false);
      return;
    }
    const w = this.#atOwner.get(key);
    if (w?.path !== change.dir) return;
    this.#atOwner.delete(key);
    // Not delivered (no connection here now): the node is the session's; a re-send of the
    // take finds it, the session's end puts it back.
    engine.push(owner, { kind: RecipeEventKind.QueueItem, path: change.dir, node: path, token: 0n, data: change.node?.data ?? null, requestId });
  }

  #count(dir: string, field: keyof QueueCounts, delta: number): void {
    let c = this.#counts.get(dir);
    if (c === undefined) this.#counts.set(dir, (c = { depth: 0, inFlight: 0 }));
    c[field] += delta;
    if (c.depth <= 0 && c.inFlight <= 0) this.#counts.delete(dir);
  }

  /** A taker's session ends: its in-flight nodes go back under their item names, in the closeSession txn. */
  planSessionEnd(_sessionId: bigint, paths: readonly string[]): Move[] {
    const moves: Move[] = [];
    for (const from of paths) {
      const inflight = parseInflight(basenameOf(from));
      if (inflight === undefined) continue;
      // A claim beside an item still in place (the client-side fallback's layout) is not
      // an item in flight: only the claim goes.
      if (this.#engine?.willExist(joinPath(parentOf(from), inflight.item)) === true) continue;
      moves.push({ from, to: joinPath(parentOf(from), redeliveredName(inflight.item)) });
    }
    return moves;
  }

  /**
   * Requeues, in one txn each, in-flight items whose visibility timeout has passed; makes
   * due delayed offers items; moves items delivered too often to their dead-letter queue.
   */
  onOwnerTick(nowMs: number, engine: EngineApi, first: boolean): void {
    if (first) {
      this.#rebuildDeadlines(engine);
      // Txns asked for in an earlier term may never have answered: asked again.
      this.#promoting.clear();
      this.#deadLettering.clear();
    }
    for (const [path, deadline] of this.#deadlines) {
      if (deadline > nowMs || this.#requeuing.has(path)) continue;
      if (!this.#requeue(engine, path, true)) this.#deadlines.delete(path);
    }
    for (const [path, due] of this.#delayed) {
      if (due > nowMs || this.#promoting.has(path)) continue;
      if (!this.#promote(engine, path)) this.#delayed.delete(path);
    }
    // Also items counted while this server was not the owner, or before their queue had
    // a policy, or whose move failed: each queue's policy read once per pass.
    const policies = new Map<string, DeadLetterPolicy | undefined>();
    for (const [path, deliveries] of this.#redelivered) {
      const dir = parentOf(path);
      if (!policies.has(dir)) policies.set(dir, parsePolicy(engine.tree.get(dir)?.data));
      if (isDeadLetter(basenameOf(path), policies.get(dir))) this.#deadLetter(engine, path, deliveries);
    }
  }

  /**
   * Puts an in-flight node's item back (one txn): after a delivery (`delivered`) under its
   * sequence with its delivery count one higher, else under its own name; false if it is
   * not an in-flight node.
   */
  #requeue(engine: EngineApi, path: string, delivered: boolean): boolean {
    const node = engine.tree.get(path);
    const inflight = parseInflight(basenameOf(path));
    if (node === undefined || inflight === undefined) return false;
    this.#requeuing.add(path);
    const name = delivered ? redeliveredName(inflight.item) : inflight.item;
    const back = { ...createPath(joinPath(parentOf(path), name), CreateMode.Persistent, node.data), acl: [...node.acl] };
    // If the consumer acks first, the delete fails and so does the whole txn.
    engine.submit(0n, { kind: "multi", ops: [back, { kind: "delete", path, version: node.version }] }, () => this.#requeuing.delete(path));
    return true;
  }

  /** Makes a delayed offer an item under its own sequence (one txn); false if it is gone. */
  #promote(engine: EngineApi, path: string): boolean {
    const node = engine.tree.get(path);
    const delayed = parseDelayed(basenameOf(path));
    if (node === undefined || delayed === undefined) return false;
    this.#promoting.add(path);
    const item = { ...createPath(joinPath(parentOf(path), delayed.item), CreateMode.Persistent, node.data), acl: [...node.acl] };
    engine.submit(0n, { kind: "multi", ops: [item, { kind: "delete", path, version: node.version }] }, () => this.#promoting.delete(path));
    return true;
  }

  /**
   * Moves item `path` (delivered `deliveries` times) to its queue's dead-letter queue if
   * the queue's policy says it is due, in one txn: a sequential create "qn-d<count>-" there
   * (the dead-letter queue made first if missing and its parent exists) and the item's
   * delete. Only on the server that owns time-driven txns.
   */
  #deadLetter(engine: EngineApi, path: string, deliveries: number): void {
    if (!engine.ownsExpiry || this.#deadLettering.has(path)) return;
    const dir = parentOf(path);
    const policy = parsePolicy(engine.tree.get(dir)?.data);
    const node = engine.tree.get(path);
    if (node === undefined || policy === undefined || deliveries < policy.maxDeliveries) return;
    const dlq = policy.deadLetterPath;
    if (invalidPathReason(dlq) !== undefined || (!engine.willExist(dlq) && !engine.willExist(parentOf(dlq)))) return;
    const ops: WriteReq[] = [];
    if (!engine.willExist(dlq)) ops.push(createPath(dlq, CreateMode.Persistent | CREATE_IF_ABSENT_FLAG));
    ops.push({ ...createPath(joinPath(dlq, deadLetterPrefix(deliveries)), CreateMode.PersistentSequential, node.data), acl: [...node.acl] });
    ops.push({ kind: "delete", path, version: node.version });
    this.#deadLettering.add(path);
    engine.submit(0n, { kind: "multi", ops: ops as never }, () => this.#deadLettering.delete(path));
  }

  /**
   * Deadlines of every in-flight node with a visibility timeout (they are ephemerals).
   * Requeues asked for in an earlier term may never have answered: they are asked again.
   */
  #rebuildDeadlines(engine: EngineApi): void {
    this.#deadlines.clear();
    this.#requeuing.clear();
    for (const [, paths] of engine.tree.ephemeralSessions()) {
      for (const path of paths) {
        const inflight = parseInflight(basenameOf(path));
        const node = inflight !== undefined && inflight.visibilityMs > 0 ? engine.tree.get(path) : undefined;
        if (node !== undefined) this.#deadlines.set(path, node.ctimeMs + inflight!.visibilityMs);
      }
    }
  }

  onSessionClosed(sessionId: bigint): void {
    for (const [key, w] of this.#atOwner) if (w.sessionId === sessionId) this.#atOwner.delete(key);
    for (const q of this.#queues.values()) {
      if (q.waiters.some((w) => w.sessionId === sessionId)) q.waiters = q.waiters.filter((w) => w.sessionId !== sessionId);
    }
  }

  rebuild(engine: EngineApi): Iterable<bigint> {
    this.#engine = engine;
    const sessions = new Set<bigint>();
    for (const q of this.#queues.values()) for (const w of q.waiters) if (w.remote === undefined) sessions.add(w.sessionId);
    // Waits the leader kept for sessions here: the leader may have changed (its waits are
    // gone with it), so these clients re-send too.
    for (const w of this.#atOwner.values()) sessions.add(w.sessionId);
    this.#atOwner.clear();
    this.#cancelledAtOwner.clear();
    this.#queues.clear();
    this.#counts.clear();
    this.#redelivered.clear();
    this.#delayed.clear();
    for (const [path, node] of engine.tree.nodes()) {
      const name = basenameOf(path);
      if (path === "/") continue;
      if (isItem(name)) {
        this.#count(parentOf(path), "depth", 1);
        if (deliveriesOf(name) > 0) this.#redelivered.set(path, deliveriesOf(name));
      } else if (parseInflight(name) !== undefined) {
        this.#count(parentOf(path), "inFlight", 1);
      } else {
        const delayed = parseDelayed(name);
        if (delayed !== undefined) this.#delayed.set(path, node.ctimeMs + delayed.delayMs);
      }
    }
    this.#rebuildDeadlines(engine);
    return sessions;
  }

  /** Every queue in the tree (items or in-flight nodes), and the ones waited on (admin `queues`). */
  paths(): string[] {
    const out = new Set(this.#counts.keys());
    for (const [path, q] of this.#queues) if (q.waiters.length > 0) out.add(path);
    for (const w of this.#atOwner.values()) out.add(w.path);
    return [...out];
  }

  /** Depth, waiting consumers and in-flight items of a queue (admin `queues`, metrics, tests). */
  stats(path: string): { depth: number; waiters: number; inFlight: number } {
    const c = this.#counts.get(path);
    let waiters = this.#queues.get(path)?.waiters.length ?? 0;
    for (const w of this.#atOwner.values()) if (w.path === path) waiters++;
    return { depth: c?.depth ?? 0, waiters, inFlight: c?.inFlight ?? 0 };
  }
}
