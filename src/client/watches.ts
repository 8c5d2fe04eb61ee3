// Client-side watch bookkeeping, as ZooKeeper's ZKWatchManager does it: which listeners
// a notification wakes (one-shot ones are removed as they fire), and what to send in
// setWatches2 after a reconnect so the server re-arms them.

import { EventType } from "../jute/index.js";

/** A watch event's type, by ZooKeeper's `Watcher.Event.EventType` names. */
export type EventName =
  | "NodeCreated"
  | "NodeDeleted"
  | "NodeDataChanged"
  | "NodeChildrenChanged"
  | "DataWatchRemoved"
  | "ChildWatchRemoved"
  | "PersistentWatchRemoved"
  | "None";

/** What a watch listener is called with. */
export interface WatchEvent {
  /** What happened. */
  readonly type: EventName;
  /** ZooKeeper's numeric EventType. */
  readonly code: number;
  /** The node it happened to, in the client's chroot. */
  readonly path: string;
}

/**
 * A watch's listener. One-shot watches (the `watch` option of getData, exists, getChildren)
 * call it once; persistent ones (`addWatch`) on every event until removed.
 */
export type WatchListener = (event: WatchEvent) => void;

const NAMES = new Map<number, EventName>(
  (Object.entries(EventType) as [EventName, number][]).map(([name, code]) => [code, name]),
);

export function watchEvent(code: number, path: string): WatchEvent {
  return { type: NAMES.get(code) ?? "None", code, path };
}

/** The kinds of watch the client keeps, as the table it re-arms them from after a reconnect. */
export const ClientWatchKind = {
  /** A getData watch, or an exists watch on a node that exists. */
  Data: 0,
  /** An exists watch on a node that does not exist (fires on its creation). */
  Exist: 1,
  /** A getChildren watch. */
  Child: 2,
  /** A persistent watch (addWatch). */
  Persistent: 3,
  /** A persistent recursive watch (addWatch with `recursive`). */
  PersistentRecursive: 4,
} as const;
/** One of `ClientWatchKind`'s values. */
export type ClientWatchKind = (typeof ClientWatchKind)[keyof typeof ClientWatchKind];

type Table = Map<string, Set<WatchListener>>;

export class ClientWatches {
  readonly #tables: Table[] = [new Map(), new Map(), new Map(), new Map(), new Map()];

  add(kind: ClientWatchKind, path: string, listener: WatchListener): void {
    const t = this.#tables[kind]!;
    let set = t.get(path);
    if (set === undefined) t.set(path, (set = new Set()));
    set.add(listener);
  }

  remove(kind: ClientWatchKind, path: string, listener?: WatchListener): boolean {
    const t = this.#tables[kind]!;
    const set = t.get(path);
    if (set === undefined) return false;
    const removed = listener === undefined ? set.size > 0 : set.delete(listener);
    if (listener === undefined || set.size === 0) t.delete(path);
    return removed;
  }

  has(kind: ClientWatchKind, path: string): boolean {
    return (this.#tables[kind]!.get(path)?.size ?? 0) > 0;
  }

  /** The listeners an event wakes, removing the one-shot ones (ZKWatchManager.materialize). */
  materialize(code: number, path: string): WatchListener[] {
    const out = new Set<WatchListener>();
    const take = (kind: ClientWatchKind): void => {
      const set = this.#tables[kind]!.get(path);
      if (set === undefined) return;
      this.#tables[kind]!.delete(path);
      for (const l of set) out.add(l);
    };
    switch (code) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        take(ClientWatchKind.Data);
        take(ClientWatchKind.Exist);
        break;
      case EventType.NodeChildrenChanged:
        take(ClientWatchKind.Child);
        break;
      case EventType.NodeDeleted:
        take(ClientWatchKind.Data);
        take(ClientWatchKind.Exist);
        take(ClientWatchKind.Child);
        break;
      default:
        break;
    }
    for (const l of this.#tables[ClientWatchKind.Persistent]!.get(path) ?? []) out.add(l);
    if (code !== EventType.NodeChildrenChanged) {
      const rec = this.#tables[ClientWatchKind.PersistentRecursive]!;
      for (let p = path; ; p = p.slice(0, Math.max(1, p.lastIndexOf("/")))) {
        for (const l of rec.get(p) ?? []) out.add(l);
        if (p === "/") break;
      }
    }
    return [...out];
  }

  /** Paths to re-register, per kind, in setWatches2's field order. */
  paths(): [string[], string[], string[], string[], string[]] {
    const keys = (k: ClientWatchKind): string[] => [...this.#tables[k]!.keys()];
    return [
      keys(ClientWatchKind.Data),
      keys(ClientWatchKind.Exist),
      keys(ClientWatchKind.Child),
      keys(ClientWatchKind.Persistent),
      keys(ClientWatchKind.PersistentRecursive),
    ];
  }

  get empty(): boolean {
    return this.#tables.every((t) => t.size === 0);
  }

  clear(): void {
    for (const t of this.#tables) t.clear();
  }

  /**
   * Forgets the one-shot watches (data, exist, child): after the session they were set on
   * is lost, they will never fire, and their listeners are not called again. Persistent
   * watches stay, to be re-armed on the next session.
   */
  dropOneShot(): void {
    this.#tables[ClientWatchKind.Data]!.clear();
    this.#tables[ClientWatchKind.Exist]!.clear();
    this.#tables[ClientWatchKind.Child]!.clear();
  }
}
