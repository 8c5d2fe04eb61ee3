// Request generators for the frame fuzzer: plain-data descriptions of a request of every
// client op (so fast-check prints a counterexample readably), their encoding with the
// jute codec and the records' schemas, and mutations of the encoded frame (bit flips,
// truncation, extension, a corrupted length prefix, a length or count field set to a
// huge or negative value). Paths stay under /fuzz, or are invalid, so a fuzzed request
// cannot touch the healthy session's nodes.

import fc from "fast-check";
import {
  AddWatchRequestSchema,
  CorralOp,
  AuthPacketSchema,
  CreateRequestSchema,
  CreateTTLRequestSchema,
  GetEphemeralsRequestSchema,
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
  Xid,
  encodeRecord,
  type ACL,
  type JuteWriter,
} from "../../src/jute/index.js";
import { encodeRequest, type EncodedFrame } from "./wire.js";

/** The xid of the liveness probe; generated requests never use it. */
export const PROBE_XID = 0x7ead_beef;

/** Op codes `decodeRequest` and the connection handle; anything else is unknown. */
export const HANDLED_OPS: ReadonlySet<number> = new Set([
  OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete,
  OpCode.setData, OpCode.setACL, OpCode.check, OpCode.multi, OpCode.closeSession,
  OpCode.exists, OpCode.getData, OpCode.getChildren, OpCode.getChildren2, OpCode.getACL,
  OpCode.sync, OpCode.getAllChildrenNumber, OpCode.getEphemerals, OpCode.multiRead,
  OpCode.setWatches, OpCode.setWatches2, OpCode.addWatch, OpCode.checkWatches,
  OpCode.removeWatches, OpCode.ping, OpCode.whoAmI, OpCode.auth, OpCode.reconfig,
  // Corral's recipe extension (src/jute/corral.ts), decoded by the recipe engine.
  ...Object.values(CorralOp),
]);

// ---- field generators -------------------------------------------------------------

/** Ints that sit on the edges of length and count checks. */
export const interestingInt = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(-1, -2, -0x8000_0000, 0x7fff_ffff, 0, 1, 2, 7, 255, 0xffff, 0xf_ffff, 0x10_0000, 0x10_0001, 10_000, 10_001) },
  { weight: 1, arbitrary: fc.integer() },
);

