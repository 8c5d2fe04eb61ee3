// The recipe layer's abort helpers: giveUpSignal (the caller's timeout and signal as one),
// raceAbort (a promise against abort signals, no listener left behind), delay and
// deferred. Time is fake: timeouts fire when the test moves the clock.

import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClientClosedError, ZooKeeperError } from "../../../../src/client/errors.js";
import { deferred, delay, giveUpSignal, isConnectionLoss, raceAbort } from "../../../../src/client/recipes/signals.js";
import { Err } from "../../../../src/jute/index.js";
import { peek } from "./fakes.js";

function abortListeners(s: AbortSignal): number {
  return getEventListeners(s, "abort").length;
}

/**
 * Runs `body`, then lets Node report unhandled rejections (they are reported once the
 * microtask queue is drained: one macrotask turn is enough), and returns those seen.
 */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (e: unknown): void => {
    seen.push(e);
  };
  // Ours alone while it runs: vitest's own handler would fail the run instead of the test.
  const others = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", onUnhandled);
  try {
    await body();
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
  } finally {
    process.off("unhandledRejection", onUnhandled);
    for (const l of others) process.on("unhandledRejection", l);
  }
  return seen;
}

describe("giveUpSignal", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("aborts with OperationTimeout after timeoutMs, not before", () => {
    const g = giveUpSignal({ timeoutMs: 1000 });
    vi.advanceTimersByTime(999);
    expect(g.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(g.signal.aborted).toBe(true);
    expect(ZooKeeperError.is(g.signal.reason, "OperationTimeout")).toBe(true);
    g.done();
  });

  it("a negative timeout gives up at once (on the next timer turn)", () => {
    const g = giveUpSignal({ timeoutMs: -5 });
    expect(g.signal.aborted).toBe(false);
    vi.advanceTimersByTime(0);
    expect(ZooKeeperError.is(g.signal.reason, "OperationTimeout")).toBe(true);
    g.done();
  });

  it("aborts with the caller's reason when the caller's signal aborts", () => {
    const caller = new AbortController();
    const g = giveUpSignal({ timeoutMs: 1000, signal: caller.signal });
    const why = new Error("caller gave up");
    caller.abort(why);
    expect(g.signal.reason).toBe(why);
    // The timer does not abort it a second time with another reason.
    vi.advanceTimersByTime(1000);
    expect(g.signal.reason).toBe(why);
    g.done();
  });

  it("is aborted at once when the caller's signal already is, and adds no listener to it", () => {
    const caller = new AbortController();
    const why = new Error("already");
    caller.abort(why);
    const g = giveUpSignal({ signal: caller.signal });
    expect(g.signal.aborted).toBe(true);
    expect(g.signal.reason).toBe(why);
    expect(abortListeners(caller.signal)).toBe(0);
    g.done();
  });

  it("done() detaches from the caller's signal and stops the timer", () => {
    const caller = new AbortController();
    const gs = Array.from({ length: 100 }, () => giveUpSignal({ timeoutMs: 1000, signal: caller.signal }));
    // One listener on the caller's signal serves every call (see the next test).
    expect(abortListeners(caller.signal)).toBe(1);
    expect(vi.getTimerCount()).toBe(100);
    for (const g of gs) g.done();
    expect(abortListeners(caller.signal)).toBeLessThanOrEqual(1);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    caller.abort(new Error("late"));
    expect(gs.every((g) => !g.signal.aborted)).toBe(true);
  });

  it("thousands of calls on one caller signal: one listener on it, every call aborted with its reason", () => {
    // A shutdown signal passed to every wait of a worker pool: Node's EventTarget adds and
    // removes listeners in linear time, so a listener per call made each new wait cost
    // O(waits) (the bench's 4,000 contenders spent most of the client's CPU there).
    const caller = new AbortController();
    const gs = Array.from({ length: 10_000 }, () => giveUpSignal({ signal: caller.signal }));
    expect(abortListeners(caller.signal)).toBe(1);
    // Calls that finished are not aborted later; the rest all are, with the caller's reason.
    for (const g of gs.slice(0, 5_000)) g.done();
    const why = new Error("shutting down");
    caller.abort(why);
    expect(gs.slice(0, 5_000).every((g) => !g.signal.aborted)).toBe(true);
    expect(gs.slice(5_000).every((g) => g.signal.reason === why)).toBe(true);
    for (const g of gs.slice(5_000)) g.done();
    // Another signal (or another round on a new one) starts its own fan-out.
    const next = new AbortController();
    const g2 = giveUpSignal({ signal: next.signal });
    expect(abortListeners(next.signal)).toBe(1);
    next.abort(why);
    expect(g2.signal.reason).toBe(why);
    g2.done();
  });

  it("without timeout or signal it never fires and sets no timer", () => {
    const g = giveUpSignal({});
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1e9);
    expect(g.signal.aborted).toBe(false);
    g.done();
  });
});

