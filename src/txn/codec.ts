// Binary encoding of txns, shared by the log, snapshots and ZAB messages. Our own
// format (DESIGN.md: disk and quorum formats need not match Apache ZooKeeper's), built
// from jute primitives:
//
//   entry  = header txn
//   header = long sessionId, int cxid, long zxid, long timeMs, int opCode
//   txn    = int kind, then the kind's fields in the order of types.ts
//
// Kind numbers are part of the on-disk format: never renumber, only add.

import {
  JuteError,
  JuteReader,
  JuteWriter,
  readAcls,
  writeAcls,
} from "../jute/index.js";
import { asSessionId, asZxid, assertNever } from "../util/index.js";
import type { Txn, TxnEntry, TxnHeader } from "./types.js";

const Kind = {
  create: 1,
  delete: 2,
  setData: 3,
  setACL: 4,
  check: 5,
  multi: 6,
  createSession: 7,
  closeSession: 8,
  error: 9,
  /** closeSession with session-end moves (kind 8 stays: a close with none, and old records). */
  closeSessionMoves: 10,
} as const;

/** Moves in one closeSession at most (bounds what a record may ask a reader to allocate). */
const MOVES_MAX = 1 << 20;

/** Multi nesting is one level in ZooKeeper; we allow a little more but never unbounded. */
const MULTI_DEPTH_MAX = 2;

export function writeTxn(w: JuteWriter, txn: Txn): void {
  w.int(txn.type === "closeSession" && txn.moves !== undefined && txn.moves.length > 0 ? Kind.closeSessionMoves : Kind[txn.type]);
  switch (txn.type) {
    case "create":
      w.ustring(txn.path);
      w.buffer(txn.data);
      writeAcls(w, txn.acl);
      w.long(txn.ephemeralOwner);
      w.int(txn.parentCVersion);
      return;
    case "delete":
      w.ustring(txn.path);
      return;
    case "setData":
      w.ustring(txn.path);
      w.buffer(txn.data);
      w.int(txn.version);
      return;
    case "setACL":
      w.ustring(txn.path);
      writeAcls(w, txn.acl);
      w.int(txn.version);
      return;
    case "check":
      w.ustring(txn.path);
      w.int(txn.version);
      return;
    case "multi":
      w.int(txn.txns.length);
      for (const t of txn.txns) writeTxn(w, t);
      return;
    case "createSession":
      w.int(txn.timeoutMs);
      return;
    case "closeSession":
      if (txn.moves === undefined || txn.moves.length === 0) return;
      w.int(txn.moves.length);
      for (const m of txn.moves) {
        w.ustring(m.from);
        w.ustring(m.to);
        w.int(m.parentCVersion);
      }
      return;
    case "error":
      w.int(txn.err);
      return;
    default:
      assertNever(txn, "txn");
  }
}

export function readTxn(r: JuteReader, depth = 0): Txn {
  const kind = r.int();
  switch (kind) {
    case Kind.create:
      return {
        type: "create",
        path: r.ustring(),
        data: r.buffer(),
        acl: readAcls(r),
        ephemeralOwner: r.long(),
        parentCVersion: r.int(),
      };
    case Kind.delete:
      return { type: "delete", path: r.ustring() };
    case Kind.setData:
      return { type: "setData", path: r.ustring(), data: r.buffer(), version: r.int() };
    case Kind.setACL:
      return { type: "setACL", path: r.ustring(), acl: readAcls(r), version: r.int() };
    case Kind.check:
      return { type: "check", path: r.ustring(), version: r.int() };
    case Kind.multi: {
      if (depth >= MULTI_DEPTH_MAX) throw new JuteError("multi txn nested too deep");
      const n = r.count(4);
      const txns = new Array<Txn>(n);
      for (let i = 0; i < n; i++) txns[i] = readTxn(r, depth + 1);
      return { type: "multi", txns };
    }
    case Kind.createSession:
      return { type: "createSession", timeoutMs: r.int() };
    case Kind.closeSession:
      return { type: "closeSession" };
    case Kind.closeSessionMoves: {
      const n = r.count(12);
      if (n > MOVES_MAX) throw new JuteError(`closeSession with ${n} moves`);
      const moves = new Array<{ from: string; to: string; parentCVersion: number }>(n);
      for (let i = 0; i < n; i++) moves[i] = { from: r.ustring(), to: r.ustring(), parentCVersion: r.int() };
      return { type: "closeSession", moves };
    }
    case Kind.error:
      return { type: "error", err: r.int() };
    default:
      throw new JuteError(`unknown txn kind ${kind}`);
  }
}

export function writeTxnHeader(w: JuteWriter, hdr: TxnHeader): void {
  w.long(hdr.sessionId);
  w.int(hdr.cxid);
  w.long(hdr.zxid);
  w.longOfNumber(hdr.timeMs);
  w.int(hdr.opCode);
}

export function readTxnHeader(r: JuteReader): TxnHeader {
  return {
    sessionId: asSessionId(r.long()),
    cxid: r.int(),
    zxid: asZxid(r.long()),
    timeMs: Number(r.long()),
    opCode: r.int(),
  };
}

export function writeTxnEntry(w: JuteWriter, entry: TxnEntry): void {
  writeTxnHeader(w, entry.hdr);
  writeTxn(w, entry.txn);
}

export function readTxnEntry(r: JuteReader): TxnEntry {
  const hdr = readTxnHeader(r);
  return { hdr, txn: readTxn(r) };
}

export function encodeTxnEntry(entry: TxnEntry): Buffer {
  const w = new JuteWriter(128);
  writeTxnEntry(w, entry);
  return w.toBuffer();
}

export function decodeTxnEntry(buf: Buffer): TxnEntry {
  const r = new JuteReader(buf);
  const entry = readTxnEntry(r);
  if (r.remaining() !== 0) throw new JuteError(`${r.remaining()} trailing bytes after txn`);
  return entry;
}
