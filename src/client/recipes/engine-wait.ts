// The one way an engine recipe call waits (protocol v2): a fresh requestId per call, the
// request re-sent UNCHANGED whenever the connection comes back on the same session (so the
// engine answers from the node or item the first send made: the same grant, the same
// item, never a second one), the pushed event routed by that requestId, and the call
// ended by the first of: the reply or event that settles it, the session's end (LOST or
// CLOSED: rejects with its reason), or the caller giving up (timeout or abort: the recipe
// cleans up, e.g. removes its node, then it rejects).

import { randomUUID } from "node:crypto";
import { Err, type RecipeEvent } from "../../jute/index.js";
import { ZooKeeperError } from "../errors.js";
import type { RecipeContext } from "./context.js";
import { isNodeGone } from "./router.js";
import type { SessionScope } from "./session.js";
import { isConnectionLoss, raceAbort } from "./signals.js";

export interface GiveUpState<R> {
  readonly requestId: string;
  /** Whether the request was ever sent (if not, the server has nothing to undo). */
  readonly sent: boolean;
  /** The last reply, if any arrived. */
  readonly reply: R | undefined;
  /** The send still in flight when the caller gave up, if any. */
  readonly pending: Promise<R> | undefined;
  /** The routed event, should one still come (a take's item already on its way). */
  readonly event: Promise<RecipeEvent>;
}

export interface EngineCall<R, T> {
  /** Client path, for errors. */
  readonly path: string;
  /** Sends the request with this requestId (the same on every re-send). */
  send(requestId: string): Promise<R>;
  /** The value if the reply settles the call (granted, found, done), else undefined: wait. */
  settled(reply: R): T | undefined;
  /** The value the pushed event settles the call with (NodeGone never comes here). */
  fromEvent(e: RecipeEvent): T;
  /**
   * Cleans up after the caller gave up while connected (remove the node, withdraw the
   * wait). May return a value that arrived meanwhile, to hand to the caller instead of the
   * error. Runs in the background, once the session is back, when it gave up while
   * disconnected.
   */
  giveUp?(state: GiveUpState<R>): Promise<T | undefined>;
}

/** Runs `call` to its end on `scope`'s session; gives up when `gaveUp` aborts. */
export async function engineWait<R, T>(ctx: RecipeContext, scope: SessionScope, call: EngineCall<R, T>, gaveUp: AbortSignal): Promise<T> {
  const requestId = randomUUID();
  const route = ctx.router.expect(requestId);
  const hold = ctx.session.holdOpen();
  let reply: R | undefined;
  let pending: Promise<R> | undefined;
  let sent = false;
  try {
    for (;;) {
      await scope.usable(gaveUp);
      const sentAt = ctx.session.reconnects;
      pending = call.send(requestId);
      sent = true;
      pending.catch(() => undefined);
      try {
        reply = await raceAbort(pending, scope, gaveUp);
      } catch (e) {
        if (isConnectionLoss(e) && !scope.ended && !gaveUp.aborted) continue;
        throw e;
      }
      pending = undefined;
      const done = call.settled(reply);
      if (done !== undefined) return done;
      // Waiting: the event ends it, or a reconnect sends it again (a grant decided while
      // the connection was down comes back as the re-send's reply).
      while (ctx.session.reconnects === sentAt) {
        const e = await raceAbort(Promise.race([route.event, ctx.session.changed().then(() => undefined)]), scope, gaveUp);
        if (e === undefined) continue;
        if (isNodeGone(e)) throw new ZooKeeperError(Err.NoNode, call.path);
        return call.fromEvent(e);
      }
    }
  } catch (err) {
    if (!gaveUp.aborted || err !== gaveUp.reason || scope.ended || !sent) throw err;
    if (pending !== undefined && ctx.session.connected) {
      // The reply is on its way: it decides. A refusal (bad path, no rights) is the
      // answer rather than the timeout; a grant or an item is delivered, not undone.
      const settled = await pending.then(
        (r) => {
          reply = r;
          pending = undefined;
          return call.settled(r);
        },
        (e: unknown) => {
          if (!isConnectionLoss(e)) throw e;
          return undefined;
        },
      );
      if (settled !== undefined) return settled;
    }
    if (call.giveUp === undefined) throw err;
    const state: GiveUpState<R> = { requestId, sent, reply, pending, event: route.event };
    if (!ctx.session.connected) {
      // Not holding up the caller's timeout: the cleanup runs once the session is back.
      void cleanupLater(scope, () => call.giveUp!(state));
      throw err;
    }
    const v = await call.giveUp(state).catch(() => undefined);
    if (v !== undefined) return v;
    throw err;
  } finally {
    route.close();
    hold();
  }
}

/** Runs `cleanup` once the scope's session is back (again after a lost connection); drops it if the session ends. */
export async function cleanupLater(scope: SessionScope, cleanup: () => Promise<unknown>): Promise<void> {
  const hold = scope.tracker.holdOpen();
  try {
    for (;;) {
      await scope.usable();
      try {
        await cleanup();
        return;
      } catch (e) {
        if (!isConnectionLoss(e)) return;
      }
    }
  } catch {
    // The session ended: its nodes went with it.
  } finally {
    hold();
  }
}