describe("raceAbort", () => {
  it("a signal that is not Node's own AbortSignal (a polyfill: an EventTarget with aborted and reason) is raced as a signal", async () => {
    const target = new EventTarget() as EventTarget & { aborted: boolean; reason: unknown };
    target.aborted = false;
    const lost = raceAbort(deferred<number>().promise, target as unknown as AbortSignal);
    target.aborted = true;
    target.reason = new Error("polyfill aborted");
    target.dispatchEvent(new Event("abort"));
    expect(await peek(lost)).toEqual({ state: "rejected", error: target.reason });
  });

  it("races an Ending (a session scope) as it races a signal: rejects with its reason, and leaves no listener either way", async () => {
    const listeners = new Set<() => void>();
    let ended = false;
    let endReason: unknown;
    const ending = {
      get ended() {
        return ended;
      },
      get endReason() {
        return endReason;
      },
      onEnd(fn: () => void) {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    };
    const settled = deferred<number>();
    const won = raceAbort(settled.promise, ending);
    expect(listeners.size).toBe(1);
    settled.resolve(1);
    expect(await peek(won)).toEqual({ state: "resolved", value: 1 });
    expect(listeners.size).toBe(0);
    const other = new AbortController();
    const lost = raceAbort(deferred<number>().promise, ending, other.signal);
    ended = true;
    endReason = new Error("session ended");
    for (const fn of [...listeners]) fn();
    expect(await peek(lost)).toEqual({ state: "rejected", error: endReason });
    expect(listeners.size).toBe(0);
    expect(abortListeners(other.signal)).toBe(0);
    // Already ended: rejects at once, adds nothing.
    expect(await peek(raceAbort(deferred<number>().promise, ending))).toEqual({ state: "rejected", error: endReason });
    expect(listeners.size).toBe(0);
  });

  it("with no signal is the promise itself", () => {
    const p = Promise.resolve(1);
    expect(raceAbort(p)).toBe(p);
    expect(raceAbort(p, undefined)).toBe(p);
  });

  it("settles as the promise does and then leaves no listener", async () => {
    const a = new AbortController();
    const b = new AbortController();
    const d = deferred<number>();
    const r = raceAbort(d.promise, a.signal, undefined, b.signal);
    expect(abortListeners(a.signal)).toBe(1);
    expect(abortListeners(b.signal)).toBe(1);
    d.resolve(7);
    expect(await peek(r)).toEqual({ state: "resolved", value: 7 });
    expect(abortListeners(a.signal)).toBe(0);
    expect(abortListeners(b.signal)).toBe(0);

    const e = deferred<number>();
    const boom = new Error("boom");
    const r2 = raceAbort(e.promise, a.signal, b.signal);
    e.reject(boom);
    expect(await peek(r2)).toEqual({ state: "rejected", error: boom });
    expect(abortListeners(a.signal)).toBe(0);
    expect(abortListeners(b.signal)).toBe(0);
  });

  it("rejects with the reason of the first signal to abort, detaching from every signal", async () => {
    const a = new AbortController();
    const b = new AbortController();
    const d = deferred<number>();
    const r = raceAbort(d.promise, a.signal, b.signal);
    const why = new ClientClosedError();
    b.abort(why);
    a.abort(new Error("second"));
    expect(await peek(r)).toEqual({ state: "rejected", error: why });
    expect(abortListeners(a.signal)).toBe(0);
    expect(abortListeners(b.signal)).toBe(0);
  });

  it("racing the same long-lived signal many times leaves no listener", async () => {
    const lost = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const d = deferred<number>();
      const r = raceAbort(d.promise, lost.signal);
      d.resolve(i);
      await r;
    }
    expect(abortListeners(lost.signal)).toBe(0);
  });

  it("an already aborted signal rejects at once, without a listener", async () => {
    const a = new AbortController();
    const why = new Error("gone");
    a.abort(why);
    const r = raceAbort(new Promise<number>(() => {}), a.signal);
    expect(await peek(r)).toEqual({ state: "rejected", error: why });
    expect(abortListeners(a.signal)).toBe(0);
  });

  it("a promise that fails after losing the race to an abort is not an unhandled rejection", async () => {
    // Either way round: the signal aborted before the race, or while it ran.
    for (const abortFirst of [true, false]) {
      const seen = await unhandledDuring(async () => {
        const a = new AbortController();
        // As a call's reply promise: nobody else observes it.
        let failLater: (e: Error) => void = () => {};
        const reply = new Promise<number>((_, reject) => (failLater = reject));
        if (abortFirst) a.abort(new Error("gave up"));
        const r = raceAbort(reply, a.signal);
        if (!abortFirst) a.abort(new Error("gave up"));
        await expect(r).rejects.toThrow("gave up");
        failLater(new ZooKeeperError(Err.ConnectionLoss));
      });
      expect({ abortFirst, seen }).toEqual({ abortFirst, seen: [] });
    }
  });
});

describe("delay and deferred", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("delay resolves after its time, with undefined", async () => {
    vi.useFakeTimers();
    const p = delay(100);
    vi.advanceTimersByTime(99);
    expect(await peek(p)).toEqual({ state: "pending" });
    vi.advanceTimersByTime(1);
    expect(await peek(p)).toEqual({ state: "resolved", value: undefined });
  });

  it("delay does not keep the process alive", () => {
    const seen: { hasRef(): boolean }[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms: number) => {
      const t = real(fn, ms);
      seen.push(t);
      return t;
    }) as typeof setTimeout);
    try {
      void delay(10_000);
    } finally {
      spy.mockRestore();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.hasRef()).toBe(false);
    clearTimeout(seen[0] as unknown as NodeJS.Timeout);
  });

  it("a deferred rejected with nobody awaiting it is not an unhandled rejection", async () => {
    const seen = await unhandledDuring(async () => {
      deferred<number>().reject(new Error("nobody listens"));
    });
    expect(seen).toEqual([]);
  });

  it("isConnectionLoss: ConnectionLoss and its subclasses only", () => {
    expect(isConnectionLoss(new ZooKeeperError(Err.ConnectionLoss))).toBe(true);
    expect(isConnectionLoss(new ClientClosedError())).toBe(true);
    expect(isConnectionLoss(new ZooKeeperError(Err.SessionExpired))).toBe(false);
    expect(isConnectionLoss(new Error("x"))).toBe(false);
  });
});
