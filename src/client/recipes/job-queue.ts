// The job queue: a take hands out an item for processing, ack() finishes it, and an item
// whose consumer dies before acking is taken again (at least once).
//
// Engine (v2): the take moves the item to an ephemeral in-flight node of the consumer's
// session (idempotent across reconnects, as FIFO takes); ack() deletes it; the session's
// end (or the visibility timeout, or nack()) moves it back under its own sequence number
// with its delivery count one higher; extend() re-creates it under a name with the new
// timeout (jobExtend), so the job keeps its current node. A dead-letter policy is written
// into the queue node's data before the handle's first offer or take; the server moves
// items that reach it. A delayed offer is a sequential create of "qd-<ms>-" that the
// server makes an item once due. nack and extend name the in-flight node, which carries
// the take's request id: a re-sent extend finds the node its first send renamed; a re-sent
// nack that finds nothing was applied (or the item went back anyway).
//
// Fallback (Apache ZooKeeper), as kazoo's LockingQueue: the item stays where it is; the
// consumer claims it with an ephemeral sibling `inflight-<item>` (skipping items already
// claimed); ack() deletes item and claim in one multi. A consumer that dies before acking
// loses its claim with its session, and the next consumer takes the item again: no item is
// lost. nack() deletes the claim (the item never moved, so it is free at once). What
// ZooKeeper cannot do, each rejecting with Unimplemented: a visibility timeout and
// extend() (a claim lives as long as its consumer's session, however stuck), delayed
// offers and dead letters (nobody there would make an item due, or count deliveries).

import { CorralOp, Err, JobExtendRequestSchema, JobExtendResponseSchema, NodeRequestSchema, decodeRecord, encodeRecord } from "../../jute/index.js";
import {
  DELAY_MS_MAX,
  INFLIGHT_PREFIX,
  ITEM_PREFIX,
  VISIBILITY_MS_MAX,
  delayedPrefix,
  deliveriesOf,
  items as queueItems,
  parseInflight,
  parsePolicy,
  policyData,
  validPolicy,
  type DeadLetterPolicy,
} from "../../../recipes/queue/rules.js";
import { ZooKeeperError } from "../errors.js";
import type { Data } from "../zookeeper.js";
import type { RecipeContext } from "./context.js";
import { ensurePath, releaseNode, retrying } from "./nodes.js";
import { engineTake, offer, takeFirst } from "./queue.js";
import type { SessionScope } from "./session.js";
import { giveUpSignal, isConnectionLoss } from "./signals.js";
import type { Job, JobOfferOptions, JobQueue, JobQueueOptions, JobTakeOptions } from "./types.js";

export function jobQueue(ctx: RecipeContext, path: string, queueOpts: JobQueueOptions): JobQueue {
  const policy = policyWriter(ctx, path, queueOpts);
  return {
    offer: async (data, opts = {}) => {
      await policy.configure();
      return offerJob(ctx, path, data, opts, policy);
    },
    take: async (opts = {}) => {
      await policy.configure();
      return take(ctx, path, opts.visibilityTimeoutMs ?? queueOpts.visibilityTimeoutMs ?? 0, opts);
    },
    size: async () => waiting(await ctx.zk.getChildren(path)).length,
  };
}

/** What a feature that needs Corral's engine rejects with against Apache ZooKeeper. */
function needsEngine(path: string, what: string): ZooKeeperError {
  const e = new ZooKeeperError(Err.Unimplemented, path);
  e.message = `${what} needs Corral's recipe engine; this server does not offer it (Apache ZooKeeper, or another recipe protocol): ${path}`;
  return e;
}

interface PolicyStep {
  /** Whether the handle has a dead-letter policy. */
  readonly has: boolean;
  /** Runs the policy step before the handle's first offer or take (again after one that failed). */
  configure(): Promise<void>;
  /** The queue node is gone (deleted since): the next configure() creates it again, with the policy. */
  reset(): void;
}

/**
 * The handle's dead-letter policy step (a no-op without a policy). Creates the dead-letter
 * node and the queue (persistent, with the policy) if missing; writes the policy into an
 * empty queue node; BadArguments if the queue node holds another policy or other data.
 */
