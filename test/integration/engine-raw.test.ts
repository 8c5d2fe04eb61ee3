// The recipe protocol (v2) on the wire, against a real standalone server over TCP, with a
// raw client: bad requests get a clear error and change nothing (moved here from
// recipes.test.ts, whose raw cases used the v1 records), and re-sends after a cut
// connection get the same node or item, never a second one.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CorralOp,
  Err,
  LockRequestSchema,
  LockResponseSchema,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RecipeEventKind,
  SemaphoreRequestSchema,
  LockKind,
  NodeRequestSchema,
} from "../../src/jute/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { RawClient } from "./engine-raw-client.js";

let n = 0;
const rid = (): string => `${(0xa0000000 + n++).toString(16)}-1111-4222-8333-${process.pid.toString(16).padStart(12, "0")}`;

describe("the recipe protocol on the wire", () => {
  let srv: TestServer;
  let a: RawClient;
  let b: RawClient;
  beforeAll(async () => {
    srv = await startStandaloneForTest();
    a = await RawClient.open(srv.host, srv.port);
    b = await RawClient.open(srv.host, srv.port);
  });
  afterAll(async () => {
    await a.close().catch(() => undefined);
    await b.close().catch(() => undefined);
    await srv.stop();
  });

  const countNodes = () => srv.server.tree.nodeCount;
  const rawLock = (c: RawClient, path: string, kind: number, requestId = rid()) =>
    c.send(CorralOp.lock, LockRequestSchema, { path, kind, permits: 0, requestId }, LockResponseSchema);

  it("a wrong lock mode is BadArguments", async () => {
    const before = countNodes();
    await expect(rawLock(a, "/mode-lock", 7)).rejects.toMatchObject({ err: Err.BadArguments });
    expect(countNodes()).toBe(before);
  });

  it("a non-positive permit count sent raw is BadArguments", async () => {
    const before = countNodes();
    const raw = a.send(CorralOp.semaphoreAcquire, SemaphoreRequestSchema, { path: "/sem-bad", permits: -3, requestId: rid() }, LockResponseSchema);
    await expect(raw).rejects.toMatchObject({ err: Err.BadArguments });
    expect(countNodes()).toBe(before);
  });

  it("a malformed request id is BadArguments", async () => {
    const before = countNodes();
    await expect(rawLock(a, "/bad-id", LockKind.write, "Z")).rejects.toMatchObject({ err: Err.BadArguments });
    await expect(rawLock(a, "/bad-id", LockKind.write, "x".repeat(65))).rejects.toMatchObject({ err: Err.BadArguments });
    expect(countNodes()).toBe(before);
  });

  it("another session's request id does not resume that session's node", async () => {
    const held = await rawLock(b, "/resume", LockKind.write);
    const requestId = held.node.slice("/resume/_c_".length, held.node.indexOf("-write"));
    const mine = await rawLock(a, "/resume", LockKind.write, requestId);
    expect(mine.node).not.toBe(held.node);
    expect(mine.granted).toBe(false);
  });

  it("a lock re-sent on a new connection after a cut resumes the same node, granted meanwhile", async () => {
    const holder = await RawClient.open(srv.host, srv.port);
    const waiter = await RawClient.open(srv.host, srv.port);
    const held = await rawLock(holder, "/cut-lock", LockKind.write);
    const requestId = rid();
    const first = await rawLock(waiter, "/cut-lock", LockKind.write, requestId);
    expect(first.granted).toBe(false);
    waiter.cut();
    await holder.send(CorralOp.release, NodeRequestSchema, { node: held.node });
    await holder.close();
    const again = await RawClient.open(srv.host, srv.port, waiter);
    const resent = await rawLock(again, "/cut-lock", LockKind.write, requestId);
    expect(resent).toMatchObject({ node: first.node, granted: true });
    expect(srv.server.tree.get("/cut-lock")?.children?.size).toBe(1);
    await again.close();
  });

  it("a take re-sent after a cut gets the same item, and the item is not lost when the taker's session ends", async () => {
    const producer = await RawClient.open(srv.host, srv.port);
    const tree = srv.server.tree;
    await producer.call(1, undefined, (w) => {
      w.ustring("/rq");
      w.buffer(null);
      w.int(1);
      w.int(31);
      w.ustring("world");
      w.ustring("anyone");
      w.int(0);
    });
    for (const d of ["a", "b"]) await producer.create("/rq/qn-", d, 2);
    const taker = await RawClient.open(srv.host, srv.port);
    const requestId = rid();
    const takeReq = { path: "/rq", job: false, wait: true, requestId, ackNode: "", visibilityMs: 0n };
    const first = await taker.send(CorralOp.queueTake, QueueTakeRequestSchema, takeReq, QueueTakeResponseSchema);
    expect(first).toMatchObject({ found: true, data: Buffer.from("a") });
    taker.cut();
    const again = await RawClient.open(srv.host, srv.port, taker);
    const resent = await again.send(CorralOp.queueTake, QueueTakeRequestSchema, takeReq, QueueTakeResponseSchema);
    expect(resent).toMatchObject({ found: true, item: first.item, data: Buffer.from("a") });
    await again.close();
    // The session ended holding "a" in flight: it is back under its own sequence (the
    // head), counted as delivered once.
    expect([...(tree.get("/rq")?.children ?? [])].sort()).toEqual(["qn-0000000001", "qn-d1-0000000000"]);
    expect(tree.get("/rq/qn-d1-0000000000")?.data).toEqual(Buffer.from("a"));
    // A waiting take is pushed its item with its request id.
    const w = await RawClient.open(srv.host, srv.port);
    await w.send(CorralOp.queueTake, QueueTakeRequestSchema, { ...takeReq, requestId: rid() }, QueueTakeResponseSchema);
    await w.send(CorralOp.queueTake, QueueTakeRequestSchema, { ...takeReq, requestId: rid() }, QueueTakeResponseSchema);
    const waitId = rid();
    const waiting = await w.send(CorralOp.queueTake, QueueTakeRequestSchema, { ...takeReq, requestId: waitId }, QueueTakeResponseSchema);
    expect(waiting.found).toBe(false);
    await producer.call(1, undefined, (wr) => {
      wr.ustring("/rq/qn-");
      wr.buffer(Buffer.from("c"));
      wr.int(1);
      wr.int(31);
      wr.ustring("world");
      wr.ustring("anyone");
      wr.int(2);
    });
    const [ev] = await w.untilEvents(1);
    expect(ev).toMatchObject({ kind: RecipeEventKind.QueueItem, requestId: waitId, data: Buffer.from("c") });
    await w.close();
    await producer.close();
  });

  it("a rebuild closes the connections of the sessions that waited here, and their re-sends are filed from the tree", async () => {
    const holder = await RawClient.open(srv.host, srv.port);
    const waiter = await RawClient.open(srv.host, srv.port);
    const held = await rawLock(holder, "/rebuilt", LockKind.write);
    const requestId = rid();
    const first = await rawLock(waiter, "/rebuilt", LockKind.write, requestId);
    expect(first.granted).toBe(false);
    // (Every session that waits on this server: the waiter here, and the one the test above left waiting.)
    expect(srv.server.rebuildRecipes("test: the tree was replaced")).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 200 && !waiter.closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(waiter.closed).toBe(true);
    expect(holder.closed).toBe(false);
    const again = await RawClient.open(srv.host, srv.port, waiter);
    expect(await rawLock(again, "/rebuilt", LockKind.write, requestId)).toMatchObject({ node: first.node, granted: false });
    await holder.send(CorralOp.release, NodeRequestSchema, { node: held.node });
    const [ev] = await again.untilEvents(1);
    expect(ev).toMatchObject({ kind: RecipeEventKind.LockGranted, node: first.node, requestId });
    await again.close();
    await holder.close();
  });
});
