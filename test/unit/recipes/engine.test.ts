// The recipe engine through the pipeline, protocol v2: protected creates and re-sends,
// request ids on every event, NodeGone, FIFO/job in-flight takes and acks, session-end
// moves, and rebuild() after the tree was replaced under the engine.

import { describe, expect, it } from "vitest";
import { CorralOp, Err, JuteReader, QueueTakeRequestSchema, QueueTakeResponseSchema, RecipeEventKind, decodeRecord } from "../../../src/jute/index.js";
import { ManualCommitLog } from "../pipeline/harness.js";
import { EngineHarness, barrierWait, cancelWait, enter, events, join, leave, lock, release, replyOf, rid, semaphore, sendRecipe, take } from "./harness.js";

const names = (h: EngineHarness, path: string): string[] => [...(h.tree.get(path)?.children ?? [])].sort();

describe("locks on protocol v2", () => {
  it("a lock node is protected: _c_<requestId>-write__lock__N, and a re-send resumes it instead of making a second", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const first = lock(a, "/l", "write");
    expect(first.err).toBe(Err.Ok);
    expect(first.body!.node).toBe(`/l/_c_${first.requestId}-write__lock__0000000000`);
    expect(first.body!.granted).toBe(true);
    // The client lost the reply and re-sends on a new connection of the same session.
    const again = lock(h.attach(a.sessionId), "/l", "write", first.requestId);
    expect(again.body).toEqual(first.body);
    expect(names(h, "/l")).toHaveLength(1);
  });

  it("a waiter granted while disconnected is answered granted by its re-send (issue 13, 4)", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const held = lock(a, "/l", "write");
    const waiting = lock(b, "/l", "write");
    expect(waiting.body!.granted).toBe(false);
    b.conn.close("cut");
    h.pipeline.detach(b.queue, "cut");
    expect(release(a, held.body!.node)).toBe(Err.Ok);
    const b2 = h.attach(b.sessionId);
    const resent = lock(b2, "/l", "write", waiting.requestId);
    expect(resent.body).toMatchObject({ node: waiting.body!.node, granted: true });
  });

  it("every event carries the request id of the wait it ends", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const held = lock(a, "/l", "write");
    const w = lock(b, "/l", "read");
    release(a, held.body!.node);
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.LockGranted, node: w.body!.node, requestId: w.requestId })]);
  });

  it("a waiter whose node another session deletes gets NodeGone with its request id, never a grant", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const admin = h.connect();
    const held = lock(a, "/l", "write");
    const w = lock(b, "/l", "write");
    expect(admin.delete(w.body!.node)).toBe(Err.Ok);
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.NodeGone, node: w.body!.node, requestId: w.requestId })]);
    release(a, held.body!.node);
    expect(events(b)).toHaveLength(1);
  });

  it("an election member whose node another session deletes is told NodeGone (it re-joins), not elected", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    join(a, "/e", "a");
    const m = join(b, "/e", "b");
    h.connect().delete(m.body!.node);
    a.closeSession();
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.NodeGone, node: m.body!.node, requestId: m.requestId })]);
  });

  it("a malformed request id is BadArguments and changes nothing", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const before = h.tree.nodeCount;
    expect(lock(a, "/l", "write", "NOT-HEX!").err).toBe(Err.BadArguments);
    expect(lock(a, "/l", "write", "abc").err).toBe(Err.BadArguments);
    expect(take(a, "/q", { requestId: "" }).err).toBe(Err.BadArguments);
    expect(h.tree.nodeCount).toBe(before);
  });
});

describe("semaphores and elections on protocol v2", () => {
  it("a lease is protected and a re-send gets the same lease", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const s = semaphore(a, "/s", 1);
    expect(s.body!.node).toBe(`/s/_c_${s.requestId}-lease-0000000000`);
    expect(semaphore(a, "/s", 1, s.requestId).body).toEqual(s.body);
    expect(names(h, "/s")).toHaveLength(1);
  });

  it("a semaphore waiter granted a permit is told with its request id", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const s = semaphore(a, "/s", 1);
    const w = semaphore(b, "/s", 1);
    expect(w.body!.granted).toBe(false);
    release(a, s.body!.node);
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.LockGranted, requestId: w.requestId })]);
  });

  it("the next member is told it leads, with its request id; a re-sent join finds its member node", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const l = join(a, "/e", "a");
    expect(l.body).toMatchObject({ node: `/e/_c_${l.requestId}-n_0000000000`, leader: true });
    const f = join(b, "/e", "b");
    expect(join(b, "/e", "b", f.requestId).body).toEqual(f.body);
    expect(a.closeSession()).toBe(Err.Ok);
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.LeaderElected, node: f.body!.node, requestId: f.requestId })]);
  });
});

