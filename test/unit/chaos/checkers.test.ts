// The recipe fault suite's checkers on synthetic histories: each property holds on a clean
// history and each one can fail.

import { describe, expect, it } from "vitest";
import {
  checkAll,
  checkElection,
  checkFencedWrites,
  checkFifo,
  checkJobs,
  checkLiveness,
  checkLockExclusion,
  summarize,
} from "../../chaos/lib/checkers.js";
import type { HistoryEvent, HistoryInput } from "../../chaos/lib/history.js";

/** Builds a history from [t, event] pairs. */
function hist(...evs: [number, HistoryInput][]): HistoryEvent[] {
  return evs.map(([t, e]) => ({ ...e, t }) as HistoryEvent);
}

const acquired = (holder: string, token: number, mode: "write" | "read" = "write"): HistoryInput => ({
  k: "lock-acquired",
  lock: "/l",
  holder,
  mode,
  token: String(token),
  session: `s-${holder}`,
});
const release = (holder: string, token: number): HistoryInput => ({ k: "lock-release", lock: "/l", holder, token: String(token) });
const lost = (holder: string, token: number): HistoryInput => ({ k: "lock-lost", lock: "/l", holder, token: String(token), reason: "SessionExpired" });
const write = (writer: string, token: number, accepted = true): HistoryInput => ({ k: "fenced-write", lock: "/l", writer, token: String(token), accepted });
const end: HistoryInput = { k: "phase", phase: "end" };

describe("checkFencedWrites", () => {
  it("accepts non-decreasing tokens, repeated by one holder", () => {
    expect(checkFencedWrites(hist([1, write("a", 5)], [2, write("a", 5)], [3, write("b", 9)]))).toEqual([]);
  });
  it("flags a write with a lower token than one already accepted", () => {
    const v = checkFencedWrites(hist([1, write("a", 5)], [2, write("b", 9)], [3, write("a", 5, false)]));
    expect(v).toHaveLength(1);
    expect(v[0]!.property).toBe("stale-fenced-write");
  });
  it("flags two writers with one token", () => {
    expect(checkFencedWrites(hist([1, write("a", 5)], [2, write("b", 5)]))).toHaveLength(1);
  });
  it("flags a recorded rejection the order does not explain", () => {
    expect(checkFencedWrites(hist([1, write("a", 5, false)]))).toHaveLength(1);
  });
});

describe("checkLockExclusion", () => {
  it("accepts holds one after another and concurrent readers", () => {
    const h = hist([1, acquired("a", 1)], [2, release("a", 1)], [3, acquired("b", 2, "read")], [4, acquired("c", 3, "read")], [5, release("b", 2)], [6, release("c", 3)], [7, end]);
    expect(checkLockExclusion(h)).toEqual([]);
  });
  it("flags a grant while another holds (writer and reader)", () => {
    const h = hist([1, acquired("a", 1)], [3, acquired("b", 2, "read")], [4, release("a", 1)], [5, release("b", 2)], [6, end]);
    const v = checkLockExclusion(h);
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toContain("lost never fired");
  });
  it("accepts an overlap when the earlier holder's lost fired first", () => {
    const h = hist([1, acquired("a", 1)], [2, lost("a", 1)], [3, acquired("b", 2)], [4, release("a", 1)], [5, release("b", 2)], [6, end]);
    expect(checkLockExclusion(h)).toEqual([]);
  });
  it("flags lost firing after the next grant, and a hold never released", () => {
    const late = hist([1, acquired("a", 1)], [3, acquired("b", 2)], [4, lost("a", 1)], [5, release("b", 2)], [6, end]);
    expect(checkLockExclusion(late)).toHaveLength(1);
    const never = hist([1, acquired("a", 1)], [9, acquired("b", 2)], [10, release("b", 2)], [11, end]);
    expect(checkLockExclusion(never)).toHaveLength(1);
  });
});

const offer = (n: number, ok = true, queue: "fifo" | "job" = "fifo"): HistoryInput => ({ k: "offer", queue, n, ok });
const recv = (n: number, consumer: string, session: string, queue: "fifo" | "job" = "fifo"): HistoryInput => ({ k: "recv", queue, n, consumer, session });
const sessionLost = (client: string, session: string): HistoryInput => ({ k: "session-lost", client, session, why: "LOST" });

describe("checkFifo", () => {
  it("accepts every acked offer delivered once, and a failed offer delivered or not", () => {
    const h = hist([1, offer(1)], [2, offer(2)], [3, offer(3, false)], [4, recv(2, "c1", "s1")], [5, recv(1, "c2", "s2")], [6, end]);
    expect(checkFifo(h)).toEqual([]);
  });
  it("allows a re-delivery after the first consumer's session was lost", () => {
    const h = hist([1, offer(1)], [2, recv(1, "c1", "s1")], [3, sessionLost("c1", "s1")], [4, recv(1, "c2", "s2")], [5, end]);
    expect(checkFifo(h)).toEqual([]);
  });
  it("flags a lost item, a duplicate to live sessions and a phantom", () => {
    expect(checkFifo(hist([1, offer(1)], [2, end]))).toHaveLength(1);
    expect(checkFifo(hist([1, offer(1)], [2, recv(1, "c1", "s1")], [3, recv(1, "c2", "s2")], [4, end]))).toHaveLength(1);
    expect(checkFifo(hist([1, recv(7, "c1", "s1")], [2, end]))).toHaveLength(1);
  });
});

