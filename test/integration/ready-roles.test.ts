// Role changes reach an ensemble member's driver only through Ready (issue 14, item 1).
// The ZAB peer changes role as messages and ticks arrive; the driver sets the pipeline up
// for it (forwarder, zxid base) only when it does the batch that carries the change, which
// may wait behind a slow fsync. holdReadyForTest makes that window deterministic: the
// batch carrying the change waits while the peer runs on. In the window the member's
// timers and clients must act on the driver's view, and a broken invariant anywhere must
// stop the member with one log line.

import { connect as netConnect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, startStandaloneForTest, type QuorumServer, type TestEnsemble } from "../../src/server/index.js";
import { ManualClock, epochOf, asZxid, type Logger } from "../../src/util/index.js";
import { PeerState, type Ready } from "../../src/zab/index.js";

let ens: TestEnsemble | undefined;
const clients: CorralClient[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  for (const c of cleanups.splice(0)) await c();
  await ens?.stop();
  ens = undefined;
});

async function client(connectString: string): Promise<CorralClient> {
  const c = await connect(connectString, { sessionTimeoutMs: 4000, shuffleHosts: false });
  clients.push(c);
  return c;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Line {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

/** A logger that keeps every line (debug included), for assertions on what was logged. */
function capturingLogger(lines: Line[]): Logger {
  const fn =
    (level: string) =>
    (a: object | string, b?: string): void => {
      if (typeof a === "string") lines.push({ level, msg: a, obj: {} });
      else lines.push({ level, msg: b ?? "", obj: a as Record<string, unknown> });
    };
  const log: Logger = { debug: fn("debug"), info: fn("info"), warn: fn("warn"), error: fn("error"), child: () => log };
  return log;
}

const servingLeader = (r: Ready): boolean => r.state?.state === PeerState.LEADING && r.state.serving;
const notServing = (r: Ready): boolean => r.state !== undefined && !r.state.serving;

describe("a member's role as its driver last took it from Ready", () => {
  it("a new leader's expiry and reaper timers submit nothing before its driver has done the batch that made it leader", async () => {
    const clocks = new Map<bigint, ManualClock>();
    const clockOf = (id: bigint): ManualClock => {
      let c = clocks.get(id);
      if (c === undefined) clocks.set(id, (c = new ManualClock()));
      return c;
    };
    const lines: Line[] = [];
    ens = await startEnsembleForTest({ participants: 3, tickMs: 100, clockOf, log: capturingLogger(lines) });
    const old = ens.leader()!;
    const c = await client(ens.connectString);
    // An empty container that once had a child: due for the reaper; and sessions, due for
    // expiry once a member's clock jumps.
    await c.create("/box", null, { mode: "container" });
    await c.create("/box/x");
    await c.delete("/box/x");
    const others = ens.members.filter((m) => m !== old);
    const holds = others.map((m) => ({ m, h: m.holdReadyForTest(servingLeader) }));
    const oldEpoch = epochOf(asZxid(old.server.tree.lastProcessedZxid));
    await ens.stopMember(old);

    const { m: next, h } = await Promise.race(holds.map(({ m, h }) => h.held.then(() => ({ m, h }))));
    // The window: the peer leads and serves in a new epoch; the driver has not seen it.
    expect(next.peer.state).toBe(PeerState.LEADING);
    expect(next.peer.serving).toBe(true);
    expect(next.peer.epoch).toBeGreaterThan(oldEpoch);
    expect(next.serving).toBe(false); // it has done the batch that made it LEADING, not serving
    expect(next.mode).toBe("leader");
    const loggedBefore = next.peer.lastLogged;
    clockOf(next.me.id).advance(3_600_000); // every session is overdue here
    next.server.fireTimersForTest();
    expect(next.server.pipeline.outstandingCount).toBe(0);
    expect(next.peer.lastLogged).toBe(loggedBefore);
    expect(next.peer.outstandingProposals()).toBe(0);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);

    h.release();
    for (const o of holds) if (o.m !== next) o.h.release();
    await until(() => next.serving && next.mode === "leader", "the new leader's driver to serve");
    // Now the leader's timers act, with zxids of its own epoch.
    next.server.fireTimersForTest();
    await until(() => next.server.tree.get("/box") === undefined, "the reaper to delete /box");
    expect(epochOf(asZxid(next.server.tree.lastProcessedZxid))).toBe(next.peer.epoch);
    clockOf(next.me.id).advance(3_600_000);
    const overdue = [...next.server.sessions.all()].map((x) => x.id);
    expect(overdue.length).toBeGreaterThan(0);
    next.server.fireTimersForTest();
    // (The client may come back with a new session: the old ids are what must go.)
    await until(() => overdue.every((id) => next.server.sessions.get(id) === undefined), "the leader to expire the overdue sessions");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("a write reaching a leader whose peer stepped down, before its driver knows, is not a 'bad frame' close", async () => {
    const lines: Line[] = [];
    ens = await startEnsembleForTest({ participants: 3, tickMs: 100, log: capturingLogger(lines) });
    const leader = ens.leader()!;
    const [f1, f2] = ens.followers() as [QuorumServer, QuorumServer];
    const c = await client(ens.connectStringOf(leader));
    await c.create("/before");
    const h = leader.holdReadyForTest(notServing);
    leader.partitionForTest([f1.me.id, f2.me.id]);
    f1.partitionForTest([leader.me.id]);
    f2.partitionForTest([leader.me.id]);
    await h.held;
    // The window: the peer stopped leading; the driver still prepares writes here.
    expect(leader.peer.state).not.toBe(PeerState.LEADING);
    expect(leader.mode).toBe("leader");
    expect(leader.serving).toBe(true);
    let settled: unknown;
    const write = c.create("/in-window").then(
      (v) => (settled = { ok: v }),
      (e: unknown) => (settled = { err: e }),
    );
    await until(() => leader.server.pipeline.outstandingCount > 0 || settled !== undefined, "the write to reach the leader");
    // In flight, as any write is when its leader steps down; the connection is still open.
    expect(settled).toBeUndefined();
    expect(leader.server.pipeline.outstandingCount).toBe(1);
    expect(leader.server.listener.connections.size).toBe(1);

    h.release();
    await until(() => !leader.serving, "the driver to do the batch");
    await write;
    expect(settled).toMatchObject({ err: { code: "ConnectionLoss" } });
    const closes = lines.filter((l) => l.msg === "closing connection").map((l) => String(l.obj["reason"]));
    expect(closes.filter((r) => r.startsWith("bad frame"))).toEqual([]);
    expect(closes).toContain("server is not serving: an election is under way");
    expect(leader.server.pipeline.outstandingCount).toBe(0);
    expect(lines.filter((l) => l.level === "error")).toEqual([]);

    // Healed, the ensemble goes on; the abandoned write was never proposed anywhere.
    for (const m of [leader, f1, f2]) m.healForTest();
    await ens.settled();
    const again = await client(ens.connectString);
    await again.sync("/");
    expect(await again.exists("/in-window")).toBeNull();
    await again.create("/after");
  });
});

describe("a broken invariant stops the server with one log line", () => {
  it("an exception in an ensemble member's timer stops the member and settles its failure", async () => {
    const lines: Line[] = [];
    ens = await startEnsembleForTest({ participants: 3, tickMs: 100, log: capturingLogger(lines) });
    const f = ens.followers()[0]!;
    f.server.pipeline.expireLocalSessions = () => {
      throw new Error("boom in expiry");
    };
    f.server.fireTimersForTest();
    const e = await f.failure;
    expect(e.message).toBe("boom in expiry");
    const errors = lines.filter((l) => l.level === "error");
    expect(errors.map((l) => l.msg)).toEqual(["session expiry tick failed; stopping"]);
    await until(() => lines.some((l) => l.msg === "corral server stopped"), "the member to stop");
    await expect(portOpen(Number(ens.connectStringOf(f).split(":")[1]))).resolves.toBe(false);
    // A second timer run after the failure does nothing, and logs nothing more.
    f.server.fireTimersForTest();
    expect(lines.filter((l) => l.level === "error")).toHaveLength(1);
  });

  it("a txn prepared on a member whose driver does not lead is refused, and stops the member", async () => {
    const lines: Line[] = [];
    ens = await startEnsembleForTest({ participants: 3, tickMs: 100, log: capturingLogger(lines) });
    const f = ens.followers()[0]!;
    const c = await client(ens.connectStringOf(f));
    await c.create("/x");
    const sid = f.server.connectedSessions()[0]!;
    // Only the leader expires global sessions: a follower preparing a closeSession is a bug.
    expect(() => f.server.pipeline.expire(sid)).toThrow(/prepared at .* while this member is FOLLOWING/);
    expect((await f.failure).message).toMatch(/while this member is FOLLOWING/);
    expect(lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual(["quorum driver failed; stopping"]);
    expect(f.peer.outstandingProposals()).toBe(0);
  });

  it("an exception in the ZAB tick stops the member and settles its failure", async () => {
    const lines: Line[] = [];
    ens = await startEnsembleForTest({ participants: 3, tickMs: 100, log: capturingLogger(lines) });
    const f = ens.followers()[0]!;
    f.peer.tick = () => {
      throw new Error("boom in tick");
    };
    const e = await f.failure;
    expect(e.message).toBe("boom in tick");
    expect(lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual(["ZAB tick failed; stopping"]);
  });

  it("an exception in a standalone server's timer stops it and settles its failure", async () => {
    const lines: Line[] = [];
    const t = await startStandaloneForTest({ tickMs: 100, log: capturingLogger(lines) });
    cleanups.push(() => t.stop());
    const { server: s, port } = t;
    s.pipeline.reapContainers = () => {
      throw new Error("boom in reaper");
    };
    s.fireTimersForTest();
    expect((await s.failure).message).toBe("boom in reaper");
    expect(lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual(["container reaper failed; stopping"]);
    await until(() => lines.some((l) => l.msg === "corral server stopped"), "the server to stop");
    await expect(portOpen(port)).resolves.toBe(false);
  });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

