// What the pipeline needs from the layers around it: the connection it answers
// (implemented by net), and the commit step (standalone storage now, ZAB later).

import type { Id, JuteWriter } from "../jute/index.js";
import type { TxnEntry } from "../txn/index.js";
import type { SessionId } from "../util/index.js";
import type { WatchTarget } from "../watch/index.js";

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
 * Promises must resolve in append order.
 */
export interface CommitLog {
  append(entry: TxnEntry): Promise<void> | undefined;
}

/** A CommitLog that keeps nothing: the tree lives in memory only. */
export const memoryCommitLog: CommitLog = {
  append: () => undefined,
};
