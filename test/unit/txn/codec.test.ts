// The txn codec shared by the log, snapshots and ZAB: every txn kind (multi included)
// survives encode -> decode unchanged, and damaged input is a JuteError, never a wrong
// txn. fast-check with a fixed seed, so a failure replays exactly.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { JuteError, JuteReader, JuteWriter, type ACL } from "../../../src/jute/index.js";
import {
  decodeTxnEntry,
  encodeTxnEntry,
  readTxn,
  writeTxn,
  type Txn,
  type TxnEntry,
} from "../../../src/txn/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";

const RUNS = { seed: 0x7478, numRuns: 300 } as const;

const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const text = fc.string({ unit: "grapheme", maxLength: 16 });
const data = fc.option(
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  { nil: null },
);
const acl: fc.Arbitrary<ACL[]> = fc.array(
  fc.record({ perms: int32, id: fc.record({ scheme: text, id: text }) }),
  { maxLength: 3 },
);

const leaf: fc.Arbitrary<Txn> = fc.oneof(
  fc.record({
    type: fc.constant("create" as const),
    path: text,
    data,
    acl,
    ephemeralOwner: int64,
    parentCVersion: int32,
  }),
  fc.record({ type: fc.constant("delete" as const), path: text }),
  fc.record({ type: fc.constant("setData" as const), path: text, data, version: int32 }),
  fc.record({ type: fc.constant("setACL" as const), path: text, acl, version: int32 }),
  fc.record({ type: fc.constant("check" as const), path: text, version: int32 }),
  fc.record({ type: fc.constant("createSession" as const), timeoutMs: int32 }),
  fc.record({ type: fc.constant("closeSession" as const) }),
  fc.record({
    type: fc.constant("closeSession" as const),
    moves: fc.array(fc.record({ from: text, to: text, parentCVersion: int32 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constant("error" as const), err: int32 }),
);
const multi: fc.Arbitrary<Txn> = fc.record({ type: fc.constant("multi" as const), txns: fc.array(leaf, { maxLength: 5 }) });
const txn: fc.Arbitrary<Txn> = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: multi });

const entry: fc.Arbitrary<TxnEntry> = fc.record({
  hdr: fc.record({
    sessionId: int64.map(asSessionId),
    cxid: int32,
    zxid: int64.map(asZxid),
    timeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    opCode: int32,
  }),
  txn,
});

/** Buffers read back as Buffers; compare their bytes, not their identity. */
function normalize(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return [...v];
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

describe("txn codec", () => {
  it("every txn kind, multi included, round-trips with its header", () => {
    fc.assert(
      fc.property(entry, (e) => {
        const bytes = encodeTxnEntry(e);
        const back = decodeTxnEntry(bytes);
        expect(normalize(back)).toEqual(normalize(e));
        expect(encodeTxnEntry(back).equals(bytes)).toBe(true);
      }),
      RUNS,
    );
  });

  it("null data stays null and empty data stays empty", () => {
    for (const d of [null, Buffer.alloc(0)]) {
      const e: TxnEntry = {
        hdr: { sessionId: asSessionId(1n), cxid: 1, zxid: asZxid(2n), timeMs: 3, opCode: 5 },
        txn: { type: "setData", path: "/a", data: d, version: 1 },
      };
      const back = decodeTxnEntry(encodeTxnEntry(e)).txn;
      expect(back.type === "setData" && back.data).toEqual(d);
    }
  });

  it("any truncation of an encoded entry throws JuteError", () => {
    fc.assert(
      fc.property(entry, (e) => {
        const bytes = encodeTxnEntry(e);
        for (let n = 0; n < bytes.length; n++) {
          expect(() => decodeTxnEntry(bytes.subarray(0, n)), `first ${n} of ${bytes.length} bytes`).toThrow(JuteError);
        }
      }),
      { ...RUNS, numRuns: 60 },
    );
  });

  it("trailing bytes after an entry throw JuteError", () => {
    fc.assert(
      fc.property(entry, fc.uint8Array({ minLength: 1, maxLength: 4 }), (e, extra) => {
        const bytes = Buffer.concat([encodeTxnEntry(e), extra]);
        expect(() => decodeTxnEntry(bytes)).toThrow(JuteError);
      }),
      { ...RUNS, numRuns: 60 },
    );
  });

  it("an unknown txn kind throws JuteError", () => {
    const w = new JuteWriter();
    w.int(99);
    expect(() => readTxn(new JuteReader(w.toBuffer()))).toThrow(JuteError);
  });

  it("a huge vector count is rejected before anything is allocated", () => {
    const w = new JuteWriter();
    w.int(6); // multi
    w.int(0x7fff_ffff);
    expect(() => readTxn(new JuteReader(w.toBuffer()))).toThrow(JuteError);
  });

  it("multi txns nest one level, not more", () => {
    const inner: Txn = { type: "multi", txns: [{ type: "delete", path: "/a" }] };
    const ok: Txn = { type: "multi", txns: [inner] };
    const w = new JuteWriter();
    writeTxn(w, ok);
    expect(readTxn(new JuteReader(w.toBuffer()))).toEqual(ok);
    const deep: Txn = { type: "multi", txns: [ok] };
    const w2 = new JuteWriter();
    writeTxn(w2, deep);
    expect(() => readTxn(new JuteReader(w2.toBuffer()))).toThrow(JuteError);
  });

  it("negative lengths for data or strings throw JuteError", () => {
    const w = new JuteWriter();
    w.int(2); // delete
    w.int(-2); // path length
    expect(() => readTxn(new JuteReader(w.toBuffer()))).toThrow(JuteError);
  });

  it("a closeSession written before session-end moves existed (kind 8, no body) still decodes", () => {
    const w = new JuteWriter();
    w.int(8);
    expect(readTxn(new JuteReader(w.toBuffer()))).toEqual({ type: "closeSession" });
    // And a close with no moves is still written that way, byte for byte.
    const w2 = new JuteWriter();
    writeTxn(w2, { type: "closeSession", moves: [] });
    expect(w2.toBuffer()).toEqual(w.toBuffer());
  });

  it("a closeSession with moves is kind 10: count, then each move's from, to and the parent's cversion", () => {
    const w = new JuteWriter();
    writeTxn(w, { type: "closeSession", moves: [{ from: "/q/_c_1234abcd-inflight-qn-0000000003", to: "/q/qn-0000000003", parentCVersion: 9 }] });
    const r = new JuteReader(w.toBuffer());
    expect([r.int(), r.int(), r.ustring(), r.ustring(), r.int(), r.remaining()]).toEqual([10, 1, "/q/_c_1234abcd-inflight-qn-0000000003", "/q/qn-0000000003", 9, 0]);
  });
});
