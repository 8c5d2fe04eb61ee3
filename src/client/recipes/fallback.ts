// Shared pieces of the client-side fallback (Apache ZooKeeper: the classic recipes with
// chained watches, the same node layout and rules as the engine). Every wait here re-reads
// after a reconnect (a watch may have fired while the connection was down), rejects with
// the session's end on LOST or CLOSED (ZooKeeper's own clients would wait for ever), and
// with the give-up reason on timeout or abort.

import type { WatchListener } from "../watches.js";
import type { RecipeContext } from "./context.js";
import { retrying } from "./nodes.js";
import type { SessionScope } from "./session.js";
import { raceAbort } from "./signals.js";

export interface Watcher {
  readonly listener: WatchListener;
  readonly fired: Promise<void>;
}

export function watcher(): Watcher {
  let fire: () => void = () => {};
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { listener: () => fire(), fired };
}

/** Waits for the watch, or a reconnect (re-read then), the session's end or give-up. */
export async function untilFiredOrReconnected(ctx: RecipeContext, scope: SessionScope, fired: Promise<void>, gaveUp?: AbortSignal): Promise<void> {
  const at = ctx.session.reconnects;
  while (ctx.session.reconnects === at) {
    const watchFired = await raceAbort(
      Promise.race([fired.then(() => true), ctx.session.changed().then(() => false)]),
      scope,
      gaveUp,
    );
    if (watchFired) return;
  }
}

/**
 * Waits until `blocker(children of dir)` is undefined, watching only the current blocker
 * (no herd). `blocker` throws (NoNode) if the waiter's own node is gone.
 */
export async function waitChain(
  ctx: RecipeContext,
  scope: SessionScope,
  dir: string,
  blocker: (children: string[]) => string | undefined,
  gaveUp?: AbortSignal,
): Promise<void> {
  for (;;) {
    const b = await retrying(scope, async () => blocker(await ctx.zk.getChildren(dir)), gaveUp);
    if (b === undefined) return;
    const w = watcher();
    const stat = await retrying(scope, () => ctx.zk.exists(`${dir}/${b}`, { watch: w.listener }), gaveUp);
    if (stat === null) continue;
    await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp);
  }
}

/** Waits until `done(children of dir)`, re-reading on every change of the children. */
export async function waitChildren(
  ctx: RecipeContext,
  scope: SessionScope,
  dir: string,
  done: (children: string[]) => boolean,
  gaveUp?: AbortSignal,
): Promise<void> {
  for (;;) {
    const w = watcher();
    if (done(await retrying(scope, () => ctx.zk.getChildren(dir, { watch: w.listener }), gaveUp))) return;
    await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp);
  }
}
