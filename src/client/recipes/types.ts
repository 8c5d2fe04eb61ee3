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

/**
 * A held lock, semaphore lease or mutex. `await using lock = await client.mutex(p)` releases
 * it when the block ends. Not re-entrant: each acquire is its own contender.
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
  /** The in-flight node (the consumer's claim on the item). */
  readonly id: string;
  /** The item's data. */
  readonly data: Buffer;
  /**
   * Deletes the in-flight item. Rejects with NoNode if it went back to the queue first (its
   * session ended, or its visibility timeout passed), and with AckOutcomeUnknownError
   * (code ConnectionLoss) when the ack was sent but the session ended before its answer
   * came: then it was either applied or the item is back in the queue — never lost.
   */
  ack(): Promise<void>;
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
}

/** Options of one `JobQueue.take`: its wait, and a visibility timeout overriding the queue's. */
export interface JobTakeOptions extends WaitOptions, JobQueueOptions {}

/** A job queue (see `CorralClient.jobQueue`). */
export interface JobQueue {
  /** Appends an item; as `Queue.offer`. */
  offer(data: Data): Promise<string>;
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
