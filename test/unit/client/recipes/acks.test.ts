// AckQueue (FIFO acks, protocol v2), on a fake recipe context: an ack rides on the next
// take of the same queue on the same session when one is sent at once (claim), else a
// standalone release is sent on the next turn of the event loop, all pending acks in one
// turn; flush() sends what is pending now and waits for what is in flight.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SessionLostError, ZooKeeperError } from "../../../../src/client/errors.js";
import { CorralOp, Err } from "../../../../src/jute/index.js";
import { SESSION, fakeContext, peek } from "./fakes.js";

const Q = "/app/q";
const Q2 = "/app/q2";

/** Runs the turn of the event loop on which the AckQueue flushes (setImmediate), and what it starts. */
async function nextTurn(): Promise<void> {
  await vi.advanceTimersToNextTimerAsync();
  await peek(Promise.resolve()); // let the releases reach ctx.request
}

describe("AckQueue", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends an ack nobody claimed as a standalone release on the next turn, not before", async () => {
    const f = fakeContext();
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    await peek(Promise.resolve());
    expect(f.requests).toEqual([]);
    expect(f.acks.pending).toBe(1);

    await nextTurn();
    expect(f.requests.map((r) => [r.op, r.path])).toEqual([[CorralOp.release, `${Q}/inflight-1`]]);
    expect(f.acks.pending).toBe(1); // in flight
    f.requests[0]!.reply.resolve(undefined);
    await peek(Promise.resolve());
    expect(f.acks.pending).toBe(0);
    expect(f.client.holds).toBe(0);
    scope.dispose();
  });

  it("batches: the acks added in one turn go out together, from one scheduled flush", async () => {
    const f = fakeContext({ autoReply: true });
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    f.acks.add(Q, `${Q}/inflight-2`, scope);
    f.acks.add(Q2, `${Q2}/inflight-1`, scope);
    expect(vi.getTimerCount()).toBe(1);
    await nextTurn();
    expect(f.requests.map((r) => r.path)).toEqual([`${Q}/inflight-1`, `${Q}/inflight-2`, `${Q2}/inflight-1`]);
    expect(vi.getTimerCount()).toBe(0);
    await peek(Promise.resolve());
    expect(f.acks.pending).toBe(0);
    // A later ack schedules a new flush.
    f.acks.add(Q, `${Q}/inflight-3`, scope);
    expect(vi.getTimerCount()).toBe(1);
    await nextTurn();
    expect(f.requests).toHaveLength(4);
    scope.dispose();
  });

  it("piggybacks: a take of the same queue sent at once claims the ack, and no release is sent", async () => {
    const f = fakeContext({ autoReply: true });
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    const take = f.session.scope(); // the next take's own scope, same session
    const ack = f.acks.claim(Q, take);
    expect(ack?.node).toBe(`${Q}/inflight-1`);
    expect(f.acks.pending).toBe(0);
    expect(f.acks.claim(Q, take)).toBeUndefined(); // one ack per take
    await nextTurn();
    expect(f.requests).toEqual([]);
    scope.dispose();
    take.dispose();
  });

  it("claims in delivery order, one per take; the rest go on their own", async () => {
    const f = fakeContext({ autoReply: true });
    const scope = f.session.scope();
    for (const n of [1, 2, 3]) f.acks.add(Q, `${Q}/inflight-${n}`, scope);
    expect(f.acks.claim(Q, scope)?.node).toBe(`${Q}/inflight-1`);
    expect(f.acks.claim(Q, scope)?.node).toBe(`${Q}/inflight-2`);
    await nextTurn();
    expect(f.requests.map((r) => r.path)).toEqual([`${Q}/inflight-3`]);
    scope.dispose();
  });

  it("a take of another queue does not carry the ack", async () => {
    const f = fakeContext({ autoReply: true });
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    expect(f.acks.claim(Q2, scope)).toBeUndefined();
    await nextTurn();
    expect(f.requests.map((r) => r.path)).toEqual([`${Q}/inflight-1`]);
    scope.dispose();
  });

  it("a take on a new session does not carry an ack of the lost one, and that ack is not sent (its node went with the session)", async () => {
    const f = fakeContext({ autoReply: true });
    const old = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, old);
    f.client.announce("LOST", { reason: new SessionLostError(SESSION, 2400, 3000) });
    f.client.announce("RECONNECTED", { sessionId: 0x200n, previousSessionId: SESSION });
    const take = f.session.scope();
    expect(f.acks.claim(Q, take)).toBeUndefined();
    await nextTurn();
    expect(f.requests).toEqual([]);
    expect(f.acks.pending).toBe(0);
    expect(f.client.holds).toBe(0);
    take.dispose();
  });

  it("unclaim(): the ack of a take that failed for good goes back, and is sent on its own", async () => {
    const f = fakeContext({ autoReply: true });
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    const ack = f.acks.claim(Q, scope)!;
    await nextTurn();
    expect(f.requests).toEqual([]);
    f.acks.unclaim(Q, ack);
    expect(f.acks.pending).toBe(1);
    await nextTurn();
    expect(f.requests.map((r) => r.path)).toEqual([`${Q}/inflight-1`]);
    scope.dispose();
  });

  it("flush() sends what is pending at once and resolves when every release is answered", async () => {
    const f = fakeContext();
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    f.acks.add(Q2, `${Q2}/inflight-1`, scope);
    const flushed = f.acks.flush();
    await peek(Promise.resolve());
    expect(f.requests).toHaveLength(2);
    expect(await peek(flushed)).toEqual({ state: "pending" });
    expect(f.acks.pending).toBe(2);
    f.requests[0]!.reply.resolve(undefined);
    expect(await peek(flushed)).toEqual({ state: "pending" });
    f.requests[1]!.reply.resolve(undefined);
    expect(await peek(flushed)).toEqual({ state: "resolved", value: undefined });
    expect(f.acks.pending).toBe(0);
    // The flush scheduled by add() finds nothing left.
    await nextTurn();
    expect(f.requests).toHaveLength(2);
    scope.dispose();
  });

  it("a flush while SUSPENDED sends the release once the same session is back", async () => {
    const f = fakeContext({ autoReply: true });
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    f.client.announce("SUSPENDED");
    await nextTurn();
    expect(f.requests).toEqual([]);
    expect(f.acks.pending).toBe(1);
    f.client.announce("RECONNECTED");
    await peek(Promise.resolve());
    expect(f.requests.map((r) => r.path)).toEqual([`${Q}/inflight-1`]);
    await peek(Promise.resolve());
    expect(f.acks.pending).toBe(0);
    scope.dispose();
  });

  it("as a take leaves it (its scope disposed right after add): sent once the session is back, dropped if it ends", async () => {
    for (const end of ["RECONNECTED", "LOST"] as const) {
      const f = fakeContext({ autoReply: true });
      const scope = f.session.scope();
      f.acks.add(Q, `${Q}/inflight-1`, scope);
      scope.dispose();
      f.client.announce("SUSPENDED");
      await nextTurn();
      expect(f.acks.pending).toBe(1);
      if (end === "LOST") f.client.announce("LOST", { reason: new SessionLostError(SESSION, 2400, 3000) });
      else f.client.announce("RECONNECTED");
      await peek(Promise.resolve());
      await peek(Promise.resolve());
      expect({ end, sent: f.requests.map((r) => r.path) }).toEqual({ end, sent: end === "LOST" ? [] : [`${Q}/inflight-1`] });
      expect(f.acks.pending).toBe(0);
      expect(f.client.holds).toBe(0);
    }
  });

  it("a release refused by the server does not fail the flush, and is not pending any more", async () => {
    const f = fakeContext();
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    const flushed = f.acks.flush();
    await peek(Promise.resolve());
    f.requests[0]!.reply.reject(new ZooKeeperError(Err.NoAuth));
    expect(await peek(flushed)).toEqual({ state: "resolved", value: undefined });
    expect(f.acks.pending).toBe(0);
    expect(f.client.holds).toBe(0);
    scope.dispose();
  });

  it("against Apache ZooKeeper (fallback) the ack is a delete of the client path", async () => {
    const f = fakeContext({ mode: "client" });
    const scope = f.session.scope();
    f.acks.add(Q, `${Q}/inflight-1`, scope);
    await nextTurn();
    expect(f.requests).toEqual([]);
    expect(f.deletes).toEqual([`${Q}/inflight-1`]);
    scope.dispose();
  });
});
