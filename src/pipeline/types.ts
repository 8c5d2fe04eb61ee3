// What the pipeline needs from the layers around it: the connection it answers
// (implemented by net), and the commit step (standalone storage now, ZAB later).

import type { Id, JuteReader, JuteWriter } from "../jute/index.js";
import type { ApplyResult, DataTree } from "../tree/index.js";
import type { SessionEndMove, TxnEntry } from "../txn/index.js";
import type { SessionId } from "../util/index.js";
import type { WatchTarget } from "../watch/index.js";
import type { ReconfigReq, WriteReq } from "./requests.js";

/** A client connection bound to a session, as the pipeline sees it. */
export interface Conn extends WatchTarget {
  readonly sessionId: SessionId;
  /** The identities this connection has proven (ip, digest, super). */
  readonly authIds: Id[];
  /** Sends one reply frame: header, then the body the callback writes. */
  reply(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): void;
  /** Closes the connection once what was sent has been flushed. */
  close(reason: string): void;
  /** Stops (true) or resumes (false) reading requests from this connection. */
  setBackpressure(on: boolean): void;
}

/**
 * The commit step. `append` returns undefined when the txn is committed at once, or a
 * promise that resolves when it is (durable in standalone; acked by a quorum with ZAB).
 * Promises must resolve in append order. Consecutive appends may get the same promise
 * (a group commit): it then stands for all of them.
 */
export interface CommitLog {
  append(entry: TxnEntry): Promise<void> | undefined;
}

/** A CommitLog that keeps nothing: the tree lives in memory only. */
export const memoryCommitLog: CommitLog = {
  append: () => undefined,
};

/** What an extension request may look at while it is planned (at submit time, in order). */
export interface PlanContext {
  readonly sessionId: SessionId;
  readonly tree: DataTree;
  /** Whether `path` will exist once every txn already prepared has been applied. */
  willExist(path: string): boolean;
  /**
   * Whether the session owns, or will own once prepared txns apply, an ephemeral beside
   * `path` carrying the same protected token (`_c_<requestId>-`): a protected create of
   * `path` would be refused (PROTECTED_CREATE_FLAG).
   */
  ownsProtected(path: string): boolean;
}

/**
 * A request outside ZooKeeper's op codes (the recipe engine's), as the pipeline runs it:
 * `plan` runs when the request arrives and may turn it into an ordinary write; `answer`
 * runs when the session's queue reaches it, after that write (if any) was applied, and
 * gives the reply. Errors found while planning are kept by the call and answered then.
 */
export interface ExtensionCall {
  plan(ctx: PlanContext): WriteReq | undefined;
  answer(conn: Conn, result: ApplyResult | undefined): { err: number; body?: ((w: JuteWriter) => void) | undefined };
}

/**
 * Dynamic reconfiguration as the leader's prep sees it (implemented by the ensemble
 * driver, which knows the configuration and the synced learners): the new
 * configuration's text for `/zookeeper/config`, whose version is `zxid`, or the error
 * to answer (ReconfigInProgress, BadVersion, BadArguments, NewConfigNoQuorum).
 */
export interface ReconfigPlanner {
  plan(req: ReconfigReq, zxid: bigint): { ok: true; data: Buffer } | { ok: false; err: number };
}

/** Decodes extension op codes; undefined for op codes it does not own. */
export interface RequestExtension {
  decode(opCode: number, r: JuteReader): ExtensionCall | undefined;
}

/**
 * What a session's end does besides deleting its ephemerals (set by the recipe engine, which
 * the pipeline never imports): given the session's live ephemerals, the ones to re-create
 * as persistent nodes first, in the closeSession txn itself (a queue item taken and not
 * acked goes back under its own name). Prep drops a move whose `from` is not among them or
 * whose `to` will exist.
 */
export type SessionEndPlanner = (sessionId: bigint, ephemeralPaths: readonly string[]) => readonly Pick<SessionEndMove, "from" | "to">[];
