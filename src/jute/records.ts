// Wire records of the client protocol, field for field in the order of zookeeper.jute
// (org.apache.zookeeper.proto and .data). Hot records (headers, Stat) also have
// hand-written codecs in headers.ts; everything else goes through the schema codec.

import { recordOf, vectorOf, type RecordType } from "./schema.js";

export const IdSchema = [
  ["scheme", "ustring"],
  ["id", "ustring"],
] as const;
export type Id = RecordType<typeof IdSchema>;

export const ACLSchema = [
  ["perms", "int"],
  ["id", recordOf(IdSchema)],
] as const;
export type ACL = RecordType<typeof ACLSchema>;
const aclVector = vectorOf(recordOf(ACLSchema));

export const StatSchema = [
  ["czxid", "long"],
  ["mzxid", "long"],
  ["ctime", "long"],
  ["mtime", "long"],
  ["version", "int"],
  ["cversion", "int"],
  ["aversion", "int"],
  ["ephemeralOwner", "long"],
  ["dataLength", "int"],
  ["numChildren", "int"],
  ["pzxid", "long"],
] as const;
export type Stat = RecordType<typeof StatSchema>;
const stat = recordOf(StatSchema);

export const WatcherEventSchema = [
  ["type", "int"],
  ["state", "int"],
  ["path", "ustring"],
] as const;

export const AuthPacketSchema = [
  ["type", "int"],
  ["scheme", "ustring"],
  ["auth", "buffer"],
] as const;

const strings = vectorOf("ustring");
export const SetWatchesSchema = [
  ["relativeZxid", "long"],
  ["dataWatches", strings],
  ["existWatches", strings],
  ["childWatches", strings],
] as const;
export const SetWatches2Schema = [
  ...SetWatchesSchema,
  ["persistentWatches", strings],
  ["persistentRecursiveWatches", strings],
] as const;

export const CreateRequestSchema = [
  ["path", "ustring"],
  ["data", "buffer"],
  ["acl", aclVector],
  ["flags", "int"],
] as const;
export const CreateTTLRequestSchema = [...CreateRequestSchema, ["ttl", "long"]] as const;
export const CreateResponseSchema = [["path", "ustring"]] as const;
export const Create2ResponseSchema = [
  ["path", "ustring"],
  ["stat", stat],
] as const;

export const PathSchema = [["path", "ustring"]] as const;
export const PathWatchSchema = [
  ["path", "ustring"],
  ["watch", "bool"],
] as const;
export const PathVersionSchema = [
  ["path", "ustring"],
  ["version", "int"],
] as const;

export const StatResponseSchema = [["stat", stat]] as const;
export const GetDataResponseSchema = [
  ["data", "buffer"],
  ["stat", stat],
] as const;
export const SetDataRequestSchema = [
  ["path", "ustring"],
  ["data", "buffer"],
  ["version", "int"],
] as const;
export const GetACLResponseSchema = [
  ["acl", aclVector],
  ["stat", stat],
] as const;
export const SetACLRequestSchema = [
  ["path", "ustring"],
  ["acl", aclVector],
  ["version", "int"],
] as const;
export const GetChildrenResponseSchema = [["children", strings]] as const;
export const GetChildren2ResponseSchema = [
  ["children", strings],
  ["stat", stat],
] as const;

export const MultiHeaderSchema = [
  ["type", "int"],
  ["done", "bool"],
  ["err", "int"],
] as const;
export const ErrorResponseSchema = [["err", "int"]] as const;

export const PathTypeSchema = [
  ["path", "ustring"],
  ["type", "int"],
] as const;
export const AddWatchRequestSchema = [
  ["path", "ustring"],
  ["mode", "int"],
] as const;
export const GetEphemeralsRequestSchema = [["prefixPath", "ustring"]] as const;
export const GetEphemeralsResponseSchema = [["ephemerals", strings]] as const;
export const GetAllChildrenNumberResponseSchema = [["totalNumber", "int"]] as const;

export const ClientInfoSchema = [
  ["authScheme", "ustring"],
  ["user", "ustring"],
] as const;
export const WhoAmIResponseSchema = [["clientInfo", vectorOf(recordOf(ClientInfoSchema))]] as const;

export const ReconfigRequestSchema = [
  ["joiningServers", "ustring"],
  ["leavingServers", "ustring"],
  ["newMembers", "ustring"],
  ["curConfigId", "long"],
] as const;

export const SaslSchema = [["token", "buffer"]] as const;
