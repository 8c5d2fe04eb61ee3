// Leader election (ZooKeeper's recipes.md "Leader Election"): members are
// ephemeral-sequential children "n_NNNNNNNNNN"; the lowest sequence leads. Each member
// waits only on the member just ahead of it, so a leader's departure wakes one member.

import { sortBySequence } from "../common/sequence.js";

export const MEMBER_PREFIX = "n_";

export function members(children: Iterable<string>): string[] {
  return sortBySequence([...children].filter((c) => c.startsWith(MEMBER_PREFIX)));
}

export function leaderOf(children: Iterable<string>): string | undefined {
  return members(children)[0];
}

/** The member `me` waits on (the one just ahead), or undefined if `me` leads. */
export function predecessorOf(sorted: readonly string[], me: string): string | undefined {
  const i = sorted.indexOf(me);
  return i <= 0 ? undefined : sorted[i - 1];
}
