// The read/write lock recipe (ZooKeeper's recipes.md "Shared Locks"), as pure rules.
// Contenders are ephemeral-sequential children of the lock node, ordered by sequence.
// A writer holds the lock when no contender is ahead of it; a reader when no writer is
// ahead of it. A writer waits only for its immediate predecessor, a reader only for the
// nearest writer ahead of it: those are the only nodes whose deletion can unblock them.
//
// The rules understand the node names of the common client-side recipes, so locks taken
// through Corral exclude kazoo's and Curator's on the same path, and the other way round:
//   ZooKeeper docs: "read-", "write-"     ours and kazoo: "__rlock__", "__lock__"
//   Curator read/write lock: "__READ__", "__WRIT__"  Curator mutex: "-lock-"

import { MISSING, stripProtected, type Missing } from "../common/rules.js";
import { indexOfName, sequenceOf } from "../common/sequence.js";

export type LockMode = "read" | "write";

/**
 * Prefix of the nodes Corral creates (engine and client fallback alike). They carry
 * kazoo's markers right before the sequence, because kazoo only counts children that
 * match `(__lock__|__rlock__)\d{10}$` as contenders: so kazoo's locks see ours.
 */
export const NODE_PREFIX: Record<LockMode, string> = { read: "read__rlock__", write: "write__lock__" };

const READ_MARKERS = ["__rlock__", "__READ__"];
const WRITE_MARKERS = ["__lock__", "__WRIT__", "-lock-"];

/** Whether a child of a lock node is a reader, a writer, or not a contender at all. */
export function modeOf(name: string): LockMode | undefined {
  if (sequenceOf(name) === undefined) return undefined;
  if (READ_MARKERS.some((m) => name.includes(m))) return "read";
  if (WRITE_MARKERS.some((m) => name.includes(m))) return "write";
  const base = stripProtected(name);
  if (base.startsWith("read-")) return "read";
  if (base.startsWith("write-")) return "write";
  return undefined;
}

/**
 * The contender that blocks `me` in `sorted` (contenders, lowest sequence first), or
 * undefined when `me` holds the lock; MISSING when `me` is not in `sorted` (fail closed:
 * a contender whose node is gone holds nothing).
 */
export function blockerOf(sorted: readonly string[], me: string, from = 0): string | undefined | Missing {
  const i = indexOfName(sorted, me, from);
  if (i === -1) return MISSING;
  if (i === from) return undefined;
  if (modeOf(me) === "write") return sorted[i - 1];
  for (let j = i - 1; j >= from; j--) if (modeOf(sorted[j]!) === "write") return sorted[j];
  return undefined;
}

/** Contenders among a lock node's children, lowest sequence first. */
export function contenders(children: Iterable<string>): string[] {
  const out: [number, string][] = [];
  for (const c of children) {
    if (modeOf(c) !== undefined) out.push([sequenceOf(c)!, c]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, n]) => n);
}
