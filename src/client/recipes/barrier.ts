// The barrier: set() creates the node, remove() deletes it, wait() waits for it to be gone.
// Engine: one request, the release pushed. Fallback: an exists watch.

import { CorralOp, DoneResponseSchema, WaitRequestSchema, decodeRecord, encodeRecord } from "../../jute/index.js";
import { ZooKeeperError } from "../errors.js";
import type { RecipeContext } from "./context.js";
import { engineWait } from "./engine-wait.js";
import { untilFiredOrReconnected, watcher } from "./fallback.js";
import { cancelWait, retrying } from "./nodes.js";
import { giveUpSignal } from "./signals.js";
import type { Barrier, WaitOptions } from "./types.js";

export function barrier(ctx: RecipeContext, path: string): Barrier {
  return {
    set: async () => {
      await ctx.zk.create(path).catch((e: unknown) => {
        if (!ZooKeeperError.is(e, "NodeExists")) throw e;
      });
    },
    remove: async () => {
      await ctx.zk.delete(path).catch((e: unknown) => {
        if (!ZooKeeperError.is(e, "NoNode")) throw e;
      });
    },
    wait: (opts = {}) => wait(ctx, path, opts),
  };
}

async function wait(ctx: RecipeContext, path: string, opts: WaitOptions): Promise<void> {
  const scope = ctx.session.scope();
  const gaveUp = giveUpSignal(opts);
  const hold = ctx.session.holdOpen();
  try {
    if ((await ctx.mode(scope, gaveUp.signal)) === "engine") {
      const sp = ctx.sp(path);
      await engineWait(
        ctx,
        scope,
        {
          path,
          send: (requestId) =>
            ctx.request(
              CorralOp.barrierWait,
              path,
              (w) => encodeRecord(w, WaitRequestSchema, { path: sp, requestId }),
              (r) => decodeRecord(r, DoneResponseSchema),
            ),
          settled: (r) => (r.done ? true : undefined),
          fromEvent: () => true,
          // Withdraw the wait filed on the server. Not filed any more: the barrier opened
          // as the caller gave up, so the wait succeeded after all.
          giveUp: async ({ requestId }) => {
            if (await cancelWait(ctx, path, requestId)) return undefined;
            return (await ctx.zk.exists(path)) === null ? true : undefined;
          },
        },
        gaveUp.signal,
      );
      return;
    }
    for (;;) {
      const w = watcher();
      if ((await retrying(scope, () => ctx.zk.exists(path, { watch: w.listener }), gaveUp.signal)) === null) return;
      await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp.signal);
    }
  } finally {
    scope.dispose();
    gaveUp.done();
    hold();
  }
}
