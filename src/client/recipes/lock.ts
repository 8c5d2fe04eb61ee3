// Locks (read/write, mutex) and semaphores. Engine: one request creates the contender node
// (protected: `_c_<requestId>-...`) and answers granted or waiting; the grant is pushed.
// Fallback: the classic recipes with chained watches, same node names and rules.
// A held lock's `lost` is its own signal: see LockHandle.

import { setMaxListeners } from "node:events";
import {
  CorralOp,
  Err,
  LockKind,
  LockRequestSchema,
  LockResponseSchema,
  SemaphoreRequestSchema,
  decodeRecord,
  encodeRecord,
} from "../../jute/index.js";
import { NODE_PREFIX as RW_PREFIX, blockerOf, contenders, type LockMode } from "../../../recipes/read-write-lock/rules.js";
import { MISSING } from "../../../recipes/common/rules.js";
import { sortBySequence } from "../../../recipes/common/sequence.js";
import { NODE_PREFIX as LEASE_PREFIX, isContender as isLease, parsePermits, permitOf } from "../../../recipes/semaphore/rules.js";
import { ZooKeeperError } from "../errors.js";
import type { RecipeContext } from "./context.js";
import { engineWait } from "./engine-wait.js";
import { waitChain, waitChildren } from "./fallback.js";
import { ensurePath, protectedCreate, releaseNode, retrying } from "./nodes.js";
import type { SessionScope } from "./session.js";
import { giveUpSignal } from "./signals.js";
import type { LockHandle, WaitOptions } from "./types.js";

type LockReply = { node: string; granted: boolean; token: bigint };

export async function lock(ctx: RecipeContext, path: string, mode: LockMode, opts: WaitOptions): Promise<LockHandle> {
  const kind = mode === "read" ? LockKind.read : LockKind.write;
  return acquire(ctx, path, opts, {
    send: (requestId) =>
      ctx.request(
        CorralOp.lock,
        path,
        (w) => encodeRecord(w, LockRequestSchema, { path: ctx.sp(path), kind, permits: 0, requestId }),
        (r) => decodeRecord(r, LockResponseSchema),
      ),
    fallback: (scope, gaveUp) => clientLock(ctx, scope, path, mode, gaveUp),
  });
}

export async function semaphore(ctx: RecipeContext, path: string, permits: number, opts: WaitOptions): Promise<LockHandle> {
  if (!Number.isInteger(permits) || permits <= 0) throw new ZooKeeperError(Err.BadArguments, path);
  return acquire(ctx, path, opts, {
    send: (requestId) =>
      ctx.request(
        CorralOp.semaphoreAcquire,
        path,
        (w) => encodeRecord(w, SemaphoreRequestSchema, { path: ctx.sp(path), permits, requestId }),
        (r) => decodeRecord(r, LockResponseSchema),
      ),
    fallback: (scope, gaveUp) => clientSemaphore(ctx, scope, path, permits, gaveUp),
  });
}

interface Acquirer {
  send(requestId: string): Promise<LockReply>;
  /** The client-side recipe: resolves with the held node (server path) and its czxid. */
  fallback(scope: SessionScope, gaveUp: AbortSignal): Promise<{ node: string; token: bigint }>;
}

async function acquire(ctx: RecipeContext, path: string, opts: WaitOptions, a: Acquirer): Promise<LockHandle> {
  const scope = ctx.session.scope();
  const gaveUp = giveUpSignal(opts);
  const hold = ctx.session.holdOpen();
  try {
    if ((await ctx.mode(scope, gaveUp.signal)) === "client") {
      const held = await a.fallback(scope, gaveUp.signal);
      return heldLock(ctx, scope, held.node, held.token);
    }
    let node: string | undefined;
    const send = (requestId: string): Promise<LockReply> =>
      a.send(requestId).then((r) => {
        node = r.node;
        return r;
      });
    const token = await engineWait(
      ctx,
      scope,
      {
        path,
        send,
        settled: (r) => (r.granted ? r.token : undefined),
        fromEvent: (e) => e.token,
        // Giving up removes the node. If the first reply never came (the connection went
        // down first), a re-send with the same requestId finds the node it made.
        giveUp: async ({ requestId, pending }) => {
          if (node === undefined && pending !== undefined) await pending.catch(() => undefined);
          if (node === undefined) await retrying(scope, () => send(requestId));
          await releaseNode(ctx, scope, node!);
          return undefined;
        },
      },
      gaveUp.signal,
    );
    return heldLock(ctx, scope, node!, token);
  } catch (e) {
    scope.dispose();
    throw e;
  } finally {
    gaveUp.done();
    hold();
  }
}

