// Re-entrant locks, opt in ({ reentrant: true }), as Curator's InterProcessMutex: against
// Corral's engine and the client-side fallback on Apache ZooKeeper, a client that holds a
// lock re-entrantly is granted it again at once with the same node and token, and the node
// goes only when every handle was released; other clients still wait; without the option
// every acquire stays its own contender.

import { expect, it } from "vitest";
import { ZooKeeperError } from "../../src/client/index.js";
import { describeBoth, unique, untilChildren } from "./recipe-client-support.js";

describeBoth("re-entrant locks", (ctx) => {
  it("a re-entrant acquire shares the held lock, counted; the node goes with the last release", async () => {
    const a = await ctx.direct();
    const b = await ctx.direct();
    const path = unique("reentrant");
    const first = await a.writeLock(path, { reentrant: true });
    const second = await a.writeLock(path, { reentrant: true, timeoutMs: 2000 });
    expect(second.node).toBe(first.node);
    expect(second.token).toBe(first.token);
    expect(await a.getChildren(path)).toHaveLength(1);
    const other = b.writeLock(path);
    await untilChildren(a, path, 2);
    await first.release();
    await first.release(); // idempotent: counts once
    expect(await a.exists(second.node)).not.toBeNull();
    await second.release();
    const granted = await other;
    expect(granted.token).toBeGreaterThan(first.token);
    await granted.release();
  });

  it("a re-entrant acquire while the first still waits is granted with it", async () => {
    const a = await ctx.direct();
    const b = await ctx.direct();
    const path = unique("reentrant-wait");
    const blocker = await b.mutex(path);
    const first = a.mutex(path, { reentrant: true });
    await untilChildren(b, path, 2);
    const second = a.mutex(path, { reentrant: true });
    const tooLate = a.mutex(path, { reentrant: true, timeoutMs: 200 });
    await expect(tooLate).rejects.toBeInstanceOf(ZooKeeperError);
    await blocker.release();
    const [h1, h2] = await Promise.all([first, second]);
    expect(h2.node).toBe(h1.node);
    expect(await b.getChildren(path)).toHaveLength(1);
    await h2.release();
    await h1.release();
    expect(await b.getChildren(path)).toEqual([]);
  });

  it("without the option a second acquire is its own contender; read and write are apart", async () => {
    const a = await ctx.direct();
    const path = unique("not-reentrant");
    const held = await a.writeLock(path, { reentrant: true });
    await expect(a.writeLock(path, { timeoutMs: 300 })).rejects.toMatchObject({ code: "OperationTimeout" });
    await expect(a.readLock(path, { reentrant: true, timeoutMs: 300 })).rejects.toMatchObject({ code: "OperationTimeout" });
    await held.release();
    expect(await a.getChildren(path)).toEqual([]);
  });
});
