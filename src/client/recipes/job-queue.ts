// The job queue: a take hands out an item for processing, ack() finishes it, and an item
// whose consumer dies before acking is taken again (at least once).
//
// Engine (v2): the take moves the item to an ephemeral in-flight node of the consumer's
// session (idempotent across reconnects, as FIFO takes); ack() deletes it; the session's
// end (or the visibility timeout) moves it back under its original name.
//
// Fallback (Apache ZooKeeper), as kazoo's LockingQueue: the item stays where it is; the
// consumer claims it with an ephemeral sibling `inflight-<item>` (skipping items already
// claimed); ack() deletes item and claim in one multi. A consumer that dies before acking
// loses its claim with its session, and the next consumer takes the item again: no item is
// lost. What ZooKeeper cannot do: a visibility timeout (a take asking for one rejects with
// Unimplemented); and a claim lives as long as its consumer's session, however stuck.

import { Err } from "../../jute/index.js";
import { INFLIGHT_PREFIX, VISIBILITY_MS_MAX, items as queueItems, parseInflight } from "../../../recipes/queue/rules.js";
import { ZooKeeperError } from "../errors.js";
import type { RecipeContext } from "./context.js";
import { releaseNode, retrying } from "./nodes.js";
import { engineTake, offer, takeFirst } from "./queue.js";
import type { SessionScope } from "./session.js";
import { giveUpSignal, isConnectionLoss } from "./signals.js";
import type { Job, JobQueue, JobQueueOptions, JobTakeOptions } from "./types.js";

export function jobQueue(ctx: RecipeContext, path: string, queueOpts: JobQueueOptions): JobQueue {
  return {
    offer: (data) => offer(ctx, path, data),
    take: (opts = {}) => take(ctx, path, opts.visibilityTimeoutMs ?? queueOpts.visibilityTimeoutMs ?? 0, opts),
    size: async () => waiting(await ctx.zk.getChildren(path)).length,
  };
}

/** Items not taken: the engine moved taken ones away; the fallback's have a claim beside them. */
function waiting(children: string[]): string[] {
  const claimed = new Set<string>();
  for (const c of children) {
    const f = parseInflight(c);
    if (f !== undefined) claimed.add(f.item);
  }
  return queueItems(children).filter((i) => !claimed.has(i));
}

async function take(ctx: RecipeContext, path: string, visibilityMs: number, opts: JobTakeOptions): Promise<Job> {
  if (!Number.isSafeInteger(visibilityMs) || visibilityMs < 0 || visibilityMs > VISIBILITY_MS_MAX) {
    throw new ZooKeeperError(Err.BadArguments, path);
  }
  const scope = ctx.session.scope();
  const gaveUp = giveUpSignal(opts);
  const hold = ctx.session.holdOpen();
  try {
    if ((await ctx.mode(scope, gaveUp.signal)) === "client") {
      if (visibilityMs > 0) throw new ZooKeeperError(Err.Unimplemented, path);
      return await clientTake(ctx, scope, path, gaveUp.signal);
    }
    const got = await engineTake(ctx, scope, path, { job: true, visibilityMs }, gaveUp.signal);
    // The ack belongs to the session that took the item: after it ended, NoNode.
    return { id: ctx.cp(got.node), data: got.data, ack: () => releaseNode(ctx, scope, got.node, { missingOk: false, ack: true }) };
  } finally {
    scope.dispose();
    gaveUp.done();
    hold();
  }
}

// ---- client-side fallback (kazoo's LockingQueue) ---------------------------------------------

function clientTake(ctx: RecipeContext, scope: SessionScope, path: string, gaveUp: AbortSignal): Promise<Job> {
  return takeFirst(ctx, scope, path, waiting, (item) => claim(ctx, scope, path, item), gaveUp);
}

/** Claims `item` with an ephemeral `inflight-<item>`; undefined if another consumer has it or it is gone. */
async function claim(ctx: RecipeContext, scope: SessionScope, path: string, item: string): Promise<Job | undefined> {
  const itemPath = `${path}/${item}`;
  const claimPath = `${path}/${INFLIGHT_PREFIX}${item}`;
  const sessionId = ctx.zk.sessionId;
  let mine = false;
  for (let attempt = 0; !mine; attempt++) {
    await scope.usable();
    try {
      await ctx.zk.create(claimPath, null, { mode: "ephemeral" });
      mine = true;
    } catch (e) {
      if (ZooKeeperError.is(e, "NodeExists")) {
        // After a lost reply, the claim may be this session's own.
        if (attempt === 0) return undefined;
        const stat = await retrying(scope, () => ctx.zk.exists(claimPath));
        if (stat?.ephemeralOwner !== sessionId) return undefined;
        mine = true;
      } else if (!isConnectionLoss(e)) throw e;
    }
  }
  const data = await retrying(scope, () => ctx.zk.getData(itemPath)).catch((e: unknown) => {
    if (!ZooKeeperError.is(e, "NoNode")) throw e;
    return undefined;
  });
  if (data === undefined) {
    // Acked by its previous consumer between our read and our claim.
    await releaseNode(ctx, scope, ctx.sp(claimPath));
    return undefined;
  }
  return { id: claimPath, data: data.data ?? Buffer.alloc(0), ack: () => clientAck(ctx, scope, itemPath, claimPath, sessionId) };
}

/** Deletes item and claim in one multi, while the claiming session lives. */
async function clientAck(ctx: RecipeContext, scope: SessionScope, itemPath: string, claimPath: string, sessionId: bigint): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await scope.usable();
    } catch (e) {
      throw new ZooKeeperError(Err.NoNode, claimPath, { cause: e });
    }
    if (ctx.zk.sessionId !== sessionId) throw new ZooKeeperError(Err.NoNode, claimPath);
    try {
      await ctx.zk.multi([
        { op: "delete", path: claimPath },
        { op: "delete", path: itemPath },
      ]);
      return;
    } catch (e) {
      // NoNode after a lost reply: the first multi went through.
      if (ZooKeeperError.is(e, "NoNode") && attempt > 0) return;
      if (!isConnectionLoss(e)) throw e;
    }
  }
}
