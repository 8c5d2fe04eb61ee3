// Corral's admin views of the recipe engine (`/commands/locks`, `queues`, `elections`)
// and the recipe gauges of /metrics: who holds, who waits in which order, how deep each
// queue is, who leads. Read-only: built from the bindings' waiter indexes and the tree
// at the moment of the request. Locks and elections: what the engine tracks (used
// through the engine); queues: every queue in the tree, from the queue binding's index,
// with its first in-flight items read from the tree (an in-flight node is an ephemeral
// named after its item: its owner is the session holding it, its ctime when it was taken
// or last extended, its name the visibility timeout that makes its lease deadline).

import { hex64 } from "../util/index.js";
import type { JsonObject, JsonValue, RecipeGauges, RecipeViewName } from "../net/index.js";
import type { RecipeEngine } from "../recipe-engine/index.js";
import type { DataTree } from "../tree/index.js";
import { basenameOf, joinPath, parentOf } from "../tree/index.js";
import { sequenceOf } from "../../recipes/common/sequence.js";
import { ElectionBinding } from "../../recipes/election/binding.js";
import { QueueBinding } from "../../recipes/queue/binding.js";
import { deliveriesOf, parseInflight } from "../../recipes/queue/rules.js";
import { ReadWriteLockBinding } from "../../recipes/read-write-lock/binding.js";
import { blockerOf, modeOf } from "../../recipes/read-write-lock/rules.js";
import { SemaphoreBinding } from "../../recipes/semaphore/binding.js";

interface Contender {
  node: string;
  mode?: string;
  sessionId: bigint;
  token: bigint;
}

interface LockView {
  path: string;
  kind: "read-write-lock" | "semaphore";
  permits?: number;
  holders: Contender[];
  waiters: Contender[];
}

/** In-flight items listed per queue in `queues` (the total is `in_flight`). */
export const IN_FLIGHT_SHOWN_MAX = 20;

/** One item taken and not yet acked: its in-flight node. */
interface InFlightItem {
  node: string;
  item: string;
  sequence: number | undefined;
  /** Deliveries before this one (the item went back that often). */
  deliveries: number;
  sessionId: bigint;
  /** The in-flight node's ctime: the take, or the last extend (wall clock ms). */
  takenAtMs: number;
  /** The job's visibility timeout; 0: held until the session ends. */
  visibilityMs: number;
}

interface QueueView {
  path: string;
  depth: number;
  waiters: number;
  inFlight: number;
  /** The first IN_FLIGHT_SHOWN_MAX in-flight items, by item sequence. */
  inFlightItems: InFlightItem[];
}

interface ElectionView {
  path: string;
  leader: Contender | undefined;
  members: Contender[];
}

export class RecipeViews {
  readonly #engine: RecipeEngine;
  readonly #tree: DataTree;

  constructor(engine: RecipeEngine, tree: DataTree) {
    this.#engine = engine;
    this.#tree = tree;
  }

