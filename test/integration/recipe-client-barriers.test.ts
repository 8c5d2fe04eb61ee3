// Barriers through give-ups and faults (issue 13, item 8): a double-barrier enter that
// times out or is aborted removes its node, so the barrier never opens early for the
// others; a barrier wait ends with the LOST reason when the session is lost.

import { expect, it } from "vitest";
import { SessionLostError } from "../../src/client/index.js";
import { describeBoth, outcome, unique, untilChildren } from "./recipe-client-support.js";

describeBoth("barriers through give-ups and faults", (ctx) => {
  it("a double-barrier enter that times out removes its node: the barrier does not open early", async () => {
    const [a, b, c] = [await ctx.direct(), await ctx.direct(), await ctx.direct()];
    const path = unique("dbl-timeout");
    await expect(a.doubleBarrier(path, 2).enter({ timeoutMs: 100 })).rejects.toMatchObject({ code: "OperationTimeout" });
    expect(await a.getChildren(path)).toEqual([]);
    let bIn = false;
    const bb = b.doubleBarrier(path, 2);
    const bEnter = bb.enter({ timeoutMs: 10_000 }).then(() => (bIn = true));
    await untilChildren(b, path, 1);
    for (let i = 0; i < 5; i++) await b.exists("/");
    expect(bIn).toBe(false); // a's timed-out node does not count
    const cb = c.doubleBarrier(path, 2);
    await cb.enter({ timeoutMs: 10_000 });
    await bEnter;
    await Promise.all([bb.leave({ timeoutMs: 10_000 }), cb.leave({ timeoutMs: 10_000 })]);
  });

  it("an aborted double-barrier enter removes its node too", async () => {
    const a = await ctx.direct();
    const path = unique("dbl-abort");
    const ctrl = new AbortController();
    const entering = outcome(a.doubleBarrier(path, 3).enter({ signal: ctrl.signal }));
    await untilChildren(a, path, 1);
    ctrl.abort(new Error("stop"));
    expect((await entering).ok).toBe(false);
    expect((await a.getChildren(path)).filter((n) => n !== "ready")).toEqual([]);
  });

  it("a barrier wait ends with the LOST reason when the session is lost", async () => {
    const a = await ctx.direct();
    const { client: b, proxy } = await ctx.proxied();
    const path = unique("bar-lost");
    await a.barrier(path).set();
    const waiting = outcome(b.barrier(path).wait());
    await b.exists("/");
    proxy.blackhole();
    const got = await waiting;
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.error).toBeInstanceOf(SessionLostError);
    proxy.heal();
    await a.barrier(path).remove();
  });
});
