// FIFO and job queues on the server. `offer` is an ordinary sequential create. `take`
// deletes the head in one txn (a job take renames it inflight-<item>, owned by the
// consumer's session): the engine hands each item to exactly one taker, so no consumer
// ever loses a race for the head and retries. An empty queue files the taker as a
// waiter; each new item wakes exactly one waiter, in the order they asked. When a job
// consumer's session dies, or its take's visibility timeout passes before the ack, its
// in-flight item goes back under its original name, so it is at the head again. Both are
// decided by the server that owns time-driven txns (standalone, leader), for in-flight
// nodes anywhere in the tree: a new leader rebuilds its deadlines from the tree.

import {
  CancelWaitResponseSchema,
  CorralOp,
  CreateMode,
  Err,
  PathRequestSchema,
  Perms,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RecipeEventKind,
  decodeRecord,
  encodeRecord,
  type JuteReader,
  type JuteWriter,
} from "../../src/jute/index.js";
import type { ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { invalidPathReason, joinPath, type ApplyResult } from "../../src/tree/index.js";
import { SortedNames } from "../common/sequence.js";
import { createPath } from "../common/binding.js";
import { INFLIGHT_PREFIX, VISIBILITY_MS_MAX, inflightName, isItem, parseInflight } from "./rules.js";

interface Taker {
  sessionId: bigint;
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
  data: Buffer | null;
  write: WriteReq;
}

export class QueueBinding implements RecipeBinding {
  readonly name = "queue";
  readonly opCodes = [CorralOp.queueTake, CorralOp.cancelWait];
  readonly namePrefixes = [INFLIGHT_PREFIX];
  readonly #queues = new Map<string, QueueState>();
  /** In-flight nodes with a visibility timeout: path -> when it runs out (wall clock ms). */
  readonly #deadlines = new Map<string, number>();
  /** In-flight nodes whose requeue txn is on its way. */
  readonly #requeuing = new Set<string>();

  decode(opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    if (opCode === CorralOp.cancelWait) return this.#cancel(decodeRecord(r, PathRequestSchema).path);
    const req = decodeRecord(r, QueueTakeRequestSchema);
    // Optional trailing field (clients before it send none): the visibility timeout in ms.
    const visibility = r.remaining() >= 8 ? r.long() : 0n;
    if (invalidPathReason(req.path) !== undefined) return failedCall(Err.BadArguments);
    if (visibility < 0n || visibility > BigInt(VISIBILITY_MS_MAX) || (visibility > 0n && !req.job)) return failedCall(Err.BadArguments);
    const taker = { job: req.job, visibilityMs: Number(visibility) };
    let take: Take | undefined;
    let err: number = Err.Ok;
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => {
        if (!ctx.willExist(req.path)) {
          err = Err.NoNode;
          return undefined;
        }
        take = this.#claimHead(engine, ctx, req.path, taker);
        return take?.write;
      },
      answer: (conn, result: ApplyResult | undefined) => {
        if (err !== Err.Ok) return { err };
        const q = this.#state(engine, req.path);
        if (take !== undefined) {
          q.claimed.delete(take.name);
          const failed = firstError(result);
          if (failed === Err.Ok) return this.#found(req.path, taker, take);
          // Another member of an ensemble handed the same head to its own taker first
          // (the item is gone, or its in-flight node exists): not an error, just not ours.
          if (failed !== Err.NoNode && failed !== Err.NodeExists) return { err: failed };
        }
        if (!req.wait) return { err: Err.Ok, body: (w) => encodeRecord(w, QueueTakeResponseSchema, { found: false, item: "", data: null }) };
        // A waiter's take is made for it later, as it: one that could not remove an item
        // now (DELETE on the queue, and CREATE for a job's in-flight node) is told so now.
        const acl = engine.pipeline.tree.get(req.path)?.acl ?? [];
        const may = (perm: number): boolean => engine.pipeline.allows(acl, perm, conn.authIds);
        if (!may(Perms.Delete) || (taker.job && !may(Perms.Create))) return { err: Err.NoAuth };
        q.waiters.push({ sessionId: conn.sessionId, ...taker });
        this.#serveWaiters(engine, req.path);
        return { err: Err.Ok, body: (w) => encodeRecord(w, QueueTakeResponseSchema, { found: false, item: "", data: null }) };
      },
    };
  }

  #found(path: string, taker: Omit<Taker, "sessionId">, take: Take): { err: number; body: (w: JuteWriter) => void } {
    const item = itemOf(path, taker, take.name);
    return { err: Err.Ok, body: (w) => encodeRecord(w, QueueTakeResponseSchema, { found: true, item, data: take.data }) };
  }

  #state(engine: EngineApi, path: string): QueueState {
    let q = this.#queues.get(path);
    if (q === undefined) {
      const children = engine.pipeline.tree.get(path)?.children ?? [];
      q = { items: new SortedNames(children, isItem), claimed: new Set(), waiters: [] };
      this.#queues.set(path, q);
      engine.trackDir(path, this);
    }
    return q;
  }

  /** Picks the head no one else has claimed and plans the txn that takes it. */
  #claimHead(engine: EngineApi, ctx: Pick<PlanContext, "willExist">, path: string, taker: Omit<Taker, "sessionId">): Take | undefined {
    const q = this.#state(engine, path);
    const name = q.items.names.find((n) => !q.claimed.has(n));
    if (name === undefined) return undefined;
    q.claimed.add(name);
    const itemPath = joinPath(path, name);
    const data = engine.pipeline.tree.get(itemPath)?.data ?? null;
    const del: WriteReq = { kind: "delete", path: itemPath, version: -1 };
    if (!taker.job) return { name, data, write: del };
    const inflight = createPath(itemOf(path, taker, name), CreateMode.Ephemeral, data);
    return { name, data, write: { kind: "multi", ops: [inflight, del] } };
  }

  /** Hands unclaimed items to waiters, one item per waiter, first come first served. */
  #serveWaiters(engine: EngineApi, path: string): void {
    const q = this.#queues.get(path);
    if (q === undefined) return;
    while (q.waiters.length > 0) {
      const w = q.waiters[0]!;
      if (engine.pipeline.queueOf(w.sessionId as never) === undefined) {
        q.waiters.shift();
        continue;
      }
      const ctx = { willExist: (p: string) => engine.pipeline.willExist(p) };
      const take = this.#claimHead(engine, ctx, path, w);
      if (take === undefined) return;
      q.waiters.shift();
      engine.submit(w.sessionId, take.write, (result) => {
        q.claimed.delete(take.name);
        const failed = firstError(result);
        if (failed !== Err.Ok) {
          // Lost a race for the head (another member's taker in an ensemble): try again.
          // Anything else (the queue's ACL changed under the waiter) would fail again
          // each time: drop the waiter (its client times out), and serve the next one.
          if (failed === Err.NoNode || failed === Err.NodeExists) q.waiters.unshift(w);
          this.#serveWaiters(engine, path);
          return;
        }
        const item = itemOf(path, w, take.name);
        const delivered = engine.push(w.sessionId, { kind: RecipeEventKind.QueueItem, path, node: item, token: 0n, data: take.data });
        // The taker's connection went away meanwhile: a FIFO item must not be lost, so it
        // goes back under its own name (a job item waits as inflight-<item> for its session).
        if (!delivered && !w.job) engine.submit(0n, createPath(joinPath(path, take.name), CreateMode.Persistent, take.data), () => {});
      });
    }
  }

  #cancel(path: string): ExtensionCall {
    return {
      plan: () => undefined,
      answer: (conn) => {
        // A session's waiters on one queue are interchangeable (items reach its client in
        // the order it asked), so cancelling removes its most recent one.
        const q = this.#queues.get(path);
        const i = q === undefined ? -1 : q.waiters.findLastIndex((w) => w.sessionId === conn.sessionId);
        if (i !== -1) q!.waiters.splice(i, 1);
        const cancelled = i !== -1;
        return { err: Err.Ok, body: (w) => encodeRecord(w, CancelWaitResponseSchema, { cancelled }) };
      },
    };
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    const q = this.#queues.get(change.dir);
    if (q === undefined || !isItem(change.name)) return;
    if (change.kind === "created") {
      q.items.insert(change.name);
      this.#serveWaiters(engine, change.dir);
    } else {
      q.items.remove(change.name);
    }
  }

  /** An in-flight job node, in any queue, was created or deleted. */
  onNamedChange(change: ChildChange, engine: EngineApi): void {
    const inflight = parseInflight(change.name);
    if (inflight === undefined) return;
    const path = joinPath(change.dir, change.name);
    if (change.kind === "created") {
      if (inflight.visibilityMs > 0 && change.node !== undefined) this.#deadlines.set(path, change.node.ctimeMs + inflight.visibilityMs);
      return;
    }
    this.#deadlines.delete(path);
    // Its consumer's session died holding it: put the item back under its own name.
    if (change.entry.txn.type !== "closeSession" || !engine.ownsExpiry) return;
    engine.submit(0n, createPath(joinPath(change.dir, inflight.item), CreateMode.Persistent, change.node?.data ?? null), () => {});
  }

  /** Requeues, in one txn each, in-flight items whose visibility timeout has passed. */
  onOwnerTick(nowMs: number, engine: EngineApi, first: boolean): void {
    if (first) this.#rebuildDeadlines(engine);
    for (const [path, deadline] of this.#deadlines) {
      if (deadline > nowMs || this.#requeuing.has(path)) continue;
      const node = engine.pipeline.tree.get(path);
      const inflight = parseInflight(path.slice(path.lastIndexOf("/") + 1));
      if (node === undefined || inflight === undefined) {
        this.#deadlines.delete(path);
        continue;
      }
      this.#requeuing.add(path);
      const back = createPath(joinPath(path.slice(0, path.lastIndexOf("/")) || "/", inflight.item), CreateMode.Persistent, node.data);
      // If the consumer acks first, the delete fails and so does the whole txn.
      engine.submit(0n, { kind: "multi", ops: [back, { kind: "delete", path, version: node.version }] }, () => this.#requeuing.delete(path));
    }
  }

  /**
   * Deadlines of every in-flight node with a visibility timeout (they are ephemerals).
   * Requeues asked for in an earlier term may never have answered: they are asked again.
   */
  #rebuildDeadlines(engine: EngineApi): void {
    const tree = engine.pipeline.tree;
    this.#deadlines.clear();
    this.#requeuing.clear();
    for (const [, paths] of tree.ephemeralSessions()) {
      for (const path of paths) {
        const inflight = parseInflight(path.slice(path.lastIndexOf("/") + 1));
        const node = inflight !== undefined && inflight.visibilityMs > 0 ? tree.get(path) : undefined;
        if (node !== undefined) this.#deadlines.set(path, node.ctimeMs + inflight!.visibilityMs);
      }
    }
  }

  onSessionClosed(sessionId: bigint): void {
    for (const q of this.#queues.values()) {
      if (q.waiters.some((w) => w.sessionId === sessionId)) q.waiters = q.waiters.filter((w) => w.sessionId !== sessionId);
    }
  }

  /** Queues the engine has served a take on (admin `queues`). */
  paths(): string[] {
    return [...this.#queues.keys()];
  }

  /** Waiting consumers and depth per queue (admin `queues`, tests). */
  stats(path: string): { depth: number; waiters: number } {
    const q = this.#queues.get(path);
    return { depth: q?.items.names.length ?? 0, waiters: q?.waiters.length ?? 0 };
  }
}

/** What a taker is handed: the item's name (FIFO) or the path of its in-flight node (job). */
function itemOf(path: string, taker: Omit<Taker, "sessionId">, name: string): string {
  return taker.job ? joinPath(path, inflightName(name, taker.visibilityMs)) : name;
}

function firstError(result: ApplyResult | undefined): number {
  if (result === undefined) return Err.SystemError;
  if (result.multi === undefined) return result.err;
  return result.multi.find((r) => r.err !== Err.Ok)?.err ?? Err.Ok;
}