describe("queues on protocol v2", () => {
  const offer = (h: EngineHarness, path: string, data: string): string => {
    const c = h.connect();
    if (h.tree.get(path) === undefined) c.create(path, "");
    return c.create(`${path}/qn-`, data, { mode: 2 }).path;
  };

  it("a FIFO take moves the head to the taker's in-flight node, and a re-send gets the same item", () => {
    const h = new EngineHarness();
    offer(h, "/q", "one");
    offer(h, "/q", "two");
    const a = h.connect();
    const t = take(a, "/q");
    expect(t.body).toMatchObject({ found: true, item: `/q/_c_${t.requestId}-inflight-qn-0000000000`, data: Buffer.from("one") });
    expect(h.tree.get(t.body!.item)?.ephemeralOwner).toBe(a.sessionId);
    const again = take(h.attach(a.sessionId), "/q", { requestId: t.requestId });
    expect(again.body).toMatchObject({ found: true, item: t.body!.item, data: Buffer.from("one") });
    expect(names(h, "/q")).toEqual([`_c_${t.requestId}-inflight-qn-0000000000`, "qn-0000000001"]);
  });

  it("a take re-sent while its first send's txn is still in flight gets that item, not nothing and not another", async () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new EngineHarness({ log });
    offer(h, "/q", "only");
    const a = h.connect();
    log.holding = true;
    const requestId = rid();
    const body = { path: "/q", job: false, wait: true, requestId, ackNode: "", visibilityMs: 0n };
    sendRecipe(a, CorralOp.queueTake, QueueTakeRequestSchema, body);
    h.pipeline.detach(a.queue, "cut");
    const a2 = h.attach(a.sessionId);
    const xid = sendRecipe(a2, CorralOp.queueTake, QueueTakeRequestSchema, body);
    await log.releaseAll();
    const r = decodeRecord(new JuteReader(replyOf(a2, xid).body), QueueTakeResponseSchema);
    expect(r).toMatchObject({ found: true, item: `/q/_c_${requestId}-inflight-qn-0000000000`, data: Buffer.from("only") });
    expect(events(a2)).toEqual([]);
  });

  it("ackNode deletes the received in-flight node in the same txn as the next take", () => {
    const h = new EngineHarness();
    offer(h, "/q", "one");
    offer(h, "/q", "two");
    const a = h.connect();
    const t1 = take(a, "/q");
    const before = h.tree.lastProcessedZxid;
    const t2 = take(a, "/q", { ackNode: t1.body!.item });
    expect(h.tree.lastProcessedZxid).toBe(before + 1n);
    expect(h.tree.get(t1.body!.item)).toBeUndefined();
    expect(t2.body!.data).toEqual(Buffer.from("two"));
    // Acking a node that is gone is ignored; another session's is NoAuth.
    const b = h.connect();
    expect(take(b, "/q", { ackNode: t1.body!.item }).body!.found).toBe(false);
    expect(take(b, "/q", { ackNode: t2.body!.item }).err).toBe(Err.NoAuth);
    expect(h.tree.get(t2.body!.item)).toBeDefined();
  });

  it("a waiting take is pushed the in-flight node with its request id; a re-sent wait is not served twice", () => {
    const h = new EngineHarness();
    const a = h.connect();
    a.create("/q", "");
    const w = take(a, "/q", { wait: true });
    expect(w.body!.found).toBe(false);
    // The same wait re-sent (a reconnect to the same server): one waiter, not two.
    const a2 = h.attach(a.sessionId);
    expect(take(a2, "/q", { wait: true, requestId: w.requestId }).body!.found).toBe(false);
    offer(h, "/q", "x");
    offer(h, "/q", "y");
    const ev = events(a2);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ kind: RecipeEventKind.QueueItem, requestId: w.requestId, data: Buffer.from("x") });
    expect(names(h, "/q").filter((n) => n.startsWith("qn-"))).toHaveLength(1);
  });

  it("a take with wait on a queue that does not exist yet waits for it", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const w = take(a, "/later/q", { wait: true, job: true });
    expect(w.err).toBe(Err.Ok);
    expect(w.body!.found).toBe(false);
    expect(take(a, "/later/q2").err).toBe(Err.NoNode);
    const o = h.connect();
    o.create("/later", "");
    o.create("/later/q", "");
    o.create("/later/q/qn-", "job", { mode: 2 });
    expect(events(a)).toEqual([expect.objectContaining({ kind: RecipeEventKind.QueueItem, requestId: w.requestId, data: Buffer.from("job") })]);
  });

  it("cancelWait cancels that wait only", () => {
    const h = new EngineHarness();
    const a = h.connect();
    a.create("/q", "");
    const w1 = take(a, "/q", { wait: true });
    const w2 = take(a, "/q", { wait: true });
    expect(cancelWait(a, "/q", w1.requestId).body).toEqual({ cancelled: true });
    expect(cancelWait(a, "/q", w1.requestId).body).toEqual({ cancelled: false });
    offer(h, "/q", "x");
    expect(events(a)).toEqual([expect.objectContaining({ requestId: w2.requestId })]);
  });

  it("a taker's session end puts its in-flight items back in the closeSession txn itself", () => {
    const h = new EngineHarness();
    offer(h, "/q", "one");
    offer(h, "/q", "two");
    const a = h.connect();
    take(a, "/q");
    take(a, "/q", { job: true, visibilityMs: 60_000n });
    const before = h.tree.lastProcessedZxid;
    expect(a.closeSession()).toBe(Err.Ok);
    expect(h.tree.lastProcessedZxid).toBe(before + 1n);
    // Each under its own sequence, so in its place, with its delivery count.
    expect(names(h, "/q")).toEqual(["qn-d1-0000000000", "qn-d1-0000000001"]);
    expect(h.tree.get("/q/qn-d1-0000000000")!.data).toEqual(Buffer.from("one"));
    expect(h.tree.get("/q/qn-d1-0000000000")!.ephemeralOwner).toBe(0n);
  });

  it("an item goes back with its own ACL", () => {
    const h = new EngineHarness();
    const a = h.connect();
    a.create("/q", "");
    const acl = [{ perms: 29, id: { scheme: "world", id: "anyone" } }];
    a.create("/q/qn-", "x", { mode: 2, acl });
    take(a, "/q", { job: true });
    a.closeSession();
    expect(h.tree.get("/q/qn-d1-0000000000")!.acl).toEqual(acl);
  });

  it("an item put back at a session's end wakes a waiting consumer", () => {
    const h = new EngineHarness();
    offer(h, "/q", "one");
    const a = h.connect();
    const b = h.connect();
    take(a, "/q", { job: true });
    const w = take(b, "/q", { wait: true, job: true });
    expect(w.body!.found).toBe(false);
    a.closeSession();
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.QueueItem, requestId: w.requestId, data: Buffer.from("one") })]);
  });

  it("a job's visibility timeout puts its item back under the protected name too; a late ack finds nothing", () => {
    const h = new EngineHarness();
    offer(h, "/q", "job");
    const a = h.connect();
    const t = take(a, "/q", { job: true, visibilityMs: 1000n });
    expect(t.body!.item).toBe(`/q/_c_${t.requestId}-inflight-qn-0000000000~1000`);
    h.engine.tick(h.clock.nowMs());
    expect(h.tree.get(t.body!.item)).toBeDefined();
    h.clock.advance(1001);
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/q")).toEqual(["qn-d1-0000000000"]);
    expect(release(a, t.body!.item)).toBe(Err.NoNode);
    // Not the owner of time-driven txns (a follower): nothing is requeued here.
    const f = new EngineHarness();
    f.owns = false;
    offer(f, "/q", "job");
    const t2 = take(f.connect(), "/q", { job: true, visibilityMs: 1000n });
    f.clock.advance(5000);
    f.engine.tick(f.clock.nowMs());
    expect(f.tree.get(t2.body!.item)).toBeDefined();
  });

  it("a semaphore waiter whose lease another session deletes gets NodeGone", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    semaphore(a, "/s", 1);
    const w = semaphore(b, "/s", 1);
    h.connect().delete(w.body!.node);
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.NodeGone, node: w.body!.node, requestId: w.requestId })]);
  });

  it("admin stats see every queue in the tree, also one nobody took from", () => {
    const h = new EngineHarness();
    offer(h, "/backlog", "1");
    offer(h, "/backlog", "2");
    const qb = h.engine.bindings().find((b) => b.name === "queue") as unknown as { paths(): string[]; stats(p: string): object };
    expect(qb.paths()).toEqual(["/backlog"]);
    expect(qb.stats("/backlog")).toEqual({ depth: 2, waiters: 0, inFlight: 0 });
    take(h.connect(), "/backlog");
    expect(qb.stats("/backlog")).toEqual({ depth: 1, waiters: 0, inFlight: 1 });
  });
});

