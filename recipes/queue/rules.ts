// FIFO and job queues (ZooKeeper's recipes.md "Queues"): items are persistent-sequential
// children "qn-NNNNNNNNNN" of the queue node; the head is the lowest sequence. A take
// (FIFO or job alike) moves the head to an in-flight node, a sibling owned by the taker's
// session and ephemeral: "inflight-<item>", protected by the take's request id when the
// engine made it ("_c_<requestId>-inflight-<item>"). The taker acks by deleting it (the
// FIFO client at once, a job consumer when the job is done); if the taker's session ends
// first, the item goes back under its original name in the same txn, so it is the head
// again. A take with a visibility timeout names its in-flight node "...inflight-<item>~<ms>":
// if it is still there <ms> after it was created (its ctime), it goes back the same way.

import { stripProtected } from "../common/rules.js";
import { sortBySequence } from "../common/sequence.js";

export const ITEM_PREFIX = "qn-";
export const INFLIGHT_PREFIX = "inflight-";
/** The longest visibility timeout a take may ask for (12 hours, as SQS). */
export const VISIBILITY_MS_MAX = 12 * 3_600_000;

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
