// EventRouter: pushed recipe events go to the call that registered their requestId, once;
// anything else (an unknown id, an event before its waiter registered, a duplicate, an
// event for a closed route) is dropped and counted in `unrouted`.

import { describe, expect, it } from "vitest";
import { RecipeEventKind, type RecipeEvent } from "../../../../src/jute/index.js";
import { EventRouter, isNodeGone } from "../../../../src/client/recipes/router.js";
import { peek } from "./fakes.js";

function ev(requestId: string, kind: number = RecipeEventKind.LockGranted, node = "/l/n-0000000001"): RecipeEvent {
  return { kind, path: "/l", node, token: 1n, data: null, requestId };
}

describe("EventRouter", () => {
  it("hands an event to the waiter of its requestId, and only to it", async () => {
    const r = new EventRouter();
    const a = r.expect("a");
    const b = r.expect("b");
    expect(r.waiting).toBe(2);
    const e = ev("b");
    r.route(e);
    expect(await peek(b.event)).toEqual({ state: "resolved", value: e });
    expect(await peek(a.event)).toEqual({ state: "pending" });
    expect(r.waiting).toBe(1);
    expect(r.unrouted).toBe(0);
  });

  it("drops and counts an event for an unknown requestId, leaving the waiters alone", async () => {
    const r = new EventRouter();
    const a = r.expect("a");
    r.route(ev("nobody"));
    expect(r.unrouted).toBe(1);
    expect(r.waiting).toBe(1);
    expect(await peek(a.event)).toEqual({ state: "pending" });
  });

  it("does not keep an event that arrives before its waiter registers (register before sending)", async () => {
    const r = new EventRouter();
    r.route(ev("early"));
    expect(r.unrouted).toBe(1);
    const late = r.expect("early");
    expect(await peek(late.event)).toEqual({ state: "pending" });
    // The next event for the id is the waiter's.
    const e = ev("early", RecipeEventKind.QueueItem);
    r.route(e);
    expect(await peek(late.event)).toEqual({ state: "resolved", value: e });
    expect(r.unrouted).toBe(1);
  });

  it("routes only the first event for an id: a duplicate is dropped and counted", async () => {
    const r = new EventRouter();
    const a = r.expect("a");
    const first = ev("a", RecipeEventKind.LockGranted, "/l/first");
    r.route(first);
    r.route(ev("a", RecipeEventKind.LockGranted, "/l/second"));
    expect(await peek(a.event)).toEqual({ state: "resolved", value: first });
    expect(r.unrouted).toBe(1);
    expect(r.waiting).toBe(0);
  });

  it("close() cancels: later events for the id are dropped, the promise stays pending", async () => {
    const r = new EventRouter();
    const a = r.expect("a");
    a.close();
    expect(r.waiting).toBe(0);
    r.route(ev("a"));
    expect(r.unrouted).toBe(1);
    expect(await peek(a.event)).toEqual({ state: "pending" });
    a.close(); // twice: harmless
    expect(r.waiting).toBe(0);
  });

  it("close() after delivery is a no-op, and closing an old route leaves a newer one for the same id", async () => {
    const r = new EventRouter();
    const first = r.expect("a");
    r.route(ev("a"));
    first.close();
    // An election member registers the same requestId again after each grant.
    const second = r.expect("a");
    first.close();
    expect(r.waiting).toBe(1);
    const e = ev("a", RecipeEventKind.LeaderElected);
    r.route(e);
    expect(await peek(second.event)).toEqual({ state: "resolved", value: e });
    expect(r.unrouted).toBe(0);
  });

  it("routes a NodeGone event like any other; isNodeGone tells it apart", async () => {
    const r = new EventRouter();
    const a = r.expect("a");
    r.route(ev("a", RecipeEventKind.NodeGone));
    const got = await peek(a.event);
    expect(got.state).toBe("resolved");
    expect(isNodeGone((got as { value: RecipeEvent }).value)).toBe(true);
    expect(isNodeGone(ev("x", RecipeEventKind.LockGranted))).toBe(false);
  });

  it("holds nothing for closed or answered routes (thousands of waits leave no entries)", () => {
    const r = new EventRouter();
    for (let i = 0; i < 1000; i++) {
      const route = r.expect(`id-${i}`);
      if (i % 2 === 0) r.route(ev(`id-${i}`));
      route.close();
    }
    expect(r.waiting).toBe(0);
    expect(r.unrouted).toBe(0);
  });
});
