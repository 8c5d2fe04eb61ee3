// FIFO and job queues on the server. `offer` is an ordinary sequential create. A take,
// FIFO or job alike, moves the head in one txn to an in-flight node owned by the taker's
// session, `_c_<requestId>-inflight-<item>[~ms]` (protected: a re-sent take finds the
// item the first send took instead of taking another), and answers with its path: the
// engine hands each item to exactly one taker, so no consumer ever loses a race for the
// head and retries. The FIFO client acks at once (the next take's `ackNode`, or a
// release), a job consumer when its job is done. An empty (or not yet existing) queue
// files the taker as a waiter; each new item wakes exactly one waiter, in the order they
// asked. When a taker's session ends, its in-flight nodes go back under their item names
// in the closeSession txn itself (planSessionEnd): one txn, on every replica and in
// recovery. A job take's visibility timeout is decided by the server that owns
// time-driven txns (standalone, leader), which rebuilds its deadlines from the tree.
//
// Admin views and metrics read an index of every queue in the tree (a node with `qn-`
// children), fed by Created/Deleted effects and rebuilt from the tree: a backlog nobody
// has taken from since the server started shows too.

import {
  CorralOp,
  CreateMode,
  Err,
  PROTECTED_CREATE_FLAG,
  Perms,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RecipeEventKind,
  decodeRecord,
  encodeRecord,
  type JuteReader,
  type JuteWriter,
} from "../../src/jute/index.js";
import type { Conn, ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type Move, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { basenameOf, invalidPathReason, joinPath, parentOf, type ApplyResult } from "../../src/tree/index.js";
import { createPath, findProtected, firstError } from "../common/binding.js";
import { PROTECTED_PREFIX, isRequestId, protectedName } from "../common/rules.js";
import { SortedNames } from "../common/sequence.js";
import { INFLIGHT_PREFIX, ITEM_PREFIX, VISIBILITY_MS_MAX, inflightName, isItem, parseInflight } from "./rules.js";

interface Taker {
  sessionId: bigint;
  requestId: string;
  job: boolean;
  /** Job takes: the visibility timeout of the item handed out (0: until the session dies). */
  visibilityMs: number;
}

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
  readonly opCodes = [CorralOp.queueTake];
  readonly namePrefixes = [ITEM_PREFIX, INFLIGHT_PREFIX, PROTECTED_PREFIX];
  readonly #queues = new Map<string, QueueState>();
  /** Every queue in the tree with items or in-flight nodes. */
  readonly #counts = new Map<string, QueueCounts>();
  /** In-flight nodes with a visibility timeout: path -> when it runs out (wall clock ms). */
  readonly #deadlines = new Map<string, number>();
  /** In-flight nodes whose requeue txn is on its way. */
  readonly #requeuing = new Set<string>();

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
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

  #fileWaiter(engine: EngineApi, conn: Conn, path: string, w: Taker): Answer {
    // A waiter's take is made for it later, as it: one that could not remove an item now
    // (DELETE on the queue, CREATE for the in-flight node) is told so now. A queue that
    // does not exist yet is waited for; its ACL is checked when an item comes.
    const acl = engine.tree.get(path)?.acl;
    if (acl !== undefined && !(engine.allows(acl, Perms.Delete, conn.authIds) && engine.allows(acl, Perms.Create, conn.authIds))) return { err: Err.NoAuth };
    const q = this.#state(engine, path);
    // A re-send replaces the wait it repeats.
    q.waiters = q.waiters.filter((o) => o.sessionId !== w.sessionId || o.requestId !== w.requestId);
    q.waiters.push(w);
    this.#serveWaiters(engine, path);
    return notFound;
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
    // Not one another take here has claimed, nor one a prepared txn already removes.
    const name = q.items.names.find((n) => !q.claimed.has(n) && engine.willExist(joinPath(path, n)));
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
      // request id) when it reconnects, wherever it reconnects.
      if (!engine.sessionLive(w.sessionId)) {
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
      });
    }
  }

  /** cancelWait on a queue: drops that wait; an item already taken for it goes back. */
  cancelWait(engine: EngineApi, sessionId: bigint, path: string, requestId: string): boolean {
    const q = this.#queues.get(path);
    const before = q?.waiters.length ?? 0;
    if (q !== undefined) q.waiters = q.waiters.filter((w) => w.sessionId !== sessionId || w.requestId !== requestId);
    const cancelled = q !== undefined && q.waiters.length < before;
    const mine = findProtected(engine.tree, sessionId, path, requestId);
    if (!cancelled && mine !== undefined) {
      // Taken for the wait after the client gave up on it (its event was not delivered).
      this.#requeue(engine, mine);
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
  onNamedChange(change: ChildChange): void {
    const delta = change.kind === "created" ? 1 : -1;
    if (isItem(change.name)) {
      this.#count(change.dir, "depth", delta);
      return;
    }
    const inflight = parseInflight(change.name);
    if (inflight === undefined) return;
    this.#count(change.dir, "inFlight", delta);
    const path = joinPath(change.dir, change.name);
    if (change.kind === "created") {
      if (inflight.visibilityMs > 0 && change.node !== undefined) this.#deadlines.set(path, change.node.ctimeMs + inflight.visibilityMs);
    } else {
      this.#deadlines.delete(path);
    }
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
      if (inflight !== undefined) moves.push({ from, to: joinPath(parentOf(from), inflight.item) });
    }
    return moves;
  }

  /** Requeues, in one txn each, in-flight items whose visibility timeout has passed. */
  onOwnerTick(nowMs: number, engine: EngineApi, first: boolean): void {
    if (first) this.#rebuildDeadlines(engine);
    for (const [path, deadline] of this.#deadlines) {
      if (deadline > nowMs || this.#requeuing.has(path)) continue;
      if (!this.#requeue(engine, path)) this.#deadlines.delete(path);
    }
  }

  /** Puts an in-flight node's item back under its own name (one txn); false if it is not one. */
  #requeue(engine: EngineApi, path: string): boolean {
    const node = engine.tree.get(path);
    const inflight = parseInflight(basenameOf(path));
    if (node === undefined || inflight === undefined) return false;
    this.#requeuing.add(path);
    const back = { ...createPath(joinPath(parentOf(path), inflight.item), CreateMode.Persistent, node.data), acl: [...node.acl] };
    // If the consumer acks first, the delete fails and so does the whole txn.
    engine.submit(0n, { kind: "multi", ops: [back, { kind: "delete", path, version: node.version }] }, () => this.#requeuing.delete(path));
    return true;
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
    for (const q of this.#queues.values()) {
      if (q.waiters.some((w) => w.sessionId === sessionId)) q.waiters = q.waiters.filter((w) => w.sessionId !== sessionId);
    }
  }

  rebuild(engine: EngineApi): Iterable<bigint> {
    const sessions = new Set<bigint>();
    for (const q of this.#queues.values()) for (const w of q.waiters) sessions.add(w.sessionId);
    this.#queues.clear();
    this.#counts.clear();
    for (const [path] of engine.tree.nodes()) {
      const name = basenameOf(path);
      if (path === "/") continue;
      if (isItem(name)) this.#count(parentOf(path), "depth", 1);
      else if (parseInflight(name) !== undefined) this.#count(parentOf(path), "inFlight", 1);
    }
    this.#rebuildDeadlines(engine);
    return sessions;
  }

  /** Every queue in the tree (items or in-flight nodes), and the ones waited on (admin `queues`). */
  paths(): string[] {
    const out = new Set(this.#counts.keys());
    for (const [path, q] of this.#queues) if (q.waiters.length > 0) out.add(path);
    return [...out];
  }

  /** Depth, waiting consumers and in-flight items of a queue (admin `queues`, metrics, tests). */
  stats(path: string): { depth: number; waiters: number; inFlight: number } {
    const c = this.#counts.get(path);
    return { depth: c?.depth ?? 0, waiters: this.#queues.get(path)?.waiters.length ?? 0, inFlight: c?.inFlight ?? 0 };
  }
}
