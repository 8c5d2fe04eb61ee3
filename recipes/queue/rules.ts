// FIFO queue (ZooKeeper's recipes.md "Queues"): items are persistent-sequential children
// "qn-NNNNNNNNNN" of the queue node; the head is the lowest sequence. A job queue keeps
// an item a consumer has taken, and not yet acked, as "<queue>/inflight-<item>",
// ephemeral and owned by the consumer's session (a sibling, so no parent has to exist):
// if the session dies, the item goes back under its original name, so it is the head again.

import { sortBySequence } from "../common/sequence.js";

export const ITEM_PREFIX = "qn-";
export const INFLIGHT_PREFIX = "inflight-";

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
