// ZooKeeper's logged txns (zookeeper.jute, module org.apache.zookeeper.txn) turned into
// Corral's (src/txn), which carry the same decisions: ZooKeeper's CreateTxn already holds
// the parent's cversion after the create, SetDataTxn and SetACLTxn the version after the
// change, so applying the Corral txn does what ZooKeeper did. Pure: no I/O.
//
//   entry     = TxnHeader{long clientId | int cxid | long zxid | long time | int type}
//               txn (by type, below) | optional TxnDigest{int version | long treeDigest}
//   create, create2   CreateTxn{ustring path | buffer data | vector<ACL> acl | boolean ephemeral | int parentCVersion}
//                     (3.4's CreateTxnV0 lacks parentCVersion: -1, the parent's cversion + 1)
//   createTTL         CreateTTLTxn{path | data | acl | int parentCVersion | long ttl}
//   createContainer   CreateContainerTxn{path | data | acl | int parentCVersion}
//   delete, deleteContainer  DeleteTxn{ustring path}
//   setData, reconfig SetDataTxn{ustring path | buffer data | int version} (reconfig: /zookeeper/config)
//   setACL            SetACLTxn{ustring path | vector<ACL> acl | int version}
//   check             CheckVersionTxn{ustring path | int version}
//   createSession     CreateSessionTxn{int timeOut}
//   closeSession      nothing, or (3.6+) CloseSessionTxn{vector<ustring> paths2Delete}
//   error             ErrorTxn{int err}
//   multi             MultiTxn{vector<Txn{int type | buffer data}>}, data = one of the above

import { CONTAINER_EPHEMERAL_OWNER, JuteError, JuteReader, OpCode, TTL_EPHEMERAL_OWNER_PREFIX, TTL_MAX_MS, readAcls } from "../../jute/index.js";
import type { Txn, TxnEntry } from "../../txn/index.js";
import { asSessionId, asZxid } from "../../util/index.js";
import { ZK_TXN_DIGEST_BYTES } from "./format.js";

export interface ZkTxn {
  readonly entry: TxnEntry;
  /** closeSession: the ephemerals ZooKeeper listed in the txn (3.6+), if it did. */
  readonly closedPaths: readonly string[] | undefined;
  readonly digest: { readonly version: number; readonly treeDigest: bigint } | undefined;
}

/** ZooKeeper's op code names, for messages and dumps. */
export function zkOpName(type: number): string {
  for (const [name, code] of Object.entries(OpCode)) if (code === type) return name;
  return `op ${type}`;
}

/** Decodes one log entry's bytes; throws JuteError for what does not decode or is unsupported. */
export function decodeZkTxn(bytes: Buffer): ZkTxn {
  const r = new JuteReader(bytes);
  const clientId = r.long();
  const cxid = r.int();
  const zxid = r.long();
  const time = r.long();
  const type = r.int();
  const hdr = { sessionId: asSessionId(clientId), cxid, zxid: asZxid(zxid), timeMs: Number(time), opCode: type };
  let closedPaths: string[] | undefined;
  let txn: Txn;
  if (type === OpCode.closeSession) {
    // Nothing, a CloseSessionTxn, a digest, or both: told apart by what decodes exactly.
    closedPaths = closePathsOf(r);
    txn = { type: "closeSession" };
  } else if (type === OpCode.create || type === OpCode.create2) {
    txn = readCreate(r, clientId);
  } else if (type === OpCode.multi) {
    const n = r.count(8);
    const txns: Txn[] = [];
    for (let i = 0; i < n; i++) {
      const subType = r.int();
      const data = r.buffer();
      if (data === null) throw new JuteError(`multi sub-txn ${i} (${zkOpName(subType)}) has no data`);
      const sub = new JuteReader(data);
      const t = subType === OpCode.create || subType === OpCode.create2 ? readCreate(sub, clientId) : readSimple(sub, subType, true);
      if (sub.remaining() !== 0) throw new JuteError(`${sub.remaining()} stray bytes after multi sub-txn ${i} (${zkOpName(subType)})`);
      txns.push(t);
    }
    txn = { type: "multi", txns };
  } else {
    txn = readSimple(r, type, false);
  }
  const digest = readDigest(r);
  return { entry: { hdr, txn }, closedPaths, digest };
}

function readDigest(r: JuteReader): ZkTxn["digest"] {
  if (r.remaining() === 0) return undefined;
  if (r.remaining() !== ZK_TXN_DIGEST_BYTES) throw new JuteError(`${r.remaining()} stray bytes after the txn`);
  return { version: r.int(), treeDigest: r.long() };
}

function closePathsOf(r: JuteReader): string[] | undefined {
  if (r.remaining() === 0) return undefined;
  const start = r.offset;
  try {
    const paths = r.strings();
    if (r.remaining() === 0 || r.remaining() === ZK_TXN_DIGEST_BYTES) return paths;
  } catch (e) {
    if (!(e instanceof JuteError)) throw e;
  }
  r.offset = start;
  if (r.remaining() === ZK_TXN_DIGEST_BYTES) return undefined; // a digest alone
  throw new JuteError(`closeSession with ${r.remaining()} bytes that are neither a CloseSessionTxn nor a digest`);
}

function readCreate(r: JuteReader, clientId: bigint): Txn {
  const path = r.ustring();
  const data = r.buffer();
  const acl = readAcls(r);
  const ephemeral = r.bool();
  // CreateTxnV0 (ZooKeeper 3.4) ends here; its parent's cversion is "one more".
  const left = r.remaining();
  const parentCVersion = left === 0 || left === ZK_TXN_DIGEST_BYTES ? -1 : r.int();
  return { type: "create", path, data, acl, ephemeralOwner: ephemeral ? clientId : 0n, parentCVersion };
}

function readSimple(r: JuteReader, type: number, inMulti: boolean): Txn {
  switch (type) {
    case OpCode.createTTL: {
      const path = r.ustring();
      const data = r.buffer();
      const acl = readAcls(r);
      const parentCVersion = r.int();
      const ttl = r.long();
      if (ttl <= 0n || ttl > TTL_MAX_MS) throw new JuteError(`createTTL of ${path} with TTL ${ttl} ms out of range`);
      return { type: "create", path, data, acl, ephemeralOwner: TTL_EPHEMERAL_OWNER_PREFIX | ttl, parentCVersion };
    }
    case OpCode.createContainer: {
      const path = r.ustring();
      const data = r.buffer();
      const acl = readAcls(r);
      return { type: "create", path, data, acl, ephemeralOwner: CONTAINER_EPHEMERAL_OWNER, parentCVersion: r.int() };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: "delete", path: r.ustring() };
    case OpCode.setData:
    case OpCode.reconfig:
      return { type: "setData", path: r.ustring(), data: r.buffer(), version: r.int() };
    case OpCode.check:
      return { type: "check", path: r.ustring(), version: r.int() };
    case OpCode.error:
      return { type: "error", err: r.int() };
    case OpCode.setACL:
      if (inMulti) break;
      return { type: "setACL", path: r.ustring(), acl: readAcls(r), version: r.int() };
    case OpCode.createSession:
      if (inMulti) break;
      return { type: "createSession", timeoutMs: r.int() };
    default:
      break;
  }
  throw new JuteError(`unsupported txn type ${type} (${zkOpName(type)})${inMulti ? " inside a multi" : ""}`);
}
