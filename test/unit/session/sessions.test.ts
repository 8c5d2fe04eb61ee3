// Sessions (ZOOKEEPER.md §1.8): deadlines rounded up to the next tick bucket as
// ZooKeeper's ExpiryQueue.roundToNextInterval; any request touches the session; expiry
// goes through a closeSession txn that deletes the session's ephemerals, fires their
// watches and closes the session's connection; a closed or closing session answers
// SessionExpired; a reconnect must present the session's password.

import { describe, expect, it } from "vitest";
import { CreateMode, Err, EventType, OpCode } from "../../../src/jute/index.js";
import { initialSessionId } from "../../../src/pipeline/index.js";
import { SessionTable } from "../../../src/session/index.js";
import { asSessionId } from "../../../src/util/index.js";
import { Harness, ManualCommitLog, rq, testPassword } from "../pipeline/harness.js";

const S1 = asSessionId(0x101n);
const S2 = asSessionId(0x102n);
const S3 = asSessionId(0x103n);

function table(tickMs = 2000): SessionTable {
  return new SessionTable({ tickMs, passwordFor: testPassword });
}

describe("SessionTable", () => {
  it("rounds a deadline up to the next tick boundary, strictly after now + timeout", () => {
    const t = table(2000);
    expect(t.add(S1, 5000, 0).expiresAtMs).toBe(6000);
    expect(t.add(S2, 4000, 1000).expiresAtMs).toBe(6000);
    // Exactly on a boundary still goes to the next one, as (t / tick + 1) * tick.
    expect(t.add(S3, 4000, 0).expiresAtMs).toBe(6000);
  });

  it("touch pushes the deadline out from the time of the touch", () => {
    const t = table(2000);
    t.add(S1, 5000, 0);
    expect(t.touch(S1, 3000)).toBe(true);
    expect(t.get(S1)!.expiresAtMs).toBe(10_000);
    expect(t.expired(6000)).toEqual([]);
    expect(t.expired(10_000)).toEqual([S1]);
  });

  it("expired() returns each session past its deadline once, oldest first", () => {
    const t = table(1000);
    t.add(S1, 5000, 0); // 6000
    t.add(S2, 2000, 0); // 3000
    t.add(S3, 9000, 0); // 10000
    expect(t.expired(2999)).toEqual([]);
    expect(t.expired(6000)).toEqual([S2, S1]);
    expect(t.expired(6000)).toEqual([]);
    expect(t.expired(7000)).toEqual([]);
    expect(t.expired(20_000)).toEqual([S3]);
    // Expiry only reports: the session stays until its closeSession is applied.
    expect(t.size).toBe(3);
  });

  it("a closing session is neither touched nor reported as expired", () => {
    const t = table(1000);
    t.add(S1, 2000, 0);
    expect(t.markClosing(S1)).toBe(true);
    expect(t.markClosing(S1)).toBe(false);
    expect(t.touch(S1, 500)).toBe(false);
    expect(t.expired(10_000)).toEqual([]);
  });

  it("a removed session is gone from the buckets too", () => {
    const t = table(1000);
    t.add(S1, 2000, 0);
    t.remove(S1);
    expect(t.get(S1)).toBeUndefined();
    expect(t.expired(10_000)).toEqual([]);
    expect(t.touch(S1, 0)).toBe(false);
    expect(t.markClosing(S1)).toBe(false);
  });

  it("adding an existing session keeps it as it is", () => {
    const t = table(1000);
    const s = t.add(S1, 2000, 0);
    expect(t.add(S1, 9000, 5000)).toBe(s);
    expect(s.timeoutMs).toBe(2000);
  });

  it("checks a reconnecting client's password", () => {
    const t = table();
    t.add(S1, 2000, 0);
    expect(t.checkPassword(S1, testPassword(S1))).toBe(true);
    expect(t.checkPassword(S1, testPassword(S2))).toBe(false);
    expect(t.checkPassword(S1, testPassword(S1).subarray(0, 15))).toBe(false);
    expect(t.checkPassword(S1, Buffer.alloc(0))).toBe(false);
    expect(t.passwordFor(S1)).toEqual(testPassword(S1));
  });
});

describe("session ids", () => {
  it("carry the creating server's id in the top byte, as ZooKeeper's", () => {
    const id = initialSessionId(1_700_000_000_000, 5n);
    expect(BigInt.asUintN(64, id) >> 56n).toBe(5n);
    expect(BigInt.asUintN(64, initialSessionId(1_700_000_000_000, 200n)) >> 56n).toBe(200n);
  });

  it("each new session gets a new id", () => {
    const h = new Harness();
    const ids = [h.connect(), h.connect(), h.connect()].map((c) => c.sessionId);
    expect(new Set(ids).size).toBe(3);
  });
});

