// The waiter index shared by recipes whose contenders form an ordered chain (locks,
// leader election): each waiter is filed under the one contender that blocks it, so a
// delete wakes only the waiters it unblocks; a waiter whose blocker goes is re-filed
// under its next blocker without any event, or granted. A waiter whose own node goes
// without a grant (deleted by another session, cut by a resync) is told NodeGone.
// Every event carries the request id of the wait it ends.
//
// The index is a cache of the tree: rebuild() drops it (the server then closes the
// connections of the sessions that waited, and their re-sends file them again).

import { RecipeEventKind } from "../../src/jute/index.js";
import type { ChildChange, EngineApi, RecipeBinding } from "../../src/recipe-engine/index.js";
import { joinPath } from "../../src/tree/index.js";
import { MISSING, type Missing } from "./rules.js";
import { SortedNames } from "./sequence.js";

export interface ChainRules {
  isContender(name: string): boolean;
  /**
   * The contender blocking `me` among `sorted` from index `from` on (the part before it is
   * removed), undefined when `me` may proceed, MISSING when `me` is not there.
   */
  blockerOf(sorted: readonly string[], me: string, from: number): string | undefined | Missing;
  /** Called once for each waiter that may proceed. */
  grant(engine: EngineApi, sessionId: bigint, dir: string, node: string, requestId: string): void;
}

interface Waiter {
  sessionId: bigint;
  name: string;
  requestId: string;
}

interface ChainDir {
  contenders: SortedNames;
  byBlocker: Map<string, Waiter[]>;
  byName: Map<string, Waiter>;
}

export type Enqueued = "granted" | "waiting" | "missing";

export class WaitChain {
  readonly #rules: ChainRules;
  readonly #binding: RecipeBinding;
  readonly #dirs = new Map<string, ChainDir>();

  constructor(rules: ChainRules, binding: RecipeBinding) {
    this.#rules = rules;
    this.#binding = binding;
  }

  /**
   * Files `name` in `dir` as a waiter unless nothing blocks it. "missing": the node is not
   * among the contenders (gone): the caller answers NoNode. A waiter already filed for
   * `name` (a re-send) is replaced.
   */
  enqueue(engine: EngineApi, sessionId: bigint, dir: string, name: string, requestId: string): Enqueued {
    const d = this.#dir(engine, dir);
    const blocker = this.#rules.blockerOf(d.contenders.backing, name, d.contenders.head);
    if (blocker === MISSING) return "missing";
    if (blocker === undefined) {
      d.byName.delete(name);
      return "granted";
    }
    const w: Waiter = { sessionId, name, requestId };
    this.#file(d, blocker, w);
    d.byName.set(name, w);
    return "waiting";
  }

  #dir(engine: EngineApi, dir: string): ChainDir {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      const children = engine.tree.get(dir)?.children ?? [];
      d = { contenders: new SortedNames(children, (n) => this.#rules.isContender(n)), byBlocker: new Map(), byName: new Map() };
      this.#dirs.set(dir, d);
      engine.trackDir(dir, this.#binding);
    }
    return d;
  }

  #file(d: ChainDir, blocker: string, w: Waiter): void {
    const list = d.byBlocker.get(blocker);
    if (list === undefined) d.byBlocker.set(blocker, [w]);
    else list.push(w);
  }

  /** A txn deletes several of `dir`'s children: drop the contenders among them in one pass. */
  onChildrenDeleting(dir: string, names: readonly string[]): void {
    this.#dirs.get(dir)?.contenders.removeMany(names.filter((n) => this.#rules.isContender(n)));
  }

  /** Feed every child change of a tracked dir here. */
  onChildChange(change: ChildChange, engine: EngineApi): void {
    const d = this.#dirs.get(change.dir);
    if (d === undefined || !this.#rules.isContender(change.name)) return;
    if (change.kind === "created") {
      d.contenders.insert(change.name);
      return;
    }
    d.contenders.remove(change.name);
    // A waiter whose own node went waits no more; its entry under its blocker is skipped
    // when that blocker goes. Unless its own session removed it (gave up, or ended), it
    // is told: it must not believe it still waits in line.
    const own = d.byName.get(change.name);
    if (own !== undefined) {
      d.byName.delete(change.name);
      if (change.entry.hdr.sessionId !== own.sessionId) this.#gone(engine, change.dir, own);
    }
    const woken = d.byBlocker.get(change.name);
    d.byBlocker.delete(change.name);
    for (const w of woken ?? []) {
      if (d.byName.get(w.name) !== w) continue;
      const blocker = this.#rules.blockerOf(d.contenders.backing, w.name, d.contenders.head);
      if (blocker === MISSING) {
        // Its node went too, in this txn (onChildrenDeleting dropped it first) or before:
        // as for a waiter's own node above, it is told unless its own session removed it.
        d.byName.delete(w.name);
        if (change.entry.hdr.sessionId !== w.sessionId) this.#gone(engine, change.dir, w);
      } else if (blocker !== undefined) {
        this.#file(d, blocker, w);
      } else {
        d.byName.delete(w.name);
        this.#rules.grant(engine, w.sessionId, change.dir, joinPath(change.dir, w.name), w.requestId);
      }
    }
    if (d.contenders.length === 0 && d.byName.size === 0) {
      this.#dirs.delete(change.dir);
      engine.untrackDir(change.dir, this.#binding);
    }
  }

  #gone(engine: EngineApi, dir: string, w: Waiter): void {
    engine.push(w.sessionId, { kind: RecipeEventKind.NodeGone, path: dir, node: joinPath(dir, w.name), token: 0n, data: null, requestId: w.requestId });
  }

  /** Drops every dir and waiter; returns the sessions that waited. */
  clear(): Set<bigint> {
    const sessions = new Set<bigint>();
    for (const d of this.#dirs.values()) for (const w of d.byName.values()) sessions.add(w.sessionId);
    this.#dirs.clear();
    return sessions;
  }

  /** The dirs with contenders or waiters the engine tracks (admin views). */
  dirs(): string[] {
    return [...this.#dirs.keys()];
  }

  /** Contenders and waiters of a dir, in order (admin views, tests). */
  view(dir: string): { contenders: string[]; waiters: string[] } {
    const d = this.#dirs.get(dir);
    return { contenders: [...(d?.contenders.names ?? [])], waiters: [...(d?.byName.keys() ?? [])] };
  }
}
