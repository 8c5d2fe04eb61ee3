// Loads the jute byte vectors in test/fixtures/jute/vectors.json and turns their JSON
// field values into the values our codec reads and writes.
//
// How the vectors were produced: a throwaway Java program (kept out of the repo) built each
// record with Apache ZooKeeper 3.8.0's own jute classes (org.apache.zookeeper.proto.*,
// org.apache.zookeeper.data.*, MultiOperationRecord, MultiResponse) from the Debian package
// libzookeeper-java 3.8.0-11+deb12u2 (/usr/share/java/zookeeper-jute.jar, zookeeper.jar),
// set every field through the record's public setter (so each field name below is also
// Java's), and serialized it with org.apache.jute.BinaryOutputArchive on OpenJDK 17,
// printing hex. The ConnectRequest/ConnectResponse vectors add the trailing readOnly byte
// the way ClientCnxn and ZooKeeperServer write it. keeperExceptionCodes holds
// KeeperException.Code.values() with intValue() and KeeperException.getCodeMessage().
// In the JSON, longs are decimal strings and buffers are hex strings.

import { readFileSync } from "node:fs";
import * as jute from "../../../src/jute/index.js";
import * as corralExtension from "../../../src/jute/corral.js";
import { JuteWriter, type Schema } from "../../../src/jute/index.js";

export type FieldType = Schema[number][1];
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface RecordVector {
  name: string;
  javaClass: string;
  hex: string;
  fields: JsonObject;
  /** Present when the Java bytes hold a null our reader normalises: the bytes we write back. */
  canonicalHex?: string;
  note?: string;
}
export interface ConnectVector extends RecordVector {
  readOnly: boolean | null;
}
export interface MultiVector {
  name: string;
  javaClass: string;
  hex: string;
  parts: { javaClass: string; fields: JsonObject }[];
}
export interface StringProbe {
  value: string;
  javaHex: string;
  utf8Hex: string;
  javaReadsUtf8: boolean;
}
export interface KeeperCode {
  name: string;
  code: number;
  message: string;
}
export interface Vectors {
  producedBy: string;
  records: RecordVector[];
  connect: ConnectVector[];
  multi: MultiVector[];
  strings: StringProbe[];
  keeperExceptionCodes: KeeperCode[];
}

export const vectors: Vectors = JSON.parse(
  readFileSync(new URL("../../fixtures/jute/vectors.json", import.meta.url), "utf8"),
) as Vectors;

/** Which of our schemas each Java record class is encoded with (simple class names). */
export const SCHEMA_BY_JAVA_CLASS: Readonly<Record<string, Schema>> = {
  Id: jute.IdSchema,
  ACL: jute.ACLSchema,
  Stat: jute.StatSchema,
  ClientInfo: jute.ClientInfoSchema,
  WatcherEvent: jute.WatcherEventSchema,
  AuthPacket: jute.AuthPacketSchema,
  SetWatches: jute.SetWatchesSchema,
  SetWatches2: jute.SetWatches2Schema,
  CreateRequest: jute.CreateRequestSchema,
  CreateTTLRequest: jute.CreateTTLRequestSchema,
  CreateResponse: jute.CreateResponseSchema,
  Create2Response: jute.Create2ResponseSchema,
  DeleteRequest: jute.PathVersionSchema,
  CheckVersionRequest: jute.PathVersionSchema,
  ExistsRequest: jute.PathWatchSchema,
  GetDataRequest: jute.PathWatchSchema,
  GetChildrenRequest: jute.PathWatchSchema,
  GetChildren2Request: jute.PathWatchSchema,
  SyncRequest: jute.PathSchema,
  SyncResponse: jute.PathSchema,
  GetACLRequest: jute.PathSchema,
  GetAllChildrenNumberRequest: jute.PathSchema,
  ExistsResponse: jute.StatResponseSchema,
  SetDataResponse: jute.StatResponseSchema,
  SetACLResponse: jute.StatResponseSchema,
  GetDataResponse: jute.GetDataResponseSchema,
  SetDataRequest: jute.SetDataRequestSchema,
  GetACLResponse: jute.GetACLResponseSchema,
  SetACLRequest: jute.SetACLRequestSchema,
  GetChildrenResponse: jute.GetChildrenResponseSchema,
  GetChildren2Response: jute.GetChildren2ResponseSchema,
  MultiHeader: jute.MultiHeaderSchema,
  ErrorResponse: jute.ErrorResponseSchema,
  CheckWatchesRequest: jute.PathTypeSchema,
  RemoveWatchesRequest: jute.PathTypeSchema,
  AddWatchRequest: jute.AddWatchRequestSchema,
  GetEphemeralsRequest: jute.GetEphemeralsRequestSchema,
  GetEphemeralsResponse: jute.GetEphemeralsResponseSchema,
  GetAllChildrenNumberResponse: jute.GetAllChildrenNumberResponseSchema,
  WhoAmIResponse: jute.WhoAmIResponseSchema,
  ReconfigRequest: jute.ReconfigRequestSchema,
  GetSASLRequest: jute.SaslSchema,
  SetSASLRequest: jute.SaslSchema,
  SetSASLResponse: jute.SaslSchema,
};

