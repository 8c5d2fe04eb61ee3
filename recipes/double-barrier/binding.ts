// Barriers on the server. `barrierWait` answers at once if the barrier node is gone,
// else when it is deleted. `doubleBarrierEnter` adds the caller's ephemeral node and
// answers (or later pushes) once `count` participants are in; `doubleBarrierLeave`
// removes it and answers once all have left.

import {
  CorralOp,
  CreateMode,
  DoneResponseSchema,
  DoubleBarrierRequestSchema,
  Err,
  PathRequestSchema,
  RecipeEventKind,
  decodeRecord,
  encodeRecord,
  type JuteReader,
} from "../../src/jute/index.js";
import type { ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { childCount, invalidPathReason, joinPath, type ApplyResult } from "../../src/tree/index.js";
import { createPath, ensureParentsThen, resultOfLast } from "../common/binding.js";
import { canEnter, canLeave } from "./rules.js";

interface Waiting {
  sessionId: bigint;
  count: number;
}

interface BarrierDir {
  entering: Waiting[];
  leaving: bigint[];
}

const done = (v: boolean) => ({ err: Err.Ok, body: (w: import("../../src/jute/index.js").JuteWriter) => encodeRecord(w, DoneResponseSchema, { done: v }) });

export class BarrierBinding implements RecipeBinding {
  readonly name = "barrier";
  readonly opCodes = [CorralOp.barrierWait, CorralOp.doubleBarrierEnter, CorralOp.doubleBarrierLeave];
  readonly #barrierWaiters = new Map<string, bigint[]>();
  readonly #dirs = new Map<string, BarrierDir>();

  decode(opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    if (opCode === CorralOp.barrierWait) return this.#wait(decodeRecord(r, PathRequestSchema).path, engine);
    const req = decodeRecord(r, DoubleBarrierRequestSchema);
    const bad = invalidPathReason(req.path) !== undefined || req.path === "/" || req.name === "" || req.name.includes("/") || req.count <= 0;
    if (bad) return failedCall(Err.BadArguments);
    const node = joinPath(req.path, req.name);
    return opCode === CorralOp.doubleBarrierEnter ? this.#enter(req.path, node, req.count, engine) : this.#leave(req.path, node, engine);
  }

  #wait(path: string, engine: EngineApi): ExtensionCall {
    if (invalidPathReason(path) !== undefined) return failedCall(Err.BadArguments);
    return {
      plan: () => undefined,
      answer: (conn) => {
        if (engine.pipeline.tree.get(path) === undefined) return done(true);
        const list = this.#barrierWaiters.get(path);
        if (list === undefined) {
          this.#barrierWaiters.set(path, [conn.sessionId]);
          engine.trackNode(path, this);
        } else list.push(conn.sessionId);
        return done(false);
      },
    };
  }

  onNodeDeleted(path: string, _entry: unknown, engine: EngineApi): void {
    const list = this.#barrierWaiters.get(path);
    this.#barrierWaiters.delete(path);
    engine.untrackNode(path, this);
    for (const sessionId of list ?? []) {
      engine.push(sessionId, { kind: RecipeEventKind.BarrierReleased, path, node: path, token: 0n, data: null });
    }
  }

  #enter(dir: string, node: string, count: number, engine: EngineApi): ExtensionCall {
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => {
        if (ctx.willExist(node)) return undefined;
        return ensureParentsThen(ctx, dir, createPath(node, CreateMode.Ephemeral));
      },
      answer: (conn, result: ApplyResult | undefined) => {
        if (result !== undefined) {
          const r = resultOfLast(result);
          if (r.err !== Err.Ok) return { err: r.err };
        }
        const n = this.#children(engine, dir);
        if (canEnter(n, count)) {
          this.#releaseEntering(engine, dir, n);
          return done(true);
        }
        this.#dir(engine, dir).entering.push({ sessionId: conn.sessionId, count });
        return done(false);
      },
    };
  }

  #leave(dir: string, node: string, engine: EngineApi): ExtensionCall {
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => (ctx.willExist(node) ? { kind: "delete", path: node, version: -1 } : undefined),
      answer: (conn, result: ApplyResult | undefined) => {
        if (result !== undefined && result.err !== Err.Ok && result.err !== Err.NoNode) return { err: result.err };
        if (canLeave(this.#children(engine, dir))) return done(true);
        this.#dir(engine, dir).leaving.push(conn.sessionId);
        return done(false);
      },
    };
  }

  #children(engine: EngineApi, dir: string): number {
    const n = engine.pipeline.tree.get(dir);
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
    for (const w of ready) engine.push(w.sessionId, { kind: RecipeEventKind.DoubleBarrierEntered, path: dir, node: dir, token: 0n, data: null });
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
    if (!canLeave(n)) return;
    const leaving = d.leaving;
    d.leaving = [];
    for (const sessionId of leaving) {
      engine.push(sessionId, { kind: RecipeEventKind.DoubleBarrierLeft, path: change.dir, node: change.dir, token: 0n, data: null });
    }
    this.#maybeUntrack(engine, change.dir, d);
  }

  #maybeUntrack(engine: EngineApi, dir: string, d: BarrierDir): void {
    if (d.entering.length > 0 || d.leaving.length > 0) return;
    this.#dirs.delete(dir);
    engine.untrackDir(dir, this);
  }

  onSessionClosed(sessionId: bigint): void {
    for (const d of this.#dirs.values()) {
      d.entering = d.entering.filter((w) => w.sessionId !== sessionId);
      d.leaving = d.leaving.filter((s) => s !== sessionId);
    }
    for (const [path, list] of this.#barrierWaiters) this.#barrierWaiters.set(path, list.filter((s) => s !== sessionId));
  }
}
