// multi (ZOOKEEPER.md §1.7): all or nothing, one txn and one zxid; per-op results where
// ops before the failing one report 0, the failing op its code and later ops
// RuntimeInconsistency; ReplyHeader.err is 0 even when the multi failed; ops see the
// earlier ops of the same multi. Replies are decoded as ZooKeeper's Java client reads a
// MultiResponse, so an op type it does not know fails the test.

import { describe, expect, it } from "vitest";
import { CreateMode, Err, EventType, OpCode } from "../../../src/jute/index.js";
import { Harness, rq } from "./harness.js";

describe("multi", () => {
  it("applies every op with one zxid and answers each op", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "old");
    c.create("/gone");
    const before = h.tree.lastProcessedZxid;
    const r = c.multi([
      rq.create("/p", "x", { opCode: OpCode.create }),
      rq.create("/p/c", "y"),
      rq.setData("/a", "new", 0),
      rq.delete("/gone"),
      rq.check("/a", 1),
    ]);
    expect(r.err).toBe(Err.Ok);
    const zxid = before + 1n;
    expect(r.zxid).toBe(zxid);
    expect(h.tree.lastProcessedZxid).toBe(zxid);
    expect(r.results.map((x) => [x.type, x.err])).toEqual([
      [OpCode.create, 0],
      [OpCode.create2, 0],
      [OpCode.setData, 0],
      [OpCode.delete, 0],
      [OpCode.check, 0],
    ]);
    expect(r.results[0]!.path).toBe("/p");
    expect(r.results[1]!).toMatchObject({ path: "/p/c", stat: { czxid: zxid, mzxid: zxid } });
    expect(r.results[2]!.stat).toMatchObject({ version: 1, mzxid: zxid });
    expect(c.exists("/p").stat).toMatchObject({ czxid: zxid, cversion: 1, pzxid: zxid, numChildren: 1 });
    expect(c.getData("/a").data).toBe("new");
    expect(c.exists("/gone").err).toBe(Err.NoNode);
  });

  it("ops see earlier ops of the same multi: create a parent then its child, then delete both", () => {
    const h = new Harness();
    const c = h.connect();
    const r = c.multi([rq.create("/p"), rq.create("/p/q"), rq.create("/p/q/r"), rq.setData("/p/q", "v", 0)]);
    expect(r.results.every((x) => x.err === Err.Ok)).toBe(true);
    expect(c.getData("/p/q")).toMatchObject({ data: "v", stat: { version: 1 } });
    const d = c.multi([rq.delete("/p/q/r"), rq.delete("/p/q"), rq.delete("/p")]);
    expect(d.results.map((x) => x.err)).toEqual([0, 0, 0]);
    expect(c.exists("/p").err).toBe(Err.NoNode);
  });

  it("sequential creates in one multi get distinct numbers", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/q");
    const seq = { mode: CreateMode.PersistentSequential };
    const r = c.multi([rq.create("/q/n-", "", seq), rq.create("/q/n-", "", seq)]);
    expect(r.results.map((x) => x.path)).toEqual(["/q/n-0000000000", "/q/n-0000000001"]);
  });

  it("a failing op fails the whole multi: earlier ops 0, the failing op its code, later ops RuntimeInconsistency", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "keep");
    const before = h.snapshot();
    const zxid = h.tree.lastProcessedZxid;
    const r = c.multi([
      rq.create("/new"),
      rq.setData("/a", "changed"),
      rq.check("/a", 5),
      rq.create("/other"),
      rq.delete("/a"),
    ]);
    // ReplyHeader.err is 0: the failure shows only in the results.
    expect(r.err).toBe(Err.Ok);
    expect(r.results.map((x) => [x.type, x.err])).toEqual([
      [OpCode.error, Err.Ok],
      [OpCode.error, Err.Ok],
      [OpCode.error, Err.BadVersion],
      [OpCode.error, Err.RuntimeInconsistency],
      [OpCode.error, Err.RuntimeInconsistency],
    ]);
    // Nothing changed, but the failed multi still used one zxid (it is logged as an error txn).
    expect(h.snapshot()).toEqual(before);
    expect(h.tree.lastProcessedZxid).toBe(zxid + 1n);
  });

  it("a failed multi leaves nothing behind for later requests to trip over", () => {
    const h = new Harness();
    const c = h.connect();
    const r = c.multi([rq.create("/x"), rq.create("/x/y"), rq.create("/x")]);
    expect(r.results.map((x) => x.err)).toEqual([0, 0, Err.NodeExists]);
    expect(c.exists("/x").err).toBe(Err.NoNode);
    expect(c.create("/x").err).toBe(Err.Ok);
    expect(c.create("/x/y").err).toBe(Err.Ok);
    expect(c.exists("/x").stat).toMatchObject({ cversion: 1 });
  });

  it("a failed multi fires no watches; a successful one fires each op's events", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    c.create("/a");
    w.getData("/a", true);
    w.exists("/b", true);
    c.multi([rq.setData("/a", "1"), rq.create("/b"), rq.delete("/missing")]);
    expect(w.conn.events()).toEqual([]);
    c.multi([rq.setData("/a", "1"), rq.create("/b")]);
    expect(w.conn.eventList()).toEqual([
      [EventType.NodeDataChanged, "/a"],
      [EventType.NodeCreated, "/b"],
    ]);
  });

  it("each op's own errors: NoNode, NodeExists, NotEmpty, NoAuth, BadArguments", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/full");
    c.create("/full/kid");
    c.create("/ro", "", { acl: [{ perms: 1, id: { scheme: "world", id: "anyone" } }] });
    const first = (ops: ReturnType<typeof rq.create>[]) => c.multi(ops).results.map((x) => x.err);
    expect(first([rq.delete("/missing")])).toEqual([Err.NoNode]);
    expect(first([rq.create("/full")])).toEqual([Err.NodeExists]);
    expect(first([rq.delete("/full")])).toEqual([Err.NotEmpty]);
    expect(first([rq.setData("/ro", "x")])).toEqual([Err.NoAuth]);
    expect(first([rq.create("bad")])).toEqual([Err.BadArguments]);
  });

  it("container and TTL creates answer as create2 results, which clients can read", () => {
    // ZooKeeper's FinalRequestProcessor turns createContainer/createTTL sub-results into
    // CreateResult(path, stat), whose MultiHeader type is create2 (15); the Java client's
    // MultiResponse.deserialize throws on any other create type.
    const h = new Harness();
    const c = h.connect();
    const r = c.multi([
      rq.create("/c", "", { opCode: OpCode.createContainer }),
      rq.create("/t", "", { opCode: OpCode.createTTL, mode: CreateMode.PersistentWithTtl, ttl: 100n }),
    ]);
    expect(r.results.map((x) => [x.type, x.path])).toEqual([
      [OpCode.create2, "/c"],
      [OpCode.create2, "/t"],
    ]);
    expect(h.tree.get("/c")!.ephemeralOwner).toBe(-0x8000_0000_0000_0000n);
  });

  it("an empty multi succeeds with an empty result list", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.multi([])).toMatchObject({ err: Err.Ok, results: [] });
  });

  it("a multi that closes its parent's last child lets a container be reaped", () => {
    const h = new Harness();
    const c = h.connect();
    c.multi([rq.create("/c", "", { opCode: OpCode.createContainer }), rq.create("/c/x")]);
    c.multi([rq.delete("/c/x")]);
    expect(h.pipeline.reapContainers(5)).toEqual(["/c"]);
  });
});