/** Shapes of the records that only have hand-written codecs (headers.ts), to read their JSON. */
export const HEADER_SHAPES = {
  RequestHeader: [
    ["xid", "int"],
    ["type", "int"],
  ],
  ReplyHeader: [
    ["xid", "int"],
    ["zxid", "long"],
    ["err", "int"],
  ],
  ConnectRequest: [
    ["protocolVersion", "int"],
    ["lastZxidSeen", "long"],
    ["timeOut", "int"],
    ["sessionId", "long"],
    ["passwd", "buffer"],
  ],
  ConnectResponse: [
    ["protocolVersion", "int"],
    ["timeOut", "int"],
    ["sessionId", "long"],
    ["passwd", "buffer"],
  ],
} as const satisfies Record<string, Schema>;

export function simpleName(javaClass: string): string {
  return javaClass.slice(javaClass.lastIndexOf(".") + 1);
}

export function schemaOf(javaClass: string): Schema {
  const schema = SCHEMA_BY_JAVA_CLASS[simpleName(javaClass)];
  if (schema === undefined) throw new Error(`no schema for Java class ${javaClass}`);
  return schema;
}

/** The value our codec uses for a JSON field of the given jute type. */
export function fromJson(type: FieldType, json: Json): unknown {
  switch (type) {
    case "int":
      if (typeof json !== "number" || !Number.isInteger(json)) throw new Error(`not an int: ${String(json)}`);
      return json;
    case "long":
      if (typeof json !== "string") throw new Error(`long not a decimal string: ${String(json)}`);
      return BigInt(json);
    case "bool":
      if (typeof json !== "boolean") throw new Error(`not a bool: ${String(json)}`);
      return json;
    case "buffer":
      if (json === null) return null;
      if (typeof json !== "string") throw new Error(`buffer not a hex string: ${String(json)}`);
      return Buffer.from(json, "hex");
    case "ustring":
      if (typeof json !== "string") throw new Error(`not a string: ${String(json)}`);
      return json;
    default:
      if ("record" in type) return recordFromJson(type.record, json);
      if (!Array.isArray(json)) throw new Error(`vector not an array: ${String(json)}`);
      return json.map((item) => fromJson(type.vector, item));
  }
}

/** Converts a JSON record, insisting its field names are exactly the schema's, in order. */
export function recordFromJson(schema: Schema, json: Json): Record<string, unknown> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`record not an object: ${String(json)}`);
  }
  const names = schema.map(([name]) => name);
  if (Object.keys(json).join(",") !== names.join(",")) {
    throw new Error(`fields ${Object.keys(json).join(",")} do not match schema ${names.join(",")}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, type] of schema) out[name] = fromJson(type, json[name] ?? null);
  return out;
}

/** Runs `write` on a fresh writer that starts tiny, so buffer growth is exercised too. */
export function written(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(1);
  write(w);
  return w.toBuffer();
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

export function findVector<V extends { name: string }>(list: readonly V[], name: string): V {
  const v = list.find((x) => x.name === name);
  if (v === undefined) throw new Error(`no vector named ${name}`);
  return v;
}

/** Runs `fn` and returns what it threw (or a marker when it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return "did not throw";
}

/** Every `...Schema` array exported by the codec (records.ts), by export name. */
/** ZooKeeper's records (Corral's own protocol extension, jute/corral.ts, has no Java twin). */
export function exportedSchemas(): [string, Schema][] {
  const corral = new Set<unknown>(Object.values(corralExtension));
  return Object.entries(jute as Record<string, unknown>)
    .filter(([name, value]) => name.endsWith("Schema") && Array.isArray(value) && !corral.has(value))
    .map(([name, value]) => [name, value as Schema]);
}
