// The recipe API's public types. What each promise holds against Corral's engine and
// against Apache ZooKeeper (the client-side fallback) is said on each member.

import type { CallOptions } from "../client.js";
import type { Data } from "../zookeeper.js";

export type { RecipeMode } from "./context.js";

/** Options of the calls that wait (lock, take, barrier wait, double barrier). */
export interface WaitOptions extends CallOptions {
  /**
   * Give up after this long: the call rejects with OperationTimeout and its waiting node
   * is removed (at once if connected, else once the session is back).
   */
  timeoutMs?: number;
}

/** Options of `writeLock`, `readLock` and `mutex`. */
export interface LockOptions extends WaitOptions {
  /**
   * Re-entrant, as Curator's InterProcessMutex: if this client already holds the lock at
   * this path in this mode, itself taken with `reentrant: true` (or is acquiring it), the
   * call shares it — at once, or when that acquire is granted — with the same node and
   * token; the node is deleted when every handle sharing it was released. Node has one
   * thread, so the owner is the client: concurrent tasks that share a client and ask
   * re-entrantly share the lock instead of excluding each other. Default false: every
   * acquire is its own contender, and a second acquire of a lock this client holds waits
   * behind the first.
   */
  reentrant?: boolean;
}

/**
 * A held lock, semaphore lease or mutex. `await using lock = await client.mutex(p)` releases
 * it when the block ends. Not re-entrant unless acquired with `reentrant: true`
 * (LockOptions): by default each acquire is its own contender.
 */
export interface LockHandle extends AsyncDisposable {
  /** The contender node that holds the lock. */
  readonly node: string;
  /** Fencing token: the node's czxid, which only grows. */
  readonly token: bigint;
  /**
   * Fires while the lock is held (never after release()) when the holder can no longer
   * count on it: the session is LOST (reason: the client's LOST reason), announced no
   * later than the moment the server could expire the session, so before anyone else
   * can be granted the lock; or the client is closed (reason: ClientClosedError).
   */
  readonly lost: AbortSignal;
  /**
   * Deletes the contender node (idempotent: every call returns the same promise). Sent
   * again after a lost connection while the session lives; once the lock was lost there
   * is nothing to delete and it resolves.
   */
  release(): Promise<void>;
}

/** A FIFO queue (see `CorralClient.queue`). */
export interface Queue {
  /**
   * Appends an item (creating the queue's node if needed); resolves to its name (`qn-N`).
   * A plain sequential create: not retried, so a ConnectionLoss leaves it unknown whether
   * the item was added.
   */
  offer(data: Data): Promise<string>;
  /**
   * Takes the head item, waiting for one (and for the queue to exist). Against Corral:
   * exactly once across reconnects (a take re-sent after a reconnect gets the same item;
   * the client acks it as soon as it has it). Against Apache ZooKeeper: at most once (an
   * item whose delete succeeded but whose reply was lost with the connection is gone).
   * Against Corral, exactly once holds while the session lives: an item delivered but not
   * yet acked when the session is LOST goes back to the queue and is delivered again.
   * A take that gives up (timeout, abort) while connected withdraws its wait, or returns
   * the item already on its way; one that gives up while disconnected withdraws it once
   * back (an item the engine took for it meanwhile goes back to the head of the queue).
   */
  take(opts?: WaitOptions): Promise<Buffer>;
  /** The head item's data without taking it, or null when the queue is empty (NoNode when it does not exist). */
  peek(): Promise<Buffer | null>;
  /** Items in the queue (NoNode when it does not exist). */
  size(): Promise<number>;
}

/** An item taken from a job queue, to `ack()` once processed. */
export interface Job {
  /**
   * The in-flight node (the consumer's claim on the item). Against Corral, `extend()`
   * re-creates it under a name with the new timeout: `id` then names the new node.
   */
  readonly id: string;
  /** The item's data. */
  readonly data: Buffer;
  /**
   * How many times the item has been handed out, this time included (1 the first time).
   * Every hand-out that ended without an ack (nack, visibility timeout, the consumer's
   * session ending) counts. Against Apache ZooKeeper always 1 (nothing counts there).
   */
  readonly deliveries: number;
  /**
   * Deletes the in-flight item. Rejects with NoNode if it went back to the queue first (its
   * session ended, or its visibility timeout passed), and with AckOutcomeUnknownError
   * (code ConnectionLoss) when the ack was sent but the session ended before its answer
   * came: then it was either applied or the item is back in the queue — never lost.
   */
  ack(): Promise<void>;
  /**
   * Hands the item back now, for the next taker: it goes back under its own sequence
   * number, so ahead of every item offered after it, with its delivery count one higher
   * (and to the dead-letter queue if that reaches `maxDeliveries`). Rejects with NoNode if
   * it had already gone back (visibility timeout) before the nack; resolves if the nack was
   * sent and the session ended before its answer (the item is back either way). Against
   * Apache ZooKeeper the consumer's claim is deleted and the item, which never moved, is
   * free again.
   */
  nack(): Promise<void>;
  /**
   * Heartbeat: the item stays this consumer's for `ms` from now (1 ms to 12 h), whatever
   * visibility timeout it was taken with (also one taken without). Rejects with NoNode if
   * it went back to the queue first, BadArguments for `ms` out of range. Needs Corral's
   * engine: against Apache ZooKeeper it rejects with Unimplemented (nothing times out
   * there; a claim lives as long as its consumer's session).
   */
  extend(ms: number): Promise<void>;
}

