// Queues through faults (issue 13, items 1, 5, 8 and 10): a take on a queue that does not
// exist yet waits for it; a take re-sent after a reconnect gets the same item, once;
// FIFO items are delivered exactly once across repeated cuts (engine); a job whose
// consumer dies before acking is taken again, on the engine and on Apache ZooKeeper
// (kazoo's LockingQueue layout); an ack after the session was lost is NoNode; a worker
// blocked in take() survives a restart of the server.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect, SessionLostError } from "../../src/client/index.js";
import { startStandaloneForTest } from "../../src/server/index.js";
import { describeBoth, outcome, reach, unique, until } from "./recipe-client-support.js";

describeBoth("queues through faults", (ctx) => {
  it("a take on a queue that does not exist yet waits for it (FIFO and job)", async () => {
    const [p, c] = [await ctx.direct(), await ctx.direct()];
    const path = unique("missing");
    const jpath = unique("missing-jobs");
    let settled = false;
    const take = c.queue(path).take().finally(() => (settled = true));
    const job = c.jobQueue(jpath).take();
    for (let i = 0; i < 5; i++) await c.exists("/");
    expect(settled).toBe(false);
    await p.queue(path).offer("first");
    await p.jobQueue(jpath).offer("j");
    expect((await take).toString()).toBe("first");
    const j = await job;
    expect(j.data.toString()).toBe("j");
    await j.ack();
  });

  it("a take waiting while its client is cut off gets the item offered meanwhile, once", async () => {
    const p = await ctx.direct();
    const { client: c, proxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
    const path = unique("away");
    await p.create(path);
    const take = outcome(c.queue(path).take({ timeoutMs: 20_000 }));
    await c.exists("/");
    proxy.refuse(true);
    proxy.cut();
    await reach(c, "SUSPENDED");
    await p.queue(path).offer("x");
    proxy.refuse(false);
    const got = await take;
    expect(got.ok && got.value.toString()).toBe("x");
    // Delivered once and acked: nothing in flight, nothing for a second take.
    await until(p, "the in-flight item is acked", async () => (await p.getChildren(path)).length === 0);
    await expect(c.queue(path).take({ timeoutMs: 200 })).rejects.toMatchObject({ code: "OperationTimeout" });
  });

  it("a job whose consumer dies before acking is taken again; a claimed job is skipped meanwhile", async () => {
    const [p, c1, c2] = [await ctx.direct(), await ctx.direct(), await ctx.direct()];
    const path = unique("requeue");
    const q = p.jobQueue(path);
    await q.offer("job-1");
    const job = await c1.jobQueue(path).take();
    expect(job.data.toString()).toBe("job-1");
    expect(await q.size()).toBe(0);
    await expect(c2.jobQueue(path).take({ timeoutMs: 200 })).rejects.toMatchObject({ code: "OperationTimeout" });
    const again = c2.jobQueue(path).take();
    await c1.close(); // dies without acking
    const j = await again;
    expect(j.data.toString()).toBe("job-1");
    await j.ack();
    expect(await p.getChildren(path)).toEqual([]);
  });

  it("an ack after the consumer's session was lost is NoNode, and the job is taken again", async () => {
    const p = await ctx.direct();
    const { client: c, proxy } = await ctx.proxied();
    const path = unique("ack-lost");
    await p.jobQueue(path).offer("j");
    const job = await c.jobQueue(path).take();
    proxy.blackhole();
    await reach(c, "LOST");
    proxy.heal();
    await expect(job.ack()).rejects.toMatchObject({ code: "NoNode" });
    const again = await p.jobQueue(path).take({ timeoutMs: 10_000 });
    expect(again.data.toString()).toBe("j");
    await again.ack();
  });

  it("a take waiting when the session is lost rejects with the LOST reason", async () => {
    const { client: c, proxy } = await ctx.proxied();
    const path = unique("take-lost");
    const take = outcome(c.jobQueue(path).take());
    await c.exists("/");
    proxy.blackhole();
    const got = await take;
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.error).toBeInstanceOf(SessionLostError);
    proxy.heal();
  });
});

describeBoth(
  "FIFO exactly once",
  (ctx) => {
    it("every FIFO item is delivered exactly once, in order, while the consumer's connection is cut again and again", async () => {
      const p = await ctx.direct();
      const { client: c, proxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
      const path = unique("fifo-cuts");
      const n = 40;
      for (let i = 0; i < n; i++) await p.queue(path).offer(`item-${i}`);
      const got: string[] = [];
      let reconnects = 0;
      c.on("connectionState", (s: string) => void (s === "RECONNECTED" && reconnects++));
      // Every other take is cut off: before its request leaves, or once it has left (its
      // reply then usually lost), so the cuts happen however fast the takes are (a timer
      // cutting every 15 ms missed them all once 40 takes took less than 25 ms).
      for (let i = 0; i < n; i++) {
        const taking = c.queue(path).take({ timeoutMs: 20_000 });
        if (i % 4 === 1) proxy.cut();
        if (i % 4 === 3) setImmediate(() => proxy.cut());
        got.push((await taking).toString());
      }
      expect(got).toEqual(Array.from({ length: n }, (_, i) => `item-${i}`));
      await until(p, "every item acked", async () => (await p.getChildren(path)).length === 0);
      expect(reconnects).toBeGreaterThan(0);
    });

    it("close() right after a take sends the pending ack first: the item does not go back to the queue", async () => {
      const p = await ctx.direct();
      const c = await ctx.direct();
      const path = unique("fifo-close");
      await p.queue(path).offer("only");
      expect((await c.queue(path).take()).toString()).toBe("only");
      await c.close(); // the ack is still pending here (it goes out on the next turn)
      expect(await p.getChildren(path)).toEqual([]);
      await expect(p.queue(path).take({ timeoutMs: 200 })).rejects.toMatchObject({ code: "OperationTimeout" });
    });
  },
  ["corral"],
);

describe("a worker blocked in jobQueue.take() across a server restart", () => {
  it("gets the job offered after the restart, on the same session", async () => {
    const dir = await mkdtemp(join(tmpdir(), "corral-restart-"));
    let srv = await startStandaloneForTest({ dataDir: dir, tickMs: 500 });
    const port = srv.port;
    const worker = await connect(srv.connectString, { sessionTimeoutMs: 8000 });
    const producer = await connect(srv.connectString, { sessionTimeoutMs: 8000 });
    try {
      const sid = worker.sessionId;
      const take = outcome(worker.jobQueue("/restart-jobs").take());
      await worker.exists("/");
      await srv.stop();
      srv = await startStandaloneForTest({ dataDir: dir, tickMs: 500, clientPort: port });
      await producer.jobQueue("/restart-jobs").offer("after-restart");
      const got = await take;
      expect(got.ok).toBe(true);
      if (got.ok) {
        expect(got.value.data.toString()).toBe("after-restart");
        await got.value.ack();
      }
      expect(worker.sessionId).toBe(sid);
    } finally {
      await worker.close();
      await producer.close();
      await srv.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
