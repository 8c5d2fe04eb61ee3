// FIFO and job queues (ZooKeeper's recipes.md "Queues"): items are persistent-sequential
// children "qn-NNNNNNNNNN" of the queue node; the head is the lowest sequence. A take
// (FIFO or job alike) moves the head to an in-flight node, a sibling owned by the taker's
// session and ephemeral: "inflight-<item>", protected by the take's request id when the
// engine made it ("_c_<requestId>-inflight-<item>"). The taker acks by deleting it (the
// FIFO client at once, a job consumer when the job is done); if the taker's session ends
// first, the item goes back under its own sequence number (counted, below) in the same
// txn, so it is the head again. A take with a visibility timeout names its in-flight node "...inflight-<item>~<ms>":
// if it is still there <ms> after it was created (its ctime), it goes back the same way.
//
// Delivery counts: an item that went back after a delivery (a session's end, a visibility
// timeout, a nack) keeps its sequence number, so its place, and carries how often it was
// delivered: "qn-d<count>-<seq>" (an item never delivered is "qn-<seq>"). A take or
// cancelWait that never handed the item to anyone puts it back unchanged.
//
// Dead letters: a queue whose node's data is a policy (policyData) moves an item delivered
// `maxDeliveries` times and not acked to `deadLetterPath`, as "qn-d<count>-<seq'>" with the
// dead-letter queue's own sequence (so the dead-letter queue is itself a queue); such an item
// is never handed out again from its queue meanwhile.
//
// Delayed offers: "qd-<ms>-<seq>" (a sequential create of "qd-<ms>-") is an item that is
// not visible yet; <ms> after it was created (its ctime) it becomes "qn-<seq>".

import { stripProtected } from "../common/rules.js";
import { sortBySequence } from "../common/sequence.js";

export const ITEM_PREFIX = "qn-";
export const INFLIGHT_PREFIX = "inflight-";
/** Prefix of a delayed item: "qd-<ms>-<seq>" (not an item until <ms> after its ctime). */
export const DELAYED_PREFIX = "qd-";
/** The longest visibility timeout a take may ask for (12 hours, as SQS). */
export const VISIBILITY_MS_MAX = 12 * 3_600_000;
/** The longest delay an offer may ask for (12 hours, as the visibility timeout). */
export const DELAY_MS_MAX = VISIBILITY_MS_MAX;
/** The highest `maxDeliveries` a dead-letter policy may set. */
export const MAX_DELIVERIES_MAX = 1_000_000;

const COUNTED = /^qn-d([1-9][0-9]{0,8})-(-?[0-9]{9,10})$/;
const PLAIN = /^qn-(-?[0-9]{9,10})$/;
const DELAYED = /^qd-([1-9][0-9]{0,10})-(-?[0-9]{9,10})$/;

export function isItem(name: string): boolean {
  return name.startsWith(ITEM_PREFIX);
}

/** Items, head first. */
export function items(children: Iterable<string>): string[] {
  return sortBySequence([...children].filter(isItem));
}

export function head(children: Iterable<string>): string | undefined {
  return items(children)[0];
}

/** How often an item (its name) was delivered and went back: 0 for "qn-<seq>", N for "qn-dN-<seq>". */
export function deliveriesOf(item: string): number {
  const m = COUNTED.exec(item);
  return m === null ? 0 : Number(m[1]);
}

/** The sequence part ("0000000005") of an item's name, or undefined if it is not an item name. */
function seqPartOf(item: string): string | undefined {
  return COUNTED.exec(item)?.[2] ?? PLAIN.exec(item)?.[1];
}

/**
 * The name under which item `item` goes back to its queue after one more delivery: the same
 * sequence, the count one higher ("qn-0000000005" -> "qn-d1-0000000005"). An item name
 * not in either form (never made by a sequential create) goes back unchanged.
 */
export function redeliveredName(item: string): string {
  const seq = seqPartOf(item);
  return seq === undefined ? item : `${ITEM_PREFIX}d${deliveriesOf(item) + 1}-${seq}`;
}

/** The sequential-create prefix of a dead letter delivered `count` times: "qn-d<count>-". */
export function deadLetterPrefix(count: number): string {
  return `${ITEM_PREFIX}d${count}-`;
}

