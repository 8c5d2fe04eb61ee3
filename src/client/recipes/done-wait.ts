// The frame of the recipe calls that are a plain wait (the barrier's wait, the double
// barrier's enter and leave): the session held open and the caller's give-up armed while
// the call runs; on the engine one request, settled by its Done reply or its pushed
// event; else the classic client-side fallback.

import { DoneResponseSchema, decodeRecord, type JuteWriter } from "../../jute/index.js";
import type { RecipeContext } from "./context.js";
import { engineWait } from "./engine-wait.js";
import type { SessionScope } from "./session.js";
import { giveUpSignal } from "./signals.js";
import type { WaitOptions } from "./types.js";

export interface DoneWait {
  /** The engine op of the request. */
  readonly op: number;
  /** Writes the request's body for the server path `sp` (the same on every re-send). */
  write(w: JuteWriter, sp: string, requestId: string): void;
  /** Cleans up after the caller gave up (see `EngineCall.giveUp`); true: done after all. */
  giveUp(scope: SessionScope, requestId: string): Promise<true | undefined>;
  /** The client-side wait, where the engine is not there. */
  fallback(scope: SessionScope, gaveUp: AbortSignal): Promise<void>;
}

/** Runs the wait `wait` on `path` to its end. */
export async function doneWait(ctx: RecipeContext, path: string, opts: WaitOptions, wait: DoneWait): Promise<void> {
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
              wait.op,
              path,
              (w) => wait.write(w, sp, requestId),
              (r) => decodeRecord(r, DoneResponseSchema),
            ),
          settled: (r) => (r.done ? true : undefined),
          fromEvent: () => true,
          giveUp: ({ requestId }) => wait.giveUp(scope, requestId),
        },
        gaveUp.signal,
      );
      return;
    }
    await wait.fallback(scope, gaveUp.signal);
  } finally {
    scope.dispose();
    gaveUp.done();
    hold();
  }
}
