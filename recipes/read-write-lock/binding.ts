// The read/write lock (and mutex) on the server: `lock` creates the contender node
// `_c_<requestId>-read__rlock__N` / `..write__lock__N` (protected: a re-send finds it) and
// answers granted or waiting in the same reply; a waiter is filed under the one node
// that blocks it (rules.blockerOf), so a delete wakes only the waiters it unblocks.

import {
  CorralOp,
  CreateMode,
  Err,
  LockKind,
  LockRequestSchema,
  LockResponseSchema,
  RecipeEventKind,
  decodeRecord,
  encodeRecord,
  type JuteReader,
} from "../../src/jute/index.js";
import type { ExtensionCall } from "../../src/pipeline/index.js";
import { failedCall, type ChildChange, type EngineApi, type RecipeBinding } from "../../src/recipe-engine/index.js";
import { invalidPathReason } from "../../src/tree/index.js";
import { protectedCreate } from "../common/binding.js";
import { WaitChain } from "../common/chain.js";
import { NODE_PREFIX, blockerOf, modeOf, type LockMode } from "./rules.js";

export class ReadWriteLockBinding implements RecipeBinding {
  readonly name = "read-write-lock";
  readonly opCodes = [CorralOp.lock];
  readonly chain: WaitChain = new WaitChain(
    {
      isContender: (n) => modeOf(n) !== undefined,
      blockerOf,
      grant: (engine, sessionId, dir, node, requestId) => {
        const token = engine.tree.get(node)?.czxid ?? 0n;
        engine.push(sessionId, { kind: RecipeEventKind.LockGranted, path: dir, node, token, data: null, requestId });
      },
    },
    this,
  );

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    const req = decodeRecord(r, LockRequestSchema);
    const mode: LockMode | undefined = req.kind === LockKind.read ? "read" : req.kind === LockKind.write ? "write" : undefined;
    if (mode === undefined || invalidPathReason(req.path) !== undefined || req.path === "/") return failedCall(Err.BadArguments);
    return protectedCreate({
      dir: req.path,
      requestId: req.requestId,
      name: NODE_PREFIX[mode],
      mode: CreateMode.EphemeralSequential,
      data: null,
      tree: engine.tree,
      reply: (conn, node) => {
        const state = this.chain.enqueue(engine, conn.sessionId, req.path, node.slice(req.path.length + 1), req.requestId);
        if (state === "missing") return Err.NoNode;
        const token = engine.tree.get(node)?.czxid ?? 0n;
        return (w) => encodeRecord(w, LockResponseSchema, { node, granted: state === "granted", token });
      },
    });
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    this.chain.onChildChange(change, engine);
  }

  onChildrenDeleting(dir: string, names: readonly string[]): void {
    this.chain.onChildrenDeleting(dir, names);
  }

  rebuild(): Iterable<bigint> {
    return this.chain.clear();
  }
}
