// Leader election on the server: `electionJoin` creates the member node
// `_c_<requestId>-n_N` (protected: a re-send finds it) and answers whether it leads; a
// member waits on the one just ahead of it, so when the leader's session goes only the
// next in line is told, within the round trip of the event.

import {
  CorralOp,
  CreateMode,
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
import { invalidPathReason } from "../../src/tree/index.js";
import { protectedCreate } from "../common/binding.js";
import { WaitChain } from "../common/chain.js";
import { MEMBER_PREFIX, isMember, predecessorOf } from "./rules.js";

export class ElectionBinding implements RecipeBinding {
  readonly name = "election";
  readonly opCodes = [CorralOp.electionJoin];
  readonly chain: WaitChain = new WaitChain(
    {
      isContender: isMember,
      blockerOf: predecessorOf,
      grant: (engine, sessionId, dir, node, requestId) => {
        const token = engine.tree.get(node)?.czxid ?? 0n;
        engine.push(sessionId, { kind: RecipeEventKind.LeaderElected, path: dir, node, token, data: null, requestId });
      },
    },
    this,
  );

  decode(_opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall {
    const req = decodeRecord(r, ElectionJoinRequestSchema);
    if (invalidPathReason(req.path) !== undefined || req.path === "/") return failedCall(Err.BadArguments);
    return protectedCreate({
      dir: req.path,
      requestId: req.requestId,
      name: MEMBER_PREFIX,
      mode: CreateMode.EphemeralSequential,
      data: req.data,
      tree: engine.tree,
      reply: (conn, node) => {
        const state = this.chain.enqueue(engine, conn.sessionId, req.path, node.slice(req.path.length + 1), req.requestId);
        if (state === "missing") return Err.NoNode;
        return (w) => encodeRecord(w, ElectionJoinResponseSchema, { node, leader: state === "granted" });
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