describe("session expiry through the pipeline", () => {
  it("a session that times out is closed: ephemerals deleted, watches fired, connection closed", () => {
    const h = new Harness({ tickMs: 2000 });
    const a = h.connect({ timeoutMs: 4000 }); // deadline 6000 (monotonic)
    const w = h.connect({ timeoutMs: 60_000 });
    a.create("/p");
    a.create("/p/e", "", { mode: CreateMode.Ephemeral });
    a.create("/keep");
    w.getData("/p/e", true);
    w.getChildren("/p", true);
    h.clock.advance(5999);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([]);
    h.clock.advance(1);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([a.sessionId]);
    expect(h.tree.get("/p/e")).toBeUndefined();
    expect(h.tree.get("/keep")).toBeDefined();
    expect(w.conn.eventList()).toEqual([
      [EventType.NodeDeleted, "/p/e"],
      [EventType.NodeChildrenChanged, "/p"],
    ]);
    expect(a.conn.closed).toBe(true);
    expect(h.sessions.get(a.sessionId)).toBeUndefined();
    expect(w.conn.closed).toBe(false);
    // Expired once only.
    h.clock.advance(10_000);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([]);
  });

  it("any request, a ping included, keeps a session alive", () => {
    const h = new Harness({ tickMs: 2000 });
    const a = h.connect({ timeoutMs: 4000 });
    h.clock.advance(5000);
    a.call(rq.ping()); // deadline 5000 + 4000 -> 10000
    h.clock.advance(4000);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([]);
    a.exists("/"); // 9000 + 4000 -> 14000
    h.clock.advance(4999);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([]);
    h.clock.advance(1);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([a.sessionId]);
  });

  it("expiring a session twice issues one closeSession txn", () => {
    const log = new ManualCommitLog();
    const h = new Harness({ log });
    log.holding = false;
    const a = h.connect();
    log.holding = true;
    h.pipeline.expire(a.sessionId);
    h.pipeline.expire(a.sessionId);
    expect(log.appended.filter((e) => e.txn.type === "closeSession")).toHaveLength(1);
    expect(log.appended[log.appended.length - 1]!.hdr.opCode).toBe(OpCode.closeSession);
  });

  it("a closing session answers new requests with SessionExpired", async () => {
    const log = new ManualCommitLog();
    const h = new Harness({ log });
    log.holding = false;
    const a = h.connect();
    log.holding = true;
    h.pipeline.expire(a.sessionId);
    expect(a.call(rq.getData("/")).err).toBe(Err.SessionExpired);
    const create = a.call(rq.create("/x", "", { mode: CreateMode.Ephemeral }));
    expect(create.err).toBe(Err.SessionExpired);
    expect(log.appended.filter((e) => e.txn.type === "create")).toEqual([]);
    await log.releaseAll();
    expect(a.conn.closed).toBe(true);
  });
});

describe("closeSession", () => {
  it("replies Ok, then closes the connection, then the session is gone", () => {
    const h = new Harness();
    const a = h.connect();
    a.create("/e", "", { mode: CreateMode.Ephemeral });
    const xid = a.send(rq.closeSession());
    expect(a.conn.out.slice(-2).map((o) => o.kind)).toEqual(["reply", "close"]);
    expect(a.replyTo(xid)!.err).toBe(Err.Ok);
    expect(h.sessions.get(a.sessionId)).toBeUndefined();
    expect(h.tree.get("/e")).toBeUndefined();
    expect(a.conn.sentAfterClose).toBe(0);
  });

  it("requests on a closed session get SessionExpired (a reconnect after close)", () => {
    const h = new Harness();
    const a = h.connect();
    a.closeSession();
    const again = h.attach(a.sessionId);
    expect(again.call(rq.getData("/")).err).toBe(Err.SessionExpired);
    expect(again.call(rq.create("/x")).err).toBe(Err.SessionExpired);
    expect(h.tree.get("/x")).toBeUndefined();
  });

  it("a session's ephemerals survive a reconnect to the same session", () => {
    const h = new Harness();
    const a = h.connect();
    a.create("/e", "", { mode: CreateMode.Ephemeral });
    h.pipeline.detach(a.queue, "connection lost");
    expect(h.tree.get("/e")).toBeDefined();
    const back = h.attach(a.sessionId);
    expect(back.getEphemerals("/").paths).toEqual(["/e"]);
    back.closeSession();
    expect(h.tree.get("/e")).toBeUndefined();
  });
});
