// Writes a follower or observer forwards to the leader (ZooKeeper's REQUEST packet): the
// session, the client's cxid and op code, the identities the session has proven on the
// follower (the leader checks ACLs with them), and the request body in the client
// protocol's own encoding.
//
//   forward = long sessionId, int cxid, int opCode, vector<Id> authIds, body
//   body    = the op's request record (createSession: int timeoutMs;
//             CorralOp.engineMessage: buffer, for the leader's recipe engine)

import {
  CorralOp,
  IdSchema,
  JuteReader,
  JuteWriter,
  MultiHeaderSchema,
  OpCode,
  PathVersionSchema,
  ReconfigRequestSchema,
  SetACLRequestSchema,
  SetDataRequestSchema,
  decodeRecord,
  encodeRecord,
  type Id,
  writeCreateRequest,
} from "../jute/index.js";
import { assertNever } from "../util/index.js";
import { decodeRequest, isWrite, type MultiOp, type WriteReq } from "./requests.js";

/** engine: a learner's recipe engine to the leader's, about the forwarding session. */
export type ForwardedBody = { kind: "createSession"; timeoutMs: number } | { kind: "engine"; data: Buffer } | WriteReq;

export interface Forwarded {
  sessionId: bigint;
  cxid: number;
  opCode: number;
  authIds: readonly Id[];
  req: ForwardedBody;
}

function writeMultiOp(w: JuteWriter, op: MultiOp): void {
  switch (op.kind) {
    case "create":
      encodeRecord(w, MultiHeaderSchema, { type: op.opCode, done: false, err: -1 });
      writeCreate(w, op);
      return;
    case "delete":
    case "check":
      encodeRecord(w, MultiHeaderSchema, { type: op.kind === "delete" ? OpCode.delete : OpCode.check, done: false, err: -1 });
      encodeRecord(w, PathVersionSchema, { path: op.path, version: op.version });
      return;
    case "setData":
      encodeRecord(w, MultiHeaderSchema, { type: OpCode.setData, done: false, err: -1 });
      encodeRecord(w, SetDataRequestSchema, { path: op.path, data: op.data, version: op.version });
      return;
  }
}

function writeCreate(w: JuteWriter, op: Extract<WriteReq, { kind: "create" }>): void {
  writeCreateRequest(w, op, op.opCode === OpCode.createTTL ? op.ttl : undefined);
}

/** The op code a write request is sent as. */
export function opCodeOfWrite(req: WriteReq): number {
  switch (req.kind) {
    case "create":
      return req.opCode;
    case "delete":
      return OpCode.delete;
    case "setData":
      return OpCode.setData;
    case "setACL":
      return OpCode.setACL;
    case "check":
      return OpCode.check;
    case "multi":
      return OpCode.multi;
    case "closeSession":
      return OpCode.closeSession;
    case "reconfig":
      return OpCode.reconfig;
    default:
      return assertNever(req, "write request");
  }
}

function writeBody(w: JuteWriter, req: ForwardedBody): void {
  switch (req.kind) {
    case "createSession":
      w.int(req.timeoutMs);
      return;
    case "create":
      writeCreate(w, req);
      return;
    case "delete":
    case "check":
      encodeRecord(w, PathVersionSchema, { path: req.path, version: req.version });
      return;
    case "setData":
      encodeRecord(w, SetDataRequestSchema, { path: req.path, data: req.data, version: req.version });
      return;
    case "setACL":
      encodeRecord(w, SetACLRequestSchema, { path: req.path, acl: req.acl, version: req.version });
      return;
    case "multi":
      for (const op of req.ops) writeMultiOp(w, op);
      encodeRecord(w, MultiHeaderSchema, { type: -1, done: true, err: -1 });
      return;
    case "closeSession":
      return;
    case "reconfig":
      encodeRecord(w, ReconfigRequestSchema, req);
      return;
    case "engine":
      w.buffer(req.data);
      return;
    default:
      assertNever(req, "forwarded request");
  }
}

export function encodeForward(f: Forwarded): Buffer {
  const w = new JuteWriter(256);
  w.long(f.sessionId);
  w.int(f.cxid);
  w.int(f.opCode);
  w.int(f.authIds.length);
  for (const id of f.authIds) encodeRecord(w, IdSchema, id);
  writeBody(w, f.req);
  return w.toBuffer();
}

export function decodeForward(buf: Uint8Array): Forwarded {
  const r = new JuteReader(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  const sessionId = r.long();
  const cxid = r.int();
  const opCode = r.int();
  const n = r.count(8);
  const authIds: Id[] = [];
  for (let i = 0; i < n; i++) authIds.push(decodeRecord(r, IdSchema));
  if (opCode === OpCode.createSession) return { sessionId, cxid, opCode, authIds, req: { kind: "createSession", timeoutMs: r.int() } };
  if (opCode === CorralOp.engineMessage) return { sessionId, cxid, opCode, authIds, req: { kind: "engine", data: r.buffer() ?? Buffer.alloc(0) } };
  const req = decodeRequest(opCode, r);
  if (!isWrite(req)) throw new Error(`forwarded request with op code ${opCode} is not a write`);
  return { sessionId, cxid, opCode, authIds, req };
}
