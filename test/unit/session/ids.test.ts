// Session ids (src/session/ids.ts, ZOOKEEPER.md §1.8): the server's id byte on top, a
// time-based counter below; only ids carrying this server's byte lift its counter.

import { describe, expect, it } from "vitest";
import { SessionIdGenerator, counterOf, creatorByteOf, initialSessionId } from "../../../src/session/index.js";
import { DataTree } from "../../../src/tree/index.js";
import { SessionTable } from "../../../src/session/index.js";
import { WatchRegistry } from "../../../src/watch/index.js";
import { Pipeline, memoryCommitLog } from "../../../src/pipeline/index.js";
import { asSessionId, type Clock, type SessionId } from "../../../src/util/index.js";
import { testPassword } from "../pipeline/harness.js";

const T0 = 1_700_000_000_000; // a wall-clock ms, 2023
const TOP = (1n << 56n) - 1n;

/** ZooKeeper's formula, written out in 64-bit two's complement as Java computes it. */
function zookeeperId(nowMs: number, serverId: bigint): bigint {
  const shifted = BigInt.asIntN(64, BigInt(nowMs) << 24n);
  const unsignedShift = BigInt.asUintN(64, shifted) >> 8n; // >>> 8
  return BigInt.asIntN(64, unsignedShift | BigInt.asIntN(64, serverId << 56n));
}

describe("session id layout", () => {
  it("is ZooKeeper's: ((nowMs << 24) >>> 8) | (serverId << 56)", () => {
    for (const sid of [0n, 1n, 5n, 127n, 128n, 200n, 254n]) {
      for (const now of [T0, T0 + 1, 2_000_000_000_000, 1]) {
        expect(initialSessionId(now, sid)).toBe(zookeeperId(now, sid));
      }
    }
  });

  it("carries the server id in the top byte and the time base below, 16 bits of room per ms", () => {
    const id = initialSessionId(T0, 3n);
    expect(creatorByteOf(id)).toBe(3n);
    expect(counterOf(id)).toBe(BigInt(T0 % 2 ** 40) << 16n);
    expect(counterOf(initialSessionId(T0 + 1, 3n)) - counterOf(id)).toBe(65_536n);
    // Server ids from 128 up make negative ids, as in ZooKeeper; their byte reads back.
    expect(initialSessionId(T0, 200n) < 0n).toBe(true);
    expect(creatorByteOf(initialSessionId(T0, 200n))).toBe(200n);
  });

  it("standalone (server id 0) ids are positive and never 0", () => {
    const g = new SessionIdGenerator(0n, T0);
    const id = g.next();
    expect(id > 0n).toBe(true);
    expect(creatorByteOf(id)).toBe(0n);
    // A clock at the epoch (or a base of exactly 0 mod 2^40) still never gives 0.
    expect(new SessionIdGenerator(0n, 0).next()).toBe(1n);
    expect(new SessionIdGenerator(0n, 2 ** 40).next()).toBe(1n);
  });

  it("hands out consecutive ids from the time base", () => {
    const g = new SessionIdGenerator(2n, T0);
    const first = g.next();
    expect(first).toBe(initialSessionId(T0, 2n));
    expect(g.next()).toBe(first + 1n);
    expect(g.next()).toBe(first + 2n);
  });

  it("members of one ensemble never share an id, whatever their clocks", () => {
    const seen = new Set<bigint>();
    // Member 1's clock is far ahead: its ids still carry its byte, not member 2's.
    const gens = [new SessionIdGenerator(1n, T0 + 86_400_000), new SessionIdGenerator(2n, T0), new SessionIdGenerator(3n, T0 - 5)];
    for (let i = 0; i < 1000; i++) for (const g of gens) seen.add(g.next());
    expect(seen.size).toBe(3000);
  });

  it("a counter at the top of its 56 bits wraps to 1 within the server's byte, never into the next byte", () => {
    const g = new SessionIdGenerator(7n, T0);
    expect(g.observe(BigInt.asIntN(64, (7n << 56n) | (TOP - 1n)))).toBe(true);
    expect(g.next()).toBe(BigInt.asIntN(64, (7n << 56n) | TOP));
    expect(g.wraps).toBe(1);
    const after = g.next();
    expect(creatorByteOf(after)).toBe(7n);
    expect(counterOf(after)).toBe(1n);
    // An observed id at the very top wraps too.
    const h = new SessionIdGenerator(128n, T0);
    h.observe(BigInt.asIntN(64, (128n << 56n) | TOP));
    const id = h.next();
    // Never Long.MIN_VALUE (ZooKeeper's container marker, counter 0) nor server 129's byte.
    expect(id).toBe(BigInt.asIntN(64, (128n << 56n) | 1n));
  });

  it("skips ids the session table still holds", () => {
    const g = new SessionIdGenerator(1n, T0);
    const base = g.peek();
    const held = new Set([base, base + 1n, base + 3n]);
    expect(g.next((id) => held.has(id))).toBe(base + 2n);
    expect(g.next((id) => held.has(id))).toBe(base + 4n);
  });
});

