// Shared pieces of recipe bindings: the writes that create a recipe node (and any
// missing parents, as containers, the way Curator's creatingParentContainersIfNeeded
// does), and reading the created path back from the applied result.

import { CREATE_IF_ABSENT_FLAG, CreateMode, Err, OpCode, type JuteWriter } from "../../src/jute/index.js";
import type { ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import { OPEN_ACL_UNSAFE, parentOf, type ApplyResult, type OpResult } from "../../src/tree/index.js";

type CreateReq = Extract<WriteReq, { kind: "create" }>;

/** Ancestors created on demand at most this deep (bounds the multi). */
const PARENTS_MAX = 16;

export function createPath(path: string, flags: number, data: Buffer | null = null): CreateReq {
  return { kind: "create", opCode: OpCode.create2, path, data, acl: OPEN_ACL_UNSAFE, flags, ttl: -1n };
}

/**
 * `then`, preceded by creates of `dir` and its missing ancestors as containers when
 * they will not exist; a multi if anything is created, else `then` alone.
 */
export function ensureParentsThen(ctx: PlanContext, dir: string, then: CreateReq): WriteReq {
  const missing: string[] = [];
  for (let p = dir; p !== "/" && !ctx.willExist(p) && missing.length < PARENTS_MAX; p = parentOf(p)) missing.unshift(p);
  if (missing.length === 0) return then;
  // Another member may create the same parents meanwhile: if-absent creates never fail.
  return { kind: "multi", ops: [...missing.map((p) => createPath(p, CreateMode.Container | CREATE_IF_ABSENT_FLAG)), then] };
}

/** The result of the last op of a multi (the recipe node's create), or the single result. */
export function resultOfLast(result: ApplyResult): OpResult {
  if (result.multi === undefined) return result;
  const failed = result.multi.find((r) => r.err !== Err.Ok && r.err !== Err.RuntimeInconsistency);
  if (failed !== undefined) return { err: failed.err };
  return result.multi[result.multi.length - 1] ?? { err: Err.SystemError };
}

/**
 * A recipe call that creates an ephemeral-sequential contender node `prefix` (with any
 * missing parents) — or, after a reconnect, resumes waiting on `resumeNode`, which the
 * session must own — then lets `reply` decide and encode the answer.
 */
export function resumableCreate(
  dir: string,
  resumeNode: string,
  prefix: string,
  data: Buffer | null,
  reply: (sessionId: bigint, node: string) => (w: JuteWriter) => void,
): ExtensionCall {
  let err: number = Err.Ok;
  return {
    plan: (ctx: PlanContext): WriteReq | undefined => {
      if (resumeNode === "") return ensureParentsThen(ctx, dir, createPath(prefix, CreateMode.EphemeralSequential, data));
      const owner = ctx.tree.get(resumeNode)?.ephemeralOwner;
      if (!resumeNode.startsWith(dir + "/") || owner !== ctx.sessionId) err = Err.NoNode;
      return undefined;
    },
    answer: (conn, result: ApplyResult | undefined) => {
      if (err !== Err.Ok) return { err };
      const created = result === undefined ? { err: Err.Ok, path: resumeNode } : resultOfLast(result);
      if (created.err !== Err.Ok) return { err: created.err };
      return { err: Err.Ok, body: reply(conn.sessionId, created.path!) };
    },
  };
}
