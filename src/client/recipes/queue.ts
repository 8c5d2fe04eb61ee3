// The FIFO queue. Engine (v2): a take moves the head item to an in-flight node of the
// taker's session and hands it over (reply or pushed event); a take re-sent after a
// reconnect with the same requestId gets that same item; the client acks it as soon as it
// has it (acks.ts). So every item is delivered exactly once while the session lives, and
// an item whose session ends before the ack goes back to the head. A take on a queue that
// does not exist yet waits for it. Fallback (Apache ZooKeeper): read the head, delete it
// (at most once: an item whose delete went through but whose reply was lost with the
// connection is gone; ZooKeeper offers no way to tell).

import {
  CorralOp,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  decodeRecord,
  encodeRecord,
  type RecipeEvent,
} from "../../jute/index.js";
import { ITEM_PREFIX, items as queueItems } from "../../../recipes/queue/rules.js";
import { ZooKeeperError } from "../errors.js";
import type { Data } from "../zookeeper.js";
import type { RecipeContext } from "./context.js";
import { engineWait } from "./engine-wait.js";
import { untilFiredOrReconnected, watcher, type Watcher } from "./fallback.js";
import { cancelWait, ensurePath, retrying } from "./nodes.js";
import { isNodeGone } from "./router.js";
import type { SessionScope } from "./session.js";
import { delay, giveUpSignal } from "./signals.js";
import type { Queue, WaitOptions } from "./types.js";

/** How often, and how long apart, a give-up asks the engine to withdraw a take. */
const CANCEL_ATTEMPTS_MAX = 20;
const CANCEL_RETRY_MS = 100;

export function queue(ctx: RecipeContext, path: string): Queue {
  return {
    offer: (data) => offer(ctx, path, data),
    take: (opts = {}) => take(ctx, path, opts),
    peek: async () => {
      const head = queueItems(await ctx.zk.getChildren(path))[0];
      if (head === undefined) return null;
      return (await ctx.zk.getData(`${path}/${head}`).catch(() => ({ data: null }))).data ?? Buffer.alloc(0);
    },
    size: async () => queueItems(await ctx.zk.getChildren(path)).length,
  };
}

export async function offer(ctx: RecipeContext, path: string, data: Data): Promise<string> {
  const created = await ctx.zk.create(`${path}/${ITEM_PREFIX}`, data, { mode: "persistentSequential" }).catch(async (e: unknown) => {
    if (!ZooKeeperError.is(e, "NoNode")) throw e;
    const scope = ctx.session.scope();
    try {
      await ensurePath(ctx, scope, path);
    } finally {
      scope.dispose();
    }
    return ctx.zk.create(`${path}/${ITEM_PREFIX}`, data, { mode: "persistentSequential" });
  });
  return created.slice(path.length + 1);
}

async function take(ctx: RecipeContext, path: string, opts: WaitOptions): Promise<Buffer> {
  const scope = ctx.session.scope();
  const gaveUp = giveUpSignal(opts);
  const hold = ctx.session.holdOpen();
  try {
    if ((await ctx.mode(scope, gaveUp.signal)) === "client") return await clientTake(ctx, scope, path, gaveUp.signal);
    const got = await engineTake(ctx, scope, path, { job: false, visibilityMs: 0 }, gaveUp.signal);
    ctx.acks.add(ctx.sp(path), got.node, scope);
    return got.data;
  } finally {
    scope.dispose();
    gaveUp.done();
    hold();
  }
}

export interface Taken {
  /** The in-flight node (server path). */
  readonly node: string;
  readonly data: Buffer;
}

