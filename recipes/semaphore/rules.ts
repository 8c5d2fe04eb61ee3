// A counting semaphore: the first `permits` contenders (by sequence) hold a permit, the
// rest wait. The permit count is stored in the semaphore node's data as a decimal
// string (as kazoo stores max_leases), set by the first caller; later callers must
// agree with it. Lease names are "lease-NNNNNNNNNN", with the protected token in front
// when the engine (or Curator) made them: "_c_<requestId>-lease-NNNNNNNNNN".

import { MISSING, stripProtected, type Missing } from "../common/rules.js";
import { indexOfName, sortBySequence } from "../common/sequence.js";

export const NODE_PREFIX = "lease-";

export function isContender(name: string): boolean {
  return stripProtected(name).startsWith(NODE_PREFIX);
}

export function holders(children: Iterable<string>, permits: number): string[] {
  return sortBySequence([...children].filter(isContender)).slice(0, permits);
}

export function isHolder(children: Iterable<string>, permits: number, me: string): boolean {
  return holders(children, permits).includes(me);
}

/**
 * Whether `me` holds a permit among `sorted` (leases, lowest sequence first): "holds",
 * "waits", or MISSING when `me` is not there (fail closed: a gone lease holds nothing).
 */
export function permitOf(sorted: readonly string[], permits: number, me: string, from = 0): "holds" | "waits" | Missing {
  const i = indexOfName(sorted, me, from);
  if (i === -1) return MISSING;
  return i - from < permits ? "holds" : "waits";
}

export function parsePermits(data: Buffer | null): number | undefined {
  if (data === null || data.length === 0) return undefined;
  const n = Number(data.toString("utf8"));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
