// Client requests, decoded from a frame body into one typed union. Decoding is strict:
// a body that does not parse throws JuteError and the connection is closed, as
// ZooKeeper closes a connection whose packet it cannot deserialize.

import {
  JuteError,
  MultiHeaderSchema,
  OpCode,
  PathSchema,
  PathTypeSchema,
  PathVersionSchema,
  PathWatchSchema,
  SetACLRequestSchema,
  SetDataRequestSchema,
  SetWatches2Schema,
  SetWatchesSchema,
  AddWatchRequestSchema,
  GetEphemeralsRequestSchema,
  ReconfigRequestSchema,
  decodeRecord,
  readAcls,
  readCreateRequest,
  type ACL,
  type JuteReader,
} from "../jute/index.js";
import type { ExtensionCall } from "./types.js";

export interface CreateReq {
  readonly kind: "create";
  readonly opCode: number;
  path: string;
  data: Buffer | null;
  acl: readonly ACL[];
  flags: number;
  /** -1 unless the op is createTTL. */
  ttl: bigint;
}
export interface DeleteReq {
  readonly kind: "delete";
  path: string;
  version: number;
}
export interface SetDataReq {
  readonly kind: "setData";
  path: string;
  data: Buffer | null;
  version: number;
}
export interface SetACLReq {
  readonly kind: "setACL";
  path: string;
  acl: ACL[];
  version: number;
}
export interface CheckReq {
  readonly kind: "check";
  path: string;
  version: number;
}
export type MultiOp = CreateReq | DeleteReq | SetDataReq | CheckReq;
export interface MultiReq {
  readonly kind: "multi";
  ops: MultiOp[];
}
export interface CloseSessionReq {
  readonly kind: "closeSession";
}
export type WriteReq = CreateReq | DeleteReq | SetDataReq | SetACLReq | CheckReq | MultiReq | CloseSessionReq | ReconfigReq;

export interface PathReadReq {
  readonly kind: "exists" | "getData" | "getChildren" | "getChildren2";
  path: string;
  watch: boolean;
}
export interface PathOnlyReq {
  readonly kind: "getACL" | "sync" | "getAllChildrenNumber";
  path: string;
}
export interface GetEphemeralsReq {
  readonly kind: "getEphemerals";
  prefixPath: string;
}
export interface MultiReadReq {
  readonly kind: "multiRead";
  ops: PathReadReq[];
}
export interface SetWatchesReq {
  readonly kind: "setWatches";
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export interface AddWatchReq {
  readonly kind: "addWatch";
  path: string;
  mode: number;
}
export interface WatchOpReq {
  readonly kind: "checkWatches" | "removeWatches";
  path: string;
  type: number;
}
export interface SimpleReq {
  readonly kind: "ping" | "whoAmI";
}
/**
 * reconfig (op 16): a write the leader turns into a setData of /zookeeper/config. Null
 * strings arrive as "" (jute's ustring), so "" means "not given".
 */
export interface ReconfigReq {
  readonly kind: "reconfig";
  joiningServers: string;
  leavingServers: string;
  newMembers: string;
  curConfigId: bigint;
}
export interface UnimplementedReq {
  readonly kind: "unimplemented";
  opCode: number;
}
export interface ExtensionReq {
  readonly kind: "extension";
  readonly call: ExtensionCall;
}
export type ReadReq =
  | ExtensionReq
  | PathReadReq
  | PathOnlyReq
  | GetEphemeralsReq
  | MultiReadReq
  | SetWatchesReq
  | AddWatchReq
  | WatchOpReq
  | SimpleReq
  | UnimplementedReq;

export type Request = WriteReq | ReadReq;

export function isWrite(req: Request): req is WriteReq {
  switch (req.kind) {
    case "create":
    case "delete":
    case "setData":
    case "setACL":
    case "check":
    case "multi":
    case "closeSession":
    case "reconfig":
      return true;
    default:
      return false;
  }
}

/** Ops a multi may hold; anything else makes the frame unparseable, as in ZooKeeper. */
const MULTI_OPS: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createTTL,
  OpCode.createContainer,
  OpCode.delete,
  OpCode.setData,
  OpCode.check,
]);
const MULTI_OPS_MAX = 10_000;

function decodeCreate(r: JuteReader, opCode: number): CreateReq {
  const c = readCreateRequest(r);
  const ttl = opCode === OpCode.createTTL ? r.long() : -1n;
  return { kind: "create", opCode, path: c.path, data: c.data, acl: c.acl, flags: c.flags, ttl };
}

