// The recipe API against both servers: Corral runs it in its engine (one round trip, no
// herd), Apache ZooKeeper through the client-side fallback with the same node layout.
// The same assertions hold on both; the herd counts are checked against Corral's engine.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import {
  CorralOp,
  Perms,
  NodeRequestSchema,
  encodeRecord,
} from "../../src/jute/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { startApacheZooKeeper, type ApacheZooKeeper } from "../helpers/apache-zk.js";
import { describeAgainst } from "../helpers/both-servers.js";

/** Round trips until `path` has `n` children: the waiters' requests have all landed. */
async function untilChildren(c: CorralClient, path: string, n: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const have = await c.getChildren(path).catch(() => []);
    if (have.length >= n) return;
  }
  throw new Error(`${path} never reached ${n} children`);
}

let seq = 0;
const unique = (name: string): string => `/r${process.pid}-${seq++}-${name}`;

function suite(kind: "corral" | "zookeeper", start: () => Promise<{ connectString: string; stop(): Promise<void> }>): void {
  describeAgainst(kind, "recipes", start, (ctx) => {
    const client = (): Promise<CorralClient> => ctx.client("", { sessionTimeoutMs: 6000 });

    it("knows which mode it runs in", async () => {
      const c = await client();
      expect(await c.detectRecipeMode()).toBe(kind === "corral" ? "engine" : "client");
    });

    it("a write lock excludes a second writer until released, and tokens only grow", async () => {
      const [a, b] = [await client(), await client()];
      const path = unique("lock");
      const la = await a.writeLock(path);
      let bHolds = false;
      const pb = b.writeLock(path).then((h) => ((bHolds = true), h));
      await untilChildren(a, path, 2);
      await b.exists("/");
      expect(bHolds).toBe(false);
      await la.release();
      const lb = await pb;
      expect(lb.token > la.token).toBe(true);
      await lb.release();
      expect(await a.getChildren(path)).toEqual([]);
    });

    it("readers share the lock; a writer waits for them; a reader behind a writer waits", async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const path = unique("rw");
      const r1 = await a.readLock(path);
      const r2 = await b.readLock(path);
      let wHolds = false;
      const pw = c.writeLock(path).then((h) => ((wHolds = true), h));
      await untilChildren(c, path, 3);
      let r3Holds = false;
      const pr3 = a.readLock(path).then((h) => ((r3Holds = true), h));
      await untilChildren(a, path, 4);
      await a.exists("/");
      await c.exists("/");
      expect(wHolds).toBe(false);
      expect(r3Holds).toBe(false);
      await r1.release();
      await r2.release();
      const w = await pw;
      expect(r3Holds).toBe(false);
      await w.release();
      await (await pr3).release();
    });

    it("tryLock with a timeout gives up and removes its node", async () => {
      const [a, b] = [await client(), await client()];
      const path = unique("try");
      const la = await a.mutex(path);
      await expect(b.mutex(path, { timeoutMs: 50 })).rejects.toMatchObject({ code: "OperationTimeout" });
      expect((await a.getChildren(path)).length).toBe(1);
      await la.release();
    });

    it("a release cut off by a lost connection is sent again once the session is back", async () => {
      const [a, b] = [await client(), await client()];
      const path = unique("rel");
      const held = await a.mutex(path);
      const next = b.mutex(path);
      await untilChildren(a, path, 2);
      const sid = a.sessionId;
      const released = held.release();
      a.disconnectForTest(); // before the corked request leaves: the first attempt is lost
      await released;
      expect(a.sessionId).toBe(sid); // the session lived on: only the retry freed the lock
      await (await next).release();
      expect(await a.getChildren(path)).toEqual([]);
    });

    it("one client may wait for many locks at once without a listener-leak warning", async () => {
      const [a, b] = [await client(), await client()];
      const path = unique("many");
      const held = await a.mutex(path);
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => void warnings.push(w);
      process.on("warning", onWarning);
      try {
        const waits = Array.from({ length: 12 }, () => b.mutex(path));
        await untilChildren(a, path, 13);
        await held.release();
        for (const w of waits) await (await w).release();
        await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
      } finally {
        process.off("warning", onWarning);
      }
      expect(warnings.map((w) => w.message)).toEqual([]);
    });

    it("a lock is freed when its holder's session closes, and lost fires", async () => {
      const [a, b] = [await client(), await client()];
      const path = unique("sess");
      const la = await a.mutex(path);
      const lost = new Promise((r) => la.lost.addEventListener("abort", r));
      const pb = b.mutex(path);
      await a.close();
      await lost;
      await (await pb).release();
    });

    it("a semaphore admits `permits` holders; a negative permit count is BadArguments", async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const path = unique("sem");
      const h1 = await a.semaphore(path, 2);
      const h2 = await b.semaphore(path, 2);
      let third = false;
      const p3 = c.semaphore(path, 2).then((h) => ((third = true), h));
      await untilChildren(c, path, 3);
      await c.exists("/");
      expect(third).toBe(false);
      await h1.release();
      await (await p3).release();
      await h2.release();
      await expect(a.semaphore(path, -1)).rejects.toMatchObject({ code: "BadArguments" });
    });

    it("a FIFO queue delivers every item exactly once, in order, to blocked consumers", async () => {
      const [p, c1, c2] = [await client(), await client(), await client()];
      const path = unique("q");
      const q = p.queue(path);
      await q.offer("seed");
      expect((await c1.queue(path).take()).toString()).toBe("seed");
      const takes = [c1.queue(path).take(), c2.queue(path).take(), c1.queue(path).take()];
      await c1.exists("/");
      await c2.exists("/");
      for (let i = 0; i < 3; i++) await q.offer(`item-${i}`);
      const got = (await Promise.all(takes)).map((b) => b.toString()).sort();
      expect(got).toEqual(["item-0", "item-1", "item-2"]);
      expect(await q.size()).toBe(0);
      await expect(c1.queue(path).take({ timeoutMs: 30 })).rejects.toMatchObject({ code: "OperationTimeout" });
      await q.offer("after-timeout");
      expect((await c2.queue(path).take()).toString()).toBe("after-timeout");
    });

    it("a job queue redelivers an unacked item when its consumer's session dies", async () => {
      const [p, c1, c2] = [await client(), await client(), await client()];
      const path = unique("jobs");
      const jq = p.jobQueue(path);
      await jq.offer("job-1");
      const job = await c1.jobQueue(path).take();
      expect(job.data.toString()).toBe("job-1");
      if (kind === "corral") {
        await c1.close();
        const again = await c2.jobQueue(path).take({ timeoutMs: 5000 });
        expect(again.data.toString()).toBe("job-1");
        await again.ack();
      } else {
        await job.ack();
        // Only the engine can put an item back after a visibility timeout: said, not ignored.
        await jq.offer("job-2");
        await expect(c2.jobQueue(path, { visibilityTimeoutMs: 1000 }).take()).rejects.toMatchObject({ code: "Unimplemented" });
        await (await c2.jobQueue(path).take()).ack();
      }
      expect(await jq.size()).toBe(0);
    });

    it("a double barrier lets all enter once `count` arrived and leave once all left", async () => {
      const cs = [await client(), await client(), await client()];
      const path = unique("dbl");
      const bars = cs.map((c) => c.doubleBarrier(path, 3));
      await Promise.all(bars.map((b) => b.enter({ timeoutMs: 5000 })));
      await Promise.all(bars.map((b) => b.leave({ timeoutMs: 5000 })));
      expect(await cs[0]!.getChildren(path)).toEqual([]);
    });

    it("a barrier holds waiters until removed", async () => {
      const [a, b] = [await client(), await client()];
      const path = unique("bar");
      await a.barrier(path).set();
      let passed = false;
      const w = b.barrier(path).wait().then(() => (passed = true));
      await b.exists("/");
      await b.exists("/");
      expect(passed).toBe(false);
      await a.barrier(path).remove();
      await w;
    });

    it("election: one leader; the next member leads when the leader's session goes", async () => {
      const [a, b, c] = [await client(), await client(), await client()];
      const path = unique("elect");
      const ea = a.election(path, "a");
      const eb = b.election(path, "b");
      await ea.join();
      await eb.join();
      expect(ea.isLeader()).toBe(true);
      expect(eb.isLeader()).toBe(false);
      expect((await c.election(path).leader())?.data.toString()).toBe("a");
      const bLeads = new Promise<boolean>((r) => eb.onLeadershipChange(r));
      await a.close();
      expect(await bLeads).toBe(true);
      expect((await c.election(path).leader())?.data.toString()).toBe("b");
      await eb.leave();
    });
  });
}

