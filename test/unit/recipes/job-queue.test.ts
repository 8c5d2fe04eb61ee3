// Job queue pieces on the engine (issue 16): nack (back under its sequence now, with its
// delivery count), extend (the visibility timeout runs again from now, re-sends find the
// renamed node), dead letters (moved by the owner of time-driven txns once delivered
// maxDeliveries times, never handed out meanwhile) and delayed offers (items once due). The
// rules' names and the policy format are checked first.

import { describe, expect, it } from "vitest";
import { Err, RecipeEventKind } from "../../../src/jute/index.js";
import {
  DELAY_MS_MAX,
  deadLetterPrefix,
  delayedPrefix,
  deliveriesOf,
  isDeadLetter,
  isItem,
  items,
  parseDelayed,
  parsePolicy,
  policyData,
  redeliveredName,
} from "../../../recipes/queue/rules.js";
import { EngineHarness, events, extend, nack, release, take } from "./harness.js";

const names = (h: EngineHarness, path: string): string[] => [...(h.tree.get(path)?.children ?? [])].sort();

function offer(h: EngineHarness, path: string, data: string, prefix = "qn-"): string {
  const c = h.connect();
  if (h.tree.get(path) === undefined) c.create(path, "");
  return c.create(`${path}/${prefix}`, data, { mode: 2 }).path;
}

describe("job queue rules", () => {
  it("an item going back keeps its sequence and counts its deliveries", () => {
    expect(redeliveredName("qn-0000000005")).toBe("qn-d1-0000000005");
    expect(redeliveredName("qn-d1-0000000005")).toBe("qn-d2-0000000005");
    expect(redeliveredName("qn--000000005")).toBe("qn-d1--000000005");
    expect(deliveriesOf("qn-0000000005")).toBe(0);
    expect(deliveriesOf("qn-d12-0000000005")).toBe(12);
    // Counted items are items, in sequence order with the rest.
    expect(items(["qn-0000000007", "qn-d3-0000000002", "qd-500-0000000001"])).toEqual(["qn-d3-0000000002", "qn-0000000007"]);
    expect(isItem("qn-d3-0000000002")).toBe(true);
    expect(deadLetterPrefix(3)).toBe("qn-d3-");
  });

  it("a policy is the queue node's JSON data; anything else is no policy", () => {
    const p = { maxDeliveries: 3, deadLetterPath: "/dlq" };
    expect(parsePolicy(policyData(p))).toEqual(p);
    for (const data of [null, Buffer.alloc(0), Buffer.from("3"), Buffer.from("{"), Buffer.from('{"maxDeliveries":0,"deadLetterPath":"/d"}'), Buffer.from('{"maxDeliveries":2,"deadLetterPath":"/"}'), Buffer.from('{"maxDeliveries":2.5,"deadLetterPath":"/d"}')]) {
      expect(parsePolicy(data), String(data)).toBeUndefined();
    }
    expect(isDeadLetter("qn-d3-0000000001", p)).toBe(true);
    expect(isDeadLetter("qn-d2-0000000001", p)).toBe(false);
    expect(isDeadLetter("qn-d9-0000000001", undefined)).toBe(false);
  });

  it("a delayed offer's name holds its delay and the item it becomes", () => {
    expect(delayedPrefix(500)).toBe("qd-500-");
    expect(parseDelayed("qd-500-0000000007")).toEqual({ delayMs: 500, item: "qn-0000000007" });
    for (const name of ["qd-0-0000000007", "qd-x-0000000007", `qd-${DELAY_MS_MAX + 1}-0000000007`, "qn-0000000007", "qd-500-7"]) expect(parseDelayed(name), name).toBeUndefined();
  });
});