describe("session id floor", () => {
  it("an id of this server above the counter lifts it (a restart with the clock behind)", () => {
    const before = new SessionIdGenerator(1n, T0);
    const issued = [before.next(), before.next(), before.next()];
    // Restarted with the clock 10 minutes behind: the base is below the old ids.
    const after = new SessionIdGenerator(1n, T0 - 600_000);
    expect(after.peek() < issued[0]!).toBe(true);
    expect(after.observe(issued[2]!)).toBe(true);
    expect(after.next()).toBe(issued[2]! + 1n);
  });

  it("another server's id never moves the counter, above or below", () => {
    const g = new SessionIdGenerator(1n, T0);
    const start = g.peek();
    expect(g.observe(initialSessionId(T0 + 3_600_000, 3n))).toBe(false); // member 3's, later clock
    expect(g.observe(initialSessionId(T0 + 3_600_000, 0n))).toBe(false); // a standalone's
    expect(g.observe(initialSessionId(T0 + 3_600_000, 2n))).toBe(false);
    expect(g.peek()).toBe(start);
    // An own id below the counter does not move it back either.
    expect(g.observe(start - 5n)).toBe(false);
    expect(g.peek()).toBe(start);
  });

  it("the pipeline takes its floor only from its own ids: recovery's highest id may be another member's", () => {
    const clock = fixedClock(T0);
    const other = initialSessionId(T0 + 60_000, 3n) + 500n; // member 3's, the highest in the log
    const p1 = pipelineOf(1n, clock, other);
    expect(creatorByteOf(created(p1))).toBe(1n);
    // Its own highest id (clock behind at restart) lifts it.
    const own = initialSessionId(T0 + 60_000, 1n) + 42n;
    const p2 = pipelineOf(1n, clock, own);
    expect(created(p2)).toBe(own + 1n);
  });

  it("recovered sessions and applied createSession txns of this server lift the counter; others' do not", () => {
    const clock = fixedClock(T0);
    const sessions = new SessionTable({ tickMs: 2000, passwordFor: testPassword });
    const ownLive = asSessionId(initialSessionId(T0 + 10_000, 2n) + 7n);
    sessions.add(ownLive, 10_000, 0);
    sessions.add(asSessionId(initialSessionId(T0 + 90_000, 3n)), 10_000, 0);
    const p = pipelineOf(2n, clock, undefined, sessions);
    const first = created(p);
    expect(first).toBe(ownLive + 1n);
    // A createSession of this server's byte applied later (a DIFF after restart) lifts it.
    const replayed = asSessionId(first + 1000n);
    p.applyRemote({ hdr: { sessionId: replayed, cxid: 0, zxid: p.lastZxid + 1n as never, timeMs: T0, opCode: -10 }, txn: { type: "createSession", timeoutMs: 10_000 } });
    expect(created(p)).toBe(replayed + 1n);
    // Another member's, far above, does not.
    const foreign = asSessionId(initialSessionId(T0 + 999_000, 1n));
    p.applyRemote({ hdr: { sessionId: foreign, cxid: 0, zxid: p.lastZxid + 1n as never, timeMs: T0, opCode: -10 }, txn: { type: "createSession", timeoutMs: 10_000 } });
    expect(created(p)).toBe(replayed + 2n);
  });
});

function fixedClock(nowMs: number): Clock {
  return { nowMs: () => nowMs, monotonicMs: () => 0 } as Clock;
}

function pipelineOf(serverId: bigint, clock: Clock, floor: bigint | undefined, sessions?: SessionTable): Pipeline {
  const tree = new DataTree();
  return new Pipeline({
    tree,
    sessions: sessions ?? new SessionTable({ tickMs: 2000, passwordFor: testPassword }),
    watches: new WatchRegistry(),
    log: memoryCommitLog,
    clock,
    serverId,
    extendedTypesEnabled: false,
    outstandingMax: 1000,
    sessionIdFloor: floor,
  });
}

function created(p: Pipeline): SessionId {
  let id: SessionId | undefined;
  p.createSession(10_000, (s) => (id = s));
  expect(id).toBeDefined();
  return id!;
}
