// Handing memory back after the tree shrinks a lot (a mass session expiry, a cleanup of
// many nodes). V8 collects the old generation when it grows, not when it shrinks: once a
// few hundred thousand znodes are gone, their memory stays resident until allocation
// pushes the heap past its (by then raised) limit, which under a light load may be
// never. So the server's tick watches the node count and, when it has fallen by at least
// `minFreedNodes` and to at most half of its peak since the last time, asks for a major
// collection that runs incrementally alongside requests (V8's async mode: pauses of a
// few ms, not one long stop). The process decides whether it can ask at all (gcHook).

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export const RECLAIM_MIN_FREED_NODES = 50_000;

export class MemoryReclaimer {
  readonly #reclaim: () => void;
  readonly #minFreedNodes: number;
  #peak = 0;
  /** Times it asked for a collection. */
  requests = 0;

  constructor(reclaim: () => void, minFreedNodes = RECLAIM_MIN_FREED_NODES) {
    this.#reclaim = reclaim;
    this.#minFreedNodes = minFreedNodes;
  }

  /** Called with the current node count; returns true when it asked for a collection. */
  observe(nodes: number): boolean {
    if (nodes > this.#peak) this.#peak = nodes;
    if (this.#peak - nodes < this.#minFreedNodes || nodes * 2 > this.#peak) return false;
    this.#peak = nodes;
    this.requests++;
    this.#reclaim();
    return true;
  }
}

type GcFunction = (opts?: { type?: "major" | "minor"; execution?: "sync" | "async" }) => void;

/**
 * A function that starts an incremental major collection, or undefined where V8 will
 * not give one. For the server process only: it turns on V8's gc extension (the same as
 * node --expose-gc) and takes the function from a fresh context, leaving the caller's
 * global untouched.
 */
export function gcHook(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    if (typeof gc !== "function") return undefined;
    return () => (gc as GcFunction)({ type: "major", execution: "async" });
  } catch {
    return undefined;
  }
}