describe("double barriers on protocol v2", () => {
  it("enter and leave are idempotent by name, and events carry the request id", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const e = enter(a, "/b", "a", 2);
    expect(e.body).toEqual({ done: false });
    expect(enter(h.attach(a.sessionId), "/b", "a", 2, e.requestId).body).toEqual({ done: false });
    expect(names(h, "/b")).toEqual(["a"]);
    expect(enter(b, "/b", "b", 2).body).toEqual({ done: true });
    const a2 = h.attach(a.sessionId);
    const l = leave(a2, "/b", "a");
    expect(l.body).toEqual({ done: false });
    expect(leave(a2, "/b", "a", l.requestId).body).toEqual({ done: false });
    expect(leave(b, "/b", "b").body).toEqual({ done: true });
    expect(events(a2)).toEqual([expect.objectContaining({ kind: RecipeEventKind.DoubleBarrierLeft, requestId: l.requestId })]);
  });

  it("a participant that gives up removes its node and its enter wait goes with it", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    enter(a, "/b", "a", 3);
    a.delete("/b/a");
    enter(b, "/b", "b", 3);
    const c = h.connect();
    enter(c, "/b", "c", 3);
    expect(names(h, "/b")).toEqual(["b", "c"]);
    expect(events(a)).toEqual([]);
  });

  it("barrierWait is released with its request id; cancelWait cancels it", () => {
    const h = new EngineHarness();
    const a = h.connect();
    a.create("/gate", "");
    const w1 = barrierWait(a, "/gate");
    const w2 = barrierWait(a, "/gate");
    expect(cancelWait(a, "/gate", w2.requestId).body).toEqual({ cancelled: true });
    a.delete("/gate");
    expect(events(a)).toEqual([expect.objectContaining({ kind: RecipeEventKind.BarrierReleased, requestId: w1.requestId })]);
  });
});

