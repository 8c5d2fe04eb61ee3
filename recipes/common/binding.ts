// Shared pieces of recipe bindings: the writes that create a recipe node (and any
// missing parents, as containers, the way Curator's creatingParentContainersIfNeeded
// does), reading the created path back from the applied result, and the protected
// create every node made for a session goes through (`_c_<requestId>-<prefix>`, with
// PROTECTED_CREATE_FLAG): a re-send of the same request finds the node the first send
// made, and the binding answers from it.

import { CREATE_IF_ABSENT_FLAG, CreateMode, Err, OpCode, PROTECTED_CREATE_FLAG, type JuteWriter } from "../../src/jute/index.js";
import type { Conn, ExtensionCall, PlanContext, WriteReq } from "../../src/pipeline/index.js";
import type { TreeReader } from "../../src/recipe-engine/index.js";
import { OPEN_ACL_UNSAFE, joinPath, parentOf, type ApplyResult, type OpResult } from "../../src/tree/index.js";
import { isRequestId, protectedName, protectedToken } from "./rules.js";

export type CreateReq = Extract<WriteReq, { kind: "create" }>;

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

/** The first error of a result (a multi's failing op), or Ok. */
export function firstError(result: ApplyResult | undefined): number {
  if (result === undefined) return Err.SystemError;
  if (result.multi === undefined) return result.err;
  return result.multi.find((r) => r.err !== Err.Ok)?.err ?? Err.Ok;
}

/**
 * The session's node in `dir` carrying request `requestId`'s token, or undefined. Looks
 * only at the session's own ephemerals (never `dir`'s children).
 */
export function findProtected(tree: TreeReader, sessionId: bigint, dir: string, requestId: string): string | undefined {
  const prefix = joinPath(dir, protectedToken(requestId));
  for (const p of tree.ephemeralsOf(sessionId)) {
    if (p.startsWith(prefix) && p.indexOf("/", prefix.length) === -1) return p;
  }
  return undefined;
}

export interface ProtectedCreateSpec {
  dir: string;
  requestId: string;
  /** The node's name after the token (a sequential create appends the sequence). */
  name: string;
  mode: number;
  data: Buffer | null;
  /** The write that creates the node (default: the create, after any missing parents); or an error code. */
  write?: (ctx: PlanContext, create: CreateReq) => WriteReq | number;
  /**
   * The answer, from the session's node (`resumed`: found by a re-send, not created by
   * this request). An error code fails the call.
   */
  reply: (conn: Conn, node: string, resumed: boolean) => number | ((w: JuteWriter) => void);
  tree: TreeReader;
}

/**
 * A recipe call that creates the session's protected node `<dir>/_c_<requestId>-<name>`
 * — or, for a re-send (the create refused with NodeExists), finds the node the first send
 * made — then lets `reply` decide and encode the answer. A malformed request id is
 * BadArguments; a re-send whose node is gone meanwhile is NoNode.
 */
export function protectedCreate(spec: ProtectedCreateSpec): ExtensionCall {
  let err: number = isRequestId(spec.requestId) ? Err.Ok : Err.BadArguments;
  return {
    plan: (ctx: PlanContext): WriteReq | undefined => {
      if (err !== Err.Ok) return undefined;
      const create = createPath(joinPath(spec.dir, protectedName(spec.requestId, spec.name)), spec.mode | PROTECTED_CREATE_FLAG, spec.data);
      const write = spec.write === undefined ? ensureParentsThen(ctx, spec.dir, create) : spec.write(ctx, create);
      if (typeof write === "number") {
        err = write;
        return undefined;
      }
      return write;
    },
    answer: (conn, result: ApplyResult | undefined) => {
      if (err !== Err.Ok) return { err };
      if (result === undefined) return { err: Err.SystemError };
      const created = resultOfLast(result);
      let node: string | undefined = created.path;
      let resumed = false;
      if (created.err === Err.NodeExists) {
        // A re-send: the first send's node was applied before this txn (zxid order).
        node = findProtected(spec.tree, conn.sessionId, spec.dir, spec.requestId);
        if (node === undefined) return { err: Err.NoNode };
        resumed = true;
      } else if (created.err !== Err.Ok || node === undefined) {
        return { err: created.err === Err.Ok ? Err.SystemError : created.err };
      }
      const body = spec.reply(conn, node, resumed);
      return typeof body === "number" ? { err: body } : { err: Err.Ok, body };
    },
  };
}
