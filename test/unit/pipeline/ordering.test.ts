// Ordering under group commit: the CommitLog holds txns until the test releases them, as
// a group fsync (standalone) or a quorum ack (ZAB) would. ZooKeeper's guarantees checked
// here: replies come in request order per session; a session's read waits behind its
// earlier writes and sees them; other sessions' reads are not blocked; prep validates
// against the outstanding changes, not just the applied tree; a write's watch events
// reach a connection before that write's reply.

import { describe, expect, it } from "vitest";
import { Create2ResponseSchema, CreateMode, Err, EventType, GetDataResponseSchema, OpCode } from "../../../src/jute/index.js";
import { Harness, ManualCommitLog, decodeBody, rq, type Client } from "./harness.js";

function setup(): { h: Harness; log: ManualCommitLog; a: Client; b: Client } {
  const log = new ManualCommitLog();
  const h = new Harness({ log });
  log.holding = false;
  const a = h.connect();
  const b = h.connect();
  log.holding = true;
  return { h, log, a, b };
}

const xids = (c: Client): number[] => c.conn.replies().map((r) => r.xid);
const errOf = (c: Client, xid: number): number | undefined => c.replyTo(xid)?.err;
const dataOf = (c: Client, xid: number): string | undefined => {
  const r = c.replyTo(xid);
  return r === undefined ? undefined : decodeBody(r, GetDataResponseSchema).data?.toString();
};

describe("ordering under group commit", () => {
  it("replies come in request order per session, each when its txn commits", async () => {
    const { log, a } = setup();
    const w1 = a.send(rq.create("/a", "1"));
    const w2 = a.send(rq.create("/b", "2"));
    const r3 = a.send(rq.getData("/a"));
    expect(a.conn.replies()).toEqual([]);
    await log.release(1);
    expect(xids(a)).toEqual([w1]);
    await log.release(1);
    expect(xids(a)).toEqual([w1, w2, r3]);
    expect(dataOf(a, r3)).toBe("1");
  });

  it("a read waits behind the session's earlier write and sees it; another session reads at once", async () => {
    const { h, log, a, b } = setup();
    log.holding = false;
    a.create("/n", "old");
    log.holding = true;
    const w = a.send(rq.setData("/n", "new"));
    const r = a.send(rq.getData("/n"));
    expect([a.replyTo(w), a.replyTo(r)]).toEqual([undefined, undefined]);
    // The other session is not blocked, and reads the tree as applied.
    const other = b.send(rq.getData("/n"));
    expect(dataOf(b, other)).toBe("old");
    expect(h.tree.get("/n")!.data!.toString()).toBe("old");
    await log.releaseAll();
    expect(xids(a).slice(-2)).toEqual([w, r]);
    expect(dataOf(a, r)).toBe("new");
  });

  it("a ping is answered in order too", async () => {
    const { log, a } = setup();
    const w = a.send(rq.create("/p"));
    const ping = a.send(rq.ping());
    expect(a.conn.replies()).toEqual([]);
    await log.releaseAll();
    expect(xids(a)).toEqual([w, ping]);
  });

  it("an error reply waits behind the session's earlier writes", async () => {
    const { log, a } = setup();
    const w1 = a.send(rq.create("/a"));
    const bad = a.send(rq.delete("/missing"));
    expect(a.conn.replies()).toEqual([]);
    await log.release(1);
    expect(xids(a)).toEqual([w1]);
    await log.release(1);
    expect(xids(a)).toEqual([w1, bad]);
    expect(errOf(a, bad)).toBe(Err.NoNode);
  });

  it("txns are committed and applied in zxid order, one zxid each", async () => {
    const { h, log, a, b } = setup();
    a.send(rq.create("/a"));
    b.send(rq.create("/b"));
    a.send(rq.setData("/a", "x"));
    const zxids = log.appended.map((e) => e.hdr.zxid);
    expect(zxids).toEqual(zxids.map((_, i) => zxids[0]! + BigInt(i)));
    await log.releaseAll();
    expect(h.tree.lastProcessedZxid).toBe(zxids[zxids.length - 1]);
    expect(h.tree.get("/b")!.czxid).toBe(zxids[zxids.length - 2]);
  });

  it("a reply carries the zxid of the last txn applied when it is sent", async () => {
    const { log, a } = setup();
    const w1 = a.send(rq.create("/a"));
    const w2 = a.send(rq.create("/b"));
    await log.releaseAll();
    expect(a.replyTo(w2)!.zxid).toBe(a.replyTo(w1)!.zxid + 1n);
  });
});

