// Retry policies: Curator's ExponentialBackoffRetry arithmetic with injected jitter, which
// errors are retried, and the loop's stops (policy exhausted, session lost, client closed,
// aborted), with an injected sleep so nothing waits.

import { describe, expect, it } from "vitest";
import { Err } from "../../../src/jute/index.js";
import { ClientClosedError, SessionLostError, ZooKeeperError } from "../../../src/client/errors.js";
import { exponentialBackoff, isRetryable, retryLoop, seededRandom } from "../../../src/client/retry.js";
import { clampLostAfterFraction, lostAfterMsOf, presumedLost } from "../../../src/client/states.js";

const loss = (): ZooKeeperError => new ZooKeeperError(Err.ConnectionLoss, "/p");

describe("exponentialBackoff", () => {
  it("sleeps baseSleepMs * max(1, randomInt(2^(n+1))), as Curator's ExponentialBackoffRetry", () => {
    const highest = exponentialBackoff({ baseSleepMs: 100, maxRetries: 5, random: () => 0.999999 });
    expect([0, 1, 2, 3, 4].map((n) => highest.nextDelayMs(n, 0))).toEqual([100, 300, 700, 1500, 3100]);
    const lowest = exponentialBackoff({ baseSleepMs: 100, maxRetries: 5, random: () => 0 });
    expect([0, 1, 2].map((n) => lowest.nextDelayMs(n, 0))).toEqual([100, 100, 100]);
  });

  it("gives up after maxRetries and never sleeps past maxSleepMs", () => {
    const p = exponentialBackoff({ baseSleepMs: 100, maxRetries: 3, maxSleepMs: 250, random: () => 0.999999 });
    expect([0, 1, 2, 3].map((n) => p.nextDelayMs(n, 0))).toEqual([100, 250, 250, undefined]);
  });

  it("caps maxRetries at 29 like Curator", () => {
    const p = exponentialBackoff({ baseSleepMs: 1, maxRetries: 1000, random: () => 0 });
    expect(p.nextDelayMs(28, 0)).toBe(1);
    expect(p.nextDelayMs(29, 0)).toBeUndefined();
  });

  it("a seeded jitter replays the same sleeps", () => {
    const sleeps = (seed: number): (number | undefined)[] => {
      const p = exponentialBackoff({ baseSleepMs: 10, maxRetries: 8, random: seededRandom(seed) });
      return Array.from({ length: 8 }, (_, n) => p.nextDelayMs(n, 0));
    };
    expect(sleeps(42)).toEqual(sleeps(42));
    expect(sleeps(42)).not.toEqual(sleeps(43));
    for (const [n, ms] of sleeps(7).entries()) {
      expect(ms).toBeGreaterThanOrEqual(10);
      expect(ms).toBeLessThan(10 * 2 ** (n + 1));
    }
  });
});

describe("isRetryable", () => {
  it("retries the connection's errors, never the session's or the client's end", () => {
    expect(isRetryable(loss())).toBe(true);
    expect(isRetryable(new ZooKeeperError(Err.OperationTimeout))).toBe(true);
    expect(isRetryable(new ZooKeeperError(Err.RequestTimeout))).toBe(true);
    expect(isRetryable(new SessionLostError(1n, 2400, 3000))).toBe(false);
    expect(isRetryable(new ClientClosedError())).toBe(false);
    expect(isRetryable(new ZooKeeperError(Err.SessionExpired))).toBe(false);
    expect(isRetryable(new ZooKeeperError(Err.NodeExists))).toBe(false);
    expect(isRetryable(new Error("other"))).toBe(false);
  });
});

describe("retryLoop", () => {
  const policy = exponentialBackoff({ baseSleepMs: 100, maxRetries: 3, random: () => 0.999999 });

  it("retries ConnectionLoss with the policy's sleeps until the call succeeds", async () => {
    const slept: number[] = [];
    let calls = 0;
    const v = await retryLoop(
      async () => {
        if (++calls < 3) throw loss();
        return "ok";
      },
      policy,
      { sleep: async (ms) => void slept.push(ms) },
    );
    expect(v).toBe("ok");
    expect(calls).toBe(3);
    expect(slept).toEqual([100, 300]);
  });

  it("throws the last error once the policy gives up", async () => {
    let calls = 0;
    const last = loss();
    await expect(
      retryLoop(
        async () => {
          calls++;
          throw calls === 4 ? last : loss();
        },
        policy,
        { sleep: async () => {} },
      ),
    ).rejects.toBe(last);
    expect(calls).toBe(4);
  });

  it("does not retry an error that is not the connection's", async () => {
    let calls = 0;
    const lost = new SessionLostError(5n, 2400, 3000);
    await expect(
      retryLoop(
        async () => {
          calls++;
          throw lost;
        },
        policy,
        { sleep: async () => {} },
      ),
    ).rejects.toBe(lost);
    expect(calls).toBe(1);
  });

  it("stops when mayRetry turns false during the sleep (the session was lost)", async () => {
    let alive = true;
    let calls = 0;
    await expect(
      retryLoop(
        async () => {
          calls++;
          throw loss();
        },
        policy,
        {
          sleep: async () => {
            alive = false;
          },
          mayRetry: () => alive,
        },
      ),
    ).rejects.toMatchObject({ code: "ConnectionLoss" });
    expect(calls).toBe(1);
  });

  it("stops with the signal's reason when aborted", async () => {
    const ctrl = new AbortController();
    await expect(
      retryLoop(
        async () => {
          throw loss();
        },
        policy,
        { sleep: async () => ctrl.abort(new Error("enough")), signal: ctrl.signal },
      ),
    ).rejects.toThrow("enough");
  });
});

describe("presumed loss arithmetic", () => {
  it("lostAfterFraction defaults to 0.8 and is clamped to (0, 0.9]", () => {
    expect(clampLostAfterFraction(undefined)).toBe(0.8);
    expect(clampLostAfterFraction(0)).toBe(0.8);
    expect(clampLostAfterFraction(-1)).toBe(0.8);
    expect(clampLostAfterFraction(Number.NaN)).toBe(0.8);
    expect(clampLostAfterFraction(0.5)).toBe(0.5);
    expect(clampLostAfterFraction(0.95)).toBe(0.9);
    expect(lostAfterMsOf(30_000, 0.8)).toBe(24_000);
    expect(lostAfterMsOf(4001, 0.8)).toBe(3200);
  });

  it("a session is presumed lost lostAfterMs after the send time of its newest answered request", () => {
    expect(presumedLost(1000 + 2399, 1000, 2400)).toBe(false);
    expect(presumedLost(1000 + 2400, 1000, 2400)).toBe(true);
  });
});
