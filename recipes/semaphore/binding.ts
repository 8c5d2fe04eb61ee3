// A counting semaphore on the server: the first `permits` lease nodes hold a permit.
// The permit count lives in the semaphore node's data; a request that disagrees with it
// is BadArguments. Leases are `_c_<requestId>-lease-N` (protected: a re-send finds its
// lease). A lease's release grants the waiters that move into the first `permits`
// places, and nobody else; a waiter whose lease another session deletes is told NodeGone.

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
import { invalidPathReason, joinPath, parentOf } from "../../src/tree/index.js";
import { createPath, ensureParentsThen, protectedCreate, type CreateReq } from "../common/binding.js";
import { MISSING } from "../common/rules.js";
import { SortedNames } from "../common/sequence.js";
import { NODE_PREFIX, isContender, parsePermits, permitOf } from "./rules.js";

interface Waiting {
  sessionId: bigint;
  requestId: string;
}

interface SemaphoreDir {
  permits: number;
  leases: SortedNames;
  /** Waiting lease name -> its waiter. */
  waiting: Map<string, Waiting>;
}

export class SemaphoreBinding implements RecipeBinding {
  readonly name = "semaphore";
  readonly opCodes = [CorralOp.semaphoreAcquire];
  readonly #dirs = new Map<string, SemaphoreDir>();

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    const req = decodeRecord(r, SemaphoreRequestSchema);
    if (invalidPathReason(req.path) !== undefined || req.path === "/" || req.permits <= 0) return failedCall(Err.BadArguments);
    const dir = req.path;
    return protectedCreate({
      dir,
      requestId: req.requestId,
      name: NODE_PREFIX,
      mode: CreateMode.EphemeralSequential,
      data: null,
      tree: engine.tree,
      write: (ctx: PlanContext, lease: CreateReq): WriteReq | number => {
        if (!ctx.willExist(dir)) {
          const make = ensureParentsThen(ctx, parentOf(dir), createPath(dir, CreateMode.Persistent | CREATE_IF_ABSENT_FLAG, Buffer.from(String(req.permits))));
          const ops = make.kind === "multi" ? make.ops : [make as CreateReq];
          return { kind: "multi", ops: [...ops, lease] };
        }
        const have = parsePermits(ctx.tree.get(dir)?.data ?? null);
        if (have !== undefined && have !== req.permits) return Err.BadArguments;
        return lease;
      },
      reply: (conn, node) => {
        const state = this.#enqueue(engine, conn.sessionId, dir, req.permits, node.slice(dir.length + 1), req.requestId);
        if (state === MISSING) return Err.NoNode;
        const token = engine.tree.get(node)?.czxid ?? 0n;
        return (w) => encodeRecord(w, LockResponseSchema, { node, granted: state === "holds", token });
      },
    });
  }

  #enqueue(engine: EngineApi, sessionId: bigint, dir: string, permits: number, name: string, requestId: string): "holds" | "waits" | typeof MISSING {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      const children = engine.tree.get(dir)?.children ?? [];
      d = { permits, leases: new SortedNames(children, isContender), waiting: new Map() };
      this.#dirs.set(dir, d);
      engine.trackDir(dir, this);
    }
    const state = permitOf(d.leases.backing, d.permits, name, d.leases.head);
    if (state === "waits") d.waiting.set(name, { sessionId, requestId });
    else d.waiting.delete(name);
    return state;
  }

  /** Semaphores the engine tracks: permits, leases in order, waiting lease names (admin `locks`). */
  view(): { dir: string; permits: number; leases: string[]; waiting: string[] }[] {
    return [...this.#dirs].map(([dir, d]) => ({ dir, permits: d.permits, leases: [...d.leases.names], waiting: [...d.waiting.keys()] }));
  }

  onChildrenDeleting(dir: string, names: readonly string[]): void {
    this.#dirs.get(dir)?.leases.removeMany(names.filter(isContender));
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    const d = this.#dirs.get(change.dir);
    if (d === undefined || !isContender(change.name)) return;
    if (change.kind === "created") {
      d.leases.insert(change.name);
      return;
    }
    d.leases.remove(change.name);
    const own = d.waiting.get(change.name);
    d.waiting.delete(change.name);
    if (own !== undefined && change.entry.hdr.sessionId !== own.sessionId) {
      const node = joinPath(change.dir, change.name);
      engine.push(own.sessionId, { kind: RecipeEventKind.NodeGone, path: change.dir, node, token: 0n, data: null, requestId: own.requestId });
    }
    const holders = d.leases.first(d.permits);
    for (const name of holders) {
      const w = d.waiting.get(name);
      if (w === undefined) continue;
      d.waiting.delete(name);
      const node = joinPath(change.dir, name);
      const token = engine.tree.get(node)?.czxid ?? 0n;
      engine.push(w.sessionId, { kind: RecipeEventKind.LockGranted, path: change.dir, node, token, data: null, requestId: w.requestId });
    }
    if (d.leases.length === 0 && d.waiting.size === 0) {
      this.#dirs.delete(change.dir);
      engine.untrackDir(change.dir, this);
    }
  }

  rebuild(): Iterable<bigint> {
    const sessions = new Set<bigint>();
    for (const d of this.#dirs.values()) for (const w of d.waiting.values()) sessions.add(w.sessionId);
    this.#dirs.clear();
    return sessions;
  }
}
