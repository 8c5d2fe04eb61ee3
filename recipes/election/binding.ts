// Leader election on the server: `electionJoin` creates the member node and answers
// whether it leads; a member waits on the one just ahead of it, so when the leader's
// session goes only the next in line is told, within the round trip of the event.

import {
  CorralOp,
  ElectionJoinRequestSchema,
  ElectionJoinResponseSchema,
  Err,
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
import { MEMBER_PREFIX, predecessorOf } from "./rules.js";

export class ElectionBinding implements RecipeBinding {
  readonly name = "election";
  readonly opCodes = [CorralOp.electionJoin];
  readonly chain: WaitChain = new WaitChain(
    {
      isContender: (n) => n.startsWith(MEMBER_PREFIX),
      blockerOf: predecessorOf,
      grant: (engine, sessionId, dir, node) => {
        const token = engine.pipeline.tree.get(node)?.czxid ?? 0n;
        engine.push(sessionId, { kind: RecipeEventKind.LeaderElected, path: dir, node, token, data: null });
      },
    },
    this,
  );

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    const req = decodeRecord(r, ElectionJoinRequestSchema);
    if (invalidPathReason(req.path) !== undefined || req.path === "/") return failedCall(Err.BadArguments);
    return resumableCreate(req.path, req.resumeNode, joinPath(req.path, MEMBER_PREFIX), req.data, (sessionId, node) => {
      const leader = this.chain.enqueue(engine, sessionId, req.path, node.slice(req.path.length + 1));
      return (w) => encodeRecord(w, ElectionJoinResponseSchema, { node, leader });
    });
  }

  onChildChange(change: ChildChange, engine: EngineApi): void {
    this.chain.onChildChange(change, engine);
  }
}
