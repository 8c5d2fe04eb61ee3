// The watch registry (ZOOKEEPER.md §1.6): one-shot data/exist and child watches, and
// persistent and persistent-recursive watches. It turns the effects of applied txns
// into events for the connections that asked. Watches live only on the server holding
// the connection; they are never replicated. No I/O: delivery goes through WatchTarget.

import { EventType, Perms, WatcherType, type ACL, type Id } from "../jute/index.js";
import { EffectKind, checkAcl, parentOf, type AccessCheck, type Effect } from "../tree/index.js";

export interface WatchTarget {
  /** Stable id for reports (wchc), e.g. the session id. */
  readonly watchId: bigint;
  /** Who the target is: a persistent watch tells it only about nodes these ids may READ. */
  readonly authIds?: readonly Id[];
  deliver(type: EventType, path: string): void;
}

/** The ACL of the node at a path as the tree now has it (undefined: no such node). */
export type AclOf = (path: string) => readonly ACL[] | undefined;

/** The four kinds of registration a connection can hold on a path. */
export const WatchKind = {
  Data: 0,
  Child: 1,
  Persistent: 2,
  PersistentRecursive: 3,
} as const;
export type WatchKind = (typeof WatchKind)[keyof typeof WatchKind];
const KINDS = [WatchKind.Data, WatchKind.Child, WatchKind.Persistent, WatchKind.PersistentRecursive] as const;

type Table = Map<string, Set<WatchTarget>>;
/** What #fire answers when no watch could fire: shared, never written to. */
const NOBODY: ReadonlySet<WatchTarget> = new Set();

export class WatchRegistry {
  /** The server's ACL check (see #mayTell); skipACL makes it grant everything. */
  readonly #allows: AccessCheck;
  readonly #tables: [Table, Table, Table, Table] = [new Map(), new Map(), new Map(), new Map()];
  readonly #byTarget = new Map<WatchTarget, [Set<string>, Set<string>, Set<string>, Set<string>]>();

  constructor(allows: AccessCheck = checkAcl) {
    this.#allows = allows;
  }

  add(target: WatchTarget, kind: WatchKind, path: string): void {
    const table = this.#tables[kind];
    let set = table.get(path);
    if (set === undefined) table.set(path, (set = new Set()));
    set.add(target);
    let mine = this.#byTarget.get(target);
    if (mine === undefined) this.#byTarget.set(target, (mine = [new Set(), new Set(), new Set(), new Set()]));
    mine[kind].add(path);
  }

  has(target: WatchTarget, kind: WatchKind, path: string): boolean {
    return this.#tables[kind].get(path)?.has(target) ?? false;
  }