function policyWriter(ctx: RecipeContext, path: string, opts: JobQueueOptions): PolicyStep {
  if (opts.maxDeliveries === undefined && opts.deadLetterPath === undefined) return { has: false, configure: () => Promise.resolve(), reset: () => {} };
  const policy: DeadLetterPolicy = { maxDeliveries: opts.maxDeliveries ?? 0, deadLetterPath: opts.deadLetterPath ?? "" };
  let done: Promise<void> | undefined;
  return {
    has: true,
    configure: () => {
      if (!validPolicy(policy)) return Promise.reject(new ZooKeeperError(Err.BadArguments, path));
      done ??= writePolicy(ctx, path, policy).catch((e: unknown) => {
        done = undefined;
        throw e;
      });
      return done;
    },
    reset: () => (done = undefined),
  };
}

async function writePolicy(ctx: RecipeContext, path: string, policy: DeadLetterPolicy): Promise<void> {
  const scope = ctx.session.scope();
  try {
    if ((await ctx.mode(scope)) === "client") throw needsEngine(path, "a dead-letter policy");
    await ensurePath(ctx, scope, policy.deadLetterPath, Buffer.alloc(0));
    const want = policyData(policy);
    await retrying(scope, async () => {
      for (let attempt = 0; attempt < POLICY_ATTEMPTS_MAX; attempt++) {
        const got = await ctx.zk.getData(path).catch((e: unknown) => {
          if (!ZooKeeperError.is(e, "NoNode")) throw e;
          return undefined;
        });
        if (got === undefined) {
          const parent = path.slice(0, path.lastIndexOf("/"));
          if (parent !== "") await ensurePath(ctx, scope, parent);
          const made = await ctx.zk.create(path, want, { mode: "persistent" }).then(
            () => true,
            (e: unknown) => {
              if (!ZooKeeperError.is(e, "NodeExists")) throw e;
              return false;
            },
          );
          if (made) return;
          continue;
        }
        const have = parsePolicy(got.data);
        if (have !== undefined && have.maxDeliveries === policy.maxDeliveries && have.deadLetterPath === policy.deadLetterPath) return;
        if (have !== undefined || (got.data !== null && got.data.length > 0)) throw new ZooKeeperError(Err.BadArguments, path);
        const set = await ctx.zk.setData(path, want, { version: got.stat.version }).then(
          () => true,
          (e: unknown) => {
            if (!ZooKeeperError.is(e, "BadVersion") && !ZooKeeperError.is(e, "NoNode")) throw e;
            return false;
          },
        );
        if (set) return;
      }
      throw new ZooKeeperError(Err.SystemError, path);
    });
  } finally {
    scope.dispose();
  }
}

/** Rounds of read-then-write while others change the queue node (bounds the loop). */
const POLICY_ATTEMPTS_MAX = 16;

/**
 * An offer, delayed or not. A queue node that is missing is created first: with the
 * handle's policy if it has one (a queue deleted since the policy was written gets it
 * again), else as the plain queue's offer does (a container).
 */
async function offerJob(ctx: RecipeContext, path: string, data: Data, opts: JobOfferOptions, policy: PolicyStep): Promise<string> {
  const delayMs = opts.delayMs ?? 0;
  if (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > DELAY_MS_MAX) throw new ZooKeeperError(Err.BadArguments, path);
  if (delayMs === 0 && !policy.has) return offer(ctx, path, data);
  const scope = ctx.session.scope();
  try {
    if (delayMs > 0 && (await ctx.mode(scope)) === "client") throw needsEngine(path, "a delayed offer");
    const prefix = delayMs > 0 ? delayedPrefix(delayMs) : ITEM_PREFIX;
    const create = (): Promise<string> => ctx.zk.create(`${path}/${prefix}`, data, { mode: "persistentSequential" });
    const created = await create().catch(async (e: unknown) => {
      if (!ZooKeeperError.is(e, "NoNode")) throw e;
      if (policy.has) {
        policy.reset();
        await policy.configure();
      } else {
        await ensurePath(ctx, scope, path);
      }
      return create();
    });
    return created.slice(path.length + 1);
  } finally {
    scope.dispose();
  }
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
      if (visibilityMs > 0) throw needsEngine(path, "a visibility timeout");
      return await clientTake(ctx, scope, path, gaveUp.signal);
    }
    const got = await engineTake(ctx, scope, path, { job: true, visibilityMs }, gaveUp.signal);
    return engineJob(ctx, scope, got.node, got.data);
  } finally {
    scope.dispose();
    gaveUp.done();
    hold();
  }
}

