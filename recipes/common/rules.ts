// Rules every recipe shares (pure, no imports beyond this folder's rules): the protected
// name prefix `_c_<requestId>-` the engine puts on every node it creates for a session
// (Curator's protected mode, done on the server: a re-sent request finds the node the
// first send made), and the fail-closed answer of the ordering rules.
//
// A protected name is `_c_<requestId>-<prefix>...`; the request id is 8-64 characters of
// [0-9a-f-] (jute's REQUEST_ID_PATTERN). The prefixes that follow (`write__lock__`,
// `read__rlock__`, `lease-`, `n_`, `inflight-`, Curator's `lock-`) start with a letter
// outside [0-9a-f], so the token ends at the last '-' before the prefix.

/** Curator's protected prefix, and ours. */
export const PROTECTED_PREFIX = "_c_";

const PROTECTED = /^_c_([0-9a-fA-F-]{8,64}?)-(?=[^0-9a-fA-F-])/;
const PROTECTED_GREEDY = /^_c_([0-9a-fA-F-]{8,64})-(?=[^-])/;

/** The same request-id syntax as jute's REQUEST_ID_PATTERN (kept here: rules import no jute). */
export const REQUEST_ID = /^[0-9a-f-]{8,64}$/;

export function isRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}

/** `_c_<requestId>-`: the token a protected name starts with. */
export function protectedToken(requestId: string): string {
  return `${PROTECTED_PREFIX}${requestId}-`;
}

/** The protected name of a node made for request `requestId`: `_c_<requestId>-<name>`. */
export function protectedName(requestId: string, name: string): string {
  return protectedToken(requestId) + name;
}

/**
 * The token (`_c_<id>-`) a protected name starts with, or undefined for a name without
 * one. Names whose prefix starts with a letter outside [0-9a-f] (all of ours, Curator's)
 * are read exactly; otherwise the longest token is taken.
 */
export function tokenOf(name: string): string | undefined {
  if (!name.startsWith(PROTECTED_PREFIX)) return undefined;
  const m = PROTECTED.exec(name) ?? PROTECTED_GREEDY.exec(name);
  return m === null ? undefined : `${PROTECTED_PREFIX}${m[1]!}-`;
}

/** The request id in a protected name, or undefined. */
export function requestIdOf(name: string): string | undefined {
  const t = tokenOf(name);
  return t === undefined ? undefined : t.slice(PROTECTED_PREFIX.length, -1);
}

/** A node's name without its protected token (the name itself when it has none). */
export function stripProtected(name: string): string {
  const t = tokenOf(name);
  return t === undefined ? name : name.slice(t.length);
}

/**
 * What an ordering rule answers for a contender that is not in the list it was given
 * (its node is gone, or the caller's view is stale): never "nothing blocks you". The
 * caller fails the wait (NodeGone, NoNode) instead of granting it.
 */
export const MISSING: unique symbol = Symbol("missing");
export type Missing = typeof MISSING;