  #remove(target: WatchTarget, kind: WatchKind, path: string): boolean {
    const table = this.#tables[kind];
    const set = table.get(path);
    if (set === undefined || !set.delete(target)) return false;
    if (set.size === 0) table.delete(path);
    this.#byTarget.get(target)?.[kind].delete(path);
    return true;
  }

  /** The kinds a removeWatches/checkWatches WatcherType covers. */
  static kindsOf(type: number): readonly WatchKind[] | undefined {
    switch (type) {
      case WatcherType.Children:
        return [WatchKind.Child];
      case WatcherType.Data:
        return [WatchKind.Data];
      case WatcherType.Any:
        return KINDS;
      case WatcherType.Persistent:
        return [WatchKind.Persistent];
      case WatcherType.PersistentRecursive:
        return [WatchKind.PersistentRecursive];
      default:
        return undefined;
    }
  }

  /** Does `target` hold any watch of `kinds` on `path`? */
  holds(target: WatchTarget, kinds: readonly WatchKind[], path: string): boolean {
    return kinds.some((k) => this.has(target, k, path));
  }

  /** Removes `target`'s watches of `kinds` on `path`; false if it held none. */
  removeKinds(target: WatchTarget, kinds: readonly WatchKind[], path: string): boolean {
    let removed = false;
    for (const k of kinds) removed = this.#remove(target, k, path) || removed;
    return removed;
  }

  /** Drops every watch of a closed connection. */
  removeTarget(target: WatchTarget): void {
    const mine = this.#byTarget.get(target);
    if (mine === undefined) return;
    for (const kind of KINDS) {
      for (const path of mine[kind]) {
        const set = this.#tables[kind].get(path);
        set?.delete(target);
        if (set?.size === 0) this.#tables[kind].delete(path);
      }
    }
    this.#byTarget.delete(target);
  }

  /**
   * Fires the watches an applied txn's effects trigger, in effect order. Persistent
   * watches (exact and recursive) fire only for targets that may READ the node the event
   * is about (CVE-2024-23944: otherwise a recursive watch on a readable parent reveals
   * the paths of children it may not read); `aclOf` gives the ACL of nodes that still
   * exist, a deleted node's comes with its effect.
   */
  trigger(effects: readonly Effect[], aclOf?: AclOf): void {
    this.#aclOf = aclOf;
    for (const e of effects) {
      this.#eventAcl = e.node?.acl;
      switch (e.kind) {
        case EffectKind.Created:
          this.#fire(EventType.NodeCreated, e.path, WatchKind.Data, undefined);
          break;
        case EffectKind.DataChanged:
          this.#fire(EventType.NodeDataChanged, e.path, WatchKind.Data, undefined);
          break;
        case EffectKind.Deleted: {
          // One NodeDeleted per connection even if it watched both data and children.
          const seen = this.#fire(EventType.NodeDeleted, e.path, WatchKind.Data, undefined);
          this.#fireOneShot(EventType.NodeDeleted, e.path, WatchKind.Child, seen);
          break;
        }
        case EffectKind.ChildrenChanged: {
          if (!this.#watched(e.path, WatchKind.Child, false)) break;
          // One event per connection even if it holds a child and a persistent watch.
          const fired = new Set<WatchTarget>();
          this.#fireOneShot(EventType.NodeChildrenChanged, e.path, WatchKind.Child, undefined, fired);
          this.#firePersistent(EventType.NodeChildrenChanged, e.path, fired, false);
          break;
        }
      }
    }
    this.#aclOf = undefined;
    this.#eventAcl = undefined;
  }

  #aclOf: AclOf | undefined;
  /** The ACL of the node the current effect is about, when the effect carries it. */
  #eventAcl: readonly ACL[] | undefined;

  /** Whether a persistent watch may tell `t` about `path` (see trigger). */
  #mayTell(t: WatchTarget, path: string): boolean {
    if (t.authIds === undefined) return true;
    const acl = this.#eventAcl ?? this.#aclOf?.(path);
    return acl === undefined || this.#allows(acl, Perms.Read, t.authIds);
  }

  /**
   * Whether any watch could fire for `path`: a one-shot of `kind`, an exact persistent
   * one, or (`recursive`) any recursive one. Most effects have none, and then trigger
   * makes no sets for them (two per create, a tenth of all a create used to allocate).
   */
  #watched(path: string, kind: WatchKind, recursive: boolean): boolean {
    const t = this.#tables;
    return t[kind].has(path) || t[WatchKind.Persistent].has(path) || (recursive && t[WatchKind.PersistentRecursive].size > 0);
  }

  /** One-shot watches of `kind` plus persistent ones (exact and recursive): who was told. */
  #fire(type: EventType, path: string, kind: WatchKind, seen: ReadonlySet<WatchTarget> | undefined): ReadonlySet<WatchTarget> {
    if (!this.#watched(path, kind, true)) return NOBODY;
    const fired = new Set<WatchTarget>();
    this.#fireOneShot(type, path, kind, seen, fired);
    this.#firePersistent(type, path, fired, true);
    return fired;
  }

  #fireOneShot(
    type: EventType,
    path: string,
    kind: WatchKind,
    skip: ReadonlySet<WatchTarget> | undefined,
    fired?: Set<WatchTarget>,
  ): void {
    const table = this.#tables[kind];
    const set = table.get(path);
    if (set === undefined) return;
    table.delete(path);
    for (const t of set) {
      this.#byTarget.get(t)?.[kind].delete(path);
      if (skip?.has(t) || fired?.has(t)) continue;
      fired?.add(t);
      t.deliver(type, path);
    }
  }

  #firePersistent(type: EventType, path: string, fired: Set<WatchTarget> | undefined, recursive: boolean): void {
    const exact = this.#tables[WatchKind.Persistent].get(path);
    if (exact !== undefined) {
      for (const t of exact) {
        if (fired?.has(t) || !this.#mayTell(t, path)) continue;
        fired?.add(t);
        t.deliver(type, path);
      }
    }
    const rec = this.#tables[WatchKind.PersistentRecursive];
    if (!recursive || rec.size === 0) return;
    // Recursive watches never see NodeChildrenChanged (ZOOKEEPER-4475).
    for (let p = path; ; p = parentOf(p)) {
      for (const t of rec.get(p) ?? []) {
        if (fired?.has(t) || !this.#mayTell(t, path)) continue;
        fired?.add(t);
        t.deliver(type, path);
      }
      if (p === "/") break;
    }
  }

  /** Total registrations (one per connection, path and kind), as `wchs` counts them. */
  get watchCount(): number {
    let n = 0;
    for (const table of this.#tables) for (const set of table.values()) n += set.size;
    return n;
  }

  get pathCount(): number {
    const paths = new Set<string>();
    for (const table of this.#tables) for (const p of table.keys()) paths.add(p);
    return paths.size;
  }

  get targetCount(): number {
    let n = 0;
    for (const mine of this.#byTarget.values()) if (mine.some((s) => s.size > 0)) n++;
    return n;
  }

  /** Paths watched by each connection (`wchc`). */
  byTarget(): Map<WatchTarget, string[]> {
    const out = new Map<WatchTarget, string[]>();
    for (const [t, mine] of this.#byTarget) {
      const paths = new Set<string>();
      for (const s of mine) for (const p of s) paths.add(p);
      if (paths.size > 0) out.set(t, [...paths].sort());
    }
    return out;
  }

  /** Connections watching each path (`wchp`). */
  byPath(): Map<string, WatchTarget[]> {
    const out = new Map<string, Set<WatchTarget>>();
    for (const table of this.#tables) {
      for (const [p, set] of table) {
        let s = out.get(p);
        if (s === undefined) out.set(p, (s = new Set()));
        for (const t of set) s.add(t);
      }
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, s]) => [p, [...s]]));
  }
}
