// JuteReader rejects every malformed input with a JuteError (never a RangeError from Buffer
// or an allocation failure), and JuteWriter's growable buffer keeps every byte.

import { describe, it, expect } from "vitest";
import * as jute from "../../../src/jute/index.js";
import {
  JuteError,
  JuteReader,
  JuteWriter,
  decodeRecord,
  readConnectRequest,
  readConnectResponse,
  readReplyHeader,
  readRequestHeader,
  readStat,
  readAcls,
  readCreateRequest,
  writeAcls,
  recordOf,
  vectorOf,
  type Schema,
} from "../../../src/jute/index.js";
import { findVector, schemaOf, thrown, vectors, written } from "./oracle.js";

const int = (v: number): Buffer => written((w) => w.int(v));

describe("a truncated record throws JuteError at every byte offset", () => {
  const SAMPLES = [
    "CreateRequest/two-acls",
    "CreateTTLRequest/big-ttl",
    "Create2Response/distinctive",
    "GetDataResponse/bytes",
    "GetACLResponse/two",
    "SetWatches2/mixed",
    "WhoAmIResponse/two",
    "AuthPacket/digest",
    "ReconfigRequest/non-incremental",
    "MultiHeader/done",
  ];

  it.each(SAMPLES)("%s, cut short by slicing and by the reader's end", (name) => {
    const v = findVector(vectors.records, name);
    const schema = schemaOf(v.javaClass);
    const full = Buffer.from(v.hex, "hex");
    for (let cut = 0; cut < full.length; cut++) {
      const sliced = thrown(() => decodeRecord(new JuteReader(full.subarray(0, cut)), schema));
      expect(sliced, `cut at ${cut}`).toBeInstanceOf(JuteError);
      const windowed = thrown(() => decodeRecord(new JuteReader(full, 0, cut), schema));
      expect(windowed, `end at ${cut}`).toBeInstanceOf(JuteError);
    }
  });

  const handWritten: [string, (r: JuteReader) => unknown, string][] = [
    ["readStat", readStat, "Stat/distinctive"],
    ["readRequestHeader", readRequestHeader, "RequestHeader/setWatches"],
    ["readReplyHeader", readReplyHeader, "ReplyHeader/error"],
    ["readCreateRequest", readCreateRequest, "CreateRequest/two-acls"],
    ["readCreateRequest", readCreateRequest, "CreateRequest/null-data"],
  ];
  it.each(handWritten)("%s", (_name, read, vectorName) => {
    const full = Buffer.from(findVector(vectors.records, vectorName).hex, "hex");
    for (let cut = 0; cut < full.length; cut++) {
      expect(thrown(() => read(new JuteReader(full, 0, cut))), `cut at ${cut}`).toBeInstanceOf(JuteError);
    }
  });

  it.each([
    ["readConnectRequest", readConnectRequest, "ConnectRequest/readOnly-true"],
    ["readConnectResponse", readConnectResponse, "ConnectResponse/readOnly-false"],
  ] as const)("%s (up to the optional readOnly byte, whose absence is legal)", (_name, read, vectorName) => {
    const full = Buffer.from(findVector(vectors.connect, vectorName).hex, "hex");
    for (let cut = 0; cut < full.length - 1; cut++) {
      expect(thrown(() => read(new JuteReader(full, 0, cut))), `cut at ${cut}`).toBeInstanceOf(JuteError);
    }
    expect(read(new JuteReader(full, 0, full.length - 1))).toMatchObject({ readOnly: undefined });
  });
});

