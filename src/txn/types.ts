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

export interface CloseSessionTxn {
  readonly type: "closeSession";
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
