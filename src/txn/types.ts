// Transaction records: what the leader decided, in a form every replica applies the
// same way. Prep has already resolved everything that depends on the tree or the clock
// (sequence numbers, versions, owners, times), so applying a txn needs no choices.

import type { ACL } from "../jute/index.js";
import type { SessionId, Zxid } from "../util/index.js";

export interface TxnHeader {
  /** The session that issued the request (0 for server-internal txns). */
  sessionId: SessionId;
  cxid: number;
  zxid: Zxid;
  /** Leader wall-clock ms: ctime/mtime of what the txn creates or changes. */
  timeMs: number;
  /** The client op code the txn answers (create, create2, multi, ...), for the reply. */
  opCode: number;
}

export interface CreateTxn {
  readonly type: "create";
  path: string;
  data: Buffer | null;
  acl: readonly ACL[];
  /** 0, a session id, the container marker or a TTL marker (see jute constants). */
  ephemeralOwner: bigint;
  /** The parent's cversion after this create (ZooKeeper's CreateTxn.parentCVersion). */
  parentCVersion: number;
}

export interface DeleteTxn {
  readonly type: "delete";
  path: string;
}

export interface SetDataTxn {
  readonly type: "setData";
  path: string;
  data: Buffer | null;
  /** The node's version after the change. */
  version: number;
}

export interface SetACLTxn {
  readonly type: "setACL";
  path: string;
  acl: readonly ACL[];
  /** The node's aversion after the change. */
  version: number;
}

export interface CheckTxn {
  readonly type: "check";
  path: string;
  version: number;
}

export interface MultiTxn {
  readonly type: "multi";
  txns: Txn[];
}

export interface CreateSessionTxn {
  readonly type: "createSession";
  timeoutMs: number;
}

/** A session's ephemeral `from`, re-created as the persistent node `to` when the session ends. */
export interface SessionEndMove {
  from: string;
  to: string;
  /**
   * The parent's cversion after the re-create (as CreateTxn's): an assignment, so a replay
   * over a fuzzy snapshot that already holds `to` still leaves the parent as the first
   * apply did.
   */
  parentCVersion: number;
}

/**
 * The session's end. `moves` (absent in records written before they existed): before
 * the session's ephemerals go, each `from` (an ephemeral of this session) is re-created
 * as the persistent node `to` with its data as the tree holds it when the txn is applied
 * (its ACL too); a move whose `from` is gone or whose `to` exists is skipped. So a queue
 * item a consumer took and never acked goes back in the same txn that ends the consumer's
 * session, on every replica and in every recovery.
 */
export interface CloseSessionTxn {
  readonly type: "closeSession";
  moves?: SessionEndMove[];
}

export interface ErrorTxn {
  readonly type: "error";
  err: number;
}

export type Txn =
  | CreateTxn
  | DeleteTxn
  | SetDataTxn
  | SetACLTxn
  | CheckTxn
  | MultiTxn
  | CreateSessionTxn
  | CloseSessionTxn
  | ErrorTxn;

export type TxnType = Txn["type"];

export interface TxnEntry {
  hdr: TxnHeader;
  txn: Txn;
}