describe("prep sees outstanding changes", () => {
  it("two creates of the same path in flight: the second is NodeExists", async () => {
    const { log, a, b } = setup();
    const first = a.send(rq.create("/x"));
    const again = a.send(rq.create("/x"));
    const other = b.send(rq.create("/x"));
    await log.releaseAll();
    expect([errOf(a, first), errOf(a, again), errOf(b, other)]).toEqual([Err.Ok, Err.NodeExists, Err.NodeExists]);
  });

  it("sequential numbers are unique while their creates are in flight", async () => {
    const { log, a, b } = setup();
    log.holding = false;
    a.create("/q");
    log.holding = true;
    const seq = { mode: CreateMode.EphemeralSequential };
    const sent: [Client, number][] = [a, b, a].map((c) => [c, c.send(rq.create("/q/n-", "", seq))]);
    expect(log.pending).toBe(3);
    await log.releaseAll();
    const names = sent.map(([c, xid]) => decodeBody(c.replyTo(xid)!, Create2ResponseSchema).path);
    expect(names).toEqual(["/q/n-0000000000", "/q/n-0000000001", "/q/n-0000000002"]);
    const tree = [...a.h.tree.get("/q")!.children!].sort();
    expect(tree).toEqual(["n-0000000000", "n-0000000001", "n-0000000002"]);
  });

  it("deleting a node whose child create is in flight is NotEmpty", async () => {
    const { log, a, b } = setup();
    log.holding = false;
    a.create("/p");
    log.holding = true;
    const kid = a.send(rq.create("/p/kid"));
    const del = b.send(rq.delete("/p"));
    await log.releaseAll();
    expect(errOf(a, kid)).toBe(Err.Ok);
    expect(errOf(b, del)).toBe(Err.NotEmpty);
  });

  it("creating under a parent whose delete is in flight is NoNode; re-creating a path being deleted works", async () => {
    const { h, log, a, b } = setup();
    log.holding = false;
    a.create("/p");
    log.holding = true;
    const del = a.send(rq.delete("/p"));
    const under = b.send(rq.create("/p/kid"));
    const again = b.send(rq.create("/p", "reborn"));
    await log.releaseAll();
    expect([errOf(a, del), errOf(b, under), errOf(b, again)]).toEqual([Err.Ok, Err.NoNode, Err.Ok]);
    expect(h.tree.get("/p")!.data!.toString()).toBe("reborn");
  });

  it("versions count outstanding setData: a second setData on the old version is BadVersion", async () => {
    const { log, a, b } = setup();
    log.holding = false;
    a.create("/v");
    log.holding = true;
    const s1 = a.send(rq.setData("/v", "1", 0));
    const s2 = b.send(rq.setData("/v", "2", 0));
    const s3 = b.send(rq.setData("/v", "3", 1));
    await log.releaseAll();
    expect([errOf(a, s1), errOf(b, s2), errOf(b, s3)]).toEqual([Err.Ok, Err.BadVersion, Err.Ok]);
  });

  it("a failed multi in flight leaves no outstanding changes behind", async () => {
    const { log, a, b } = setup();
    const m = a.send(rq.multi([rq.create("/m"), rq.delete("/nope")]));
    const c = b.send(rq.create("/m/child"));
    const d = b.send(rq.create("/m"));
    await log.releaseAll();
    expect(errOf(a, m)).toBe(Err.Ok); // results carry the failure
    expect([errOf(b, c), errOf(b, d)]).toEqual([Err.NoNode, Err.Ok]);
  });

  it("an ephemeral create in flight makes its parent refuse children", async () => {
    const { log, a } = setup();
    const e = a.send(rq.create("/e", "", { mode: CreateMode.Ephemeral }));
    const k = a.send(rq.create("/e/k"));
    await log.releaseAll();
    expect([errOf(a, e), errOf(a, k)]).toEqual([Err.Ok, Err.NoChildrenForEphemerals]);
  });

  it("closeSession deletes the ephemerals whose creates are still in flight", async () => {
    const { h, log, a } = setup();
    a.send(rq.create("/e1", "", { mode: CreateMode.Ephemeral }));
    a.send(rq.closeSession());
    await log.releaseAll();
    expect(h.tree.get("/e1")).toBeUndefined();
    expect(a.conn.closed).toBe(true);
  });

  it("a create queued behind such a closeSession sees the in-flight ephemeral gone", async () => {
    const { h, log, a, b } = setup();
    a.send(rq.create("/e1", "", { mode: CreateMode.Ephemeral }));
    a.send(rq.create("/e2", "", { mode: CreateMode.Ephemeral }));
    a.send(rq.closeSession());
    const again = b.send(rq.create("/e1", "", { mode: CreateMode.Ephemeral }));
    await log.releaseAll();
    expect(errOf(b, again)).toBe(Err.Ok);
    expect(h.tree.get("/e1")?.ephemeralOwner).toBe(b.sessionId);
    expect(h.tree.get("/e2")).toBeUndefined();
  });

  it("closeSession leaves alone what in-flight txns took from the session", async () => {
    const { h, log, a, b } = setup();
    log.holding = false;
    a.create("/gone", "", { mode: CreateMode.Ephemeral });
    a.create("/taken", "", { mode: CreateMode.Ephemeral });
    log.holding = true;
    // In flight: A deletes /gone and /taken, B re-creates /taken as its own, A creates /new.
    a.send(rq.delete("/gone"));
    a.send(rq.delete("/taken"));
    const t = b.send(rq.create("/taken", "", { mode: CreateMode.Ephemeral }));
    a.send(rq.create("/new", "", { mode: CreateMode.Ephemeral }));
    a.send(rq.closeSession());
    await log.releaseAll();
    expect(errOf(b, t)).toBe(Err.Ok);
    expect(h.tree.get("/gone")).toBeUndefined();
    expect(h.tree.get("/new")).toBeUndefined();
    expect(h.tree.get("/taken")?.ephemeralOwner).toBe(b.sessionId);
  });
});

