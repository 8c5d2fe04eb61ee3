// Session liveness through a network black hole (issue 14, item 5). A client whose
// connection stays open but carries no bytes either way must lose its session on time,
// wherever it is connected: standalone, behind a follower, behind an observer. Learners
// report to the leader only the sessions they heard from since the leader's last ping
// (every tickTime/2, as ZooKeeper's), so the leader expires a silent one; a client that
// keeps pinging through a learner keeps its session. Loopback only; the black hole is a
// proxy between the client and the server (test/helpers/fault-proxy.ts).

import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, startStandaloneForTest, type TestEnsemble, type TestServer } from "../../src/server/index.js";
import type { Pipeline } from "../../src/pipeline/index.js";
import { asSessionId, type Logger } from "../../src/util/index.js";
import { FaultProxy } from "../helpers/fault-proxy.js";

const TICK_MS = 200;
const SESSION_MS = 2000;
/**
 * The latest a silent session may end, counted from the moment the black hole opens: its
 * timeout, the tick it is rounded up to, one report period (tickTime/2), the expiry tick,
 * and a second for the closeSession to be committed and applied on a busy machine.
 */
const EXPIRY_BOUND_MS = SESSION_MS + TICK_MS + TICK_MS / 2 + TICK_MS + 1000;

let ens: TestEnsemble | undefined;
let standalone: TestServer | undefined;
const proxies: FaultProxy[] = [];
const clients: CorralClient[] = [];

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(clients.splice(0).map((c) => Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))])));
  await ens?.stop();
  ens = undefined;
  await standalone?.stop();
  standalone = undefined;
});

/** Log lines the servers wrote at info, with their fields. */
function recordingLogger(lines: { msg: string; fields: Record<string, unknown> }[]): Logger {
  const log: Logger = {
    debug: () => {},
    info: (a: unknown, b?: unknown) => {
      if (typeof a === "string") lines.push({ msg: a, fields: {} });
      else lines.push({ msg: String(b), fields: a as Record<string, unknown> });
    },
    warn: () => {},
    error: () => {},
    child: () => log,
  } as Logger;
  return log;
}

async function client(connectString: string): Promise<CorralClient> {
  const c = await connect(connectString, { sessionTimeoutMs: SESSION_MS, shuffleHosts: false });
  clients.push(c);
  return c;
}

/** Resolves with the time a closeSession for `sid` is applied on `pipeline`. */
function closedOn(pipeline: Pipeline, sid: bigint): Promise<number> {
  return new Promise((resolve) => {
    pipeline.subscribe((entry) => {
      if (entry.txn.type === "closeSession" && entry.hdr.sessionId === sid) resolve(performance.now());
    });
  });
}

/** A bounded wait: rejects with `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))),
  ]);
}

/** Resolves after `ms` unless `p` settles first, then rejects with `what`. */
async function notWithin(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => "happened" as const), new Promise<"quiet">((resolve) => (timer = setTimeout(() => resolve("quiet"), ms)))]);
  clearTimeout(timer);
  if (r === "happened") throw new Error(what);
}

interface Placement {
  /** host:port of the member the clients talk to. */
  target: string;
  /** Every member's pipeline (standalone: one). */
  pipelines: Pipeline[];
}

/**
 * One silent client through a black hole and one pinging client, both on `target`:
 * the silent one expires on every member within the bound, the pinging one does not.
 */
async function silentExpiresPingingStays(p: Placement, log: { msg: string; fields: Record<string, unknown> }[]): Promise<void> {
  const [host, port] = p.target.split(":");
  const proxy = await FaultProxy.start({ host: host!, port: Number(port) });
  proxies.push(proxy);
  const silent = await client(`${proxy.host}:${proxy.port}`);
  const pinging = await client(p.target);
  await silent.create("/silent", null, { mode: "ephemeral" });
  await pinging.create("/pinging", null, { mode: "ephemeral" });
  const silentId = silent.sessionId;
  const pingingId = pinging.sessionId;
  const silentGone = Promise.all(p.pipelines.map((pl) => closedOn(pl, silentId)));
  const pingingGone = Promise.all(p.pipelines.map((pl) => closedOn(pl, pingingId))).then(() => undefined);
  pingingGone.catch(() => undefined);

  const holeAt = performance.now();
  proxy.blackhole();
  const closedAt = await within(silentGone, EXPIRY_BOUND_MS + 2000, "the silent session did not expire on every member");
  const latest = Math.max(...closedAt) - holeAt;
  expect(latest).toBeLessThanOrEqual(EXPIRY_BOUND_MS);
  for (const pl of p.pipelines) {
    expect(pl.tree.get("/silent")).toBeUndefined();
    expect(pl.sessions.get(asSessionId(silentId))).toBeUndefined();
  }
  const hex = `0x${BigInt.asUintN(64, silentId).toString(16)}`;
  expect(log.filter((l) => l.msg === "session expired" && l.fields["sessionId"] === hex)).toHaveLength(1);

  // The pinging client's session outlives two more of its timeouts.
  await notWithin(pingingGone, 2 * SESSION_MS, "the pinging client's session expired");
  for (const pl of p.pipelines) {
    expect(pl.tree.get("/pinging")?.ephemeralOwner).toBe(pingingId);
    expect(pl.sessions.get(asSessionId(pingingId))).toBeDefined();
  }
  expect(await pinging.exists("/pinging")).not.toBeNull();
}

describe("a client behind a black hole loses its session on time; a pinging one keeps it", () => {
  it("behind a follower", async () => {
    const log: { msg: string; fields: Record<string, unknown> }[] = [];
    ens = await startEnsembleForTest({ participants: 3, tickMs: TICK_MS, log: recordingLogger(log) });
    const follower = ens.followers()[0]!;
    await silentExpiresPingingStays({ target: ens.connectStringOf(follower), pipelines: ens.members.map((m) => m.server.pipeline) }, log);
    // Only the leader expires sessions: the line came from it (the one member that owns expiry).
    expect(ens.leader()).toBeDefined();
  }, 30_000);

  it("behind an observer", async () => {
    const log: { msg: string; fields: Record<string, unknown> }[] = [];
    ens = await startEnsembleForTest({ participants: 3, observers: 1, tickMs: TICK_MS, log: recordingLogger(log) });
    const observer = ens.observers()[0]!;
    await silentExpiresPingingStays({ target: ens.connectStringOf(observer), pipelines: ens.members.map((m) => m.server.pipeline) }, log);
  }, 30_000);

  it("standalone", async () => {
    const log: { msg: string; fields: Record<string, unknown> }[] = [];
    standalone = await startStandaloneForTest({ tickMs: TICK_MS, log: recordingLogger(log) });
    await silentExpiresPingingStays({ target: standalone.connectString, pipelines: [standalone.server.pipeline] }, log);
  }, 30_000);
});
