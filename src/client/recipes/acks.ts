// FIFO acks (protocol v2): a FIFO take hands the client an in-flight node holding the item;
// the client acks it as soon as it has the item, so the item is delivered exactly once
// even when the take's reply or event is lost and the take is re-sent. The ack rides on
// the next take of the same queue when one is sent at once (its `ackNode` field deletes
// the node in the same txn), else a standalone `release` is sent right after delivery
// (on the next turn of the event loop). close() flushes what is pending first.

import type { RecipeContext } from "./context.js";
import { releaseNode } from "./nodes.js";
import type { SessionScope } from "./session.js";

interface PendingAck {
  readonly node: string;
  readonly scope: SessionScope;
}

/** Pending acks per queue (server path); bounded by the takes in flight, one each. */
export class AckQueue {
  readonly #ctx: () => RecipeContext;
  readonly #pending = new Map<string, PendingAck[]>();
  readonly #inFlight = new Set<Promise<void>>();
  #scheduled = false;

  constructor(ctx: () => RecipeContext) {
    this.#ctx = ctx;
  }

  /** A FIFO item was delivered from in-flight `node` of queue `queue`: ack it soon. */
  add(queue: string, node: string, scope: SessionScope): void {
    const list = this.#pending.get(queue) ?? [];
    list.push({ node, scope });
    this.#pending.set(queue, list);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.flush();
      });
    }
  }

  /** A take of `queue` on `scope`'s session is being sent: it carries one pending ack ("" if none). */
  claim(queue: string, scope: SessionScope): PendingAck | undefined {
    const list = this.#pending.get(queue);
    const i = list?.findIndex((a) => a.scope.epoch === scope.epoch) ?? -1;
    if (i === -1) return undefined;
    const [a] = list!.splice(i, 1);
    if (list!.length === 0) this.#pending.delete(queue);
    return a;
  }

  /** A take that carried `ack` failed for good: the ack goes back to be sent on its own. */
  unclaim(queue: string, ack: PendingAck): void {
    this.add(queue, ack.node, ack.scope);
  }

  /** Sends every pending ack and waits for those in flight. */
  async flush(): Promise<void> {
    const ctx = this.#ctx();
    for (const list of this.#pending.values()) {
      for (const a of list) {
        const p = releaseNode(ctx, a.scope, a.node).catch(() => undefined);
        this.#inFlight.add(p);
        void p.finally(() => this.#inFlight.delete(p));
      }
    }
    this.#pending.clear();
    await Promise.all([...this.#inFlight]);
  }

  get pending(): number {
    let n = 0;
    for (const l of this.#pending.values()) n += l.length;
    return n + this.#inFlight.size;
  }
}