describe("rebuild", () => {
  it("drops every waiter and returns their sessions; a waiter re-sent after rebuild is filed from the tree", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const held = lock(a, "/l", "write");
    const w = lock(b, "/l", "write");
    const sessions = h.engine.rebuild();
    expect([...sessions]).toEqual([b.sessionId]);
    // Nothing stale: the holder's release wakes nobody until the waiter re-sends.
    const b2 = h.attach(b.sessionId);
    expect(lock(b2, "/l", "write", w.requestId).body!.granted).toBe(false);
    release(a, held.body!.node);
    expect(events(b2)).toEqual([expect.objectContaining({ kind: RecipeEventKind.LockGranted, requestId: w.requestId })]);
  });
});

describe("rebuild after the tree changed under the engine", () => {
  it("waiter lists are rebuilt from the tree: no stale grant while another session holds", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const x = h.connect();
    const held = lock(a, "/l", "write");
    // The tree changes without the engine seeing it (as a SNAP image installs it): session
    // x now holds a write node right behind a's.
    const zxid = h.tree.lastProcessedZxid + 1n;
    const xNode = "/l/_c_eeee0000-write__lock__0000000001";
    h.tree.apply(
      {
        hdr: { sessionId: x.sessionId, cxid: 1, zxid: zxid as never, timeMs: 0, opCode: 15 },
        txn: { type: "create", path: xNode, data: null, acl: h.tree.get("/l")!.acl, ephemeralOwner: x.sessionId, parentCVersion: 2 },
      },
      [],
    );
    h.pipeline.resetZxid(zxid);
    h.engine.rebuild();
    const w = lock(b, "/l", "write");
    expect(w.body!.granted).toBe(false);
    release(a, held.body!.node);
    expect(events(b)).toEqual([]);
    release(x, xNode);
    expect(events(b)).toEqual([expect.objectContaining({ kind: RecipeEventKind.LockGranted, requestId: w.requestId })]);
  });
});
