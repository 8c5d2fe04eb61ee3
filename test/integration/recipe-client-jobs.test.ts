// The job queue's nack, extend, dead letters and delayed offers (issue 16) over real
// sockets: on a standalone server, on a 3-member ensemble with the consumers on followers
// (their requests forwarded to the leader, which owns the time-driven moves), and what the
// client-side fallback does against Apache ZooKeeper (nack works; the rest refuses with
// Unimplemented).

import { describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, type TestEnsemble, type TestServer } from "../../src/server/index.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { describeBoth, outcome, reach, unique } from "./recipe-client-support.js";
import { standaloneFixture, childrenWhen } from "../helpers/standalone-fixture.js";

const TICK_MS = 50;

const { client, standalone, onCleanup } = standaloneFixture(TICK_MS);


describe("job queue: nack, extend, dead letters, delayed offers (standalone)", () => {
  it("nack hands the item back at once, ahead of later items, and counts the delivery", async () => {
    const srv = await standalone();
    const [p, c1, c2] = [await client(srv.connectString), await client(srv.connectString), await client(srv.connectString)];
    await p.jobQueue("/nj").offer("a");
    await p.jobQueue("/nj").offer("b");
    const first = await c1.jobQueue("/nj", { visibilityTimeoutMs: 600_000 }).take();
    expect(first).toMatchObject({ data: Buffer.from("a"), deliveries: 1 });
    await first.nack();
    const again = await c2.jobQueue("/nj").take();
    expect(again).toMatchObject({ data: Buffer.from("a"), deliveries: 2 });
    await expect(first.ack()).rejects.toMatchObject({ code: "NoNode" });
    await expect(first.nack()).rejects.toMatchObject({ code: "NoNode" });
    await again.ack();
    expect((await c2.jobQueue("/nj").take()).data.toString()).toBe("b");
  });

  it("extend keeps the item past its first timeout; without it the item comes back", async () => {
    const srv = await standalone();
    const [p, c1, c2] = [await client(srv.connectString), await client(srv.connectString), await client(srv.connectString)];
    await p.jobQueue("/xj").offer("long");
    const job = await c1.jobQueue("/xj", { visibilityTimeoutMs: 300 }).take();
    const firstId = job.id;
    await job.extend(60_000);
    expect(job.id).not.toBe(firstId);
    expect(job.id).toMatch(/~60000$/);
    // Well past the first timeout, nothing came back for another consumer.
    await expect(c2.jobQueue("/xj").take({ timeoutMs: 900 })).rejects.toMatchObject({ code: "OperationTimeout" });
    await job.extend(200);
    const back = await c2.jobQueue("/xj").take({ timeoutMs: 5000 });
    expect(back).toMatchObject({ data: Buffer.from("long"), deliveries: 2 });
    await expect(job.extend(1000)).rejects.toMatchObject({ code: "NoNode" });
    await expect(job.ack()).rejects.toMatchObject({ code: "NoNode" });
    await expect(back.extend(0)).rejects.toMatchObject({ code: "BadArguments" });
    await back.ack();
  });

  it("an item delivered maxDeliveries times without an ack lands in the dead-letter queue with its count; later items flow on", async () => {
    const srv = await standalone();
    const [p, c] = [await client(srv.connectString), await client(srv.connectString)];
    const opts = { maxDeliveries: 2, deadLetterPath: "/dj-dead" };
    await p.jobQueue("/dj", opts).offer("poison");
    await p.jobQueue("/dj", opts).offer("fine");
    expect(JSON.parse((await p.getData("/dj")).data!.toString())).toEqual(opts);
    const q = c.jobQueue("/dj", opts);
    await (await q.take()).nack();
    const second = await q.take();
    expect(second).toMatchObject({ data: Buffer.from("poison"), deliveries: 2 });
    await second.nack();
    expect(await childrenWhen(p, "/dj-dead", 1)).toEqual(["qn-d2-0000000000"]);
    const next = await q.take();
    expect(next.data.toString()).toBe("fine");
    await next.ack();
    // The dead-letter queue is a job queue too.
    const dead = await c.jobQueue("/dj-dead").take();
    expect(dead).toMatchObject({ data: Buffer.from("poison"), deliveries: 3 });
    await dead.ack();
    // Another policy for the same queue is refused, as is half a policy.
    await expect(c.jobQueue("/dj", { maxDeliveries: 5, deadLetterPath: "/dj-dead" }).take()).rejects.toMatchObject({ code: "BadArguments" });
    await expect(c.jobQueue("/dj2", { maxDeliveries: 5 }).offer("x")).rejects.toMatchObject({ code: "BadArguments" });
  });

  it("a session's end counts as a delivery: with maxDeliveries 1 the item of a dead consumer goes to the dead letters", async () => {
    const srv = await standalone();
    const p = await client(srv.connectString);
    const opts = { maxDeliveries: 1, deadLetterPath: "/sj-dead" };
    const q = p.jobQueue("/sj", opts);
    await q.offer("crashes-its-worker");
    const worker = await connect(srv.connectString, { sessionTimeoutMs: 4000 });
    await worker.jobQueue("/sj", opts).take();
    await worker.close();
    expect(await childrenWhen(p, "/sj-dead", 1)).toEqual(["qn-d1-0000000000"]);
    expect(await p.jobQueue("/sj").size()).toBe(0);
    // The queue node outlives its items (persistent); deleted anyway, the handle's next
    // offer makes it again with the policy.
    await p.delete("/sj");
    await q.offer("again");
    expect(JSON.parse((await p.getData("/sj")).data!.toString())).toEqual(opts);
  });

  it("a delayed offer is not taken before its delay, then is", async () => {
    const srv = await standalone();
    const [p, c] = [await client(srv.connectString), await client(srv.connectString)];
    const started = Date.now();
    expect(await p.jobQueue("/lj").offer("later", { delayMs: 500 })).toMatch(/^qd-500-\d{10}$/);
    await p.jobQueue("/lj").offer("now");
    expect((await c.jobQueue("/lj").take()).data.toString()).toBe("now");
    expect(await c.jobQueue("/lj").size()).toBe(0);
    const later = await c.jobQueue("/lj").take({ timeoutMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(later.data.toString()).toBe("later");
    await later.ack();
    await expect(p.jobQueue("/lj").offer("x", { delayMs: -1 })).rejects.toMatchObject({ code: "BadArguments" });
  });
});

describe("job queue calls whose reply is lost", () => {
  /** A consumer behind a proxy that delays every frame, so a reply can be cut off in flight. */
  async function behindProxy(srv: TestServer): Promise<{ c: CorralClient; proxy: FaultProxy }> {
    const proxy = await FaultProxy.start({ host: srv.host, port: srv.port });
    onCleanup(() => proxy.close());
    const c = await client(`${proxy.host}:${proxy.port}`);
    return { c, proxy };
  }

  /** Resolves when `path` next changes children (a watch set now). */
  function nextChildChange(c: CorralClient, path: string): Promise<void> {
    return new Promise((resolve, reject) => void c.getChildren(path, { watch: () => resolve() }).catch(reject));
  }

  it("a nack applied but whose reply was lost is re-sent on the same session and resolves; the item is back once", async () => {
    const srv = await standalone();
    const p = await client(srv.connectString);
    const { c, proxy } = await behindProxy(srv);
    await p.jobQueue("/lost-nack").offer("n");
    const job = await c.jobQueue("/lost-nack").take();
    const sid = c.sessionId;
    proxy.delay(300);
    const changed = nextChildChange(p, "/lost-nack");
    const nacked = job.nack();
    await changed; // applied on the server; its reply is still in the proxy
    const back = reach(c, "RECONNECTED");
    proxy.cut();
    proxy.heal();
    await back;
    await nacked;
    expect(c.sessionId).toBe(sid);
    expect(await p.getChildren("/lost-nack")).toEqual(["qn-d1-0000000000"]);
  });

  it("an extend applied but whose reply was lost is re-sent with the old name and answered with the renamed node", async () => {
    const srv = await standalone();
    const p = await client(srv.connectString);
    const { c, proxy } = await behindProxy(srv);
    await p.jobQueue("/lost-extend").offer("x");
    const job = await c.jobQueue("/lost-extend").take({ visibilityTimeoutMs: 60_000 });
    proxy.delay(300);
    const changed = nextChildChange(p, "/lost-extend");
    const extended = job.extend(120_000);
    await changed;
    const back = reach(c, "RECONNECTED");
    proxy.cut();
    proxy.heal();
    await back;
    await extended;
    expect(job.id).toMatch(/~120000$/);
    expect(await p.getChildren("/lost-extend")).toEqual([job.id.slice("/lost-extend/".length)]);
    await job.ack();
    expect(await p.getChildren("/lost-extend")).toEqual([]);
  });
});

describe("job queue pieces on a 3-member ensemble", () => {
  it("nack, extend, dead letters and delayed offers work from followers; the leader makes the timed moves", async () => {
    const ens: TestEnsemble = await startEnsembleForTest({ participants: 3, tickMs: TICK_MS });
    onCleanup(() => ens.stop());
    await ens.settled();
    const [f1, f2] = ens.followers();
    const a = await client(ens.connectStringOf(f1!));
    const b = await client(ens.connectStringOf(f2!));
    const opts = { maxDeliveries: 2, deadLetterPath: "/ej-dead" };
    const qa = a.jobQueue("/ej", opts);
    const qb = b.jobQueue("/ej", opts);
    await qa.offer("p");
    const t1 = await qb.take({ visibilityTimeoutMs: 200 });
    await t1.extend(60_000);
    await t1.nack();
    const t2 = await qa.take();
    expect(t2).toMatchObject({ data: Buffer.from("p"), deliveries: 2 });
    await t2.nack();
    expect(await childrenWhen(b, "/ej-dead", 1)).toEqual(["qn-d2-0000000000"]);
    await qa.offer("d", { delayMs: 300 });
    const d = await qb.take({ timeoutMs: 8000 });
    expect(d.data.toString()).toBe("d");
    await d.ack();
  });
});

describeBoth("job queue pieces on either server", (ctx) => {
  it("nack frees the item for the next taker at once", async () => {
    const [p, c1, c2] = [await ctx.direct(), await ctx.direct(), await ctx.direct()];
    const path = unique("nack");
    await p.jobQueue(path).offer("n");
    const job = await c1.jobQueue(path).take();
    await job.nack();
    const again = await c2.jobQueue(path).take({ timeoutMs: 5000 });
    expect(again.data.toString()).toBe("n");
    await again.ack();
  });

  it("extend, delayed offers and dead letters need the engine: Unimplemented against Apache ZooKeeper", async () => {
    const c = await ctx.direct();
    const path = unique("engine-only");
    await c.jobQueue(path).offer("e");
    const job = await c.jobQueue(path).take();
    const results = [
      await outcome(job.extend(1000)),
      await outcome(c.jobQueue(path).offer("later", { delayMs: 100 })),
      await outcome(c.jobQueue(path, { maxDeliveries: 1, deadLetterPath: `${path}-dead` }).offer("x")),
    ];
    if (ctx.kind === "zookeeper") {
      for (const r of results) expect(r).toMatchObject({ ok: false, error: { code: "Unimplemented" } });
    } else {
      for (const r of results) expect(r.ok).toBe(true);
    }
    await job.ack();
  });
});