function decodeMultiHeaders<T>(r: JuteReader, decodeOp: (type: number) => T): T[] {
  const ops: T[] = [];
  for (;;) {
    const h = decodeRecord(r, MultiHeaderSchema);
    if (h.done) return ops;
    if (ops.length >= MULTI_OPS_MAX) throw new JuteError(`multi holds more than ${MULTI_OPS_MAX} ops`);
    ops.push(decodeOp(h.type));
  }
}

function decodeMultiOp(r: JuteReader, type: number): MultiOp {
  if (!MULTI_OPS.has(type)) throw new JuteError(`invalid op type ${type} in multi`);
  switch (type) {
    case OpCode.delete:
      return { kind: "delete", ...decodeRecord(r, PathVersionSchema) };
    case OpCode.setData:
      return { kind: "setData", ...decodeRecord(r, SetDataRequestSchema) };
    case OpCode.check:
      return { kind: "check", ...decodeRecord(r, PathVersionSchema) };
    default:
      return decodeCreate(r, type);
  }
}

function decodeMultiReadOp(r: JuteReader, type: number): PathReadReq {
  if (type === OpCode.getData) return { kind: "getData", ...decodeRecord(r, PathWatchSchema) };
  if (type === OpCode.getChildren) return { kind: "getChildren", ...decodeRecord(r, PathWatchSchema) };
  throw new JuteError(`invalid op type ${type} in multiRead`);
}

function decodeSetWatches(r: JuteReader, v2: boolean): SetWatchesReq {
  if (v2) return { kind: "setWatches", ...decodeRecord(r, SetWatches2Schema) };
  const w = decodeRecord(r, SetWatchesSchema);
  return { kind: "setWatches", ...w, persistentWatches: [], persistentRecursiveWatches: [] };
}

/** Decodes the body of a request with op code `opCode`. Throws JuteError if malformed. */
export function decodeRequest(opCode: number, r: JuteReader): Request {
  switch (opCode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return decodeCreate(r, opCode);
    case OpCode.delete:
      return { kind: "delete", ...decodeRecord(r, PathVersionSchema) };
    case OpCode.setData:
      return { kind: "setData", ...decodeRecord(r, SetDataRequestSchema) };
    case OpCode.setACL:
      return { kind: "setACL", ...decodeRecord(r, SetACLRequestSchema) };
    case OpCode.check:
      return { kind: "check", ...decodeRecord(r, PathVersionSchema) };
    case OpCode.multi:
      return { kind: "multi", ops: decodeMultiHeaders(r, (t) => decodeMultiOp(r, t)) };
    case OpCode.closeSession:
      return { kind: "closeSession" };
    case OpCode.exists:
      return { kind: "exists", ...decodeRecord(r, PathWatchSchema) };
    case OpCode.getData:
      return { kind: "getData", ...decodeRecord(r, PathWatchSchema) };
    case OpCode.getChildren:
      return { kind: "getChildren", ...decodeRecord(r, PathWatchSchema) };
    case OpCode.getChildren2:
      return { kind: "getChildren2", ...decodeRecord(r, PathWatchSchema) };
    case OpCode.getACL:
      return { kind: "getACL", ...decodeRecord(r, PathSchema) };
    case OpCode.sync:
      return { kind: "sync", ...decodeRecord(r, PathSchema) };
    case OpCode.getAllChildrenNumber:
      return { kind: "getAllChildrenNumber", ...decodeRecord(r, PathSchema) };
    case OpCode.getEphemerals:
      return { kind: "getEphemerals", ...decodeRecord(r, GetEphemeralsRequestSchema) };
    case OpCode.multiRead:
      return { kind: "multiRead", ops: decodeMultiHeaders(r, (t) => decodeMultiReadOp(r, t)) };
    case OpCode.setWatches:
      return decodeSetWatches(r, false);
    case OpCode.setWatches2:
      return decodeSetWatches(r, true);
    case OpCode.addWatch:
      return { kind: "addWatch", ...decodeRecord(r, AddWatchRequestSchema) };
    case OpCode.checkWatches:
      return { kind: "checkWatches", ...decodeRecord(r, PathTypeSchema) };
    case OpCode.removeWatches:
      return { kind: "removeWatches", ...decodeRecord(r, PathTypeSchema) };
    case OpCode.ping:
      return { kind: "ping" };
    case OpCode.whoAmI:
      return { kind: "whoAmI" };
    case OpCode.reconfig:
      return { kind: "reconfig", ...decodeRecord(r, ReconfigRequestSchema) };
    default:
      return { kind: "unimplemented", opCode };
  }
}
