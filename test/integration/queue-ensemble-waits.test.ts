// Queue waits in an ensemble are kept by the leader, in one FIFO per queue, whichever
// member each consumer is connected to: a consumer on a follower or an observer is served
// in its turn, not after every consumer on the leader (each member serving its own
// clients' waits let the leader's consumers win every race for an item). Real sockets, an
// in-process ensemble of 3 participants and an observer.

import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { RecipeViews, startEnsembleForTest, type QuorumServer, type TestEnsemble } from "../../src/server/index.js";
import { FaultProxy } from "../../src/testing/index.js";

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  stops = [];
});

async function ensemble(): Promise<TestEnsemble> {
  const ens = await startEnsembleForTest({ participants: 3, observers: 1, tickMs: 200 });
  stops.push(() => ens.stop());
  await ens.settled();
  return ens;
}

async function clientOf(ens: TestEnsemble, m: QuorumServer): Promise<CorralClient> {
  const c = await connect(ens.connectStringOf(m), { sessionTimeoutMs: 4000 });
  stops.push(() => c.close());
  return c;
}

/** Polls server state (no event tells it) until `cond` holds, bounded (vitest's expect.poll). */
async function until(cond: () => boolean, what: string): Promise<void> {
  await expect.poll(cond, { timeout: 10_000, interval: 5, message: what }).toBe(true);
}

/** The waiters the leader keeps on `path` (the admin `queues` view of the leader). */
function leaderWaiters(ens: TestEnsemble, path: string): number {
  const leader = ens.leader()!;
  return new RecipeViews(leader.server.engine, leader.server.tree).queues().find((q) => q.path === path)?.waiters ?? 0;
}

describe("queue waits in an ensemble", () => {
  it("consumers on a follower, the leader and an observer are served in the order they asked", async () => {
    const ens = await ensemble();
    const [f1, f2] = ens.followers();
    const [obs] = ens.observers();
    const producer = await clientOf(ens, f2!);
    await producer.create("/fair", null);
    const order = [
      ["follower", await clientOf(ens, f1!)],
      ["leader", await clientOf(ens, ens.leader()!)],
      ["observer", await clientOf(ens, obs!)],
      ["follower-2", await clientOf(ens, f2!)],
    ] as const;
    const got: Promise<string>[] = [];
    for (const [i, [, c]] of order.entries()) {
      got.push(c.queue("/fair").take({ timeoutMs: 20_000 }).then((b) => b.toString()));
      // Each wait reaches the leader before the next consumer asks.
      await until(() => leaderWaiters(ens, "/fair") === i + 1, "the leader keeps the wait");
    }
    // The follower's own view counts the wait it filed too.
    expect(new RecipeViews(f1!.server.engine, f1!.server.tree).queues().find((q) => q.path === "/fair")?.waiters).toBe(1);
    for (let i = 0; i < order.length; i++) await producer.queue("/fair").offer(`item-${i}`);
    expect(await Promise.all(got)).toEqual(["item-0", "item-1", "item-2", "item-3"]);
    expect((await producer.getChildren("/fair")).filter((n) => n.startsWith("qn-"))).toEqual([]);
  });

  it("under contention a consumer on a follower gets its share, not nothing", async () => {
    const ens = await ensemble();
    const [f1] = ens.followers();
    const leader = ens.leader()!;
    const onLeader = await clientOf(ens, leader);
    const onFollower = await clientOf(ens, f1!);
    await onLeader.create("/share", null);
    const items = 20;
    const counts = { leader: 0, follower: 0 };
    let taken = 0;
    const consume = async (c: CorralClient, who: keyof typeof counts): Promise<void> => {
      while (taken < items) {
        const data = await c.queue("/share").take({ timeoutMs: 5_000 }).catch(() => undefined);
        if (data === undefined) return;
        taken++;
        counts[who]++;
      }
    };
    const consumers = [consume(onLeader, "leader"), consume(onFollower, "follower")];
    await until(() => leaderWaiters(ens, "/share") === 2, "both consumers wait");
    // One item at a time, each offered once both consumers wait again: scarce items, the
    // case where the leader's consumers used to win every race.
    for (let i = 0; i < items; i++) {
      await onLeader.queue("/share").offer(`job-${i}`);
      await until(() => taken === i + 1, `item ${i} taken`);
      if (i + 1 < items) await until(() => leaderWaiters(ens, "/share") === 2, "both consumers wait again");
    }
    await Promise.all(consumers.map((p) => p.catch(() => undefined)));
    expect(counts.leader + counts.follower).toBe(items);
    // FIFO among waiters: each item goes to the consumer that has waited longer, so they
    // alternate.
    expect(counts.follower).toBe(items / 2);
    expect(counts.leader).toBe(items / 2);
  });

  it("a take a follower's consumer gives up leaves no item behind: the next consumer gets it", async () => {
    const ens = await ensemble();
    const [f1] = ens.followers();
    const quitter = await clientOf(ens, f1!);
    const producer = await clientOf(ens, ens.leader()!);
    await producer.create("/quit", null);
    await expect(quitter.queue("/quit").take({ timeoutMs: 300 })).rejects.toThrow();
    await until(() => leaderWaiters(ens, "/quit") === 0, "the leader dropped the wait");
    await producer.queue("/quit").offer("kept");
    const later = await clientOf(ens, f1!);
    expect((await later.queue("/quit").take({ timeoutMs: 5_000 })).toString()).toBe("kept");
  });

  it("a follower's consumer whose connection is cut while the leader keeps its wait gets the item the leader took for it", async () => {
    // The leader may take an item for the wait while the client is away: the item is the
    // session's (in flight), and the take the client re-sends on reconnecting finds it.
    const ens = await ensemble();
    const [f1] = ens.followers();
    const proxy = await FaultProxy.start({ host: "127.0.0.1", port: ens.clientPortOf(f1!) });
    stops.push(() => proxy.close());
    const consumer = await connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 10_000 });
    stops.push(() => consumer.close());
    const producer = await clientOf(ens, ens.leader()!);
    await producer.create("/cut", null);
    const sid = consumer.sessionId;
    const got = consumer.queue("/cut").take({ timeoutMs: 20_000 });
    await until(() => leaderWaiters(ens, "/cut") === 1, "the leader keeps the wait");
    proxy.refuse(true);
    proxy.cut();
    await producer.queue("/cut").offer("while-away");
    // Taken for the waiter's session while it has no connection: in flight, not in the queue.
    await until(() => leaderWaiters(ens, "/cut") === 0, "the leader took the item for the wait");
    expect((await producer.getChildren("/cut")).filter((n) => n.startsWith("qn-"))).toEqual([]);
    proxy.heal();
    expect((await got).toString()).toBe("while-away");
    expect(consumer.sessionId).toBe(sid);
  });

  it("a wait the leader keeps for a consumer whose session ends is dropped; its item stays in the queue", async () => {
    const ens = await ensemble();
    const [f1] = ens.followers();
    const gone = await clientOf(ens, f1!);
    const producer = await clientOf(ens, ens.leader()!);
    await producer.create("/gone", null);
    void gone.queue("/gone").take({ timeoutMs: 20_000 }).catch(() => undefined);
    await until(() => leaderWaiters(ens, "/gone") === 1, "the leader keeps the wait");
    await gone.close();
    await until(() => leaderWaiters(ens, "/gone") === 0, "the closed session's wait is dropped");
    await producer.queue("/gone").offer("still-here");
    expect(await producer.getChildren("/gone")).toHaveLength(1);
  });
});