const fuzzPath = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("/fuzz", "/fuzz/a", "/fuzz/a/b", "/fuzz/e", "/fuzz/seq-", "/fuzz/") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "", "fuzz", "//fuzz", "/fuzz/./a",
      "/fuzz/..", "/fuzz/\u0000x", "/fuzz/\ud800", "/fuzz/\u00fc", "/fuzz/\u0001", "/fuzz/a/",
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map((s) => `/fuzz/${s}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: "binary" }) },
);

const xid = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, Xid.notification, Xid.ping, Xid.auth, Xid.setWatches) },
  { weight: 1, arbitrary: fc.integer().filter((x) => x !== PROBE_XID) },
);

const version = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 3 }), fc.integer());
const data = fc.option(fc.uint8Array({ maxLength: 32 }), { nil: null });

const aclId = fc.oneof(
  fc.constantFrom(
    { scheme: "world", id: "anyone" },
    { scheme: "auth", id: "" },
    { scheme: "digest", id: "user:abc=" },
    { scheme: "ip", id: "127.0.0.1" },
    { scheme: "ip", id: "10.0.0.0/8" },
    { scheme: "ip", id: "::1" },
    { scheme: "ip", id: "1.2.3.4/99" },
    { scheme: "super", id: "" },
  ),
  fc.record({ scheme: fc.constantFrom("world", "digest", "x", "sasl", ""), id: fc.string({ maxLength: 6 }) }),
);
const acl: fc.Arbitrary<ACL[]> = fc.array(
  fc.record({ perms: fc.oneof(fc.constant(31), fc.integer({ min: 0, max: 31 }), fc.integer()), id: aclId }),
  { maxLength: 3 },
);
const createMode = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer());
const ttl = fc.oneof(fc.bigInt({ min: -1n, max: 1n << 40n }), fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }));
const watchLists = fc.array(fc.array(fuzzPath, { maxLength: 3 }), { minLength: 5, maxLength: 5 });

// ---- request descriptions --------------------------------------------------------

type CreateName = "create" | "create2" | "createContainer" | "createTTL";
interface CreateFields {
  path: string;
  data: Uint8Array | null;
  acl: ACL[];
  flags: number;
  ttl: bigint;
}
type MultiOpSpec =
  | ({ name: CreateName } & CreateFields)
  | { name: "delete" | "check"; path: string; version: number }
  | { name: "setData"; path: string; data: Uint8Array | null; version: number }
  /** An op a multi may not hold: the whole frame is rejected. */
  | { name: "invalid"; type: number; path: string; watch: boolean };
type MultiReadOpSpec =
  | { name: "getData" | "getChildren"; path: string; watch: boolean }
  | { name: "invalid"; type: number; path: string; watch: boolean };

export type RequestSpec = { xid: number } & (
  | ({ name: CreateName } & CreateFields)
  | { name: "delete" | "check"; path: string; version: number }
  | { name: "exists" | "getData" | "getChildren" | "getChildren2"; path: string; watch: boolean }
  | { name: "setData"; path: string; data: Uint8Array | null; version: number }
  | { name: "getACL" | "sync" | "getAllChildrenNumber"; path: string }
  | { name: "setACL"; path: string; acl: ACL[]; version: number }
  | { name: "ping" | "whoAmI" | "closeSession" }
  | { name: "multi"; ops: MultiOpSpec[] }
  | { name: "multiRead"; ops: MultiReadOpSpec[] }
  | { name: "setWatches" | "setWatches2"; relativeZxid: bigint; lists: string[][] }
  | { name: "addWatch"; path: string; mode: number }
  | { name: "checkWatches" | "removeWatches"; path: string; type: number }
  | { name: "getEphemerals"; prefixPath: string }
  | { name: "auth"; type: number; scheme: string; auth: Uint8Array | null }
  | { name: "unknown"; op: number; tail: Uint8Array }
  /** A recipe-extension op: a path, then arbitrary bytes for the rest of its record. */
  | { name: "corral"; op: number; path: string; tail: Uint8Array }
);

const createFields = fc.record({ path: fuzzPath, data, acl, flags: createMode, ttl });
const createOp = fc
  .tuple(fc.constantFrom<CreateName>("create", "create2", "createContainer", "createTTL"), createFields)
  .map(([name, f]) => ({ name, ...f }));
const pathVersionOp = fc.record({ name: fc.constantFrom<"delete" | "check">("delete", "check"), path: fuzzPath, version });
const setDataOp = fc.record({ name: fc.constant<"setData">("setData"), path: fuzzPath, data, version });
const invalidOp = fc.record({
  name: fc.constant<"invalid">("invalid"),
  type: fc.oneof(fc.constantFrom(OpCode.getData, OpCode.exists, OpCode.multi, OpCode.error), fc.integer()),
  path: fuzzPath,
  watch: fc.boolean(),
});
const multiOp: fc.Arbitrary<MultiOpSpec> = fc.oneof(
  { weight: 4, arbitrary: createOp },
  { weight: 3, arbitrary: pathVersionOp },
  { weight: 2, arbitrary: setDataOp },
  { weight: 1, arbitrary: invalidOp },
);
const multiReadOp: fc.Arbitrary<MultiReadOpSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ name: fc.constantFrom<"getData" | "getChildren">("getData", "getChildren"), path: fuzzPath, watch: fc.boolean() }) },
  { weight: 1, arbitrary: invalidOp },
);

/** Op codes nobody handles, plus ZooKeeper ones Corral does not implement. */
export const unknownOp = fc.oneof(
  fc.constantFrom(0, 10, 20, 23, 99, 102, 108, 1000, -1, -2, -10, -12, 0x7fff_ffff, -0x8000_0000),
  fc.integer(),
).filter((op) => !HANDLED_OPS.has(op));

const requestBody = fc.oneof(
  createOp,
  pathVersionOp,
  fc.record({
    name: fc.constantFrom<"exists" | "getData" | "getChildren" | "getChildren2">("exists", "getData", "getChildren", "getChildren2"),
    path: fuzzPath,
    watch: fc.boolean(),
  }),
  setDataOp,
  fc.record({ name: fc.constantFrom<"getACL" | "sync" | "getAllChildrenNumber">("getACL", "sync", "getAllChildrenNumber"), path: fuzzPath }),
  fc.record({ name: fc.constant<"setACL">("setACL"), path: fuzzPath, acl, version }),
  fc.record({ name: fc.constantFrom<"ping" | "whoAmI">("ping", "whoAmI") }),
  { weight: 1, arbitrary: fc.record({ name: fc.constant<"closeSession">("closeSession") }) },
  fc.record({ name: fc.constant<"multi">("multi"), ops: fc.array(multiOp, { maxLength: 4 }) }),
  fc.record({ name: fc.constant<"multiRead">("multiRead"), ops: fc.array(multiReadOp, { maxLength: 4 }) }),
  fc.record({
    name: fc.constantFrom<"setWatches" | "setWatches2">("setWatches", "setWatches2"),
    relativeZxid: fc.bigInt({ min: -1n, max: 1000n }),
    lists: watchLists,
  }),
  fc.record({ name: fc.constant<"addWatch">("addWatch"), path: fuzzPath, mode: fc.oneof(fc.constantFrom(0, 1), fc.integer()) }),
  fc.record({
    name: fc.constantFrom<"checkWatches" | "removeWatches">("checkWatches", "removeWatches"),
    path: fuzzPath,
    type: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer()),
  }),
  fc.record({ name: fc.constant<"getEphemerals">("getEphemerals"), prefixPath: fuzzPath }),
  fc.record({
    name: fc.constant<"auth">("auth"),
    type: fc.constant(0),
    scheme: fc.constantFrom("digest", "ip", "x", ""),
    auth: fc.oneof(
      fc.constant(new Uint8Array(Buffer.from("fuzz:secret"))),
      fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
    ),
  }),
  fc.record({ name: fc.constant<"unknown">("unknown"), op: unknownOp, tail: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({
    name: fc.constant<"corral">("corral"),
    op: fc.constantFrom(...Object.values(CorralOp)),
    path: fuzzPath,
    tail: fc.uint8Array({ maxLength: 24 }),
  }),
);

export const requestSpec: fc.Arbitrary<RequestSpec> = fc
  .tuple(requestBody, xid)
  .map(([r, x]): RequestSpec => ({ xid: r.name === "auth" ? Xid.auth : x, ...r }));

// ---- encoding ----------------------------------------------------------------------

const OP_OF: Record<CreateName, number> = {
  create: OpCode.create,
  create2: OpCode.create2,
  createContainer: OpCode.createContainer,
  createTTL: OpCode.createTTL,
};

function buf(v: Uint8Array | null): Buffer | null {
  return v === null ? null : Buffer.from(v);
}

function writeCreate(w: JuteWriter, name: CreateName, f: CreateFields): void {
  const base = { path: f.path, data: buf(f.data), acl: f.acl, flags: f.flags };
  if (name === "createTTL") encodeRecord(w, CreateTTLRequestSchema, { ...base, ttl: f.ttl });
  else encodeRecord(w, CreateRequestSchema, base);
}

function writeMultiOp(w: JuteWriter, op: MultiOpSpec): void {
  switch (op.name) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      encodeRecord(w, MultiHeaderSchema, { type: OP_OF[op.name], done: false, err: -1 });
      writeCreate(w, op.name, op);
      return;
    case "delete":
    case "check":
      encodeRecord(w, MultiHeaderSchema, { type: op.name === "delete" ? OpCode.delete : OpCode.check, done: false, err: -1 });
      encodeRecord(w, PathVersionSchema, { path: op.path, version: op.version });
      return;
    case "setData":
      encodeRecord(w, MultiHeaderSchema, { type: OpCode.setData, done: false, err: -1 });
      encodeRecord(w, SetDataRequestSchema, { path: op.path, data: buf(op.data), version: op.version });
      return;
    case "invalid":
      encodeRecord(w, MultiHeaderSchema, { type: op.type, done: false, err: -1 });
      encodeRecord(w, PathWatchSchema, { path: op.path, watch: op.watch });
      return;
  }
}

function writeMultiReadOp(w: JuteWriter, op: MultiReadOpSpec): void {
  const type = op.name === "invalid" ? op.type : OpCode[op.name];
  encodeRecord(w, MultiHeaderSchema, { type, done: false, err: -1 });
  encodeRecord(w, PathWatchSchema, { path: op.path, watch: op.watch });
}

const MULTI_DONE = { type: -1, done: true, err: -1 };

/** The op code a request description goes out with. */
export function opCodeOf(spec: RequestSpec): number {
  switch (spec.name) {
    case "create":
    case "create2":
    case "createContainer":
    case "createTTL":
      return OP_OF[spec.name];
    case "unknown":
    case "corral":
      return spec.op;
    default:
      return OpCode[spec.name];
  }
}

/** Encodes a request description as one valid frame, with the jute codec. */
export function encodeSpec(spec: RequestSpec): EncodedFrame {
  return encodeRequest(spec.xid, opCodeOf(spec), (w) => {
    switch (spec.name) {
      case "create":
      case "create2":
      case "createContainer":
      case "createTTL":
        writeCreate(w, spec.name, spec);
        return;
      case "delete":
      case "check":
        encodeRecord(w, PathVersionSchema, { path: spec.path, version: spec.version });
        return;
      case "exists":
      case "getData":
      case "getChildren":
      case "getChildren2":
        encodeRecord(w, PathWatchSchema, { path: spec.path, watch: spec.watch });
        return;
      case "setData":
        encodeRecord(w, SetDataRequestSchema, { path: spec.path, data: buf(spec.data), version: spec.version });
        return;
      case "getACL":
      case "sync":
      case "getAllChildrenNumber":
        encodeRecord(w, PathSchema, { path: spec.path });
        return;
      case "setACL":
        encodeRecord(w, SetACLRequestSchema, { path: spec.path, acl: spec.acl, version: spec.version });
        return;
      case "ping":
      case "whoAmI":
      case "closeSession":
        return;
      case "multi":
        for (const op of spec.ops) writeMultiOp(w, op);
        encodeRecord(w, MultiHeaderSchema, MULTI_DONE);
        return;
      case "multiRead":
        for (const op of spec.ops) writeMultiReadOp(w, op);
        encodeRecord(w, MultiHeaderSchema, MULTI_DONE);
        return;
      case "setWatches":
      case "setWatches2": {
        const [dataWatches = [], existWatches = [], childWatches = [], persistentWatches = [], persistentRecursiveWatches = []] =
          spec.lists;
        const v1 = { relativeZxid: spec.relativeZxid, dataWatches, existWatches, childWatches };
        if (spec.name === "setWatches") encodeRecord(w, SetWatchesSchema, v1);
        else encodeRecord(w, SetWatches2Schema, { ...v1, persistentWatches, persistentRecursiveWatches });
        return;
      }
      case "addWatch":
        encodeRecord(w, AddWatchRequestSchema, { path: spec.path, mode: spec.mode });
        return;
      case "checkWatches":
      case "removeWatches":
        encodeRecord(w, PathTypeSchema, { path: spec.path, type: spec.type });
        return;
      case "getEphemerals":
        encodeRecord(w, GetEphemeralsRequestSchema, { prefixPath: spec.prefixPath });
        return;
      case "auth":
        encodeRecord(w, AuthPacketSchema, { type: spec.type, scheme: spec.scheme, auth: buf(spec.auth) });
        return;
      case "unknown":
        w.raw(spec.tail);
        return;
      case "corral":
        w.ustring(spec.path);
        w.raw(spec.tail);
        return;
    }
  });
}

// ---- mutations ---------------------------------------------------------------------

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  /** Shortens the body and fixes the length prefix: the record itself is cut short. */
  | { kind: "truncateBody"; keep: number }
  /** Cuts the byte stream: the frame never completes. */
  | { kind: "truncateStream"; keep: number }
  /** Appends bytes to the body and fixes the length prefix: trailing garbage in the record. */
  | { kind: "extendBody"; extra: Uint8Array }
  /** Appends bytes after the frame: the start of a garbage next frame. */
  | { kind: "extendStream"; extra: Uint8Array }
  | { kind: "lengthPrefix"; value: number }
  /** Overwrites one int of the body (a length, count or field) with an edge value. */
  | { kind: "intField"; index: number; value: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant<"flip">("flip"), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant<"truncateBody">("truncateBody"), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<"truncateStream">("truncateStream"), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<"extendBody">("extendBody"), extra: fc.uint8Array({ minLength: 1, maxLength: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<"extendStream">("extendStream"), extra: fc.uint8Array({ minLength: 1, maxLength: 24 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant<"lengthPrefix">("lengthPrefix"),
      value: fc.oneof(interestingInt, fc.integer({ min: 0, max: 96 })),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant<"intField">("intField"), index: fc.nat(), value: interestingInt }) },
);

/** Applies mutations in order to one encoded frame; returns the bytes to send. */
export function mutate(frame: EncodedFrame, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(frame.bytes);
  let trailing = Buffer.alloc(0);
  let cut: number | undefined;
  for (const m of mutations) {
    switch (m.kind) {
      case "flip": {
        const at = m.at % bytes.length;
        bytes[at] = bytes[at]! ^ (1 << m.bit);
        break;
      }
      case "truncateBody": {
        const keep = m.keep % (bytes.length - 4 + 1);
        bytes = Buffer.from(bytes.subarray(0, 4 + keep));
        bytes.writeInt32BE(keep, 0);
        break;
      }
      case "truncateStream":
        cut = m.keep;
        break;
      case "extendBody": {
        const prefix = bytes.readInt32BE(0);
        bytes = Buffer.concat([bytes, m.extra]);
        bytes.writeInt32BE((prefix + m.extra.length) | 0, 0);
        break;
      }
      case "extendStream":
        trailing = Buffer.concat([trailing, m.extra]);
        break;
      case "lengthPrefix":
        bytes.writeInt32BE(m.value | 0, 0);
        break;
      case "intField": {
        const offsets = frame.intOffsets.filter((o) => o + 4 <= bytes.length);
        if (offsets.length === 0) break;
        bytes.writeInt32BE(m.value | 0, offsets[m.index % offsets.length]!);
        break;
      }
    }
  }
  const stream = Buffer.concat([bytes, trailing]);
  return cut === undefined ? stream : stream.subarray(0, cut % (stream.length + 1));
}
