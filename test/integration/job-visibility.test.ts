// Job queue visibility timeout: an item taken and not acked within the timeout goes back
// to the head of the queue, as when its consumer's session dies; the late ack is refused.
// The server that owns time-driven txns decides it (standalone, or the leader: a new
// leader takes over the deadlines of items taken under the old one).

import { describe, expect, it } from "vitest";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { standaloneFixture } from "../helpers/standalone-fixture.js";

const TICK_MS = 50;
const VISIBILITY_MS = 300;

const { client, standalone, onCleanup } = standaloneFixture(TICK_MS);

describe("job queue visibility timeout", () => {
  it("an item not acked in time goes back to the head, and its late ack is refused", async () => {
    const srv = await standalone();
    const [p, c1, c2] = [await client(srv.connectString), await client(srv.connectString), await client(srv.connectString)];
    const q = p.jobQueue("/jobs", { visibilityTimeoutMs: VISIBILITY_MS });
    await q.offer("a");
    await q.offer("b");
    const started = Date.now();
    const first = await c1.jobQueue("/jobs", { visibilityTimeoutMs: VISIBILITY_MS }).take();
    expect(first.data.toString()).toBe("a");
    // c2 gets "b" at once, then waits: "a" comes back to it once its timeout passes.
    const second = await c2.jobQueue("/jobs").take();
    expect(second.data.toString()).toBe("b");
    await second.ack();
    const again = await c2.jobQueue("/jobs").take({ timeoutMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(VISIBILITY_MS);
    expect(again.data.toString()).toBe("a");
    expect(again.id).not.toBe(first.id);
    await expect(first.ack()).rejects.toMatchObject({ code: "NoNode" });
    await again.ack();
    expect(await p.getChildren("/jobs")).toEqual([]);
  });

  it("an item acked in time stays acked; a take without a timeout waits for its session", async () => {
    const srv = await standalone();
    const [p, c1] = [await client(srv.connectString), await client(srv.connectString)];
    const q = p.jobQueue("/jobs2");
    await q.offer("x");
    await q.offer("y");
    const x = await c1.jobQueue("/jobs2").take({ visibilityTimeoutMs: VISIBILITY_MS });
    await x.ack();
    const y = await c1.jobQueue("/jobs2").take(); // no timeout: held until acked or the session dies
    // Well past both timeouts and many ticks later: nothing came back.
    await new Promise((r) => setTimeout(r, VISIBILITY_MS + 10 * TICK_MS));
    expect(await q.size()).toBe(0);
    expect((await p.getChildren("/jobs2")).length).toBe(1);
    await y.ack();
    expect(await p.getChildren("/jobs2")).toEqual([]);
  });

  it("refuses a negative or too long timeout, and one on a FIFO take", async () => {
    const srv = await standalone();
    const c = await client(srv.connectString);
    await c.jobQueue("/jobs3").offer("z");
    await expect(c.jobQueue("/jobs3").take({ visibilityTimeoutMs: -1 })).rejects.toMatchObject({ code: "BadArguments" });
    await expect(c.jobQueue("/jobs3", { visibilityTimeoutMs: 13 * 3_600_000 }).take()).rejects.toMatchObject({ code: "BadArguments" });
    expect(await c.jobQueue("/jobs3").size()).toBe(1);
  });

  it("a new leader requeues an item taken under the old one once its timeout passes", async () => {
    const ens: TestEnsemble = await startEnsembleForTest({ participants: 3, tickMs: TICK_MS });
    onCleanup(() => ens.stop());
    const followers = ens.followers();
    const consumer = await client(ens.connectStringOf(followers[0]!));
    const other = await client(ens.connectStringOf(followers[1]!));
    await other.jobQueue("/ejobs").offer("e");
    const job = await consumer.jobQueue("/ejobs").take({ visibilityTimeoutMs: 1500 });
    expect(job.data.toString()).toBe("e");
    await ens.stopMember(ens.leader()!);
    await ens.settled();
    const again = await other.jobQueue("/ejobs").take({ timeoutMs: 8000 });
    expect(again.data.toString()).toBe("e");
    await expect(job.ack()).rejects.toMatchObject({ code: "NoNode" });
    await again.ack();
  });
});
