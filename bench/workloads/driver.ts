// The measuring machinery shared by workloads: the measurement window (warm-up, then a
// span bounded by time and by op count), the herd meter (watch notifications and recipe
// events delivered to the driver's clients while measuring), and worker loops.

import type { ZooKeeperClient } from "../../src/client/index.js";
import { CorrectnessViolation } from "../checks.js";
import { LatencyHistogram } from "../stats.js";
import type { CaseContext } from "./types.js";

export const now = (): number => performance.now();

/**
 * Warm-up (not counted), then measurement until `durationMs` has passed or `opsMax` ops
 * were counted, whichever comes first. An op counts if it started inside the window and
 * finished before it closed.
 */
export class Window {
  readonly histogram = new LatencyHistogram();
  readonly #warmupMs: number;
  readonly #durationMs: number;
  readonly #opsMax: number;
  readonly #signal: AbortSignal;
  readonly #onStart: () => void;
  readonly #onEnd: () => void;
  #beganAt: number | undefined;
  #measureStart = Number.POSITIVE_INFINITY;
  #measureEnd: number | undefined;
  ops = 0;
  /** Latency of the last op counted (ms), for workloads that keep per-kind histograms. */
  lastTickMs = 0;

  constructor(opts: { warmupMs: number; durationMs: number; opsMax: number; signal: AbortSignal; onStart: () => void; onEnd: () => void }) {
    this.#warmupMs = opts.warmupMs;
    this.#durationMs = opts.durationMs;
    this.#opsMax = opts.opsMax;
    this.#signal = opts.signal;
    this.#onStart = opts.onStart;
    this.#onEnd = opts.onEnd;
  }

  /** Starts the clock (after setup: connects, parent nodes). */
  begin(): void {
    if (this.#beganAt !== undefined) return;
    this.#beganAt = now();
    this.#measureStart = this.#beganAt + this.#warmupMs;
    if (this.#warmupMs === 0) this.#onStart();
    else {
      const t = setTimeout(() => {
        if (this.#measureEnd === undefined) this.#onStart();
      }, this.#warmupMs);
      t.unref();
    }
  }

  /** True while load should go on (warm-up or measurement). */
  get running(): boolean {
    if (this.#measureEnd !== undefined) return false;
    if (this.#signal.aborted || this.ops >= this.#opsMax || now() >= this.#measureStart + this.#durationMs) {
      this.#close();
      return false;
    }
    return true;
  }

  /** True while ops count (past warm-up, window still open). */
  get measuring(): boolean {
    return this.running && now() >= this.#measureStart;
  }

  #close(): void {
    if (this.#measureEnd !== undefined) return;
    const t = Math.min(now(), this.#measureStart + this.#durationMs);
    this.#measureEnd = t;
    if (t > this.#measureStart) this.#onEnd();
  }

  /** Counts `count` ops that started at `startedAt` and records their latency (if given). */
  tick(startedAt: number, latencyMs?: number, count = 1): void {
    if (startedAt < this.#measureStart || !this.running) return;
    this.ops += count;
    if (latencyMs !== undefined) {
      this.histogram.recordMs(latencyMs);
      this.lastTickMs = latencyMs;
    }
  }

  /** Ends the window now (e.g. a workload that finished its planned work). */
  close(): void {
    this.#close();
  }

  /** Measured span in ms (0 if the window never opened). */
  get elapsedMs(): number {
    const end = this.#measureEnd ?? now();
    return Math.max(0, end - this.#measureStart);
  }
}

/** Counts notifications delivered to a client while the window measures. */
export class HerdMeter {
  watchEvents = 0;
  recipeEvents = 0;
  readonly #window: Window;

  constructor(window: Window) {
    this.#window = window;
  }

  /** Wraps the client's watch dispatch (one call per notification) and recipe events. */
  attach(client: ZooKeeperClient): void {
    const watches = client.watches;
    const materialize = watches.materialize.bind(watches);
    watches.materialize = (code: number, path: string) => {
      if (this.#window.measuring) this.watchEvents++;
      return materialize(code, path);
    };
    client.on("recipeEvent", () => {
      if (this.#window.measuring) this.recipeEvents++;
    });
  }
}

/**
 * Runs `workers` loops of `body(worker)` while the window runs. A failed op is counted
 * as an error and the loop goes on; a correctness violation ends the loop (the harness
 * has already aborted the case).
 */
export async function workers(ctx: CaseContext, count: number, body: (worker: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, w) => {
      while (ctx.window.running) {
        try {
          await body(w);
        } catch (e) {
          if (e instanceof CorrectnessViolation || ctx.signal.aborted) return;
          ctx.error(e);
        }
      }
    }),
  );
}

/** Resolves when `signal` fires (never rejects). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Creates `path` and its missing parents (persistent, no data). */
export async function ensurePath(client: ZooKeeperClient, path: string): Promise<void> {
  let cur = "";
  for (const part of path.split("/").filter((p) => p !== "")) {
    cur += "/" + part;
    await client.create(cur).catch((e: unknown) => {
      if (!(e instanceof Error && "code" in e && e.code === "NodeExists")) throw e;
    });
  }
}

export const PAYLOAD_64 = Buffer.alloc(64, "corral-bench-");