describe("lengths and counts", () => {
  it.each([-2, -100, -0x8000_0000])("a buffer length of %i is rejected", (len) => {
    const e = thrown(() => new JuteReader(Buffer.concat([int(len), Buffer.alloc(8)])).buffer());
    expect(e).toBeInstanceOf(JuteError);
  });

  it.each([-2, -100, -0x8000_0000])("a ustring length of %i is rejected", (len) => {
    const e = thrown(() => new JuteReader(Buffer.concat([int(len), Buffer.alloc(8)])).ustring());
    expect(e).toBeInstanceOf(JuteError);
  });

  // Stricter than ZooKeeper 3.8.0, whose BinaryInputArchive reads any negative vector count
  // as an empty vector (while rejecting negative buffer and string lengths, as we do).
  it.each([-2, -100, -0x8000_0000])("a vector count of %i is rejected", (count) => {
    const bytesIn = Buffer.concat([int(count), Buffer.alloc(8)]);
    expect(thrown(() => decodeRecord(new JuteReader(bytesIn), jute.GetChildrenResponseSchema))).toBeInstanceOf(JuteError);
    expect(thrown(() => new JuteReader(bytesIn).strings())).toBeInstanceOf(JuteError);
  });

  it("-1 means null: a null buffer, an empty string, an empty vector", () => {
    expect(new JuteReader(int(-1)).buffer()).toBeNull();
    expect(new JuteReader(int(-1)).ustring()).toBe("");
    expect(new JuteReader(int(-1)).strings()).toEqual([]);
    expect(decodeRecord(new JuteReader(int(-1)), jute.WhoAmIResponseSchema)).toEqual({ clientInfo: [] });
  });

  it("a length that runs past the end is a truncation, not an out-of-range read", () => {
    const e = thrown(() => new JuteReader(Buffer.concat([int(0x7fff_ffff), Buffer.from("abc")])).ustring());
    expect(e).toBeInstanceOf(JuteError);
    const e2 = thrown(() => new JuteReader(Buffer.concat([int(4), Buffer.from("abc")])).buffer());
    expect(e2).toBeInstanceOf(JuteError);
  });

  it("a vector count larger than the bytes left could hold is rejected before any element is read", () => {
    // 0x7fffffff strings would need at least 8 GiB; only 100 bytes follow.
    const huge = Buffer.concat([int(0x7fff_ffff), Buffer.alloc(100)]);
    const r = new JuteReader(huge);
    const e = thrown(() => decodeRecord(r, jute.GetChildrenResponseSchema));
    expect(e).toBeInstanceOf(JuteError);
    expect((e as Error).message).toMatch(/vector length/);
    expect(r.offset).toBe(4); // only the count was read
  });

  it("the count bound uses each element type's minimum size", () => {
    // ACL >= 12 bytes (perms + two ustring lengths): 2 ACLs cannot fit in 23 bytes.
    const acls = Buffer.concat([int(2), Buffer.alloc(23)]);
    const e = thrown(() => decodeRecord(new JuteReader(acls), jute.GetACLResponseSchema));
    expect((e as Error).message).toMatch(/vector length 2/);
    // ClientInfo >= 8 bytes (two ustring lengths), so 3 cannot fit in 23.
    const infos = Buffer.concat([int(3), Buffer.alloc(23)]);
    expect((thrown(() => decodeRecord(new JuteReader(infos), jute.WhoAmIResponseSchema)) as Error).message).toMatch(
      /vector length 3/,
    );
    // Exactly enough room is accepted: 2 empty strings in 8 bytes.
    expect(new JuteReader(Buffer.concat([int(2), Buffer.alloc(8)])).strings()).toEqual(["", ""]);
  });

  it("the count bound holds for vectors of longs, bools and nested vectors", () => {
    const longs = [["v", vectorOf("long")]] as const satisfies Schema;
    const bools = [["v", vectorOf("bool")]] as const satisfies Schema;
    const nested = [["v", vectorOf(vectorOf("int"))]] as const satisfies Schema;
    const withEmpty = [["v", vectorOf(recordOf([]))]] as const satisfies Schema;
    const payload = (n: number, bytesLeft: number) => new JuteReader(Buffer.concat([int(n), Buffer.alloc(bytesLeft)]));
    expect(thrown(() => decodeRecord(payload(2, 15), longs))).toBeInstanceOf(JuteError);
    expect(decodeRecord(payload(2, 16), longs)).toEqual({ v: [0n, 0n] });
    expect(thrown(() => decodeRecord(payload(4, 3), bools))).toBeInstanceOf(JuteError);
    expect(decodeRecord(payload(3, 3), bools)).toEqual({ v: [false, false, false] });
    expect(thrown(() => decodeRecord(payload(3, 11), nested))).toBeInstanceOf(JuteError);
    expect(decodeRecord(payload(3, 12), nested)).toEqual({ v: [[], [], []] });
    // A record with no fields takes no bytes; its count is still bounded (by one byte each).
    expect(thrown(() => decodeRecord(payload(0x7fff_ffff, 4), withEmpty))).toBeInstanceOf(JuteError);
  });

  it("a bool is any non-zero byte, as Java's DataInput.readBoolean", () => {
    expect([0, 1, 2, 0xff].map((b) => new JuteReader(Buffer.from([b])).bool())).toEqual([false, true, true, true]);
  });

  it("buffer() returns a copy that outlives changes to the frame", () => {
    const frame = Buffer.concat([int(3), Buffer.from([1, 2, 3])]);
    const b = new JuteReader(frame).buffer();
    frame.fill(0);
    expect(b).toEqual(Buffer.from([1, 2, 3]));
  });
});

