// A counting semaphore on the server: the first `permits` lease nodes hold a permit.
// The permit count lives in the semaphore node's data; a request that disagrees with it
// is BadArguments. A lease's release grants the waiters that move into the first
// `permits` places, and nobody else.

import {
  CREATE_IF_ABSENT_FLAG,
  CorralOp,
  CreateMode,
  Err,
  LockResponseSchema,
  RecipeEventKind,
  SemaphoreRequestSchema,
  decodeRecord,
  encodeRecord,
  type JuteReader,
} from "../../src/jute/index.js";
import type { ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { invalidPathReason, joinPath, parentOf, type ApplyResult } from "../../src/tree/index.js";
import { createPath, ensureParentsThen, resultOfLast } from "../common/binding.js";
import { SortedNames } from "../common/sequence.js";
import { NODE_PREFIX, isContender, parsePermits } from "./rules.js";

interface SemaphoreDir {
  permits: number;
  leases: SortedNames;
  /** Waiting lease name -> session. */
  waiting: Map<string, bigint>;
}

export class SemaphoreBinding implements RecipeBinding {
  readonly name = "semaphore";
  readonly opCodes = [CorralOp.semaphoreAcquire];
  readonly #dirs = new Map<string, SemaphoreDir>();

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    const req = decodeRecord(r, SemaphoreRequestSchema);
    if (invalidPathReason(req.path) !== undefined || req.path === "/" || req.permits <= 0) return failedCall(Err.BadArguments);
    const dir = req.path;
    let err: number = Err.Ok;
    return {
      plan: (ctx: PlanContext): WriteReq | undefined => {
        if (req.resumeNode !== "") {
          if (!req.resumeNode.startsWith(dir + "/") || ctx.tree.get(req.resumeNode)?.ephemeralOwner !== ctx.sessionId) err = Err.NoNode;
          return undefined;
        }
        const lease = createPath(joinPath(dir, NODE_PREFIX), CreateMode.EphemeralSequential);
        if (!ctx.willExist(dir)) {
          const make = ensureParentsThen(ctx, parentOf(dir) === "/" ? "/" : parentOf(dir), createPath(dir, CreateMode.Persistent | CREATE_IF_ABSENT_FLAG, Buffer.from(String(req.permits))));
          const ops = make.kind === "multi" ? make.ops : [make as Extract<WriteReq, { kind: "create" }>];
          return { kind: "multi", ops: [...ops, lease] };
        }
        const have = parsePermits(ctx.tree.get(dir)?.data ?? null);
        if (have !== undefined && have !== req.permits) {
          err = Err.BadArguments;
          return undefined;
        }
        return lease;
      },
      answer: (conn, result: ApplyResult | undefined) => {
        if (err !== Err.Ok) return { err };
        const created = result === undefined ? { err: Err.Ok, path: req.resumeNode } : resultOfLast(result);
        if (created.err !== Err.Ok) return { err: created.err };
        const node = created.path!;
        const granted = this.#enqueue(engine, conn.sessionId, dir, req.permits, node.slice(dir.length + 1));
        const token = engine.pipeline.tree.get(node)?.czxid ?? 0n;
        return { err: Err.Ok, body: (w) => encodeRecord(w, LockResponseSchema, { node, granted, token }) };
      },
    };
  }

  #enqueue(engine: EngineApi, sessionId: bigint, dir: string, permits: number, name: string): boolean {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      const children = engine.pipeline.tree.get(dir)?.children ?? [];
      d = { permits, leases: new SortedNames(children, isContender), waiting: new Map() };
      this.#dirs.set(dir, d);
      engine.trackDir(dir, this);
    }
    const place = d.leases.names.indexOf(name);
    if (place !== -1 && place < d.permits) return true;
    d.waiting.set(name, sessionId);
    return false;
  }

  /** Semaphores the engine tracks: permits, leases in order, waiting lease names (admin `locks`). */
  view(): { dir: string; permits: number; leases: string[]; waiting: string[] }[] {
    return [...this.#dirs].map(([dir, d]) => ({ dir, permits: d.permits, leases: [...d.leases.names], waiting: [...d.waiting.keys()] }));
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    const d = this.#dirs.get(change.dir);
    if (d === undefined || !isContender(change.name)) return;
    if (change.kind === "created") {
      d.leases.insert(change.name);
      return;
    }
    d.leases.remove(change.name);
    d.waiting.delete(change.name);
    const holders = d.leases.names.slice(0, d.permits);
    for (const name of holders) {
      const sessionId = d.waiting.get(name);
      if (sessionId === undefined) continue;
      d.waiting.delete(name);
      const node = joinPath(change.dir, name);
      const token = engine.pipeline.tree.get(node)?.czxid ?? 0n;
      engine.push(sessionId, { kind: RecipeEventKind.LockGranted, path: change.dir, node, token, data: null });
    }
    if (d.leases.names.length === 0 && d.waiting.size === 0) {
      this.#dirs.delete(change.dir);
      engine.untrackDir(change.dir, this);
    }
  }
}
