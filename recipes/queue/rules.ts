// FIFO queue (ZooKeeper's recipes.md "Queues"): items are persistent-sequential children
// "qn-NNNNNNNNNN" of the queue node; the head is the lowest sequence. A job queue keeps
// an item a consumer has taken, and not yet acked, as "<queue>/inflight-<item>",
// ephemeral and owned by the consumer's session (a sibling, so no parent has to exist):
// if the session dies, the item goes back under its original name, so it is the head again.
// A take with a visibility timeout names its in-flight node "inflight-<item>~<ms>": if it
// is still there <ms> after it was created (its ctime), it goes back the same way.

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

/** The in-flight node's name for `item` taken with `visibilityMs` (0: no timeout). */
export function inflightName(item: string, visibilityMs: number): string {
  return visibilityMs > 0 ? `${INFLIGHT_PREFIX}${item}~${visibilityMs}` : `${INFLIGHT_PREFIX}${item}`;
}

/** The item and visibility timeout an in-flight node's name holds, or undefined if it is not one. */
export function parseInflight(name: string): { item: string; visibilityMs: number } | undefined {
  if (!name.startsWith(INFLIGHT_PREFIX)) return undefined;
  const rest = name.slice(INFLIGHT_PREFIX.length);
  const tilde = rest.lastIndexOf("~");
  if (tilde === -1) return isItem(rest) ? { item: rest, visibilityMs: 0 } : undefined;
  const item = rest.slice(0, tilde);
  const ms = Number(rest.slice(tilde + 1));
  if (!isItem(item) || !Number.isSafeInteger(ms) || ms <= 0 || ms > VISIBILITY_MS_MAX) return undefined;
  return { item, visibilityMs: ms };
}