  #contender(dir: string, name: string, mode?: string): Contender {
    const node = joinPath(dir, name);
    const z = this.#tree.get(node);
    const c: Contender = { node, sessionId: z?.ephemeralOwner ?? 0n, token: z?.czxid ?? 0n };
    if (mode !== undefined) c.mode = mode;
    return c;
  }

  #bindingsOf<T>(kind: abstract new (...args: never[]) => T): T[] {
    return this.#engine.bindings().filter((b): b is T & typeof b => b instanceof kind);
  }

  locks(): LockView[] {
    const out: LockView[] = [];
    for (const b of this.#bindingsOf(ReadWriteLockBinding)) {
      for (const dir of b.chain.dirs()) {
        const { contenders } = b.chain.view(dir);
        const held = contenders.filter((c) => blockerOf(contenders, c) === undefined);
        const view = (name: string): Contender => this.#contender(dir, name, modeOf(name));
        out.push({ path: dir, kind: "read-write-lock", holders: held.map(view), waiters: contenders.filter((c) => !held.includes(c)).map(view) });
      }
    }
    for (const b of this.#bindingsOf(SemaphoreBinding)) {
      for (const s of b.view()) {
        const view = (name: string): Contender => this.#contender(s.dir, name);
        out.push({ path: s.dir, kind: "semaphore", permits: s.permits, holders: s.leases.slice(0, s.permits).map(view), waiters: s.leases.slice(s.permits).map(view) });
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  queues(): QueueView[] {
    const out: QueueView[] = [];
    const inFlight = this.#inFlightByQueue();
    for (const b of this.#bindingsOf(QueueBinding)) {
      // Every queue in the tree (the binding's index, fed by the tree), not only the
      // ones taken from through this server: a backlog with every consumer down shows.
      for (const path of b.paths()) out.push({ path, ...b.stats(path), inFlightItems: firstInFlight(inFlight.get(path) ?? []) });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * In-flight nodes by queue. They are ephemerals (owned by the taker's session), so one
   * walk of the ephemerals finds them all, however deep the queues are.
   */
  #inFlightByQueue(): Map<string, InFlightItem[]> {
    const out = new Map<string, InFlightItem[]>();
    for (const [sessionId, paths] of this.#tree.ephemeralSessions()) {
      for (const node of paths) {
        const parsed = parseInflight(basenameOf(node));
        const z = parsed === undefined ? undefined : this.#tree.get(node);
        if (parsed === undefined || z === undefined) continue;
        const queue = parentOf(node);
        const item: InFlightItem = {
          node,
          item: parsed.item,
          sequence: sequenceOf(parsed.item),
          deliveries: deliveriesOf(parsed.item),
          sessionId,
          takenAtMs: z.ctimeMs,
          visibilityMs: parsed.visibilityMs,
        };
        const list = out.get(queue);
        if (list === undefined) out.set(queue, [item]);
        else list.push(item);
      }
    }
    return out;
  }

  elections(): ElectionView[] {
    const out: ElectionView[] = [];
    for (const b of this.#bindingsOf(ElectionBinding)) {
      for (const dir of b.chain.dirs()) {
        const members = b.chain.view(dir).contenders.map((name) => this.#contender(dir, name));
        out.push({ path: dir, leader: members[0], members });
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The fields of the admin command `name`. */
  json(name: RecipeViewName): JsonObject {
    // 64-bit values as strings, so JavaScript's JSON.parse keeps them exact: the session id
    // in hex as ZooKeeper prints session ids, the fencing token in decimal as the client
    // API's bigint and the CLI print it.
    const contender = (c: Contender): JsonObject => ({ node: c.node, mode: c.mode, session_id: hex64(c.sessionId), token: c.token.toString() });
    switch (name) {
      case "locks":
        return {
          locks: this.locks().map(
            (l): JsonValue => ({ path: l.path, kind: l.kind, permits: l.permits, holders: l.holders.map(contender), waiters: l.waiters.map(contender) }),
          ),
        };
      case "queues":
        return {
          queues: this.queues().map(
            (q): JsonValue => ({
              path: q.path,
              depth: q.depth,
              waiters: q.waiters,
              in_flight: q.inFlight,
              in_flight_items: q.inFlightItems.map(inFlightJson),
            }),
          ),
          in_flight_shown_max: IN_FLIGHT_SHOWN_MAX,
        };
      case "elections":
        return {
          elections: this.elections().map(
            (e): JsonValue => ({
              path: e.path,
              leader: e.leader === undefined ? null : contender(e.leader),
              members: e.members.map(contender),
            }),
          ),
        };
    }
  }

  gauges(): RecipeGauges {
    const g: RecipeGauges = { lockHolders: 0, lockWaiters: 0, queueDepth: 0, queueWaiters: 0, electionMembers: 0 };
    for (const l of this.locks()) {
      g.lockHolders += l.holders.length;
      g.lockWaiters += l.waiters.length;
    }
    for (const q of this.queues()) {
      g.queueDepth += q.depth;
      g.queueWaiters += q.waiters;
    }
    for (const e of this.elections()) g.electionMembers += e.members.length;
    return g;
  }
}

/** The first IN_FLIGHT_SHOWN_MAX items, lowest sequence (the oldest offer) first. */
function firstInFlight(items: InFlightItem[]): InFlightItem[] {
  const key = (i: InFlightItem): number => i.sequence ?? Number.MAX_SAFE_INTEGER;
  return items.sort((a, b) => key(a) - key(b) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)).slice(0, IN_FLIGHT_SHOWN_MAX);
}

/** An in-flight item as `queues` answers it: a deadline of null is "until the session ends". */
function inFlightJson(i: InFlightItem): JsonValue {
  return {
    node: i.node,
    item: i.item,
    sequence: i.sequence ?? null,
    deliveries: i.deliveries,
    session_id: hex64(i.sessionId),
    taken_at: i.takenAtMs,
    visibility_timeout_ms: i.visibilityMs > 0 ? i.visibilityMs : null,
    lease_deadline: i.visibilityMs > 0 ? i.takenAtMs + i.visibilityMs : null,
  };
}
