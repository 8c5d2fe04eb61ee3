// The recipe engine on a 3-member in-process ensemble, raw protocol: a job take survives a
// leader change (its re-send on the new term gets the same item), and the consumer's
// session end puts the item back on every member through the closeSession txn itself,
// prepared by the new leader.

import { afterEach, describe, expect, it } from "vitest";
import { CorralOp, OpCode, QueueTakeRequestSchema, QueueTakeResponseSchema } from "../../src/jute/index.js";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { RawClient } from "./engine-raw-client.js";

let ens: TestEnsemble | undefined;
afterEach(async () => {
  await ens?.stop();
  ens = undefined;
});

async function create(c: RawClient, path: string, data: string, flags: number): Promise<void> {
  await c.call(OpCode.create, undefined, (w) => {
    w.ustring(path);
    w.buffer(Buffer.from(data));
    w.int(1);
    w.int(31);
    w.ustring("world");
    w.ustring("anyone");
    w.int(flags);
  });
}

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
    await create(producer, "/jq", "", 0);
    await create(producer, "/jq/qn-", "first", 2);
    await create(producer, "/jq/qn-", "second", 2);

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
    await until(() => live.every((m) => m.server.tree.get("/jq/qn-0000000000") !== undefined), "the item back on every member");
    for (const m of live) {
      expect([...(m.server.tree.get("/jq")?.children ?? [])].sort()).toEqual(["qn-0000000000", "qn-0000000001"]);
      expect(m.server.tree.get("/jq/qn-0000000000")?.data).toEqual(Buffer.from("first"));
    }
    producer.cut();
  });
});
