// Random values of every record schema survive encode -> decode -> encode unchanged, and the
// hand-written header codecs agree byte for byte with the generic schema codec. fast-check
// with a fixed seed, so a failure replays exactly.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as jute from "../../../src/jute/index.js";
import {
  JuteReader,
  JuteWriter,
  decodeRecord,
  encodeRecord,
  readConnectRequest,
  readConnectResponse,
  readReplyHeader,
  readRequestHeader,
  readStat,
  writeConnectRequest,
  writeConnectResponse,
  writeReplyHeader,
  writeStat,
  type RecordType,
  type Schema,
} from "../../../src/jute/index.js";
import { HEADER_SHAPES, exportedSchemas, written, type FieldType } from "./oracle.js";

const RUNS = { seed: 0x6a757465, numRuns: 150 } as const;

const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const bytes = fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a));
// Well-formed Unicode, astral characters included (lone surrogates are tested separately).
const ustring = fc.string({ unit: "grapheme", maxLength: 12 });

function arbitraryOf(type: FieldType): fc.Arbitrary<unknown> {
  switch (type) {
    case "int":
      return int32;
    case "long":
      return int64;
    case "bool":
      return fc.boolean();
    case "buffer":
      return fc.option(bytes, { nil: null });
    case "ustring":
      return ustring;
    default:
      if ("record" in type) return recordArbitrary(type.record);
      return fc.array(arbitraryOf(type.vector), { maxLength: 4 });
  }
}

function recordArbitrary(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, type] of schema) fields[name] = arbitraryOf(type);
  return fc.record(fields);
}

const schemas = exportedSchemas();

describe("every record schema round-trips random values", () => {
  it("finds the schemas to test", () => {
    expect(schemas.length).toBeGreaterThan(30);
  });

  it.each(schemas)("%s: decode(encode(v)) = v, every byte is consumed, and re-encoding is identical", (_name, schema) => {
    const w = new JuteWriter(8); // reused across runs, as the server reuses its writer
    fc.assert(
      fc.property(recordArbitrary(schema), (value) => {
        w.reset();
        encodeRecord(w, schema, value as RecordType<Schema>);
        const bytesOut = w.toBuffer();
        const r = new JuteReader(bytesOut);
        const decoded = decodeRecord(r, schema);
        expect(r.remaining()).toBe(0);
        expect(decoded).toEqual(value);
        expect(written((x) => encodeRecord(x, schema, decoded))).toEqual(bytesOut);
      }),
      RUNS,
    );
  });
});

describe("hand-written codecs agree with the schema codec", () => {
  it("writeStat writes what encodeRecord(StatSchema) writes, and readStat reads it back", () => {
    fc.assert(
      fc.property(recordArbitrary(jute.StatSchema), (value) => {
        const stat = value as jute.Stat;
        const generic = written((w) => encodeRecord(w, jute.StatSchema, stat));
        expect(written((w) => writeStat(w, stat))).toEqual(generic);
        const r = new JuteReader(generic);
        expect(readStat(r)).toEqual(stat);
        expect(r.remaining()).toBe(0);
      }),
      RUNS,
    );
  });

  it("readRequestHeader reads what the RequestHeader shape encodes", () => {
    fc.assert(
      fc.property(recordArbitrary(HEADER_SHAPES.RequestHeader), (value) => {
        const r = new JuteReader(written((w) => encodeRecord(w, HEADER_SHAPES.RequestHeader, value as never)));
        expect(readRequestHeader(r)).toEqual(value);
        expect(r.remaining()).toBe(0);
      }),
      RUNS,
    );
  });

  it("writeReplyHeader and readReplyHeader agree with the ReplyHeader shape", () => {
    fc.assert(
      fc.property(int32, int64, int32, (xid, zxid, err) => {
        const bytesOut = written((w) => writeReplyHeader(w, xid, zxid, err));
        expect(bytesOut).toEqual(written((w) => encodeRecord(w, HEADER_SHAPES.ReplyHeader, { xid, zxid, err })));
        const r = new JuteReader(bytesOut);
        expect(readReplyHeader(r)).toEqual({ xid, zxid, err });
        expect(r.remaining()).toBe(0);
      }),
      RUNS,
    );
  });

  const readOnly = fc.option(fc.boolean(), { nil: undefined });

  it("ConnectRequest round-trips, with and without the trailing readOnly byte", () => {
    fc.assert(
      fc.property(recordArbitrary(HEADER_SHAPES.ConnectRequest), bytes, readOnly, (fields, passwd, ro) => {
        const c = { ...fields, passwd, readOnly: ro } as jute.ConnectRequest;
        const bytesOut = written((w) => writeConnectRequest(w, c));
        const body = written((w) => encodeRecord(w, HEADER_SHAPES.ConnectRequest, c as never));
        expect(bytesOut).toEqual(ro === undefined ? body : Buffer.concat([body, Buffer.from([ro ? 1 : 0])]));
        const r = new JuteReader(bytesOut);
        expect(readConnectRequest(r)).toEqual(c);
        expect(r.remaining()).toBe(0);
      }),
      RUNS,
    );
  });

  it("ConnectResponse round-trips, with and without the trailing readOnly byte", () => {
    fc.assert(
      fc.property(recordArbitrary(HEADER_SHAPES.ConnectResponse), bytes, readOnly, (fields, passwd, ro) => {
        const c = { ...fields, passwd, readOnly: ro } as jute.ConnectResponse;
        const bytesOut = written((w) => writeConnectResponse(w, c));
        const body = written((w) => encodeRecord(w, HEADER_SHAPES.ConnectResponse, c as never));
        expect(bytesOut).toEqual(ro === undefined ? body : Buffer.concat([body, Buffer.from([ro ? 1 : 0])]));
        const r = new JuteReader(bytesOut);
        expect(readConnectResponse(r)).toEqual(c);
        expect(r.remaining()).toBe(0);
      }),
      RUNS,
    );
  });
});

describe("ustring edge cases", () => {
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

  it("a string with lone surrogates is written as UTF-8 with U+FFFD in their place, length prefix included", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 16 }), (s) => {
        const bytesOut = written((w) => w.ustring(s));
        expect(bytesOut.readInt32BE(0)).toBe(bytesOut.length - 4);
        expect(new JuteReader(bytesOut).ustring()).toBe(s.replace(LONE_SURROGATE, "\uFFFD"));
      }),
      RUNS,
    );
  });

  it("a long multi-byte string crossing the writer's growth boundary keeps its length prefix right", () => {
    const s = "日本語ü𝄞".repeat(500);
    const w = new JuteWriter(3);
    w.int(7);
    w.ustring(s);
    w.int(-7);
    const r = new JuteReader(w.toBuffer());
    expect([r.int(), r.ustring(), r.int(), r.remaining()]).toEqual([7, s, -7, 0]);
  });
});