/** One engine take (FIFO or job), idempotent across reconnects; FIFO takes carry a pending ack. */
export async function engineTake(
  ctx: RecipeContext,
  scope: SessionScope,
  path: string,
  t: { job: boolean; visibilityMs: number },
  gaveUp: AbortSignal,
): Promise<Taken> {
  const sp = ctx.sp(path);
  const ack = t.job ? undefined : ctx.acks.claim(sp, scope);
  const fromEvent = (e: RecipeEvent): Taken => ({ node: e.node, data: e.data ?? Buffer.alloc(0) });
  try {
    return await engineWait(
      ctx,
      scope,
      {
        path,
        send: (requestId) =>
          ctx.request(
            CorralOp.queueTake,
            path,
            (w) =>
              encodeRecord(w, QueueTakeRequestSchema, {
                path: sp,
                job: t.job,
                wait: true,
                requestId,
                ackNode: ack?.node ?? "",
                visibilityMs: BigInt(t.visibilityMs),
              }),
            (r) => decodeRecord(r, QueueTakeResponseSchema),
          ),
        settled: (r) => (r.found ? { node: r.item, data: r.data ?? Buffer.alloc(0) } : undefined),
        fromEvent,
        // Withdraw the wait; if the engine says an item is already on its way, it is
        // this call's: hand it over rather than leave it in flight.
        giveUp: async ({ requestId, event }) => {
          for (let attempt = 0; attempt < CANCEL_ATTEMPTS_MAX; attempt++) {
            // The engine also puts back an item it already took for this wait.
            if (await cancelWait(ctx, path, requestId)) return undefined;
            const e = await Promise.race([event, delay(CANCEL_RETRY_MS)]);
            if (e !== undefined) return isNodeGone(e) ? undefined : fromEvent(e);
          }
          return undefined;
        },
      },
      gaveUp,
    );
  } catch (e) {
    // The take never went through with its ack: send the ack on its own.
    if (ack !== undefined && !scope.ended) ctx.acks.unclaim(sp, ack);
    throw e;
  }
}

// ---- client-side fallback -------------------------------------------------------------------

/** Classic client-side take: read the head, delete it; a lost race moves to the next. */
function clientTake(ctx: RecipeContext, scope: SessionScope, path: string, gaveUp: AbortSignal): Promise<Buffer> {
  return takeFirst(ctx, scope, path, queueItems, (name) => retrying(scope, () => takeOne(ctx, `${path}/${name}`), gaveUp), gaveUp);
}

/**
 * The client-side take loop (the queue's and the job queue's): the queue's children with a
 * watch, `tryTake` on each of their `candidates` in order (undefined: another consumer won
 * the race, try the next); none taken: wait for the watch (or a reconnect), read again.
 */
export async function takeFirst<T>(
  ctx: RecipeContext,
  scope: SessionScope,
  path: string,
  candidates: (children: string[]) => string[],
  tryTake: (name: string) => Promise<T | undefined>,
  gaveUp: AbortSignal,
): Promise<T> {
  for (;;) {
    const w = watcher();
    const names = await childrenOrWait(ctx, scope, path, w, gaveUp);
    if (names !== undefined) {
      for (const name of candidates(names)) {
        const got = await tryTake(name);
        if (got !== undefined) return got;
        ctx.lostRaces++;
      }
    }
    await untilFiredOrReconnected(ctx, scope, w.fired, gaveUp);
  }
}

async function takeOne(ctx: RecipeContext, itemPath: string): Promise<Buffer | undefined> {
  try {
    const { data, stat } = await ctx.zk.getData(itemPath);
    await ctx.zk.delete(itemPath, { version: stat.version });
    return data ?? Buffer.alloc(0);
  } catch (e) {
    if (ZooKeeperError.is(e, "NoNode") || ZooKeeperError.is(e, "BadVersion")) return undefined;
    throw e;
  }
}

/**
 * The queue's children with a child watch; if the queue does not exist yet, undefined
 * with a watch for its creation instead (a take waits for the queue).
 */
async function childrenOrWait(
  ctx: RecipeContext,
  scope: SessionScope,
  path: string,
  w: Watcher,
  gaveUp: AbortSignal,
): Promise<string[] | undefined> {
  return retrying(
    scope,
    async () => {
      for (;;) {
        try {
          return await ctx.zk.getChildren(path, { watch: w.listener });
        } catch (e) {
          if (!ZooKeeperError.is(e, "NoNode")) throw e;
          // Created in between: read its children (with the watch) after all.
          if ((await ctx.zk.exists(path, { watch: w.listener })) === null) return undefined;
        }
      }
    },
    gaveUp,
  );
}
