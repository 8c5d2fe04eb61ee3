// Barriers on the server. `barrierWait` answers at once if the barrier node is gone,
// else when it is deleted. `doubleBarrierEnter` adds the caller's ephemeral node and
// answers (or later pushes) once `count` participants are in; `doubleBarrierLeave`
// removes it and answers once all have left. Enter and leave are idempotent by the
// participant's name (a re-send neither fails nor adds a second node); a participant that
// gives up removes its node, and its enter wait goes with it. Every event carries the
// request id of the wait it ends.

import {
  CorralOp,
  CreateMode,
  DoneResponseSchema,
  DoubleBarrierRequestSchema,
  Err,
  REQUEST_ID_PATTERN,
  RecipeEventKind,
  WaitRequestSchema,
  decodeRecord,
  encodeRecord,
  type JuteReader,
  type JuteWriter,
} from "../../src/jute/index.js";
import type { ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { childCount, invalidPathReason, joinPath, type ApplyResult } from "../../src/tree/index.js";
import { createPath, ensureParentsThen, resultOfLast } from "../common/binding.js";
import { canEnter, canLeave } from "./rules.js";

interface Waiting {
  sessionId: bigint;
  requestId: string;
}

interface Entering extends Waiting {
  count: number;
  /** The participant's node: its wait ends (no event) when the node goes. */
  node: string;
}

interface BarrierDir {
  entering: Entering[];
  leaving: Waiting[];
}

const done = (v: boolean) => ({ err: Err.Ok, body: (w: JuteWriter) => encodeRecord(w, DoneResponseSchema, { done: v }) });

const sameWait = (a: Waiting, b: Waiting): boolean => a.sessionId === b.sessionId && a.requestId === b.requestId;

export class BarrierBinding implements RecipeBinding {
  readonly name = "barrier";
  readonly opCodes = [CorralOp.barrierWait, CorralOp.doubleBarrierEnter, CorralOp.doubleBarrierLeave];
  readonly #barrierWaiters = new Map<string, Waiting[]>();
  readonly #dirs = new Map<string, BarrierDir>();

  decode(opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    if (opCode === CorralOp.barrierWait) {
      const { path, requestId } = decodeRecord(r, WaitRequestSchema);
      return this.#wait(path, requestId, engine);
    }
    const req = decodeRecord(r, DoubleBarrierRequestSchema);
    const bad = invalidPathReason(req.path) !== undefined || req.path === "/" || req.name === "" || req.name.includes("/") || req.count <= 0;
    if (bad || !REQUEST_ID_PATTERN.test(req.requestId)) return failedCall(Err.BadArguments);
    const node = joinPath(req.path, req.name);
    return opCode === CorralOp.doubleBarrierEnter
      ? this.#enter(req.path, node, req.count, req.requestId, engine)
      : this.#leave(req.path, node, req.requestId, engine);
  }

  #wait(path: string, requestId: string, engine: EngineApi): ExtensionCall {
    if (invalidPathReason(path) !== undefined || !REQUEST_ID_PATTERN.test(requestId)) return failedCall(Err.BadArguments);
    return {
      plan: () => undefined,
      answer: (conn) => {
        if (engine.tree.get(path) === undefined) return done(true);
        const w: Waiting = { sessionId: conn.sessionId, requestId };
        const list = this.#barrierWaiters.get(path);
        if (list === undefined) {
          this.#barrierWaiters.set(path, [w]);
          engine.trackNode(path, this);
        } else if (!list.some((o) => sameWait(o, w))) list.push(w);
        return done(false);
      },
    };
  }

  onNodeDeleted(path: string, _entry: unknown, engine: EngineApi): void {
    const list = this.#barrierWaiters.get(path);
    this.#barrierWaiters.delete(path);
    engine.untrackNode(path, this);
    for (const w of list ?? []) {
      engine.push(w.sessionId, { kind: RecipeEventKind.BarrierReleased, path, node: path, token: 0n, data: null, requestId: w.requestId });
    }
  }

  #enter(dir: string, node: string, count: number, requestId: string, engine: EngineApi): ExtensionCall {
    return {
      // Already in (a re-send, or a name entered twice): no second create, no NodeExists.
      plan: (ctx: PlanContext): WriteReq | undefined => (ctx.willExist(node) ? undefined : ensureParentsThen(ctx, dir, createPath(node, CreateMode.Ephemeral))),
      answer: (conn, result: ApplyResult | undefined) => {
        if (result !== undefined) {
          const r = resultOfLast(result);
          if (r.err !== Err.Ok && r.err !== Err.NodeExists) return { err: r.err };
        }
        const n = this.#children(engine, dir);
        if (canEnter(n, count)) {
          this.#releaseEntering(engine, dir, n);
          return done(true);
        }
        const d = this.#dir(engine, dir);
        const w: Entering = { sessionId: conn.sessionId, requestId, count, node };
        d.entering = d.entering.filter((o) => !sameWait(o, w));
        d.entering.push(w);
        return done(false);
      },
    };
  }

  #leave(dir: string, node: string, requestId: string, engine: EngineApi): ExtensionCall {
    return {
      // Already out (a re-send): no delete, no NoNode.
      plan: (ctx: PlanContext): WriteReq | undefined => (ctx.willExist(node) ? { kind: "delete", path: node, version: -1 } : undefined),
      answer: (conn, result: ApplyResult | undefined) => {
        if (result !== undefined && result.err !== Err.Ok && result.err !== Err.NoNode) return { err: result.err };
        if (canLeave(this.#children(engine, dir))) return done(true);
        const d = this.#dir(engine, dir);
        const w: Waiting = { sessionId: conn.sessionId, requestId };
        d.leaving = d.leaving.filter((o) => !sameWait(o, w));
        d.leaving.push(w);
        return done(false);
      },
    };
  }

  #children(engine: EngineApi, dir: string): number {
    const n = engine.tree.get(dir);
    return n === undefined ? 0 : childCount(n);
  }

  #dir(engine: EngineApi, dir: string): BarrierDir {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      d = { entering: [], leaving: [] };
      this.#dirs.set(dir, d);
      engine.trackDir(dir, this);
    }
    return d;
  }

  #releaseEntering(engine: EngineApi, dir: string, n: number): void {
    const d = this.#dirs.get(dir);
    if (d === undefined) return;
    const ready = d.entering.filter((w) => canEnter(n, w.count));
    d.entering = d.entering.filter((w) => !canEnter(n, w.count));
    for (const w of ready) {
      engine.push(w.sessionId, { kind: RecipeEventKind.DoubleBarrierEntered, path: dir, node: dir, token: 0n, data: null, requestId: w.requestId });
    }
    this.#maybeUntrack(engine, dir, d);
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    const d = this.#dirs.get(change.dir);
    if (d === undefined) return;
    const n = this.#children(engine, change.dir);
    if (change.kind === "created") {
      this.#releaseEntering(engine, change.dir, n);
      return;
    }
    // A participant that gave up (or whose session ended) waits to enter no more.
    const gone = joinPath(change.dir, change.name);
    d.entering = d.entering.filter((w) => w.node !== gone);
    if (canLeave(n)) {
      const leaving = d.leaving;
      d.leaving = [];
      for (const w of leaving) {
        engine.push(w.sessionId, { kind: RecipeEventKind.DoubleBarrierLeft, path: change.dir, node: change.dir, token: 0n, data: null, requestId: w.requestId });
      }
    }
    this.#maybeUntrack(engine, change.dir, d);
  }

  #maybeUntrack(engine: EngineApi, dir: string, d: BarrierDir): void {
    if (d.entering.length > 0 || d.leaving.length > 0) return;
    this.#dirs.delete(dir);
    engine.untrackDir(dir, this);
  }

  cancelWait(engine: EngineApi, sessionId: bigint, path: string, requestId: string): boolean {
    const w = { sessionId, requestId };
    let cancelled = false;
    const list = this.#barrierWaiters.get(path);
    if (list !== undefined && list.some((o) => sameWait(o, w))) {
      cancelled = true;
      const rest = list.filter((o) => !sameWait(o, w));
      if (rest.length > 0) this.#barrierWaiters.set(path, rest);
      else {
        this.#barrierWaiters.delete(path);
        engine.untrackNode(path, this);
      }
    }
    const d = this.#dirs.get(path);
    if (d !== undefined) {
      const before = d.entering.length + d.leaving.length;
      d.entering = d.entering.filter((o) => !sameWait(o, w));
      d.leaving = d.leaving.filter((o) => !sameWait(o, w));
      if (d.entering.length + d.leaving.length < before) cancelled = true;
      this.#maybeUntrack(engine, path, d);
    }
    return cancelled;
  }

  onSessionClosed(sessionId: bigint): void {
    for (const d of this.#dirs.values()) {
      d.entering = d.entering.filter((w) => w.sessionId !== sessionId);
      d.leaving = d.leaving.filter((w) => w.sessionId !== sessionId);
    }
    for (const [path, list] of this.#barrierWaiters) this.#barrierWaiters.set(path, list.filter((w) => w.sessionId !== sessionId));
  }

  rebuild(): Iterable<bigint> {
    const sessions = new Set<bigint>();
    for (const d of this.#dirs.values()) for (const w of [...d.entering, ...d.leaving]) sessions.add(w.sessionId);
    for (const list of this.#barrierWaiters.values()) for (const w of list) sessions.add(w.sessionId);
    this.#dirs.clear();
    this.#barrierWaiters.clear();
    return sessions;
  }
}