suite("corral", () => startStandaloneForTest());
suite("zookeeper", () => startApacheZooKeeper());

describe("no herd in Corral's engine", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startStandaloneForTest();
  });
  afterAll(() => srv.stop());

  it("releasing a write lock with 1,000 waiting writers sends exactly one grant", async () => {
    const holder = await connect(srv.connectString);
    const waiter = await connect(srv.connectString);
    const path = unique("herd");
    const h = await holder.writeLock(path);
    const waits = Array.from({ length: 1000 }, () => waiter.writeLock(path));
    await untilChildren(waiter, path, 1001);
    const before = srv.server.engine.eventsPushed;
    await h.release();
    const first = await Promise.race(waits);
    await holder.exists("/");
    expect(srv.server.engine.eventsPushed - before).toBe(1);
    await first.release();
    await waiter.close();
    await holder.close();
  });

  it("a writer's release in front of 500 readers grants the 500 readers and nobody else", async () => {
    const c = await connect(srv.connectString);
    const path = unique("herd-rw");
    const w = await c.writeLock(path);
    const readers = Array.from({ length: 500 }, () => c.readLock(path));
    const w2 = c.writeLock(path);
    await untilChildren(c, path, 502);
    const before = srv.server.engine.eventsPushed;
    await w.release();
    const held = await Promise.all(readers);
    expect(srv.server.engine.eventsPushed - before).toBe(500);
    const mid = srv.server.engine.eventsPushed;
    await Promise.all(held.slice(0, 499).map((r) => r.release()));
    await c.exists("/");
    expect(srv.server.engine.eventsPushed - mid).toBe(0);
    await held[499]!.release();
    await (await w2).release();
    expect(srv.server.engine.eventsPushed - mid).toBe(1);
    await c.close();
  });

  it("a new queue item wakes exactly one of 100 waiting consumers", async () => {
    const c = await connect(srv.connectString);
    const path = unique("herd-q");
    await c.create(path);
    const takes = Array.from({ length: 100 }, () => c.queue(path).take());
    await c.exists("/");
    await c.exists("/");
    const before = srv.server.engine.eventsPushed;
    await c.queue(path).offer("x");
    await Promise.race(takes);
    await c.exists("/");
    expect(srv.server.engine.eventsPushed - before).toBe(1);
    for (let i = 0; i < 99; i++) await c.queue(path).offer(`y${i}`);
    await Promise.all(takes);
    await c.close();
  });
});