describe("watch events and replies", () => {
  it("a write's watch events reach the writer's connection before the write's reply", async () => {
    const { log, a } = setup();
    log.holding = false;
    a.create("/n", "0");
    a.getData("/n", true);
    a.getChildren("/", true);
    log.holding = true;
    const w = a.send(rq.setData("/n", "1"));
    const c = a.send(rq.create("/m"));
    expect(a.conn.out.filter((o) => o.kind !== "reply" || o.xid >= w)).toEqual([]);
    await log.releaseAll();
    const tail = a.conn.out.slice(-4).map((o) => (o.kind === "reply" ? `reply ${o.xid}` : o.kind === "event" ? `event ${o.type} ${o.path}` : o.kind));
    expect(tail).toEqual([
      `event ${EventType.NodeDataChanged} /n`,
      `reply ${w}`,
      `event ${EventType.NodeChildrenChanged} /`,
      `reply ${c}`,
    ]);
  });

  it("a watch fires when the txn is applied, not when it is prepared", async () => {
    const { log, a, b } = setup();
    log.holding = false;
    a.create("/n");
    b.getData("/n", true);
    log.holding = true;
    a.send(rq.setData("/n", "x"));
    expect(b.conn.events()).toEqual([]);
    await log.releaseAll();
    expect(b.conn.eventList()).toEqual([[EventType.NodeDataChanged, "/n"]]);
  });

  it("a read queued behind a write registers its watch after that write, so it does not fire for it", async () => {
    const { log, a } = setup();
    log.holding = false;
    a.create("/n");
    log.holding = true;
    a.send(rq.setData("/n", "x"));
    const r = a.send(rq.getData("/n", true));
    await log.releaseAll();
    expect(a.conn.events()).toEqual([]);
    expect(dataOf(a, r)).toBe("x");
  });
});

describe("flow control", () => {
  it("a connection with too many requests outstanding is paused, and resumed when they drain", async () => {
    const log = new ManualCommitLog();
    const h = new Harness({ log, outstandingMax: 2 });
    log.holding = false;
    const a = h.connect();
    log.holding = true;
    a.send(rq.create("/1"));
    a.send(rq.create("/2"));
    expect(a.conn.backpressure).toBe(false);
    a.send(rq.create("/3"));
    expect(a.conn.backpressure).toBe(true);
    await log.releaseAll();
    expect(a.conn.backpressure).toBe(false);
  });
});

describe("sessions under group commit", () => {
  it("a session that expires with a write in flight still gets its replies in request order", async () => {
    const { h, log, a } = setup();
    const w = a.send(rq.create("/a"));
    h.pipeline.expire(a.sessionId);
    const r = a.send(rq.getData("/a"));
    // Nothing may overtake the write's reply.
    expect(a.conn.replies()).toEqual([]);
    await log.releaseAll();
    expect(xids(a)).toEqual([w, r]);
    expect([errOf(a, w), errOf(a, r)]).toEqual([Err.Ok, Err.SessionExpired]);
    expect(a.conn.out[a.conn.out.length - 1]!.kind).toBe("close");
    expect(a.conn.closed).toBe(true);
    expect(a.conn.sentAfterClose).toBe(0);
  });

  it("requests after closeSession get SessionExpired, in order after the close's reply", async () => {
    const { log, a } = setup();
    const close = a.send(rq.closeSession());
    const late = a.send(rq.exists("/"));
    expect(a.conn.replies()).toEqual([]);
    await log.releaseAll();
    expect(errOf(a, close)).toBe(Err.Ok);
    // The connection closes right after the closeSession reply (as ZooKeeper's does), so
    // the late request is never answered, and nothing overtook the close's reply.
    expect(xids(a)).toEqual([close]);
    expect(a.replyTo(late)).toBeUndefined();
    expect(a.conn.closed).toBe(true);
    expect(a.conn.sentAfterClose).toBe(0);
  });

  it("a createSession commits through the log like any txn", async () => {
    const log = new ManualCommitLog();
    const h = new Harness({ log });
    let sid: bigint | undefined;
    h.pipeline.createSession(10_000, (id) => (sid = id));
    expect(sid).toBeUndefined();
    expect(log.appended[0]!.hdr.opCode).toBe(OpCode.createSession);
    await log.releaseAll();
    expect(h.sessions.get(sid as never)?.timeoutMs).toBe(10_000);
  });
});
