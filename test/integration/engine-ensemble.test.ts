// The recipe engine on a 3-member in-process ensemble, raw protocol: a job take survives a
// leader change (its re-send on the new term gets the same item), and the consumer's
// session end puts the item back on every member through the closeSession txn itself,
// prepared by the new leader.

import { afterEach, describe, expect, it } from "vitest";
import {
  CorralOp,
  LockKind,
  LockRequestSchema,
  LockResponseSchema,
  NodeRequestSchema,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RecipeEventKind,
} from "../../src/jute/index.js";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { RawClient } from "./engine-raw-client.js";

let ens: TestEnsemble | undefined;
afterEach(async () => {
  await ens?.stop();
  ens = undefined;
});

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("recipes through a leader change", () => {
  it("a job taken under the old leader is the same item on re-send, and goes back when its consumer's session ends", async () => {
    ens = await startEnsembleForTest({ participants: 3 });
    const leader = ens.leader()!;
    const follower = ens.followers()[0]!;
    const port = (m: typeof leader) => Number(ens!.connectStringOf(m).split(":")[1]);
    const producer = await RawClient.open("127.0.0.1", port(follower));
    await producer.create("/jq", "", 0);
    await producer.create("/jq/qn-", "first", 2);
    await producer.create("/jq/qn-", "second", 2);

    const consumer = await RawClient.open("127.0.0.1", port(follower));
    const requestId = "5eed0000-aaaa-4bbb-8ccc-000000000001";
    const req = { path: "/jq", job: true, wait: true, requestId, ackNode: "", visibilityMs: 0n };
    const taken = await consumer.send(CorralOp.queueTake, QueueTakeRequestSchema, req, QueueTakeResponseSchema);
    expect(taken).toMatchObject({ found: true, item: `/jq/_c_${requestId}-inflight-qn-0000000000`, data: Buffer.from("first") });

    // The leader goes; the follower drops its clients while the ensemble elects anew.
    await ens.stopMember(leader);
    await ens.settled();
    await until(() => consumer.closed, "the follower to drop its clients");
    const back = await RawClient.open("127.0.0.1", port(follower), consumer);
    const again = await back.send(CorralOp.queueTake, QueueTakeRequestSchema, req, QueueTakeResponseSchema);
    expect(again).toMatchObject({ found: true, item: taken.item, data: Buffer.from("first") });

    await back.close();
    const live = ens.members.filter((m) => m !== leader);
    // Back under its own sequence (still the head), counted as delivered once.
    await until(() => live.every((m) => m.server.tree.get("/jq/qn-d1-0000000000") !== undefined), "the item back on every member");
    for (const m of live) {
      expect([...(m.server.tree.get("/jq")?.children ?? [])].sort()).toEqual(["qn-0000000001", "qn-d1-0000000000"]);
      expect(m.server.tree.get("/jq/qn-d1-0000000000")?.data).toEqual(Buffer.from("first"));
    }
    producer.cut();
  });

  it("a follower brought back by a SNAP rebuilds its waiter chains: a new waiter is woken by the real holder's release (issue 13, item 6)", async () => {
    ens = await startEnsembleForTest({ participants: 3 });
    const leader = ens.leader()!;
    const f = ens.followers()[0]!;
    const other = ens.followers()[1]!;
    const port = (m: typeof leader) => Number(ens!.connectStringOf(m).split(":")[1]);
    const lockReq = (requestId: string) => ({ path: "/l", kind: LockKind.write, permits: 0, requestId });
    const a = await RawClient.open("127.0.0.1", port(leader));
    const held = await a.send(CorralOp.lock, LockRequestSchema, lockReq("a0000000-0000-4000-8000-000000000001"), LockResponseSchema);
    expect(held.granted).toBe(true);
    // The follower caches /l's chain (a contender that waited there, then gave up).
    const d = await RawClient.open("127.0.0.1", port(f));
    const dWait = await d.send(CorralOp.lock, LockRequestSchema, lockReq("d0000000-0000-4000-8000-000000000001"), LockResponseSchema);
    expect(dWait.granted).toBe(false);
    await d.send(CorralOp.release, NodeRequestSchema, { node: dWait.node });
    await until(() => f.server.tree.get(dWait.node) === undefined, "the give-up applied on the follower");

    // Cut the follower off; meanwhile the lock changes hands and the log moves on past
    // what a DIFF could carry, so the follower comes back by SNAP.
    f.partitionForTest([leader.me.id, other.me.id]);
    leader.partitionForTest([f.me.id]);
    other.partitionForTest([f.me.id]);
    await until(() => !f.serving, "the follower to notice");
    await a.send(CorralOp.release, NodeRequestSchema, { node: held.node });
    const c = await RawClient.open("127.0.0.1", port(leader));
    const cHeld = await c.send(CorralOp.lock, LockRequestSchema, lockReq("c0000000-0000-4000-8000-000000000001"), LockResponseSchema);
    expect(cHeld.granted).toBe(true);
    await a.create("/filler", "", 0);
    await Promise.all(Array.from({ length: 1000 }, (_, i) => a.create(`/filler/n${i}`, "x", 0)));
    const snapsBefore = f.syncsBySnapshot;
    for (const m of [f, leader, other]) m.healForTest();
    await until(() => f.serving && f.server.tree.get(cHeld.node) !== undefined, "the follower back in sync");
    expect(f.syncsBySnapshot).toBeGreaterThan(snapsBefore);

    // A new waiter on the follower waits behind the real holder, and is woken by its release.
    const b = await RawClient.open("127.0.0.1", port(f));
    const bWait = await b.send(CorralOp.lock, LockRequestSchema, lockReq("b0000000-0000-4000-8000-000000000001"), LockResponseSchema);
    expect(bWait.granted).toBe(false);
    await c.send(CorralOp.release, NodeRequestSchema, { node: cHeld.node });
    const [ev] = await b.untilEvents(1);
    expect(ev).toMatchObject({ kind: RecipeEventKind.LockGranted, node: bWait.node, requestId: "b0000000-0000-4000-8000-000000000001" });
    for (const x of [a, b, c, d]) x.cut();
  }, 30_000);
});