describe("bad recipe requests get a clear error and change nothing", () => {
  let srv: TestServer;
  let c: CorralClient;
  let other: CorralClient;
  beforeAll(async () => {
    srv = await startStandaloneForTest();
    c = await connect(srv.connectString);
    other = await connect(srv.connectString);
    await c.detectRecipeMode();
  });
  afterAll(async () => {
    await c.close();
    await other.close();
    await srv.stop();
  });

  const countNodes = () => srv.server.tree.nodeCount;

  it("a take that may not remove items is NoAuth, not a wait; a waiter that loses the right is dropped, not retried", async () => {
    const world = (perms: number) => [{ perms, id: { scheme: "world", id: "anyone" } }];
    await other.detectRecipeMode();
    const noDelete = unique("acl-q");
    await c.create(noDelete, null, { acl: world(Perms.Read | Perms.Create | Perms.Admin) });
    await expect(other.queue(noDelete).take({ timeoutMs: 5_000 })).rejects.toMatchObject({ code: "NoAuth" });
    await expect(other.jobQueue(noDelete).take({ timeoutMs: 5_000 })).rejects.toMatchObject({ code: "NoAuth" });

    // Allowed when it starts waiting, not any more when an item comes.
    const revoked = unique("acl-q2");
    await c.create(revoked, null, { acl: world(Perms.All) });
    const waiting = other.queue(revoked).take({ timeoutMs: 1_000 }).catch((e: unknown) => e);
    await other.exists("/");
    await c.setACL(revoked, world(Perms.Read | Perms.Create | Perms.Admin));
    const before = srv.server.tree.lastProcessedZxid;
    await c.queue(revoked).offer("x");
    for (let i = 0; i < 20; i++) await c.exists("/");
    // The offer, and at most the one take that failed: no take is sent again and again.
    expect(srv.server.tree.lastProcessedZxid - before).toBeLessThanOrEqual(2n);
    expect(await c.queue(revoked).size()).toBe(1);
    expect(await waiting).toMatchObject({ code: "OperationTimeout" });
  });

  it("an invalid path is BadArguments", async () => {
    const before = countNodes();
    await expect(c.writeLock("no-slash")).rejects.toMatchObject({ code: "BadArguments" });
    await expect(c.writeLock("/a//b")).rejects.toMatchObject({ code: "BadArguments" });
    await expect(c.queue("/q/").take({ timeoutMs: 10 })).rejects.toMatchObject({ code: "BadArguments" });
    expect(countNodes()).toBe(before);
  });

  it("a lock under an ephemeral node is NoChildrenForEphemerals", async () => {
    await c.create("/eph-parent", null, { mode: "ephemeral" });
    const before = countNodes();
    await expect(c.writeLock("/eph-parent")).rejects.toMatchObject({ code: "NoChildrenForEphemerals" });
    expect(countNodes()).toBe(before);
  });

  it("a non-positive permit count is BadArguments", async () => {
    const before = countNodes();
    await expect(c.semaphore("/sem-bad", -1)).rejects.toMatchObject({ code: "BadArguments" });
    expect(countNodes()).toBe(before);
  });

  it("a semaphore asked with another permit count than it has is BadArguments", async () => {
    const h = await c.semaphore("/sem-2", 2);
    await expect(other.semaphore("/sem-2", 3)).rejects.toMatchObject({ code: "BadArguments" });
    await h.release();
  });

  it("releasing a lock the session does not hold is NoAuth, and the holder keeps it", async () => {
    const held = await other.writeLock("/held");
    const release = (node: string) =>
      c.request(CorralOp.release, node, (w) => encodeRecord(w, NodeRequestSchema, { node }), undefined);
    await expect(release(held.node)).rejects.toMatchObject({ code: "NoAuth" });
    expect(await c.exists(held.node)).not.toBeNull();
    await expect(release("/held/write__lock__0000000099")).rejects.toMatchObject({ code: "NoNode" });
    await held.release();
  });
});
