// The model and driver the lock and semaphore property tests share: random clients that
// acquire, release, give up, lose their connection and re-send, or end their session, and
// a server that rebuilds its engine (closing its waiters' connections). What each client
// believes (idle, waiting, holding) follows its replies and pushed events; after every op
// the recipe checks those beliefs against its rules and the tree. Once everyone
// reconnects and the holders release in turn, no waiter may be left waiting.

import fc from "fast-check";
import { expect } from "vitest";
import { Err, RecipeEventKind } from "../../../src/jute/index.js";
import type { Client } from "../pipeline/harness.js";
import { EngineHarness, events, release } from "./harness.js";

export type Mode = "read" | "write";

/** The ops on a client's connection and session that every recipe property draws from. */
export type ConnectionOp = { kind: "cut"; who: number } | { kind: "resend"; who: number } | { kind: "close"; who: number };

/** Lose the connection, reconnect (same session) and re-send, end the session: in that order. */
export function connectionOps(who: fc.Arbitrary<number>): [fc.Arbitrary<{ kind: "cut"; who: number }>, fc.Arbitrary<{ kind: "resend"; who: number }>, fc.Arbitrary<{ kind: "close"; who: number }>] {
  return [
    fc.record({ kind: fc.constant("cut" as const), who }),
    fc.record({ kind: fc.constant("resend" as const), who }),
    fc.record({ kind: fc.constant("close" as const), who }),
  ];
}

export type Op = { kind: "lock"; who: number; mode: Mode } | { kind: "release"; who: number } | ConnectionOp | { kind: "rebuild"; who: number };

const CLIENTS = 4;
const who = fc.integer({ min: 0, max: CLIENTS - 1 });
/** One op of a random history (a lock's mode means nothing to a semaphore). */
export const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("lock" as const), who, mode: fc.constantFrom("read" as const, "write" as const) }),
  fc.record({ kind: fc.constant("release" as const), who }),
  ...connectionOps(who),
  fc.record({ kind: fc.constant("rebuild" as const), who }),
);

export interface Holder {
  c: Client;
  cut: boolean;
  seen: number;
  state: { s: "idle" } | { s: "waiting" | "holding"; node: string; requestId: string; mode: Mode };
}

/** What the driver needs of a recipe. Its node lives under /l. */
export interface HolderRecipe {
  /** Acquires under /l: a new request, or (with `requestId`) the re-send of one. */
  acquire(c: Client, mode: Mode, requestId?: string): { requestId: string; err: number; body?: { granted: boolean; node: string } };
  /** Checks the holders as a whole; returns the check of one holder's node name under /l. */
  check(h: EngineHarness, holding: readonly Holder[]): (name: string) => void;
}

/** Runs `ops` against a fresh engine, checking the recipe's beliefs after each. */
export function run(ops: Op[], recipe: HolderRecipe): void {
  const h = new EngineHarness();
  const clients: Holder[] = Array.from({ length: CLIENTS }, () => ({ c: h.connect(), cut: false, seen: 0, state: { s: "idle" } }));
  const absorb = (k: Holder): void => {
    const ev = events(k.c).slice(k.seen);
    k.seen += ev.length;
    for (const e of ev) {
      if (k.state.s !== "waiting" || e.requestId !== k.state.requestId) continue;
      if (e.kind === RecipeEventKind.LockGranted) k.state = { ...k.state, s: "holding" };
      else if (e.kind === RecipeEventKind.NodeGone) k.state = { s: "idle" };
    }
  };
  const check = (): void => {
    const holding = clients.filter((k) => k.state.s === "holding");
    const checkName = recipe.check(h, holding);
    for (const k of holding) {
      const node = (k.state as { node: string }).node;
      expect(h.tree.get(node)?.ephemeralOwner).toBe(k.c.sessionId);
      checkName(node.slice("/l/".length));
    }
  };
  const apply = (o: Op): void => {
    const k = clients[o.who]!;
    if (o.kind === "lock") {
      if (k.state.s !== "idle" || k.cut) return;
      const r = recipe.acquire(k.c, o.mode);
      expect(r.err).toBe(Err.Ok);
      k.state = { s: r.body!.granted ? "holding" : "waiting", node: r.body!.node, requestId: r.requestId, mode: o.mode };
    } else if (o.kind === "release") {
      // Releasing a held lock, or giving up a wait.
      if (k.state.s === "idle" || k.cut) return;
      expect(release(k.c, k.state.node)).toBe(Err.Ok);
      k.state = { s: "idle" };
    } else if (o.kind === "cut") {
      if (k.cut) return;
      h.pipeline.detach(k.c.queue, "cut");
      k.cut = true;
    } else if (o.kind === "resend") {
      if (!k.cut) h.pipeline.detach(k.c.queue, "cut");
      k.c = h.attach(k.c.sessionId);
      k.cut = false;
      k.seen = 0;
      if (k.state.s === "waiting") {
        const r = recipe.acquire(k.c, k.state.mode, k.state.requestId);
        expect(r.err).toBe(Err.Ok);
        expect(r.body!.node).toBe(k.state.node);
        if (r.body!.granted) k.state = { ...k.state, s: "holding" };
      }
    } else if (o.kind === "rebuild") {
      // As the server does after a SNAP, TRUNC or role change: the waiters' connections close.
      const sessions = h.engine.rebuild();
      for (const x of clients) {
        if (!sessions.has(x.c.sessionId) || x.cut) continue;
        h.pipeline.detach(x.c.queue, "rebuilt");
        x.cut = true;
      }
    } else {
      if (k.cut) h.pipeline.expire(k.c.sessionId);
      else k.c.closeSession();
      clients[o.who] = { c: h.connect(), cut: false, seen: 0, state: { s: "idle" } };
    }
    for (const x of clients) if (!x.cut) absorb(x);
    check();
  };
  for (const o of ops) apply(o);
  // Everyone reconnects; holders release in turn: every waiter is granted in the end.
  for (let i = 0; i < CLIENTS; i++) if (clients[i]!.cut) apply({ kind: "resend", who: i });
  for (let round = 0; round < 2 * CLIENTS; round++) {
    const holder = clients.findIndex((k) => k.state.s === "holding");
    if (holder === -1) break;
    apply({ kind: "release", who: holder });
  }
  expect(clients.map((k) => k.state.s)).not.toContain("waiting");
}
