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
} as const;

/** xid of a pushed recipe event (ZooKeeper uses -1, -2, -4 and -8). */
export const RECIPE_EVENT_XID = -20;

/** Capability text Corral keeps in `/zookeeper`'s data. */
export const CAPABILITY_PREFIX = "corral-recipes=";
export const RECIPE_PROTOCOL_VERSION = 1;

/**
 * A create flag bit Corral's recipe engine sets on the parents it creates: if the node
 * already exists the op is a no-op (a check) instead of NodeExists, so two members that
 * both create a lock's parent in a multi do not fail each other. Stock clients never
 * set it (it lies outside every CreateMode).
 */
export const CREATE_IF_ABSENT_FLAG = 0x100;

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
} as const;

export const LockRequestSchema = [
  ["path", "ustring"],
  ["kind", "int"],
  ["permits", "int"],
  /** Non-empty: re-register a wait for this existing node (after a reconnect). */
  ["resumeNode", "ustring"],
] as const;
export const LockResponseSchema = [
  ["node", "ustring"],
  ["granted", "bool"],
  ["token", "long"],
] as const;
export const SemaphoreRequestSchema = [
  ["path", "ustring"],
  ["permits", "int"],
  ["resumeNode", "ustring"],
] as const;
export const NodeRequestSchema = [["node", "ustring"]] as const;

export const QueueTakeRequestSchema = [
  ["path", "ustring"],
  ["job", "bool"],
  ["wait", "bool"],
] as const;
export const QueueTakeResponseSchema = [
  ["found", "bool"],
  /** The item's name (FIFO) or its in-flight node's path (job queue). */
  ["item", "ustring"],
  ["data", "buffer"],
] as const;

export const PathRequestSchema = [["path", "ustring"]] as const;
export const CancelWaitResponseSchema = [["cancelled", "bool"]] as const;
export const DoneResponseSchema = [["done", "bool"]] as const;

export const DoubleBarrierRequestSchema = [
  ["path", "ustring"],
  ["count", "int"],
  ["name", "ustring"],
] as const;

export const ElectionJoinRequestSchema = [
  ["path", "ustring"],
  ["data", "buffer"],
  ["resumeNode", "ustring"],
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
] as const;
export type RecipeEvent = RecordType<typeof RecipeEventSchema>;