describe("checkJobs", () => {
  const ack = (n: number, ok = true): HistoryInput => ({ k: "job-ack", n, consumer: "c", ok });
  it("accepts every acked job acked at least once, duplicates allowed", () => {
    const h = hist([1, offer(1, true, "job")], [2, recv(1, "c1", "s1", "job")], [3, recv(1, "c2", "s2", "job")], [4, ack(1)], [5, ack(1, false)], [6, end]);
    expect(checkJobs(h)).toEqual([]);
  });
  it("flags a job never acked (its consumer died, nobody got it back)", () => {
    const h = hist([1, offer(1, true, "job")], [2, recv(1, "c1", "s1", "job")], [3, sessionLost("c1", "s1")], [4, ack(1, false)], [5, end]);
    const v = checkJobs(h);
    expect(v).toHaveLength(1);
    expect(v[0]!.property).toBe("job-at-least-once");
  });
  const final = (items: number[], inflight: { n: number; owner: string }[] = []): HistoryInput => ({ k: "final-queue", queue: "job", items, inflight });
  const unknownAck = (n: number): HistoryInput => ({ k: "job-ack", n, consumer: "c", ok: false, unknown: true });
  it("counts an ack of unknown outcome as applied when the item is nowhere after the drain", () => {
    const h = hist([1, offer(1, true, "job")], [2, recv(1, "c1", "s1", "job")], [3, unknownAck(1)], [4, sessionLost("c1", "s1")], [5, final([])], [6, end]);
    expect(checkJobs(h)).toEqual([]);
  });
  it("flags an ack of unknown outcome whose item is still in flight under a dead session, and says where", () => {
    const h = hist([1, offer(1, true, "job")], [2, recv(1, "c1", "s1", "job")], [3, unknownAck(1)], [4, sessionLost("c1", "s1")], [5, final([], [{ n: 1, owner: "s1" }])], [6, end]);
    const v = checkJobs(h);
    expect(v).toHaveLength(1);
    expect(v[0]!.detail).toMatch(/still in flight under session s1, which the history says is gone/);
  });
  it("flags a job left queued after the drain (never handed out again)", () => {
    const h = hist([1, offer(1, true, "job")], [2, recv(1, "c1", "s1", "job")], [3, sessionLost("c1", "s1")], [4, final([1])], [5, end]);
    expect(checkJobs(h)[0]!.detail).toMatch(/still queued/);
  });
});

describe("checkElection", () => {
  const lead = (member: string, on: boolean): HistoryInput => ({ k: "lead", election: "/e", member, on });
  it("accepts leaders one after another, even stepping down and up at one instant", () => {
    expect(checkElection(hist([1, lead("a", true)], [2, lead("a", false)], [2, lead("b", true)], [3, end]))).toEqual([]);
  });
  it("flags two members leading at once, including one that never stepped down", () => {
    expect(checkElection(hist([1, lead("a", true)], [2, lead("b", true)], [3, lead("a", false)], [4, end]))).toHaveLength(1);
    expect(checkElection(hist([1, lead("a", true)], [5, lead("b", true)], [6, end]))).toHaveLength(1);
  });
});

describe("checkLiveness", () => {
  const start = (id: number, blocking = false): HistoryInput => ({ k: "call-start", id, client: "c", op: blocking ? "take" : "getData", blocking });
  const done = (id: number): HistoryInput => ({ k: "call-end", id, ok: true });
  const phase = (p: "healed" | "stopped"): HistoryInput => ({ k: "phase", phase: p });
  it("accepts calls settling within the bound after healing, blocking ones after stopping", () => {
    const h = hist([0, start(1)], [10, phase("healed")], [15, done(1)], [11, start(2, true)], [50, phase("stopped")], [55, done(2)], [60, end]);
    expect(checkLiveness(h, 10)).toEqual([]);
  });
  it("flags a call that settles late and one that never settles", () => {
    const h = hist([0, start(1)], [10, phase("healed")], [30, done(1)], [31, start(2)], [40, phase("stopped")], [60, end]);
    const v = checkLiveness(h, 10);
    expect(v.map((x) => x.detail.includes("never") ? "never" : "late")).toEqual(["late", "never"]);
  });
});

it("checkAll and summarize count violations per property", () => {
  const h = hist([1, acquired("a", 1)], [2, acquired("b", 2)], [3, offer(1)], [4, end]);
  const v = checkAll(h, { livenessBoundMs: 1000 });
  expect(summarize(v)).toEqual({ "lock-overlap": 1, "fifo-exactly-once": 1 });
});
