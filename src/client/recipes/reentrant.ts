// Re-entrant locks, opt in (`{ reentrant: true }`), with Curator's InterProcessMutex
// semantics: a lock this client already holds (same path, same mode, itself taken with
// `reentrant: true`) is granted again at once, counted, and released when the count
// reaches zero. Node runs one thread, so Curator's owner (a thread) is the client here:
// with `reentrant`, concurrent tasks of one process that share a client share the lock
// too; without it (the default) every acquire is its own contender and they exclude each
// other.

import type { LockHandle, WaitOptions } from "./types.js";
import { giveUpSignal, raceAbort } from "./signals.js";

interface Held {
  /** The first acquire, while it waits; then settled with the shared handle. */
  readonly acquiring: Promise<LockHandle>;
  count: number;
}

/** Per client (its recipe context), per `mode\0path`: the lock taken re-entrantly. */
const heldByOwner = new WeakMap<object, Map<string, Held>>();

/**
 * Acquires through `acquire` unless `owner` holds (or is acquiring) the lock at `key`
 * re-entrantly already; then shares it. Every handle returned has its own idempotent
 * release; the node goes when the last is released, or all together when the lock is lost.
 */
export async function reentrantLock(owner: object, key: string, opts: WaitOptions, acquire: () => Promise<LockHandle>): Promise<LockHandle> {
  let held = heldByOwner.get(owner);
  if (held === undefined) heldByOwner.set(owner, (held = new Map()));
  for (;;) {
    const e = held.get(key);
    if (e === undefined) break;
    // Held, or being acquired by an earlier call of this client: wait for that one (within
    // this call's own timeout and signal), then share it.
    const gaveUp = giveUpSignal(opts);
    let h: LockHandle;
    try {
      h = await raceAbort(e.acquiring, gaveUp.signal);
    } catch (err) {
      if (gaveUp.signal.aborted) throw err;
      continue; // the first acquire failed: it removed its entry; try afresh
    } finally {
      gaveUp.done();
    }
    if (held.get(key) !== e || h.lost.aborted) continue;
    e.count++;
    return share(held, key, e, h);
  }
  const acquiring = acquire();
  const e: Held = { acquiring, count: 1 };
  held.set(key, e);
  let h: LockHandle;
  try {
    h = await acquiring;
  } catch (err) {
    if (held.get(key) === e) held.delete(key);
    throw err;
  }
  h.lost.addEventListener("abort", () => held.get(key) === e && held.delete(key), { once: true });
  return share(held, key, e, h);
}

function share(held: Map<string, Held>, key: string, e: Held, h: LockHandle): LockHandle {
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    released ??= (() => {
      e.count--;
      if (e.count > 0) return Promise.resolve();
      if (held.get(key) === e) held.delete(key);
      return h.release();
    })();
    return released;
  };
  return {
    node: h.node,
    token: h.token,
    lost: h.lost,
    release,
    [Symbol.asyncDispose]: release,
  };
}
