// Shared node handling for engine and fallback alike: the guaranteed delete (Curator's
// guaranteed delete, kazoo's retried release), retries of idempotent reads across a lost
// connection, and Curator's protected create for the client-side fallback.

import { randomUUID } from "node:crypto";
import { CancelWaitResponseSchema, CorralOp, Err, NodeRequestSchema, WaitRequestSchema, decodeRecord, encodeRecord, type Stat } from "../../jute/index.js";
import { protectedToken } from "../../../recipes/common/rules.js";
import { ZooKeeperError } from "../errors.js";
import type { Data, NodeMode } from "../zookeeper.js";
import type { RecipeContext } from "./context.js";
import type { SessionScope } from "./session.js";
import { isConnectionLoss, raceAbort } from "./signals.js";

/**
 * Runs an idempotent call (a read, a create that treats NodeExists as done) again after
 * a lost connection, once the scope's session is back; rejects with the session's end or
 * the give-up reason.
 */
export async function retrying<T>(scope: SessionScope, fn: () => Promise<T>, gaveUp?: AbortSignal): Promise<T> {
  for (;;) {
    await scope.usable(gaveUp);
    try {
      // A call queued while disconnected may wait operationTimeoutMs: giving up does not.
      return await raceAbort(fn(), scope, gaveUp);
    } catch (e) {
      if (!isConnectionLoss(e)) throw e;
    }
  }
}

/**
 * A job's ack whose outcome nobody can know: it was sent, the connection was lost before
 * the answer, and the session ended before it could be asked again. Either the ack was
 * applied (the item is done) or the session's end came first (the item is back in its
 * queue, for another consumer). Code ConnectionLoss, as ZooKeeper's clients report a
 * write whose reply was lost.
 */
export class AckOutcomeUnknownError extends ZooKeeperError {
  /** "AckOutcomeUnknownError". */
  override name = "AckOutcomeUnknownError";

  constructor(path: string, cause: unknown) {
    super(Err.ConnectionLoss, path, { cause });
    this.message = `ack of ${path}: outcome unknown (the connection was lost before the answer and the session ended): the item was either acked or went back to its queue`;
  }
}

/**
 * Deletes a recipe node the session owns (engine: Corral's `release`; fallback: delete).
 * A delete cut off by a lost connection is sent again once the session is back (NoNode
 * then means the first one did it), so the node never outlives its release while the
 * session lives on. Settles once the node is gone: deleted, or gone with the session.
 * NoNode on the first attempt rejects unless `missingOk`; with `ack`, a session that ended
 * first rejects with NoNode (the node went with it: a job item back to its queue).
 */
export async function releaseNode(ctx: RecipeContext, scope: SessionScope, serverNode: string, opts: { missingOk?: boolean; ack?: boolean } = {}): Promise<void> {
  const missingOk = opts.missingOk ?? true;
  const hold = ctx.session.holdOpen();
  // An attempt cut off by a lost connection may have been applied before the cut.
  let maybeApplied = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await scope.usable();
      } catch (e) {
        // The session ended: its ephemerals went with it. For an ack that matters: NoNode
        // (the item went back to its queue) only if no delete can have reached the server;
        // otherwise nobody can tell whether the ack or the session's end came first.
        if (opts.ack === true) throw maybeApplied ? new AckOutcomeUnknownError(ctx.cp(serverNode), e) : new ZooKeeperError(Err.NoNode, ctx.cp(serverNode), { cause: e });
        return;
      }
      try {
        await releaseOnce(ctx, serverNode);
        return;
      } catch (e) {
        if (ZooKeeperError.is(e, "NoNode") && (attempt > 0 || missingOk)) return;
        if (ZooKeeperError.is(e, "SessionExpired")) return;
        if (!isConnectionLoss(e)) throw e;
        maybeApplied = true;
      }
    }
  } finally {
    hold();
  }
}

async function releaseOnce(ctx: RecipeContext, serverNode: string): Promise<void> {
  if (ctx.resolvedMode === "engine") {
    await ctx.request(CorralOp.release, serverNode, (w) => encodeRecord(w, NodeRequestSchema, { node: serverNode }), undefined);
    return;
  }
  await ctx.zk.delete(ctx.cp(serverNode));
}

/**
 * Curator's protected mode, client-side (fallback): creates `<parent>/_c_<uuid>-<prefix>`
 * (ephemeral sequential); if the connection is lost before the reply, looks for a child
 * with the same token once the session is back, so a create that did happen is never
 * orphaned nor made twice. Returns the client path and its Stat.
 */
export async function protectedCreate(
  ctx: RecipeContext,
  scope: SessionScope,
  parent: string,
  prefix: string,
  data: Data,
  mode: NodeMode,
  gaveUp?: AbortSignal,
): Promise<{ path: string; stat: Stat }> {
  const token = protectedToken(randomUUID());
  let lostOne = false;
  try {
    for (;;) {
      await scope.usable(gaveUp);
      try {
        if (lostOne) {
          const mine = await findProtected(ctx, parent, token);
          if (mine !== undefined) {
            const stat = await ctx.zk.exists(mine);
            if (stat !== null) return { path: mine, stat };
          }
        }
        return await ctx.zk.create2(`${parent}/${token}${prefix}`, data, { mode });
      } catch (e) {
        if (!isConnectionLoss(e)) throw e;
        lostOne = true;
      }
    }
  } catch (err) {
    // Gave up after a create whose reply was lost: if it did make the node, remove it once
    // the session is back, so it never blocks anyone.
    if (lostOne && !scope.ended) {
      void retrying(scope, async () => {
        const mine = await findProtected(ctx, parent, token);
        if (mine !== undefined) await releaseNode(ctx, scope, ctx.sp(mine));
      }).catch(() => undefined);
    }
    throw err;
  }
}

async function findProtected(ctx: RecipeContext, parent: string, token: string): Promise<string | undefined> {
  const mine = (await ctx.zk.getChildren(parent)).find((c) => c.startsWith(token));
  return mine === undefined ? undefined : `${parent}/${mine}`;
}

/** Creates `path` and missing parents as containers (data on the last), if absent. */
export async function ensurePath(ctx: RecipeContext, scope: SessionScope, path: string, data: Buffer | null = null, gaveUp?: AbortSignal): Promise<void> {
  await retrying(
    scope,
    async () => {
      if ((await ctx.zk.exists(path)) !== null) return;
      const parts = path.split("/").filter((p) => p !== "");
      let cur = "";
      for (let i = 0; i < parts.length; i++) {
        cur += "/" + parts[i]!;
        const last = i === parts.length - 1;
        await ctx.zk.create(cur, last ? data : null, { mode: last && data !== null ? "persistent" : "container" }).catch((e: unknown) => {
          if (!ZooKeeperError.is(e, "NodeExists")) throw e;
        });
      }
    },
    gaveUp,
  );
}

/** Withdraws the session's engine wait `requestId` on `path` (a take, a barrier wait); true if it was filed. */
export async function cancelWait(ctx: RecipeContext, path: string, requestId: string): Promise<boolean> {
  const sp = ctx.sp(path);
  const r = await ctx.request(
    CorralOp.cancelWait,
    path,
    (w) => encodeRecord(w, WaitRequestSchema, { path: sp, requestId }),
    (rd) => decodeRecord(rd, CancelWaitResponseSchema),
  );
  return r.cancelled;
}
