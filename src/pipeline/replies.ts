// Reply bodies of write ops, encoded from the result of applying their txn
// (ZooKeeper's FinalRequestProcessor, write half).

import {
  Err,
  ErrorResponseSchema,
  GetDataResponseSchema,
  MultiHeaderSchema,
  OpCode,
  StatResponseSchema,
  encodeRecord,
  writeStat,
  type JuteWriter,
} from "../jute/index.js";
import type { ApplyResult, DataTree, OpResult } from "../tree/index.js";
import { assert } from "../util/index.js";
import { opCodeOfWrite } from "./forward.js";
import { CONFIG_NODE } from "./prep.js";
import type { MultiOp, WriteReq } from "./requests.js";

type Body = ((w: JuteWriter) => void) | undefined;

/** The result type of a multi sub-op. ZooKeeper answers create2, createTTL and
 * createContainer sub-ops alike with a CreateResult(path, stat), typed create2: the Java
 * client's MultiResponse rejects any other create type ("Invalid type 19 in MultiResponse"). */
function resultTypeOf(op: MultiOp): number {
  const t = opCodeOfWrite(op);
  return t === OpCode.createTTL || t === OpCode.createContainer ? OpCode.create2 : t;
}

function writeOpResult(w: JuteWriter, opCode: number, r: OpResult): void {
  switch (opCode) {
    // CreateResponse and Create2Response, written by hand: a create's reply is on the
    // hottest path there is.
    case OpCode.create:
      w.ustring(r.path!);
      return;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      w.ustring(r.path!);
      writeStat(w, r.stat!);
      return;
    case OpCode.setData:
    case OpCode.setACL:
      writeStat(w, r.stat!);
      return;
    default:
      return;
  }
}

/** MultiResponse: per op a MultiHeader and its result, then the done marker. */
export function writeMultiResponse(w: JuteWriter, ops: readonly MultiOp[], results: readonly OpResult[]): void {
  assert(ops.length === results.length, "multi results do not match ops");
  const failed = results.some((r) => r.err !== Err.Ok);
  for (let i = 0; i < ops.length; i++) {
    const r = results[i]!;
    if (failed) {
      encodeRecord(w, MultiHeaderSchema, { type: OpCode.error, done: false, err: r.err });
      encodeRecord(w, ErrorResponseSchema, { err: r.err });
      continue;
    }
    const opCode = resultTypeOf(ops[i]!);
    encodeRecord(w, MultiHeaderSchema, { type: opCode, done: false, err: 0 });
    writeOpResult(w, opCode, r);
  }
  encodeRecord(w, MultiHeaderSchema, { type: -1, done: true, err: -1 });
}

/** The reply error code and body for a write whose txn was applied with `result` to `tree`. */
export function writeReply(req: WriteReq, result: ApplyResult, tree: DataTree): { err: number; body: Body } {
  if (req.kind === "multi") {
    return { err: Err.Ok, body: (w) => writeMultiResponse(w, req.ops, result.multi ?? []) };
  }
  if (result.err !== Err.Ok) return { err: result.err, body: undefined };
  switch (req.kind) {
    case "create":
      return { err: Err.Ok, body: (w) => writeOpResult(w, req.opCode, result) };
    case "setData":
    case "setACL":
    case "check":
      return { err: Err.Ok, body: (w) => encodeRecord(w, StatResponseSchema, { stat: result.stat! }) };
    case "delete":
    case "closeSession":
      return { err: Err.Ok, body: undefined };
    case "reconfig": {
      // ZooKeeper answers with the configuration now in force and the node's Stat.
      const data = tree.get(CONFIG_NODE)?.data ?? null;
      return { err: Err.Ok, body: (w) => encodeRecord(w, GetDataResponseSchema, { data, stat: result.stat! }) };
    }
  }
}