/** A held lock: owns `scope` from here on; holds the client open until released or lost. */
function heldLock(ctx: RecipeContext, scope: SessionScope, serverNode: string, token: bigint): LockHandle {
  const lost = new AbortController();
  setMaxListeners(0, lost.signal);
  const hold = ctx.session.holdOpen();
  let released: Promise<void> | undefined;
  const onLost = (): void => {
    if (released !== undefined) return;
    hold();
    lost.abort(scope.endReason);
  };
  let off: (() => void) | undefined;
  if (scope.ended) onLost();
  else off = scope.onEnd(onLost);
  const release = (): Promise<void> => {
    released ??= (async () => {
      off?.();
      try {
        if (!lost.signal.aborted) await releaseNode(ctx, scope, serverNode);
      } finally {
        scope.dispose();
        hold();
      }
    })();
    return released;
  };
  return { node: ctx.cp(serverNode), token, lost: lost.signal, release, [Symbol.asyncDispose]: release };
}

// ---- client-side fallback (classic recipes, chained watches) ------------------------------

async function clientLock(ctx: RecipeContext, scope: SessionScope, path: string, mode: LockMode, gaveUp: AbortSignal): Promise<{ node: string; token: bigint }> {
  await ensurePath(ctx, scope, path, null, gaveUp);
  const created = await protectedCreate(ctx, scope, path, RW_PREFIX[mode], null, "ephemeralSequential", gaveUp);
  const name = created.path.slice(path.length + 1);
  await waitOrRemove(ctx, scope, created.path, () =>
    waitChain(
      ctx,
      scope,
      path,
      (children) => {
        // Fail closed: a waiter whose own node is gone holds nothing.
        const b = blockerOf(contenders(children), name);
        if (b === MISSING) throw new ZooKeeperError(Err.NoNode, created.path);
        return b;
      },
      gaveUp,
    ),
  );
  return { node: ctx.sp(created.path), token: created.stat.czxid };
}

async function clientSemaphore(ctx: RecipeContext, scope: SessionScope, path: string, permits: number, gaveUp: AbortSignal): Promise<{ node: string; token: bigint }> {
  await ensurePath(ctx, scope, path, Buffer.from(String(permits)), gaveUp);
  const { data } = await retrying(scope, () => ctx.zk.getData(path), gaveUp);
  const have = parsePermits(data);
  if (have !== undefined && have !== permits) throw new ZooKeeperError(Err.BadArguments, path);
  const created = await protectedCreate(ctx, scope, path, LEASE_PREFIX, null, "ephemeralSequential", gaveUp);
  const name = created.path.slice(path.length + 1);
  // Any holder's release may admit this lease: it watches the children (as kazoo does).
  await waitOrRemove(ctx, scope, created.path, () =>
    waitChildren(
      ctx,
      scope,
      path,
      (children) => {
        const p = permitOf(leases(children), permits, name);
        if (p === MISSING) throw new ZooKeeperError(Err.NoNode, created.path);
        return p === "holds";
      },
      gaveUp,
    ),
  );
  return { node: ctx.sp(created.path), token: created.stat.czxid };
}

const leases = (children: string[]): string[] => sortBySequence(children.filter(isLease));

/** Runs a wait; if it fails, removes the waiter's node (once the session is back). */
async function waitOrRemove(ctx: RecipeContext, scope: SessionScope, own: string, wait: () => Promise<void>): Promise<void> {
  try {
    await wait();
  } catch (err) {
    if (!scope.ended) {
      // At once if connected; else releaseNode waits for the session without holding up the caller.
      const removing = releaseNode(ctx, scope, ctx.sp(own)).catch(() => undefined);
      if (ctx.session.connected) await removing;
    }
    throw err;
  }
}
