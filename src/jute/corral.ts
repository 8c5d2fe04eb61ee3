// Corral's protocol extension for the recipe engine (docs/protocol.md). Op codes lie
// outside ZooKeeper's range so stock clients never send them; a client learns that the
// server speaks them from the data of the `/zookeeper` node (empty on Apache ZooKeeper).
// Grants and other waiter wake-ups arrive as unsolicited frames with xid RECIPE_EVENT.

import type { RecordType } from "./schema.js";

export const CorralOp = {
  lock: 1001,
  release: 1002,
  queueTake: 1003,
  cancelWait: 1004,
  barrierWait: 1005,
  doubleBarrierEnter: 1006,
  doubleBarrierLeave: 1007,
  electionJoin: 1008,
  semaphoreAcquire: 1009,
  /** A job consumer hands its in-flight item back to the queue now (Job.nack). */
  jobNack: 1010,
  /** A job consumer pushes its in-flight item's visibility timeout out (Job.extend). */
  jobExtend: 1011,
  /**
   * Never a client's: a learner's recipe engine tells the leader's about one of its
   * sessions (a queue wait the leader keeps), forwarded in order with that session's
   * writes (src/pipeline/forward.ts).
   */
  engineMessage: 1100,
} as const;

/** xid of a pushed recipe event (ZooKeeper uses -1, -2, -4 and -8). */
export const RECIPE_EVENT_XID = -20;

/** Capability text Corral keeps in `/zookeeper`'s data. */
export const CAPABILITY_PREFIX = "corral-recipes=";
/**
 * 2: every waiting request carries a client-chosen requestId (idempotent re-sends, events
 * routed by it), FIFO takes hand out an in-flight node the client acks, NodeGone events.
 */
export const RECIPE_PROTOCOL_VERSION = 2;

/**
 * A create flag bit Corral's recipe engine sets on the parents it creates: if the node
 * already exists the op is a no-op (a check) instead of NodeExists, so two members that
 * both create a lock's parent in a multi do not fail each other. Stock clients never
 * set it (it lies outside every CreateMode).
 */
export const CREATE_IF_ABSENT_FLAG = 0x100;

/**
 * A create flag bit (Corral only, like CREATE_IF_ABSENT_FLAG) for protected recipe nodes,
 * Curator's protected mode done on the server. The node's name carries a token
 * `_c_<requestId>-` (PROTECTED_TOKEN_PREFIX, the request id, '-'); the create fails with
 * NodeExists, changing nothing, when the same session already owns, or will own once the
 * txns in flight are applied, an ephemeral under the same parent whose name carries the
 * same token. A request re-sent after a lost connection so never makes a second node: it
 * finds the first one instead. Only meaningful on ephemeral creates.
 */
export const PROTECTED_CREATE_FLAG = 0x200;
export const PROTECTED_TOKEN_PREFIX = "_c_";

/** A request id: 8 to 64 characters of [0-9a-f-] (a UUID, with or without dashes). */
export const REQUEST_ID_PATTERN = /^[0-9a-f-]{8,64}$/;

export const LockKind = {
  read: 1,
  write: 2,
  semaphore: 3,
} as const;

export const RecipeEventKind = {
  LockGranted: 1,
  QueueItem: 2,
  BarrierReleased: 3,
  DoubleBarrierEntered: 4,
  DoubleBarrierLeft: 5,
  LeaderElected: 6,
  /**
   * The node a waiter waited with is gone without a grant (deleted by someone else, or cut
   * by a resync): the wait is over; the client fails it with NoNode (or re-joins, for an
   * election member that still wants to lead).
   */
  NodeGone: 7,
} as const;

export const LockRequestSchema = [
  ["path", "ustring"],
  ["kind", "int"],
  ["permits", "int"],
  /**
   * Client-chosen, unique per call within the session, the same on every re-send of that
   * call (after a reconnect): the contender node is `_c_<requestId>-<prefix>N`, created
   * with PROTECTED_CREATE_FLAG, so a re-send resumes the wait on the node it already has.
   */
  ["requestId", "ustring"],
] as const;
export const LockResponseSchema = [
  ["node", "ustring"],
  ["granted", "bool"],
  ["token", "long"],
] as const;
export const SemaphoreRequestSchema = [
  ["path", "ustring"],
  ["permits", "int"],
  ["requestId", "ustring"],
] as const;
export const NodeRequestSchema = [["node", "ustring"]] as const;

export const QueueTakeRequestSchema = [
  ["path", "ustring"],
  ["job", "bool"],
  ["wait", "bool"],
  /** Idempotent take: a re-send gets the item the first send took (its in-flight node's token). */
  ["requestId", "ustring"],
  /** "" or an in-flight node of this session the client has received (FIFO): deleted in the same txn. */
  ["ackNode", "ustring"],
  /** Job takes: visibility timeout in ms (0: none). */
  ["visibilityMs", "long"],
] as const;
export const QueueTakeResponseSchema = [
  ["found", "bool"],
  /** The in-flight node's path (FIFO and job queues alike); the client acks by deleting it. */
  ["item", "ustring"],
  ["data", "buffer"],
] as const;

/** jobExtend: the in-flight node and its new visibility timeout, counted from now (1 ms to 12 h). */
export const JobExtendRequestSchema = [
  ["node", "ustring"],
  ["visibilityMs", "long"],
] as const;
/** jobExtend's answer: the in-flight node's new path (its name carries the new timeout). */
export const JobExtendResponseSchema = [["node", "ustring"]] as const;

export const PathRequestSchema = [["path", "ustring"]] as const;
/** cancelWait and barrierWait: the path and the request id of the wait. */
export const WaitRequestSchema = [
  ["path", "ustring"],
  ["requestId", "ustring"],
] as const;
export const CancelWaitResponseSchema = [["cancelled", "bool"]] as const;
export const DoneResponseSchema = [["done", "bool"]] as const;

export const DoubleBarrierRequestSchema = [
  ["path", "ustring"],
  ["count", "int"],
  ["name", "ustring"],
  ["requestId", "ustring"],
] as const;

export const ElectionJoinRequestSchema = [
  ["path", "ustring"],
  ["data", "buffer"],
  ["requestId", "ustring"],
] as const;
export const ElectionJoinResponseSchema = [
  ["node", "ustring"],
  ["leader", "bool"],
] as const;

export const RecipeEventSchema = [
  ["kind", "int"],
  ["path", "ustring"],
  ["node", "ustring"],
  ["token", "long"],
  ["data", "buffer"],
  /** The request id of the wait this event ends: the client routes events by it. */
  ["requestId", "ustring"],
] as const;
export type RecipeEvent = RecordType<typeof RecipeEventSchema>;

