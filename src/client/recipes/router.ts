// Routes the recipe events the server pushes (protocol v2) to the call that waits for
// them, by the event's requestId alone: the id the client chose for that call and sends
// unchanged on every re-send. An event nobody waits for (a wait that gave up, or a
// duplicate of one already answered by a re-send's reply) is dropped and counted.

import { RecipeEventKind, type RecipeEvent } from "../../jute/index.js";
import { deferred, type Deferred } from "./signals.js";

export interface Route {
  /** The first event for the request id (a NodeGone event included). */
  readonly event: Promise<RecipeEvent>;
  /** Stops routing to this call; later events for its id are dropped. */
  close(): void;
}

export class EventRouter {
  readonly #routes = new Map<string, Deferred<RecipeEvent>>();
  /** Events no call waited for (a given-up wait's late grant, a duplicate). */
  unrouted = 0;

  /** Routes the next event for `requestId` to the returned promise. Register before sending. */
  expect(requestId: string): Route {
    const d = deferred<RecipeEvent>();
    this.#routes.set(requestId, d);
    return {
      event: d.promise,
      close: () => {
        if (this.#routes.get(requestId) === d) this.#routes.delete(requestId);
      },
    };
  }

  route(e: RecipeEvent): void {
    const d = this.#routes.get(e.requestId);
    if (d === undefined) {
      this.unrouted++;
      return;
    }
    this.#routes.delete(e.requestId);
    d.resolve(e);
  }

  get waiting(): number {
    return this.#routes.size;
  }
}

export function isNodeGone(e: RecipeEvent): boolean {
  return e.kind === RecipeEventKind.NodeGone;
}
