// The barrier: set() creates the node, remove() deletes it, wait() waits for it to be gone.
// Engine: one request, the release pushed. Fallback: an exists watch.

import { CorralOp, WaitRequestSchema, encodeRecord } from "../../jute/index.js";
import { ZooKeeperError } from "../errors.js";
import type { RecipeContext } from "./context.js";
import { doneWait } from "./done-wait.js";
import { untilFiredOrReconnected, watcher } from "./fallback.js";
import { cancelWait, retrying } from "./nodes.js";
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

function wait(ctx: RecipeContext, path: string, opts: WaitOptions): Promise<void> {
  return doneWait(ctx, path, opts, {
    op: CorralOp.barrierWait,
    write: (w, sp, requestId) => encodeRecord(w, WaitRequestSchema, { path: sp, requestId }),
    // Withdraw the wait filed on the server. Not filed any more: the barrier opened as the
    // caller gave up, so the wait succeeded after all.
    giveUp: async (_scope, requestId) => {
      if (await cancelWait(ctx, path, requestId)) return undefined;
      return (await ctx.zk.exists(path)) === null ? true : undefined;
    },
    fallback: async (scope, gaveUp) => {
      for (;;) {
        const w = watcher();
        if ((await retrying(scope, () => ctx.zk.exists(path, { watch: w.listener }), gaveUp)) === null) return;
        await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp);
      }
    },
  });
}
