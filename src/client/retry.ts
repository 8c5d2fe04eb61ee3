// Retry policies for calls that are safe to repeat, as Curator's RetryPolicy and
// ExponentialBackoffRetry: which errors are worth a retry (the connection's, never the
// session's end), how long to sleep before each retry, and the loop that does it. No I/O
// here but the injected sleep.

import { Err } from "../jute/index.js";
import { ClientClosedError, SessionLostError, ZooKeeperError } from "./errors.js";

/** Decides whether and when a failed call is tried again. */
export interface RetryPolicy {
  /**
   * Milliseconds to sleep before retry number `retryCount` (0 for the first retry), or
   * `undefined` to give up. `elapsedMs` is the time since the first attempt began.
   */
  nextDelayMs(retryCount: number, elapsedMs: number): number | undefined;
}

/** Options of `exponentialBackoff`, named as Curator's ExponentialBackoffRetry arguments. */
export interface ExponentialBackoffOptions {
  /** The first retry sleeps between 1 and 2 times this (Curator's baseSleepTimeMs). */
  baseSleepMs: number;
  /** Retries after the first attempt; capped at 29 as Curator does. */
  maxRetries: number;
  /** No sleep is longer than this (default unbounded, as Curator's two-argument form). */
  maxSleepMs?: number;
  /** Uniform random in [0, 1) for the jitter (default Math.random; see `seededRandom`). */
  random?: () => number;
}

/** Curator's MAX_RETRIES_LIMIT: past it the shift overflows. */
const MAX_RETRIES_LIMIT = 29;

/**
 * Curator's ExponentialBackoffRetry: retry `retryCount` sleeps
 * `baseSleepMs * max(1, randomInt(2^(retryCount+1)))`, at most `maxSleepMs`, for up to
 * `maxRetries` retries.
 */
export function exponentialBackoff(o: ExponentialBackoffOptions): RetryPolicy {
  const maxRetries = Math.max(0, Math.min(MAX_RETRIES_LIMIT, Math.floor(o.maxRetries)));
  const maxSleepMs = o.maxSleepMs ?? Number.MAX_SAFE_INTEGER;
  const random = o.random ?? Math.random;
  return {
    nextDelayMs(retryCount) {
      if (retryCount >= maxRetries) return undefined;
      const bound = 2 ** (retryCount + 1);
      const slots = Math.max(1, Math.floor(random() * bound));
      return Math.min(maxSleepMs, o.baseSleepMs * slots);
    },
  };
}

/** A small seeded PRNG (mulberry32) in [0, 1), for replayable jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether an error is worth another try: ConnectionLoss, OperationTimeout or
 * RequestTimeout, but never the session's end (`SessionLostError`, SessionExpired) or the
 * client's (`ClientClosedError`).
 */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof ZooKeeperError)) return false;
  if (e instanceof SessionLostError || e instanceof ClientClosedError) return false;
  return e.errno === Err.ConnectionLoss || e.errno === Err.OperationTimeout || e.errno === Err.RequestTimeout;
}

/** What the retry loop needs from its caller. */
export interface RetryLoopOptions {
  /** Sleeps `ms`; resolves early (or rejects) when `signal` aborts. Default: real timers. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** Monotonic ms (default performance.now). */
  nowMs?: () => number;
  /** Stops the loop: the signal's reason is thrown. */
  signal?: AbortSignal | undefined;
  /** Checked before every retry: false stops it (the session ended, the client closed). */
  mayRetry?: () => boolean;
}

/**
 * Runs `fn`, and again after each retryable failure while `policy` allows, sleeping the
 * policy's delay in between. Throws the last error when it stops.
 */
export async function retryLoop<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, o: RetryLoopOptions = {}): Promise<T> {
  const nowMs = o.nowMs ?? (() => performance.now());
  const sleep = o.sleep ?? defaultSleep;
  const startMs = nowMs();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isRetryable(e) || o.signal?.aborted === true || (o.mayRetry !== undefined && !o.mayRetry())) throw e;
      const delayMs = policy.nextDelayMs(attempt, nowMs() - startMs);
      if (delayMs === undefined) throw e;
      await sleep(delayMs, o.signal);
      if (aborted(o.signal)) throw o.signal!.reason;
      if (o.mayRetry !== undefined && !o.mayRetry()) throw e;
    }
  }
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function defaultSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
