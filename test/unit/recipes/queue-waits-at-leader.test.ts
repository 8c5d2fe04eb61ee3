// Queue waits in an ensemble are the leader's: a learner's engine tells the leader's about
// its session's wait, the leader makes the take when an item comes, and the learner
// pushes the item when it applies that take. Two engines on the pipeline harness — a
// leader, and a learner whose forwarded requests and applied txns are delivered by hand —
// so each interleaving is chosen, including a cancel that crosses the leader's take.

import { describe, expect, it } from "vitest";
import { CreateMode, RecipeEventKind } from "../../../src/jute/index.js";
import { decodeForward, encodeForward, type Forwarded } from "../../../src/pipeline/index.js";
import { ManualCommitLog } from "../pipeline/harness.js";
import { EngineHarness, cancelWait, events, take } from "./harness.js";

class Pair {
  readonly log = new ManualCommitLog();
  readonly leader: EngineHarness;
  readonly learner = new EngineHarness();
  readonly #forwarded: Forwarded[] = [];
  #replicated = 0;

  constructor() {
    this.log.holding = false;
    this.leader = new EngineHarness({ log: this.log });
    this.learner.owns = false;
    this.learner.pipeline.setForwarder((f) => this.#forwarded.push(decodeForward(encodeForward(f))));
  }

  /** Delivers what the learner forwarded (writes and engine messages) to the leader, in order. */
  deliver(): number {
    const n = this.#forwarded.length;
    for (const f of this.#forwarded.splice(0)) this.leader.pipeline.submitForwarded(f);
    return n;
  }

  /** The learner applies what the leader committed since the last call. */
  replicate(): void {
    for (const e of this.log.appended.slice(this.#replicated)) this.learner.pipeline.applyRemote(e);
    this.#replicated = this.log.appended.length;
  }

  /** A client of the learner, on a session the leader created. */
  learnerClient() {
    const sid = this.leader.connect().sessionId;
    this.replicate();
    return this.learner.attach(sid);
  }

  /** A producer on the leader, the queue /q, and a learner's consumer whose wait the leader now keeps. */
  waitingOnLearner() {
    const producer = this.leader.connect();
    producer.create("/q");
    const remote = this.learnerClient();
    const waited = take(remote, "/q", { wait: true });
    expect(waited.body?.found).toBe(false);
    expect(this.deliver()).toBe(1);
    return { producer, remote, waited };
  }
}

describe("queue waits kept by the leader", () => {
  it("a learner's consumer waits at the leader, ahead of a later consumer on the leader, and its member pushes the item", () => {
    const p = new Pair();
    const { producer, remote, waited } = p.waitingOnLearner();
    // A consumer on the leader asks after the learner's did.
    const local = p.leader.connect();
    expect(take(local, "/q", { wait: true }).body?.found).toBe(false);
    producer.create("/q/qn-", "first", { mode: CreateMode.PersistentSequential });
    expect(events(local)).toEqual([]);
    p.replicate();
    const [got] = events(remote);
    expect(got).toMatchObject({ kind: RecipeEventKind.QueueItem, path: "/q", requestId: waited.requestId });
    expect(got!.data?.toString()).toBe("first");
    expect(p.learner.tree.get(got!.node)?.ephemeralOwner).toBe(remote.sessionId);
    producer.create("/q/qn-", "second", { mode: CreateMode.PersistentSequential });
    expect(events(local).map((e) => e.data?.toString())).toEqual(["second"]);
  });

  it("a cancel that crosses the leader's take puts the item back at the head", () => {
    const p = new Pair();
    const { producer, remote, waited } = p.waitingOnLearner();
    // The leader takes the item for the wait; before the learner applies that take, the
    // client gives up.
    producer.create("/q/qn-", "crossed", { mode: CreateMode.PersistentSequential });
    expect(cancelWait(remote, "/q", waited.requestId).body?.cancelled).toBe(true);
    p.deliver();
    p.replicate();
    expect(events(remote)).toEqual([]);
    // The learner sent the item back; once that commits it is the queue's head again.
    expect(p.deliver()).toBe(1);
    p.replicate();
    const children = [...(p.learner.tree.get("/q")?.children ?? [])];
    expect(children).toEqual(["qn-0000000000"]);
    expect(p.learner.tree.get("/q/qn-0000000000")?.data?.toString()).toBe("crossed");
    // Settled: nothing more goes back and forth.
    expect(p.deliver()).toBe(0);
  });

  it("a cancel before any item drops the wait at the leader; the next item stays in the queue", () => {
    const p = new Pair();
    const { producer, remote, waited } = p.waitingOnLearner();
    expect(cancelWait(remote, "/q", waited.requestId).body?.cancelled).toBe(true);
    p.deliver();
    producer.create("/q/qn-", "kept", { mode: CreateMode.PersistentSequential });
    p.replicate();
    expect(events(remote)).toEqual([]);
    expect([...(p.leader.tree.get("/q")?.children ?? [])]).toEqual(["qn-0000000000"]);
  });

  it("the leader makes a learner's take with the identities the session proved there", () => {
    const p = new Pair();
    const producer = p.leader.connect({ authIds: [{ scheme: "digest", id: "app:x" }] });
    producer.create("/q", null, { acl: [{ perms: 31, id: { scheme: "digest", id: "app:x" } }] });
    const sid = p.leader.connect().sessionId;
    p.replicate();
    const remote = p.learner.attach(sid, [{ scheme: "digest", id: "app:x" }]);
    take(remote, "/q", { wait: true });
    p.deliver();
    producer.create("/q/qn-", "secret", { mode: CreateMode.PersistentSequential });
    p.replicate();
    expect(events(remote).map((e) => e.data?.toString())).toEqual(["secret"]);
  });
});
