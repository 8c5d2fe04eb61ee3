// A counting semaphore: the first `permits` contenders (by sequence) hold a permit, the
// rest wait. The permit count is stored in the semaphore node's data as a decimal
// string (as kazoo stores max_leases), set by the first caller; later callers must
// agree with it.

import { sortBySequence } from "../common/sequence.js";

export const NODE_PREFIX = "lease-";

export function isContender(name: string): boolean {
  return name.startsWith(NODE_PREFIX);
}

export function holders(children: Iterable<string>, permits: number): string[] {
  return sortBySequence([...children].filter(isContender)).slice(0, permits);
}

export function isHolder(children: Iterable<string>, permits: number, me: string): boolean {
  return holders(children, permits).includes(me);
}

export function parsePermits(data: Buffer | null): number | undefined {
  if (data === null || data.length === 0) return undefined;
  const n = Number(data.toString("utf8"));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
