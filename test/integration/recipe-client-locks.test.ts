// Locks through faults (issue 13, items 3, 4, 8 and 10), against Corral's engine and the
// client-side fallback on Apache ZooKeeper: a cut-off holder's `lost` fires before anyone
// else is granted; a waiter granted while its client was disconnected gets the lock once
// back; a wait ends with the session's LOST reason instead of hanging; `lost` fires only
// while held, and says ClientClosedError on close(); a give-up while disconnected removes
// the node once the session is back; a request cut after the server made its node leaves
// no orphan (the engine's protected create, and Curator's protected mode in the fallback).

import { expect, it } from "vitest";
import { ClientClosedError, SessionLostError } from "../../src/client/index.js";
import { describeBoth, outcome, reach, unique, until, untilChildren } from "./recipe-client-support.js";

describeBoth("locks through faults", (ctx) => {
  it("a cut-off holder's lost fires (SessionLostError) before the waiter is granted", async () => {
    const { client: a, proxy } = await ctx.proxied();
    const b = await ctx.direct();
    const path = unique("lost-first");
    const held = await a.mutex(path);
    let lostAt: number | undefined;
    held.lost.addEventListener("abort", () => (lostAt = performance.now()));
    const waiting = b.mutex(path).then((h) => ({ h, at: performance.now() }));
    await untilChildren(b, path, 2);
    proxy.blackhole();
    const granted = await waiting;
    expect(lostAt).toBeDefined();
    expect(lostAt!).toBeLessThan(granted.at);
    expect(held.lost.reason).toBeInstanceOf(SessionLostError);
    await granted.h.release();
    proxy.heal();
  });

  it("a waiter granted while its client was disconnected gets the lock once it is back", async () => {
    const a = await ctx.direct({ sessionTimeoutMs: 4000 });
    const { client: b, proxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
    const path = unique("granted-away");
    const held = await a.mutex(path);
    const sid = b.sessionId;
    const waiting = outcome(b.mutex(path, { timeoutMs: 20_000 }));
    await untilChildren(a, path, 2);
    proxy.refuse(true);
    proxy.cut();
    await reach(b, "SUSPENDED");
    await held.release(); // granted to b while it is away
    proxy.refuse(false);
    const got = await waiting;
    expect(got.ok).toBe(true);
    expect(b.sessionId).toBe(sid);
    if (!got.ok) return;
    expect(await a.exists(got.value.node)).not.toBeNull();
    expect(got.value.lost.aborted).toBe(false);
    await got.value.release();
    expect(await a.getChildren(path)).toEqual([]);
  });

  it("a wait ends with the LOST reason when the session is lost, and never hangs", async () => {
    const a = await ctx.direct();
    const { client: b, proxy } = await ctx.proxied();
    const path = unique("wait-lost");
    const held = await a.mutex(path);
    const waiting = outcome(b.mutex(path));
    await untilChildren(a, path, 2);
    proxy.blackhole();
    const got = await waiting;
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.error).toBeInstanceOf(SessionLostError);
    proxy.heal();
    await held.release();
  });

  it("lost fires only while held: never after release(); ClientClosedError on close()", async () => {
    const a = await ctx.direct();
    const path = unique("lost-close");
    const released = await a.mutex(path);
    await released.release();
    const held = await a.mutex(path);
    const reason = new Promise<unknown>((r) => held.lost.addEventListener("abort", () => r(held.lost.reason)));
    await a.close();
    expect(await reason).toBeInstanceOf(ClientClosedError);
    expect(released.lost.aborted).toBe(false);
  });

  it("a wait given up while disconnected removes its node once the session is back", async () => {
    const a = await ctx.direct({ sessionTimeoutMs: 4000 });
    const { client: b, proxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
    const path = unique("giveup-away");
    const held = await a.mutex(path);
    const ctrl = new AbortController();
    const waiting = outcome(b.mutex(path, { signal: ctrl.signal }));
    await untilChildren(a, path, 2);
    proxy.refuse(true);
    proxy.cut();
    await reach(b, "SUSPENDED");
    ctrl.abort(new Error("gave up"));
    const got = await waiting; // at once, not once the session is back
    expect(got.ok).toBe(false);
    proxy.refuse(false);
    await untilChildren(a, path, 1);
    await held.release();
  });
});

describeBoth(
  "lock requests cut mid-request",
  (ctx) => {
    // Engine: the re-send carries the same requestId and the engine answers from the node
    // the first send made. Fallback: Curator's protected mode, looking for the node's token.
    it("a lock request whose reply is lost with the connection leaves no orphan node: the re-send finds it", async () => {
      const a = await ctx.direct();
      const { client: b, proxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
      await b.detectRecipeMode();
      const path = unique("orphan");
      const held = await a.mutex(path);
      proxy.delay(600); // every request reaches the server 0.6 s late, and its reply as late again
      const waiting = outcome(b.mutex(path, { timeoutMs: 20_000 }));
      await untilChildren(a, path, 2); // the server made b's node; its reply is still on the way
      proxy.heal();
      proxy.cut(); // ... and is lost with the connection
      await reach(b, "RECONNECTED");
      await until(a, "b is filed again", async () => (await a.getChildren(path)).length === 2);
      await held.release();
      const got = await waiting;
      expect(got.ok).toBe(true);
      if (got.ok) {
        expect(await a.getChildren(path)).toEqual([got.value.node.slice(path.length + 1)]);
        await got.value.release();
      }
      expect(await a.getChildren(path)).toEqual([]);
    });
  },
);
