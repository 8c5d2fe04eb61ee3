// The read/write lock (and mutex) on the server: `lock` creates the contender node and
// answers granted or waiting in the same reply; a waiter is filed under the one node
// that blocks it (rules.blockerOf), so a delete wakes only the waiters it unblocks.

import {
  CorralOp,
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
import { invalidPathReason, joinPath } from "../../src/tree/index.js";
import { resumableCreate } from "../common/binding.js";
import { WaitChain } from "../common/chain.js";
import { NODE_PREFIX, blockerOf, modeOf, type LockMode } from "./rules.js";

export class ReadWriteLockBinding implements RecipeBinding {
  readonly name = "read-write-lock";
  readonly opCodes = [CorralOp.lock];
  readonly chain: WaitChain = new WaitChain(
    {
      isContender: (n) => modeOf(n) !== undefined,
      blockerOf,
      grant: (engine, sessionId, dir, node) => {
        const token = engine.pipeline.tree.get(node)?.czxid ?? 0n;
        engine.push(sessionId, { kind: RecipeEventKind.LockGranted, path: dir, node, token, data: null });
      },
    },
    this,
  );

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    const req = decodeRecord(r, LockRequestSchema);
    const mode: LockMode | undefined = req.kind === LockKind.read ? "read" : req.kind === LockKind.write ? "write" : undefined;
    if (mode === undefined || invalidPathReason(req.path) !== undefined || req.path === "/") return failedCall(Err.BadArguments);
    return resumableCreate(req.path, req.resumeNode, joinPath(req.path, NODE_PREFIX[mode]), null, (sessionId, node) => {
      const granted = this.chain.enqueue(engine, sessionId, req.path, node.slice(req.path.length + 1));
      const token = engine.pipeline.tree.get(node)?.czxid ?? 0n;
      return (w) => encodeRecord(w, LockResponseSchema, { node, granted, token });
    });
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    this.chain.onChildChange(change, engine);
  }
}