/**
 * A job taken through the engine. Its calls run one after another, each on the node the
 * one before left (extend renames it). The job belongs to the session that took it: after
 * that session ended, ack and extend reject with NoNode (the item went back with it).
 */
function engineJob(ctx: RecipeContext, scope: SessionScope, taken: string, data: Buffer): Job {
  let node = taken;
  let last: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = last.then(fn, fn);
    last = p.catch(() => undefined);
    return p;
  };
  const item = parseInflight(node.slice(node.lastIndexOf("/") + 1))?.item;
  return {
    get id() {
      return ctx.cp(node);
    },
    data,
    deliveries: (item === undefined ? 0 : deliveriesOf(item)) + 1,
    ack: () => inOrder(() => releaseNode(ctx, scope, node, { missingOk: false, ack: true })),
    nack: () => inOrder(() => nackNode(ctx, scope, node)),
    extend: (ms) =>
      inOrder(async () => {
        if (!Number.isSafeInteger(ms) || ms < 1 || ms > VISIBILITY_MS_MAX) throw new ZooKeeperError(Err.BadArguments, ctx.cp(node));
        node = await extendNode(ctx, scope, node, ms);
      }),
  };
}

/**
 * jobNack, sent again after a lost connection. NoNode on the first send: the item had
 * gone back already. NoNode on a re-send, or the session ending after a send: the nack was
 * applied or the item went back with the session; either way it is back in the queue.
 */
async function nackNode(ctx: RecipeContext, scope: SessionScope, node: string): Promise<void> {
  const hold = ctx.session.holdOpen();
  let sent = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await scope.usable();
      } catch (e) {
        if (sent) return;
        throw new ZooKeeperError(Err.NoNode, ctx.cp(node), { cause: e });
      }
      try {
        sent = true;
        await ctx.request(CorralOp.jobNack, ctx.cp(node), (w) => encodeRecord(w, NodeRequestSchema, { node }), undefined);
        return;
      } catch (e) {
        if (ZooKeeperError.is(e, "NoNode") && attempt > 0) return;
        if (!isConnectionLoss(e)) throw e;
      }
    }
  } finally {
    hold();
  }
}

/** jobExtend, sent again (with the same node: the engine finds it renamed) after a lost connection; the new node. */
async function extendNode(ctx: RecipeContext, scope: SessionScope, node: string, ms: number): Promise<string> {
  const hold = ctx.session.holdOpen();
  try {
    for (;;) {
      try {
        await scope.usable();
      } catch (e) {
        throw new ZooKeeperError(Err.NoNode, ctx.cp(node), { cause: e });
      }
      try {
        const r = await ctx.request(
          CorralOp.jobExtend,
          ctx.cp(node),
          (w) => encodeRecord(w, JobExtendRequestSchema, { node, visibilityMs: BigInt(ms) }),
          (rd) => decodeRecord(rd, JobExtendResponseSchema),
        );
        return r.node;
      } catch (e) {
        if (!isConnectionLoss(e)) throw e;
      }
    }
  } finally {
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
  return {
    id: claimPath,
    data: data.data ?? Buffer.alloc(0),
    deliveries: 1,
    ack: () => clientAck(ctx, scope, itemPath, claimPath, sessionId),
    // The item never moved: without the claim it is free for the next taker at once.
    nack: () => releaseNode(ctx, scope, ctx.sp(claimPath), { missingOk: false }),
    extend: () => Promise.reject(needsEngine(claimPath, "Job.extend (a visibility timeout)")),
  };
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
