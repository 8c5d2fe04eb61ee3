// Leader election (ZooKeeper's recipes.md "Leader Election"): members are
// ephemeral-sequential children "n_NNNNNNNNNN" (the engine's carry the protected token,
// "_c_<requestId>-n_NNNNNNNNNN"); the lowest sequence leads. Each member waits only on
// the member just ahead of it, so a leader's departure wakes one member.

import { MISSING, stripProtected, type Missing } from "../common/rules.js";
import { indexOfName, sortBySequence } from "../common/sequence.js";

export const MEMBER_PREFIX = "n_";

/** Whether a child of the election node is a member (with or without a protected token). */
export function isMember(name: string): boolean {
  return stripProtected(name).startsWith(MEMBER_PREFIX);
}

export function members(children: Iterable<string>): string[] {
  return sortBySequence([...children].filter(isMember));
}

export function leaderOf(children: Iterable<string>): string | undefined {
  return members(children)[0];
}

/**
 * The member `me` waits on (the one just ahead), undefined if `me` leads, MISSING if
 * `me` is not among `sorted` (fail closed: a member whose node is gone never leads).
 */
export function predecessorOf(sorted: readonly string[], me: string, from = 0): string | undefined | Missing {
  const i = indexOfName(sorted, me, from);
  if (i === -1) return MISSING;
  return i === from ? undefined : sorted[i - 1];
}
