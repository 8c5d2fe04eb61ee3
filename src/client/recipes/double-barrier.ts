// The double barrier (ZooKeeper's recipes.md): enter() waits until `count` participants are
// in, leave() until all have left. A participant is the ephemeral `<path>/<name>`. An
// enter() that gives up (timeout, abort) or fails removes its node (at once if connected,
// else once the session is back), so it never counts and the barrier never opens early
// for the others.

import { randomUUID } from "node:crypto";
import { CorralOp, DoubleBarrierRequestSchema, Err, encodeRecord } from "../../jute/index.js";
import { ZooKeeperError } from "../errors.js";
import type { RecipeContext } from "./context.js";
import { doneWait } from "./done-wait.js";
import { untilFiredOrReconnected, watcher } from "./fallback.js";
import { cancelWait, ensurePath, releaseNode, retrying } from "./nodes.js";
import type { SessionScope } from "./session.js";
import type { DoubleBarrier, WaitOptions } from "./types.js";

/** The node that opens a client-side double barrier (ZooKeeper's recipes.md). */
const READY_NODE = "ready";

export function doubleBarrier(ctx: RecipeContext, path: string, count: number): DoubleBarrier {
  const name = `${ctx.zk.sessionId.toString(16)}-${randomUUID().slice(0, 8)}`;
  return {
    enter: (opts = {}) => run(ctx, path, count, name, true, opts),
    leave: (opts = {}) => run(ctx, path, count, name, false, opts),
  };
}

async function run(ctx: RecipeContext, path: string, count: number, name: string, enter: boolean, opts: WaitOptions): Promise<void> {
  if (!Number.isInteger(count) || count <= 0) throw new ZooKeeperError(Err.BadArguments, path);
  const own = `${path}/${name}`;
  await doneWait(ctx, path, opts, {
    op: enter ? CorralOp.doubleBarrierEnter : CorralOp.doubleBarrierLeave,
    write: (w, sp, requestId) => encodeRecord(w, DoubleBarrierRequestSchema, { path: sp, count, name, requestId }),
    // Withdraw the wait; an enter also removes its node, so it never counts.
    giveUp: async (scope, requestId) => {
      await cancelWait(ctx, path, requestId).catch(() => false);
      if (enter) await releaseNode(ctx, scope, ctx.sp(own));
      return undefined;
    },
    fallback: (scope, gaveUp) => (enter ? clientEnter(ctx, scope, path, own, count, gaveUp) : clientLeave(ctx, scope, path, own, gaveUp)),
  });
}

const participants = (children: string[]): number => children.filter((c) => c !== READY_NODE).length;

// The ZooKeeper docs' double barrier: the participant that completes the count creates
// "ready", and the others wait for "ready" rather than re-counting (a fast participant may
// already be leaving by then).
async function clientEnter(ctx: RecipeContext, scope: SessionScope, path: string, own: string, count: number, gaveUp: AbortSignal): Promise<void> {
  await ensurePath(ctx, scope, path, null, gaveUp);
  const ready = `${path}/${READY_NODE}`;
  await retrying(
    scope,
    () =>
      ctx.zk.create(own, null, { mode: "ephemeral" }).catch((e: unknown) => {
        if (!ZooKeeperError.is(e, "NodeExists")) throw e; // a create whose reply was lost
        return own;
      }),
    gaveUp,
  );
  try {
    for (;;) {
      if (participants(await retrying(scope, () => ctx.zk.getChildren(path), gaveUp)) >= count) {
        await retrying(
          scope,
          () =>
            ctx.zk.create(ready).catch((e: unknown) => {
              if (!ZooKeeperError.is(e, "NodeExists")) throw e;
              return ready;
            }),
          gaveUp,
        );
        return;
      }
      const w = watcher();
      if ((await retrying(scope, () => ctx.zk.exists(ready, { watch: w.listener }), gaveUp)) !== null) return;
      await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp);
    }
  } catch (err) {
    if (!scope.ended) {
      const removing = releaseNode(ctx, scope, ctx.sp(own)).catch(() => undefined);
      if (ctx.session.connected) await removing;
    }
    throw err;
  }
}

async function clientLeave(ctx: RecipeContext, scope: SessionScope, path: string, own: string, gaveUp: AbortSignal): Promise<void> {
  await releaseNode(ctx, scope, ctx.sp(own));
  for (;;) {
    const w = watcher();
    const children = await retrying(scope, () => ctx.zk.getChildren(path, { watch: w.listener }), gaveUp);
    if (participants(children) === 0) {
      await ctx.zk.delete(`${path}/${READY_NODE}`).catch(() => undefined);
      return;
    }
    await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp);
  }
}
