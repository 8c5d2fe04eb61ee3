// Small helpers every recipe wait uses: a give-up signal (the caller's timeout and abort
// signal as one), a race of a promise against abort signals that leaves no listener behind,
// and a delay that never keeps the process alive by itself.

import { setMaxListeners } from "node:events";
import { Err } from "../../jute/index.js";
import { ZooKeeperError } from "../errors.js";

export interface GiveUp {
  readonly signal: AbortSignal;
  /** Stops the timer and detaches from the caller's signal. */
  done(): void;
}

/** An AbortSignal that fires on the caller's signal or after timeoutMs (OperationTimeout). */
export function giveUpSignal(opts: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined }): GiveUp {
  const ctrl = new AbortController();
  setMaxListeners(0, ctrl.signal);
  const timer =
    opts.timeoutMs === undefined ? undefined : setTimeout(() => ctrl.abort(new ZooKeeperError(Err.OperationTimeout)), Math.max(0, opts.timeoutMs));
  timer?.unref();
  const caller = opts.signal;
  let off: (() => void) | undefined;
  if (caller?.aborted === true) ctrl.abort(caller.reason);
  else if (caller !== undefined) off = onAbort(caller, () => ctrl.abort(caller.reason));
  return {
    signal: ctrl.signal,
    done: () => {
      clearTimeout(timer);
      off?.();
    },
  };
}

/** The calls listening to each caller signal, behind one listener of its own (see onAbort). */
const fanOuts = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts; the returned function stops that. However many
 * calls listen at once, the signal itself has one listener: one shutdown signal passed
 * to thousands of concurrent waits is the common case, and Node's EventTarget adds and
 * removes a listener in time linear in the listeners it has (4,000 waits on one signal
 * spent more of the client's CPU there than anywhere else). `signal` must not be aborted yet.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let calls = fanOuts.get(signal);
  if (calls === undefined) {
    const mine = new Set<() => void>();
    calls = mine;
    fanOuts.set(signal, mine);
    signal.addEventListener(
      "abort",
      () => {
        fanOuts.delete(signal);
        for (const f of [...mine]) f();
        mine.clear();
      },
      { once: true },
    );
  }
  const set = calls;
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

/**
 * Something that ends once, with a reason, and says so to listeners: a SessionScope is one
 * without an AbortSignal of its own (an AbortController per recipe call was the dearest
 * thing a call allocated on the client).
 */
export interface Ending {
  readonly ended: boolean;
  readonly endReason: unknown;
  /** Calls `fn` once when it ends (it has not yet); the returned function stops that. */
  onEnd(fn: () => void): () => void;
}

/** An Ending rather than a signal (any object with addEventListener: a polyfilled AbortSignal too). */
function isEnding(s: AbortSignal | Ending): s is Ending {
  return typeof (s as Partial<Ending>).onEnd === "function";
}

/**
 * Settles as `p` does, or rejects with the reason of the first of `signals` to abort (or
 * end); either way the listeners are removed (a wait may race thousands of times against
 * the same long-lived signal).
 */
export function raceAbort<T>(p: Promise<T>, ...signals: (AbortSignal | Ending | undefined)[]): Promise<T> {
  const live = signals.filter((s): s is AbortSignal | Ending => s !== undefined);
  for (const s of live) {
    const why = !isEnding(s) ? (s.aborted ? { reason: s.reason as unknown } : undefined) : s.ended ? { reason: s.endReason } : undefined;
    if (why === undefined) continue;
    // Nobody else may observe `p` (a call's reply): its later failure is not unhandled.
    p.catch(() => undefined);
    return Promise.reject(why.reason as Error);
  }
  if (live.length === 0) return p;
  return new Promise<T>((resolve, reject) => {
    const offs: (() => void)[] = [];
    const detach = (): void => {
      for (const off of offs) off();
    };
    for (const s of live) {
      if (!isEnding(s)) {
        const onAbort = (): void => {
          detach();
          reject(s.reason as Error);
        };
        s.addEventListener("abort", onAbort, { once: true });
        offs.push(() => s.removeEventListener("abort", onAbort));
      } else {
        offs.push(
          s.onEnd(() => {
            detach();
            reject(s.endReason as Error);
          }),
        );
      }
    }
    p.then(
      (v) => {
        detach();
        resolve(v);
      },
      (e: unknown) => {
        detach();
        reject(e as Error);
      },
    );
  });
}

export function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/** A promise with its resolve and reject, for one-shot hand-offs (a watch, a routed event). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(e: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve: (v: T) => void = () => {};
  let reject: (e: Error) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be awaiting it when it fails (a wait that ended otherwise): not an error.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export function isConnectionLoss(e: unknown): boolean {
  return ZooKeeperError.is(e, "ConnectionLoss");
}
