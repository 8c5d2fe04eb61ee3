// Small fakes of what the recipe layer's plumbing depends on: a client that only announces
// connection states (an EventEmitter with `state` and `holdOpen`), and a recipe context
// whose requests are recorded and answered by the test. No sockets, no timers of their own.

import { EventEmitter } from "node:events";
import type { Client, ClientState } from "../../../../src/client/client.js";
import type { ConnectionState, ConnectionStateInfo } from "../../../../src/client/states.js";
import type { JuteReader, JuteWriter } from "../../../../src/jute/index.js";
import { AckQueue } from "../../../../src/client/recipes/acks.js";
import type { RecipeContext, RecipeMode } from "../../../../src/client/recipes/context.js";
import { EventRouter } from "../../../../src/client/recipes/router.js";
import { SessionTracker } from "../../../../src/client/recipes/session.js";
import { deferred, type Deferred } from "../../../../src/client/recipes/signals.js";

export const SESSION = 0x100n;

/** What SessionTracker reads of a client: its "connectionState" event, `state`, `holdOpen()`. */
export class FakeClient extends EventEmitter {
  /** The legacy state (isFinal() of it tells a LOST that ends the client). */
  state: ClientState = "CONNECTED";
  /** Holds taken and not yet released. */
  holds = 0;

  holdOpen(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  announce(state: ConnectionState, info: Partial<ConnectionStateInfo> = {}): void {
    this.emit("connectionState", state, { sessionId: SESSION, ...info });
  }

  asClient(): Client {
    return this as unknown as Client;
  }
}

export interface SentRequest {
  readonly op: number;
  readonly path: string;
  readonly reply: Deferred<unknown>;
}

export interface FakeContext {
  readonly ctx: RecipeContext;
  readonly client: FakeClient;
  readonly session: SessionTracker;
  readonly acks: AckQueue;
  /** Every ctx.request in order; the test settles each one's reply. */
  readonly requests: SentRequest[];
  /** Every ctx.zk.delete path in order (the fallback's release). */
  readonly deletes: string[];
  mode: RecipeMode;
}

/** A recipe context over a FakeClient; paths pass through unchanged (no chroot). */
export function fakeContext(opts: { mode?: RecipeMode; autoReply?: boolean } = {}): FakeContext {
  const client = new FakeClient();
  const session = new SessionTracker(client.asClient());
  const requests: SentRequest[] = [];
  const deletes: string[] = [];
  const zk = {
    delete: (path: string): Promise<void> => {
      deletes.push(path);
      return Promise.resolve();
    },
  };
  let acks: AckQueue | undefined;
  const ctx: RecipeContext = {
    zk: zk as unknown as RecipeContext["zk"],
    router: new EventRouter(),
    session,
    get acks() {
      return acks!;
    },
    request<T>(op: number, path: string, _body: (w: JuteWriter) => void, _decode: ((r: JuteReader) => T) | undefined): Promise<T> {
      const reply = deferred<unknown>();
      requests.push({ op, path, reply });
      if (opts.autoReply === true) reply.resolve(undefined);
      return reply.promise as Promise<T>;
    },
    mode: () => Promise.resolve(f.mode),
    get resolvedMode() {
      return f.mode;
    },
    sp: (p) => p,
    cp: (p) => p,
    lostRaces: 0,
  };
  acks = new AckQueue(() => ctx);
  const f: FakeContext = { ctx, client, session, acks, requests, deletes, mode: opts.mode ?? "engine" };
  return f;
}

/** "pending", or how an already settled promise settled (after queued callbacks ran). */
export async function peek<T>(p: Promise<T>): Promise<{ state: "pending" } | { state: "resolved"; value: T } | { state: "rejected"; error: unknown }> {
  const PENDING = Symbol("pending");
  // Let chained callbacks (async functions awaiting other promises) run first.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  try {
    const v = await Promise.race([p, Promise.resolve(PENDING)]);
    return v === PENDING ? { state: "pending" } : { state: "resolved", value: v as T };
  } catch (error) {
    return { state: "rejected", error };
  }
}