describe("JuteWriter", () => {
  it("keeps every primitive written across a growth of its buffer", () => {
    // Each write below lands where the previous buffer ended.
    for (let initial = 1; initial <= 24; initial++) {
      const w = new JuteWriter(initial);
      w.bool(true);
      w.int(-2);
      w.bool(true);
      w.long(-3n);
      w.bool(true);
      w.raw(Buffer.from([0xaa, 0xbb]));
      w.buffer(Buffer.from([0xcc]));
      w.ustring("ü");
      w.bool(true);
      expect(w.toBuffer().toString("hex"), `initial ${initial}`).toBe(
        "01" + "fffffffe" + "01" + "fffffffffffffffd" + "01" + "aabb" + "00000001cc" + "00000002c3bc" + "01",
      );
    }
  });

  it("writes a long given as its unsigned 64-bit value as the same bytes as its signed value", () => {
    expect(written((w) => w.long(0xffff_ffff_ffff_ffffn))).toEqual(written((w) => w.long(-1n)));
    expect(written((w) => w.long(-(2n ** 63n))).toString("hex")).toBe("8000000000000000");
  });

  it("longOfNumber writes the bytes long(BigInt(v)) writes, for every safe integer range", () => {
    const values = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, -(2 ** 32) - 1,
      1_700_000_000_123, -1_700_000_000_123, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    for (const v of values) {
      expect(written((w) => w.longOfNumber(v)).toString("hex"), String(v)).toBe(written((w) => w.long(BigInt(v))).toString("hex"));
    }
  });

  it("intAt patches a length prefix; view and toBuffer show the bytes; reset starts over", () => {
    const w = new JuteWriter(2);
    w.int(0);
    w.ustring("abc");
    w.intAt(0, w.length - 4);
    expect(w.view().toString("hex")).toBe("00000007" + "00000003616263");
    const copy = w.toBuffer();
    w.reset();
    w.int(9);
    expect(w.length).toBe(4);
    expect(copy.toString("hex")).toBe("0000000700000003616263");
  });

  it("writes null buffers, strings and vectors as -1", () => {
    expect(written((w) => w.buffer(null)).toString("hex")).toBe("ffffffff");
    expect(written((w) => w.ustring(null)).toString("hex")).toBe("ffffffff");
    expect(
      written((w) => jute.encodeRecord(w, jute.GetChildrenResponseSchema, { children: null as unknown as string[] })),
    ).toEqual(int(-1));
  });

  it("refuses to encode a record with a missing field", () => {
    const e = thrown(() => written((w) => jute.encodeRecord(w, jute.PathVersionSchema, { path: "/a" } as never)));
    expect(e).toBeInstanceOf(JuteError);
    expect((e as Error).message).toMatch(/version/);
  });
});

describe("readAcls", () => {
  const acl = (perms: number, scheme: string, id: string): jute.ACL => ({ perms, id: { scheme, id } });
  const bytesOf = (list: jute.ACL[]): Buffer => written((w) => writeAcls(w, list));

  it("reads the one-entry world:anyone list as one shared, frozen list per permission set", () => {
    const a = readAcls(new JuteReader(bytesOf([acl(31, "world", "anyone")])));
    const b = readAcls(new JuteReader(bytesOf([acl(31, "world", "anyone")])));
    const read = readAcls(new JuteReader(bytesOf([acl(1, "world", "anyone")])));
    expect(a).toEqual([acl(31, "world", "anyone")]);
    expect(b).toBe(a);
    expect(read).toEqual([acl(1, "world", "anyone")]);
    expect(read).not.toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a[0]) && Object.isFrozen(a[0]!.id)).toBe(true);
  });

  it.each([
    ["another scheme", [acl(31, "digest", "anyone")]],
    ["an id that only starts like anyone", [acl(31, "world", "anyon")]],
    ["an id that only ends like anyone", [acl(31, "world", "xanyone")]],
    ["a longer id", [acl(31, "world", "anyone!")]],
    ["perms outside 0..31", [acl(-1, "world", "anyone")]],
    ["two entries", [acl(31, "world", "anyone"), acl(1, "ip", "127.0.0.1")]],
    ["no entries", []],
  ])("reads %s entry by entry, to the same values as the schema codec", (_name, list) => {
    const bytes = bytesOf(list);
    const r = new JuteReader(bytes);
    const got = readAcls(r);
    expect(got).toEqual(list);
    expect(r.remaining()).toBe(0);
    expect(Object.isFrozen(got)).toBe(false);
    const schema = vectorOf(recordOf(jute.ACLSchema));
    expect(decodeRecord(new JuteReader(bytes), [["acl", schema]] as const).acl).toEqual(list);
  });

  it("throws JuteError on every truncation, including inside a world:anyone entry", () => {
    for (const list of [[acl(31, "world", "anyone")], [acl(31, "world", "any")]]) {
      const full = bytesOf(list);
      for (let cut = 0; cut < full.length; cut++) {
        expect(thrown(() => readAcls(new JuteReader(full, 0, cut))), `cut at ${cut}`).toBeInstanceOf(JuteError);
      }
    }
  });
});

describe("JuteWriter.ustring", () => {
  it.each([
    ["ASCII", "/a/b-0000000001"],
    ["two-byte characters", "/ünï"],
    ["three-byte characters", "/日本語"],
    ["a character outside the BMP", "/𝄞x"],
    ["a lone surrogate (written as U+FFFD)", "/\ud800x"],
    ["a long string", "/" + "日".repeat(5000)],
  ])("writes %s with the exact UTF-8 byte count, and what follows lands right after", (_name, value) => {
    for (const initial of [1, 8, 64]) {
      const w = new JuteWriter(initial);
      w.ustring(value);
      w.int(7);
      const expected = Buffer.from(value, "utf8");
      const out = w.toBuffer();
      expect(out.readInt32BE(0)).toBe(expected.length);
      expect(out.subarray(4, 4 + expected.length)).toEqual(expected);
      expect(out.length).toBe(4 + expected.length + 4);
      expect(out.readInt32BE(4 + expected.length)).toBe(7);
    }
  });
});