/** Options of `CorralClient.jobQueue`. */
export interface JobQueueOptions {
  /**
   * Visibility timeout of every take (ms): an item not acked this long after it was taken
   * goes back to the head of the queue, for another consumer, as when its consumer's
   * session dies. 0 or unset: only a session's death puts it back. Needs Corral's engine
   * (against Apache ZooKeeper a take with a timeout rejects with Unimplemented).
   */
  visibilityTimeoutMs?: number;
  /**
   * Dead-lettering: an item handed out this many times (1 or more) without an ack moves
   * to `deadLetterPath`, in one txn, as `qn-d<count>-<seq>` (a queue item there too, so
   * the dead-letter queue can be taken from as a job queue), and is never handed out again
   * from this queue meanwhile. Set both or neither. The policy is kept in the queue node's
   * data (`{"maxDeliveries":N,"deadLetterPath":"/dlq"}`): the first offer or take through
   * this handle creates the queue (persistent) and the dead-letter node if missing and
   * writes the policy into an empty queue node; a queue whose data holds another policy,
   * or anything else, rejects with BadArguments. Needs Corral's engine: against Apache
   * ZooKeeper offers and takes with a policy reject with Unimplemented.
   */
  maxDeliveries?: number;
  /** Where dead letters go (with `maxDeliveries`): a node path. */
  deadLetterPath?: string;
}

/** Options of one `JobQueue.take`: a wait's, and a visibility timeout for this take. */
export interface JobTakeOptions extends WaitOptions, Pick<JobQueueOptions, "visibilityTimeoutMs"> {}

/** Options of one `JobQueue.offer`. */
export interface JobOfferOptions {
  /**
   * Not visible to takers for this long (ms, 0 to 12 h): the item is kept as
   * `qd-<ms>-<seq>` and the server that owns time-driven txns (standalone, or the leader)
   * makes it the item `qn-<seq>` once `ms` have passed since it was created, so it takes its
   * place by when it was offered. Needs Corral's engine (Apache ZooKeeper: Unimplemented).
   */
  delayMs?: number;
}

/** A job queue (see `CorralClient.jobQueue`). */
export interface JobQueue {
  /** Adds an item; returns its node's name (`qd-...` for a delayed one). */
  offer(data: Data, opts?: JobOfferOptions): Promise<string>;
  /**
   * Takes the head item for processing; `ack()` it when done. An item whose consumer's
   * session ends before the ack is taken again by another consumer (at least once):
   * against Corral the engine moves it back; against Apache ZooKeeper the item stays in
   * place with the consumer's ephemeral claim beside it (kazoo's LockingQueue), and the
   * claim goes with the session.
   */
  take(opts?: JobTakeOptions): Promise<Job>;
  /** Items waiting (not taken). */
  size(): Promise<number>;
}

/** A barrier (see `CorralClient.barrier`). */
export interface Barrier {
  /** Closes the barrier: creates its (persistent) node; already set is fine. */
  set(): Promise<void>;
  /** Opens the barrier: deletes its node, waking every waiter; already removed is fine. */
  remove(): Promise<void>;
  /** Resolves once the barrier's node does not exist (at once if it does not); OperationTimeout on `timeoutMs`. */
  wait(opts?: WaitOptions): Promise<void>;
}

/** One participant of a double barrier (see `CorralClient.doubleBarrier`). */
export interface DoubleBarrier {
  /** Enters; on timeout or abort the participant's node is removed, so it never counts. */
  enter(opts?: WaitOptions): Promise<void>;
  /** Removes this participant's node and resolves once every participant has left. */
  leave(opts?: WaitOptions): Promise<void>;
}

/** Options of `CorralClient.election`. */
export interface ElectionOptions {
  /**
   * When leadership is given up: "suspended" (default, Curator's standard policy) as soon
   * as the connection is lost, since another member may be elected once the session
   * expires; "lost" only once the session is LOST (keeps leading through short
   * disconnects, at the risk of overlapping a new leader if the server expired the
   * session first).
   */
  leadershipPolicy?: "suspended" | "lost";
}

/** One member of a leader election (see `CorralClient.election`). */
export interface Election {
  /**
   * Joins (resolves once the member is in). The member wants to lead until leave(): it
   * re-joins by itself after its session is LOST (on the new session) or its node is
   * deleted.
   */
  join(): Promise<void>;
  /** Stops leading (at once) and wanting to lead, and removes the member's node. */
  leave(): Promise<void>;
  /** The leading member: its id (the data given to election(), as a string) and data. */
  leader(): Promise<{
    /** The leader's id, as a string. */
    id: string;
    /** The leader's id as given. */
    data: Buffer;
  } | null>;
  /** The members' ids (the data given to election(), as strings), leader first. */
  members(): Promise<string[]>;
  /** Whether this member leads now (false while SUSPENDED under the default policy). */
  isLeader(): boolean;
  /** Calls `cb` on every change of `isLeader()`; returns the unsubscribe. */
  onLeadershipChange(cb: (isLeader: boolean) => void): () => void;
}