/** A queue's dead-letter policy, kept as its node's data. */
export interface DeadLetterPolicy {
  /** Deliveries (not acked) after which an item moves to `deadLetterPath`: 1 or more. */
  readonly maxDeliveries: number;
  /** The node dead letters are created under (sequentially, as queue items). */
  readonly deadLetterPath: string;
}

/** Whether `maxDeliveries` and `deadLetterPath` make a valid policy (the path's syntax aside). */
export function validPolicy(p: DeadLetterPolicy): boolean {
  return Number.isSafeInteger(p.maxDeliveries) && p.maxDeliveries >= 1 && p.maxDeliveries <= MAX_DELIVERIES_MAX && p.deadLetterPath.startsWith("/") && p.deadLetterPath !== "/";
}

/** The policy as a queue node's data: `{"maxDeliveries":N,"deadLetterPath":"/dlq"}`. */
export function policyData(p: DeadLetterPolicy): Buffer {
  return Buffer.from(JSON.stringify({ maxDeliveries: p.maxDeliveries, deadLetterPath: p.deadLetterPath }), "utf8");
}

/** The policy a queue node's data holds, or undefined (empty, not a policy, or invalid). */
export function parsePolicy(data: Buffer | null | undefined): DeadLetterPolicy | undefined {
  if (data === null || data === undefined || data.length === 0 || data[0] !== 0x7b) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const { maxDeliveries, deadLetterPath } = v as Record<string, unknown>;
  if (typeof maxDeliveries !== "number" || typeof deadLetterPath !== "string") return undefined;
  const p = { maxDeliveries, deadLetterPath };
  return validPolicy(p) ? p : undefined;
}

/** Whether item `item` of a queue with policy `policy` is due for its dead-letter queue (never handed out). */
export function isDeadLetter(item: string, policy: DeadLetterPolicy | undefined): boolean {
  return policy !== undefined && deliveriesOf(item) >= policy.maxDeliveries;
}

/** The sequential-create prefix of an offer delayed by `delayMs` (> 0): "qd-<ms>-". */
export function delayedPrefix(delayMs: number): string {
  return `${DELAYED_PREFIX}${delayMs}-`;
}

/**
 * A delayed item's delay and the item name it becomes ("qd-500-0000000007" ->
 * { delayMs: 500, item: "qn-0000000007" }), or undefined if `name` is not one.
 */
export function parseDelayed(name: string): { delayMs: number; item: string } | undefined {
  const m = DELAYED.exec(name);
  if (m === null) return undefined;
  const delayMs = Number(m[1]);
  if (delayMs > DELAY_MS_MAX) return undefined;
  return { delayMs, item: `${ITEM_PREFIX}${m[2]!}` };
}

/** The in-flight node's name for `item` taken with `visibilityMs` (0: no timeout), before any protected token. */
export function inflightName(item: string, visibilityMs: number): string {
  return visibilityMs > 0 ? `${INFLIGHT_PREFIX}${item}~${visibilityMs}` : `${INFLIGHT_PREFIX}${item}`;
}

/** Whether a child of a queue is an in-flight node (old "inflight-..." names and protected ones). */
export function isInflight(name: string): boolean {
  return parseInflight(name) !== undefined;
}

/**
 * The item and visibility timeout an in-flight node's name holds ("inflight-qn-N",
 * "inflight-qn-N~ms", with or without a protected token), or undefined if it is not one.
 */
export function parseInflight(name: string): { item: string; visibilityMs: number } | undefined {
  const base = stripProtected(name);
  if (!base.startsWith(INFLIGHT_PREFIX)) return undefined;
  const rest = base.slice(INFLIGHT_PREFIX.length);
  const tilde = rest.lastIndexOf("~");
  if (tilde === -1) return isItem(rest) ? { item: rest, visibilityMs: 0 } : undefined;
  const item = rest.slice(0, tilde);
  const ms = Number(rest.slice(tilde + 1));
  if (!isItem(item) || !/^[0-9]+$/.test(rest.slice(tilde + 1)) || !Number.isSafeInteger(ms) || ms <= 0 || ms > VISIBILITY_MS_MAX) return undefined;
  return { item, visibilityMs: ms };
}