describe("nack", () => {
  it("puts the item back under its sequence at once, counted, and it is the head again", () => {
    const h = new EngineHarness();
    offer(h, "/q", "a");
    offer(h, "/q", "b");
    const c = h.connect();
    const t = take(c, "/q", { job: true, visibilityMs: 60_000n });
    expect(nack(c, t.body!.item)).toBe(Err.Ok);
    expect(names(h, "/q")).toEqual(["qn-0000000001", "qn-d1-0000000000"]);
    const again = take(h.connect(), "/q", { job: true });
    expect(again.body).toMatchObject({ found: true, data: Buffer.from("a") });
    expect(again.body!.item).toMatch(/-inflight-qn-d1-0000000000$/);
    // Gone now: a second nack is NoNode; another session's node is NoAuth and stays.
    expect(nack(c, t.body!.item)).toBe(Err.NoNode);
    expect(nack(c, again.body!.item)).toBe(Err.NoAuth);
    expect(h.tree.get(again.body!.item)).toBeDefined();
    expect(nack(c, "/q/qn-0000000001")).toBe(Err.BadArguments);
  });

  it("wakes a waiting consumer", () => {
    const h = new EngineHarness();
    offer(h, "/q", "a");
    const c = h.connect();
    const t = take(c, "/q", { job: true });
    const waiter = h.connect();
    const w = take(waiter, "/q", { job: true, wait: true });
    expect(w.body!.found).toBe(false);
    nack(c, t.body!.item);
    expect(events(waiter)).toEqual([expect.objectContaining({ kind: RecipeEventKind.QueueItem, requestId: w.requestId, data: Buffer.from("a") })]);
  });
});

describe("extend", () => {
  it("restarts the visibility timeout from now under a new name; the old deadline no longer applies", () => {
    const h = new EngineHarness();
    offer(h, "/q", "a");
    const c = h.connect();
    const t = take(c, "/q", { job: true, visibilityMs: 1000n });
    h.clock.advance(900);
    const e = extend(c, t.body!.item, 2000n);
    expect(e.err).toBe(Err.Ok);
    expect(e.body!.node).toBe(`/q/_c_${t.requestId}-inflight-qn-0000000000~2000`);
    expect(h.tree.get(t.body!.item)).toBeUndefined();
    h.clock.advance(1500); // past the first deadline, not the new one
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/q")).toEqual([`_c_${t.requestId}-inflight-qn-0000000000~2000`]);
    h.clock.advance(501);
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/q")).toEqual(["qn-d1-0000000000"]);
    expect(release(c, e.body!.node)).toBe(Err.NoNode);
  });

  it("a re-send with the old name finds the renamed node; a re-sent take finds it too", () => {
    const h = new EngineHarness();
    offer(h, "/q", "a");
    const c = h.connect();
    const t = take(c, "/q", { job: true, visibilityMs: 1000n });
    const first = extend(c, t.body!.item, 3000n);
    const c2 = h.attach(c.sessionId);
    const again = extend(c2, t.body!.item, 3000n);
    expect(again.body!.node).toBe(first.body!.node);
    expect(extend(c2, t.body!.item, 4000n).body!.node).toBe(`/q/_c_${t.requestId}-inflight-qn-0000000000~4000`);
    expect(take(c2, "/q", { job: true, visibilityMs: 1000n, requestId: t.requestId }).body).toMatchObject({ found: true, item: `/q/_c_${t.requestId}-inflight-qn-0000000000~4000` });
    expect(names(h, "/q")).toHaveLength(1);
  });

  it("refuses another session's node, a node that is gone, and timeouts out of range", () => {
    const h = new EngineHarness();
    offer(h, "/q", "a");
    const c = h.connect();
    const t = take(c, "/q", { job: true });
    expect(extend(h.connect(), t.body!.item, 1000n).err).toBe(Err.NoAuth);
    expect(extend(c, t.body!.item, 0n).err).toBe(Err.BadArguments);
    expect(extend(c, t.body!.item, 13n * 3_600_000n).err).toBe(Err.BadArguments);
    expect(release(c, t.body!.item)).toBe(Err.Ok);
    expect(extend(c, t.body!.item, 1000n).err).toBe(Err.NoNode);
  });
});

