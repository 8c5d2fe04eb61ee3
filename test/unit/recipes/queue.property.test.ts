// A queue through the engine under random consumers that take (waiting or not), ack, nack,
// extend a visibility timeout that the clock then runs past (or not), lose their
// connection and re-send, or end their session, with a dead-letter policy of
// MAX_DELIVERIES: no item is ever lost or acked twice, no item is held in flight by two
// sessions, and an item is handed out at most MAX_DELIVERIES times before it is in the
// dead-letter queue with its count. fast-check with a fixed seed.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CreateMode, Err, RecipeEventKind } from "../../../src/jute/index.js";
import type { Client } from "../pipeline/harness.js";
import { deliveriesOf, policyData } from "../../../recipes/queue/rules.js";
import { EngineHarness, events, extend, nack, release, rid, take } from "./harness.js";
import { connectionOps, type ConnectionOp } from "./holder-model.js";

type Op = { kind: "offer" } | { kind: "take"; who: number; wait: boolean } | { kind: "ack"; who: number } | { kind: "nack"; who: number }
  | { kind: "extend"; who: number; ms: number }
  | { kind: "tick"; ms: number }
  | ConnectionOp;

const MAX_DELIVERIES = 2;

const CONSUMERS = 3;
const who = fc.integer({ min: 0, max: CONSUMERS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: "offer" }),
  fc.record({ kind: fc.constant("take" as const), who, wait: fc.boolean() }),
  fc.record({ kind: fc.constant("ack" as const), who }),
  fc.record({ kind: fc.constant("nack" as const), who }),
  fc.record({ kind: fc.constant("extend" as const), who, ms: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2000 }) }),
  ...connectionOps(who),
);

interface Consumer {
  c: Client;
  /** The take waiting for an event, if any. */
  pending: string | undefined;
  /** In-flight nodes received and not acked yet, with the item each holds. */
  held: Map<string, string>;
  seen: number;
  cut: boolean;
}

