// The waiter index shared by recipes whose contenders form an ordered chain (locks,
// leader election): each waiter is filed under the one contender that blocks it, so a
// delete wakes only the waiters it unblocks; a waiter whose blocker goes is re-filed
// under its next blocker without any event, or granted.

import type { ChildChange, EngineApi, RecipeBinding } from "../../src/recipe-engine/index.js";
import { joinPath } from "../../src/tree/index.js";
import { SortedNames } from "./sequence.js";

export interface ChainRules {
  isContender(name: string): boolean;
  /** The contender blocking `me` among `sorted`, or undefined when `me` may proceed. */
  blockerOf(sorted: readonly string[], me: string): string | undefined;
  /** Called once for each waiter that may proceed. */
  grant(engine: EngineApi, sessionId: bigint, dir: string, node: string): void;
}

interface Waiter {
  sessionId: bigint;
  name: string;
}

interface ChainDir {
  contenders: SortedNames;
  byBlocker: Map<string, Waiter[]>;
  byName: Map<string, Waiter>;
}

export class WaitChain {
  readonly #rules: ChainRules;
  readonly #binding: RecipeBinding;
  readonly #dirs = new Map<string, ChainDir>();

  constructor(rules: ChainRules, binding: RecipeBinding) {
    this.#rules = rules;
    this.#binding = binding;
  }

  /** Files `name` in `dir` as a waiter unless nothing blocks it; returns whether it may proceed. */
  enqueue(engine: EngineApi, sessionId: bigint, dir: string, name: string): boolean {
    const d = this.#dir(engine, dir);
    const blocker = this.#rules.blockerOf(d.contenders.names, name);
    if (blocker === undefined) return true;
    const w: Waiter = { sessionId, name };
    this.#file(d, blocker, w);
    d.byName.set(name, w);
    return false;
  }

  #dir(engine: EngineApi, dir: string): ChainDir {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      const children = engine.pipeline.tree.get(dir)?.children ?? [];
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

  /** Feed every child change of a tracked dir here. */
  onChildChange(change: ChildChange, engine: EngineApi): void {
    const d = this.#dirs.get(change.dir);
    if (d === undefined || !this.#rules.isContender(change.name)) return;
    if (change.kind === "created") {
      d.contenders.insert(change.name);
      return;
    }
    d.contenders.remove(change.name);
    // A waiter whose own node went (gave up, or its session died) waits no more; its
    // entry under its blocker is skipped when that blocker goes.
    d.byName.delete(change.name);
    const woken = d.byBlocker.get(change.name);
    d.byBlocker.delete(change.name);
    for (const w of woken ?? []) {
      if (d.byName.get(w.name) !== w) continue;
      const blocker = this.#rules.blockerOf(d.contenders.names, w.name);
      if (blocker !== undefined) {
        this.#file(d, blocker, w);
        continue;
      }
      d.byName.delete(w.name);
      this.#rules.grant(engine, w.sessionId, change.dir, joinPath(change.dir, w.name));
    }
    if (d.contenders.names.length === 0 && d.byName.size === 0) {
      this.#dirs.delete(change.dir);
      engine.untrackDir(change.dir, this.#binding);
    }
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