describe("dead letters", () => {
  function policyQueue(h: EngineHarness, max: number): void {
    const c = h.connect();
    c.create("/dlq", "");
    c.create("/q", policyData({ maxDeliveries: max, deadLetterPath: "/dlq" }));
  }

  it("an item delivered maxDeliveries times and not acked moves to the dead-letter path in one txn, with its count", () => {
    const h = new EngineHarness();
    policyQueue(h, 2);
    offer(h, "/q", "poison");
    offer(h, "/q", "fine");
    const c = h.connect();
    const t1 = take(c, "/q", { job: true });
    expect(t1.body!.data).toEqual(Buffer.from("poison"));
    nack(c, t1.body!.item);
    const t2 = take(c, "/q", { job: true });
    expect(t2.body!.data).toEqual(Buffer.from("poison"));
    const before = h.tree.lastProcessedZxid;
    nack(c, t2.body!.item);
    // The nack, then the owner's move: two txns.
    expect(h.tree.lastProcessedZxid).toBe(before + 2n);
    expect(names(h, "/dlq")).toEqual(["qn-d2-0000000000"]);
    expect(h.tree.get("/dlq/qn-d2-0000000000")!.data).toEqual(Buffer.from("poison"));
    expect(names(h, "/q")).toEqual(["qn-0000000001"]);
  });

  it("a session's end and a visibility timeout count as deliveries too; a follower moves nothing, its leader does", () => {
    const h = new EngineHarness();
    h.owns = false;
    policyQueue(h, 1);
    offer(h, "/q", "x");
    const c = h.connect();
    take(c, "/q", { job: true });
    c.closeSession();
    // Not the owner: the item stays, but no take hands it out.
    expect(names(h, "/q")).toEqual(["qn-d1-0000000000"]);
    const other = h.connect();
    expect(take(other, "/q", { job: true }).body!.found).toBe(false);
    h.owns = true;
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/q")).toEqual([]);
    expect(names(h, "/dlq")).toEqual(["qn-d1-0000000000"]);
    offer(h, "/q", "y");
    const t = take(other, "/q", { job: true, visibilityMs: 100n });
    h.clock.advance(101);
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/dlq")).toEqual(["qn-d1-0000000000", "qn-d1-0000000001"]);
    expect(release(other, t.body!.item)).toBe(Err.NoNode);
  });

  it("without a policy, a counted item is handed out again and again", () => {
    const h = new EngineHarness();
    offer(h, "/q", "x");
    const c = h.connect();
    for (let i = 1; i <= 3; i++) {
      const t = take(c, "/q", { job: true });
      expect(t.body!.item).toMatch(i === 1 ? /inflight-qn-0000000000$/ : new RegExp(`inflight-qn-d${i - 1}-0000000000$`));
      nack(c, t.body!.item);
    }
    expect(names(h, "/q")).toEqual(["qn-d3-0000000000"]);
  });

  it("a missing dead-letter node is made if its parent exists", () => {
    const h = new EngineHarness();
    const c = h.connect();
    c.create("/q", policyData({ maxDeliveries: 1, deadLetterPath: "/q-dead" }));
    offer(h, "/q", "x");
    nack(c, take(c, "/q", { job: true }).body!.item);
    expect(names(h, "/q-dead")).toEqual(["qn-d1-0000000000"]);
  });
});

describe("delayed offers", () => {
  it("a delayed item is no item until its delay has passed; then it is one, in its place", () => {
    const h = new EngineHarness();
    offer(h, "/q", "later", "qd-1000-");
    offer(h, "/q", "now");
    const c = h.connect();
    expect(take(c, "/q", { job: true }).body!.data).toEqual(Buffer.from("now"));
    expect(take(c, "/q", { job: true }).body!.found).toBe(false);
    const w = take(c, "/q", { job: true, wait: true });
    h.clock.advance(999);
    h.engine.tick(h.clock.nowMs());
    expect(events(c)).toEqual([]);
    h.clock.advance(1);
    h.engine.tick(h.clock.nowMs());
    expect(events(c)).toEqual([expect.objectContaining({ kind: RecipeEventKind.QueueItem, requestId: w.requestId, data: Buffer.from("later") })]);
  });

  it("a follower promotes nothing; a server that starts owning time-driven txns promotes what is due, from the tree", () => {
    const h = new EngineHarness();
    h.owns = false;
    offer(h, "/q", "d", "qd-50-");
    h.clock.advance(100);
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/q")).toEqual(["qd-50-0000000000"]);
    h.engine.rebuild();
    h.owns = true;
    h.engine.tick(h.clock.nowMs());
    expect(names(h, "/q")).toEqual(["qn-0000000000"]);
  });
});