function run(ops: Op[]): void {
  const h = new EngineHarness();
  const producer = h.connect();
  producer.create("/dlq", "");
  producer.create("/q", policyData({ maxDeliveries: MAX_DELIVERIES, deadLetterPath: "/dlq" }));
  let offered = 0;
  const acked: string[] = [];
  const consumers: Consumer[] = Array.from({ length: CONSUMERS }, () => ({ c: h.connect(), pending: undefined, held: new Map(), seen: 0, cut: false }));
  const absorb = (k: Consumer): void => {
    const ev = events(k.c).slice(k.seen);
    k.seen += ev.length;
    for (const e of ev) {
      if (e.kind !== RecipeEventKind.QueueItem || e.requestId !== k.pending) continue;
      k.held.set(e.node, e.data!.toString());
      k.pending = undefined;
    }
  };
  for (const o of ops) {
    if (o.kind === "offer") {
      producer.create("/q/qn-", `item-${offered++}`, { mode: CreateMode.PersistentSequential });
    } else if (o.kind === "cut") {
      // The connection is lost; the session lives on (items may come meanwhile).
      const k = consumers[o.who]!;
      if (k.cut) continue;
      h.pipeline.detach(k.c.queue, "cut");
      k.cut = true;
    } else if (o.kind === "take") {
      const k = consumers[o.who]!;
      if (k.pending !== undefined || k.cut) continue;
      const t = take(k.c, "/q", { wait: o.wait });
      expect(t.err).toBe(Err.Ok);
      if (t.body!.found) k.held.set(t.body!.item, t.body!.data!.toString());
      else if (o.wait) k.pending = t.requestId;
    } else if (o.kind === "ack") {
      const k = consumers[o.who]!;
      const first = [...k.held][0];
      if (first === undefined || k.cut) continue;
      // Its visibility timeout may have put it back first: then the ack finds nothing.
      const gone = h.tree.get(first[0]) === undefined;
      const err = release(k.c, first[0]);
      expect(err).toBe(gone ? Err.NoNode : Err.Ok);
      k.held.delete(first[0]);
      if (err === Err.Ok) acked.push(first[1]);
    } else if (o.kind === "nack") {
      const k = consumers[o.who]!;
      const first = [...k.held][0];
      if (first === undefined || k.cut) continue;
      const gone = h.tree.get(first[0]) === undefined;
      expect(nack(k.c, first[0])).toBe(gone ? Err.NoNode : Err.Ok);
      k.held.delete(first[0]);
    } else if (o.kind === "extend") {
      const k = consumers[o.who]!;
      const first = [...k.held][0];
      if (first === undefined || k.cut) continue;
      const gone = h.tree.get(first[0]) === undefined;
      const e = extend(k.c, first[0], BigInt(o.ms));
      expect(e.err).toBe(gone ? Err.NoNode : Err.Ok);
      k.held.delete(first[0]);
      if (e.err === Err.Ok) k.held.set(e.body!.node, first[1]);
    } else if (o.kind === "tick") {
      h.clock.advance(o.ms);
      h.engine.tick(h.clock.nowMs());
    } else if (o.kind === "resend") {
      // The client reconnects (same session) and re-sends its pending take.
      const k = consumers[o.who]!;
      if (!k.cut) h.pipeline.detach(k.c.queue, "cut");
      k.c = h.attach(k.c.sessionId);
      k.seen = 0;
      k.cut = false;
      if (k.pending !== undefined) {
        const t = take(k.c, "/q", { wait: true, requestId: k.pending });
        expect(t.err).toBe(Err.Ok);
        if (t.body!.found) {
          k.held.set(t.body!.item, t.body!.data!.toString());
          k.pending = undefined;
        }
      }
    } else {
      const k = consumers[o.who]!;
      // A cut client's session ends by expiry; a connected one closes it.
      if (k.cut) h.pipeline.expire(k.c.sessionId);
      else k.c.closeSession();
      consumers[o.who] = { c: h.connect(), pending: undefined, held: new Map(), seen: 0, cut: false };
    }
    for (const k of consumers) if (!k.cut) absorb(k);
    // Nothing due for the dead-letter queue is left in the queue (the owner moved it in
    // the txn after the one that counted it), and every dead letter carries its count.
    for (const name of h.tree.get("/q")!.children ?? []) expect(deliveriesOf(name), name).toBeLessThan(MAX_DELIVERIES);
    for (const name of h.tree.get("/dlq")!.children ?? []) expect(deliveriesOf(name), name).toBe(MAX_DELIVERIES);
  }
  // Every item offered is acked once, or still in the queue (as an item or in flight).
  const inTree: string[] = [];
  for (const dir of ["/q", "/dlq"]) for (const name of h.tree.get(dir)!.children ?? []) inTree.push(h.tree.get(`${dir}/${name}`)!.data!.toString());
  expect(new Set(acked).size).toBe(acked.length);
  expect([...acked, ...inTree].sort()).toEqual(Array.from({ length: offered }, (_, i) => `item-${i}`).sort());
  // What a consumer holds is its own in-flight node, and no item is held twice.
  // A node a consumer still holds that is gone went back by its visibility timeout.
  const live = consumers.map((k) => [...k.held].filter(([node]) => h.tree.get(node) !== undefined));
  const held = live.flatMap((l) => l.map(([, item]) => item));
  expect(new Set(held).size).toBe(held.length);
  consumers.forEach((k, i) => {
    for (const [node] of live[i]!) expect(h.tree.get(node)?.ephemeralOwner).toBe(k.c.sessionId);
  });
}

describe("a FIFO queue under random consumers", () => {
  it("never loses an item, never acks one twice, never hands one to two sessions", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80, size: "max" }), (ops) => run(ops)),
      { seed: 0x51de, numRuns: 500 },
    );
  });

  it("a pending take re-sent on a new connection after its item was taken gets that item", () => {
    run([{ kind: "take", who: 0, wait: true }, { kind: "cut", who: 0 }, { kind: "offer" }, { kind: "resend", who: 0 }, { kind: "ack", who: 0 }]);
  });

  it("an item taken and handed back MAX_DELIVERIES times is in the dead-letter queue, not the queue", () => {
    const twice = [{ kind: "take", who: 0, wait: false }, { kind: "nack", who: 0 }] as const;
    run([{ kind: "offer" }, ...twice, ...twice]);
  });
});

export { rid };
