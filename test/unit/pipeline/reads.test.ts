// Reads and the other requests answered from the local tree, and the reply bodies of
// single writes, decoded as a client decodes them.

import { describe, expect, it } from "vitest";
import {
  CreateResponseSchema,
  Err,
  ErrorResponseSchema,
  GetChildrenResponseSchema,
  GetDataResponseSchema,
  JuteReader,
  MultiHeaderSchema,
  OpCode,
  PathSchema,
  StatResponseSchema,
  WhoAmIResponseSchema,
  decodeRecord,
} from "../../../src/jute/index.js";
import { Harness, decodeBody, rq } from "./harness.js";

describe("reads", () => {
  it("getChildren lists names; getChildren2 adds the node's Stat", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/p");
    c.create("/p/b");
    c.create("/p/a");
    expect(c.getChildren("/p").children).toEqual(["a", "b"]);
    const r = c.getChildren2("/p");
    expect(r.children).toEqual(["a", "b"]);
    expect(r.stat).toMatchObject({ numChildren: 2, cversion: 2 });
    expect(c.getChildren("/p/a").children).toEqual([]);
  });

  it("reads of missing nodes are NoNode; malformed paths BadArguments", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.getData("/nope").err).toBe(Err.NoNode);
    expect(c.exists("/nope").err).toBe(Err.NoNode);
    expect(c.getACL("/nope").err).toBe(Err.NoNode);
    expect(c.getChildren("/nope").err).toBe(Err.NoNode);
    expect(c.getData("nope").err).toBe(Err.BadArguments);
    expect(c.exists("/a/").err).toBe(Err.BadArguments);
  });

  it("getData answers every data byte as written (the tree keeps data as a string), null and empty apart, with the Stat", () => {
    const h = new Harness();
    const c = h.connect();
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80])]);
    c.create("/bin", bytes);
    c.create("/empty", Buffer.alloc(0));
    c.create("/null", null);
    const got = decodeBody(c.call(rq.getData("/bin")), GetDataResponseSchema);
    expect(got.data).toEqual(bytes);
    expect(got.stat).toMatchObject({ dataLength: bytes.length, version: 0, numChildren: 0 });
    expect(decodeBody(c.call(rq.getData("/empty")), GetDataResponseSchema).data).toEqual(Buffer.alloc(0));
    expect(decodeBody(c.call(rq.getData("/null")), GetDataResponseSchema).data).toBeNull();
  });

  it("an error reply has no body", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.call(rq.getData("/nope")).body.length).toBe(0);
  });

  it("sync answers with its path", () => {
    const h = new Harness();
    const c = h.connect();
    const r = c.call(rq.sync("/x"));
    expect(decodeBody(r, PathSchema).path).toBe("/x");
  });

  it("whoAmI lists the connection's identities, digest ids as the user name only", () => {
    const h = new Harness();
    const c = h.connect({ authIds: [{ scheme: "ip", id: "127.0.0.1" }, { scheme: "digest", id: "alice:hash=" }] });
    const r = c.call({ opCode: OpCode.whoAmI });
    expect(decodeBody(r, WhoAmIResponseSchema).clientInfo).toEqual([
      { authScheme: "ip", user: "127.0.0.1" },
      { authScheme: "digest", user: "alice" },
    ]);
  });

  it("an unknown op code is answered Unimplemented", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.call({ opCode: 99 }).err).toBe(Err.Unimplemented);
  });

  it("multiRead answers each op on its own; one op's error does not fail the others", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "va");
    c.create("/a/k");
    const ops = [rq.getData("/a"), rq.getData("/missing"), rq.getChildren("/a")];
    const r = c.call({
      opCode: OpCode.multiRead,
      write: (w) => rq.multi(ops).write!(w),
    });
    expect(r.err).toBe(Err.Ok);
    const rd = new JuteReader(r.body);
    const h1 = decodeRecord(rd, MultiHeaderSchema);
    expect(h1).toEqual({ type: OpCode.getData, done: false, err: 0 });
    expect(decodeRecord(rd, GetDataResponseSchema).data!.toString()).toBe("va");
    expect(decodeRecord(rd, MultiHeaderSchema)).toEqual({ type: OpCode.error, done: false, err: Err.NoNode });
    expect(decodeRecord(rd, ErrorResponseSchema).err).toBe(Err.NoNode);
    expect(decodeRecord(rd, MultiHeaderSchema)).toEqual({ type: OpCode.getChildren, done: false, err: 0 });
    expect(decodeRecord(rd, GetChildrenResponseSchema).children).toEqual(["k"]);
    expect(decodeRecord(rd, MultiHeaderSchema)).toEqual({ type: -1, done: true, err: -1 });
    expect(rd.remaining()).toBe(0);
  });
});

describe("write replies", () => {
  it("create answers CreateResponse{path}; create2 adds the Stat", () => {
    const h = new Harness();
    const c = h.connect();
    const r1 = c.call(rq.create("/a", "", { opCode: OpCode.create }));
    expect(decodeBody(r1, CreateResponseSchema).path).toBe("/a");
    expect(c.create("/b").stat).toMatchObject({ czxid: r1.zxid + 1n });
  });

  it("a standalone check answers the node's Stat, or BadVersion", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a");
    const ok = c.call(rq.check("/a", 0));
    expect(decodeBody(ok, StatResponseSchema).stat.version).toBe(0);
    expect(c.call(rq.check("/a", 3)).err).toBe(Err.BadVersion);
    expect(c.call(rq.check("/nope", -1)).err).toBe(Err.NoNode);
  });

  it("delete answers with no body", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a");
    const r = c.call(rq.delete("/a"));
    expect([r.err, r.body.length]).toEqual([Err.Ok, 0]);
  });

  it("every write, failed ones included, takes the next zxid; reads take none", () => {
    const h = new Harness();
    const c = h.connect();
    const z0 = h.tree.lastProcessedZxid;
    c.create("/a");
    c.create("/a"); // NodeExists: an error txn
    c.getData("/a");
    c.exists("/a");
    expect(h.tree.lastProcessedZxid).toBe(z0 + 2n);
    expect(c.call(rq.getData("/a")).zxid).toBe(z0 + 2n);
  });
});
