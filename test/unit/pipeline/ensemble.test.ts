// The pipeline's ensemble roles: a leader applying what ZAB commits in the same batch
// it steps down in, a learner forwarding writes and completing them when the leader's
// txn is applied, and a server that does not serve preparing nothing.

import { describe, expect, it } from "vitest";
import { CreateMode, Err, OpCode } from "../../../src/jute/index.js";
import { decodeForward, encodeForward, type Forwarded } from "../../../src/pipeline/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";
import { Harness, ManualCommitLog, rq } from "./harness.js";

describe("a leader's pipeline under ZAB", () => {
  it("commitThrough applies its proposals at once, so a step-down right after cannot lose them", () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    const c = h.connect();
    log.holding = true;
    const xid = c.send(rq.create("/committed", "x"));
    const zxid = log.appended.at(-1)!.hdr.zxid;
    expect(h.tree.get("/committed")).toBeUndefined();
    h.pipeline.commitThrough(zxid);
    expect(h.tree.get("/committed")).toBeDefined();
    expect(c.replyTo(xid)?.err).toBe(Err.Ok);
    // The step-down that follows forgets only what was not committed.
    c.send(rq.create("/uncommitted"));
    h.pipeline.abandonOutstanding();
    expect(h.pipeline.outstandingCount).toBe(0);
    expect(h.tree.get("/uncommitted")).toBeUndefined();
    expect(h.tree.get("/committed")).toBeDefined();
  });

  it("a session whose closeSession was abandoned by a step-down expires again later (found by the recipe fault suite, seed 21)", async () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log, tickMs: 100 });
    const c = h.connect({ timeoutMs: 1_000 });
    c.create("/held-by", "x", { mode: CreateMode.Ephemeral });
    // The leader expires the session, but its closeSession never commits: it steps down.
    log.holding = true;
    h.clock.advance(2_000);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([c.sessionId]);
    h.pipeline.abandonOutstanding();
    // What the log held is never applied now (TRUNC would cut it).
    log.holding = false;
    await log.releaseAll();
    expect(h.tree.get("/held-by")).toBeDefined();
    // Leading again later, it must still expire the session: not before a full timeout...
    h.clock.advance(500);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([]);
    // ...and then, with the session's ephemerals going with it.
    h.clock.advance(1_000);
    expect(h.pipeline.expireSessions(h.clock.monotonicMs())).toEqual([c.sessionId]);
    expect(h.tree.get("/held-by")).toBeUndefined();
  });

  it("resetZxid starts a new epoch's zxids; it refuses while txns are in flight", () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    const c = h.connect();
    h.pipeline.resetZxid(0x2_0000_0000n);
    c.create("/e2");
    expect(h.tree.get("/e2")!.czxid).toBe(0x2_0000_0001n);
    log.holding = true;
    c.send(rq.create("/held"));
    expect(() => h.pipeline.resetZxid(0x3_0000_0000n)).toThrow(/in flight/);
  });
});

describe("a learner's pipeline", () => {
  it("forwards writes with the session's identities and answers them when the leader's txn is applied", () => {
    const h = new Harness();
    const c = h.connect({ authIds: [{ scheme: "digest", id: "u:hash" }] });
    const sent: Forwarded[] = [];
    h.pipeline.setForwarder((f) => sent.push(decodeForward(encodeForward(f))));
    const xid = c.send(rq.create("/fwd", "data"));
    expect(c.replyTo(xid)).toBeUndefined();
    expect(sent).toHaveLength(1);
    const f = sent[0]!;
    expect(f).toMatchObject({ sessionId: c.sessionId, cxid: xid, opCode: OpCode.create2 });
    expect(f.authIds).toContainEqual({ scheme: "digest", id: "u:hash" });
    // The leader prepared it; the committed txn comes back and is applied here.
    const zxid = asZxid(h.tree.lastProcessedZxid + 1n);
    h.pipeline.applyRemote({
      hdr: { sessionId: c.sessionId, cxid: xid, zxid, timeMs: 1, opCode: OpCode.create2 },
      txn: { type: "create", path: "/fwd", data: Buffer.from("data"), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], ephemeralOwner: 0n, parentCVersion: 5 },
    });
    expect(c.replyTo(xid)?.err).toBe(Err.Ok);
    expect(c.getData("/fwd").data).toBe("data");
  });

  it("a read waits behind the session's forwarded write", () => {
    const h = new Harness();
    const c = h.connect();
    h.pipeline.setForwarder(() => undefined);
    const w = c.send(rq.create("/later"));
    const r = c.send(rq.exists("/later"));
    expect(c.replyTo(r)).toBeUndefined();
    h.pipeline.applyRemote({
      hdr: { sessionId: c.sessionId, cxid: w, zxid: asZxid(h.tree.lastProcessedZxid + 1n), timeMs: 1, opCode: OpCode.create2 },
      txn: { type: "create", path: "/later", data: null, acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], ephemeralOwner: 0n, parentCVersion: 5 },
    });
    expect(c.replyTo(r)?.err).toBe(Err.Ok);
  });

  it("a session the leader expires loses its connection here", () => {
    const h = new Harness();
    const c = h.connect();
    h.pipeline.setForwarder(() => undefined);
    h.pipeline.applyRemote({
      hdr: { sessionId: asSessionId(c.sessionId), cxid: 0, zxid: asZxid(h.tree.lastProcessedZxid + 1n), timeMs: 1, opCode: OpCode.closeSession },
      txn: { type: "closeSession" },
    });
    expect(c.conn.out.some((o) => o.kind === "close")).toBe(true);
  });
});
