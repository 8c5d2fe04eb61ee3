// Recipes on a 3-member ensemble when the member a client is connected to goes away
// (issue 13): the client reconnects to another member on the same session and re-sends
// its waits with the same requestIds; the engine there answers from the node the first
// send made. A lock waiter still gets its grant, exactly one node per contender; an
// election member keeps its place; the leader's own member going away does not make two
// members lead at once. Both tests run plain and over TLS everywhere (issue 17).

import { afterAll, afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, type QuorumServer, type TestEnsemble } from "../../src/server/index.js";
import { ENSEMBLE_TRANSPORTS, removeTransportCerts } from "../helpers/ensemble-transports.js";
import { outcome, reach, until, untilChildren } from "./recipe-client-support.js";

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  stops = [];
});
afterAll(removeTransportCerts);

describe.each(ENSEMBLE_TRANSPORTS)("recipes when the client's member goes away, $name", (transport) => {
  const ensemble = async (): Promise<TestEnsemble> => {
    const ens = await startEnsembleForTest({ participants: 3, tickMs: 200, ...transport.ensemble() });
    stops.push(() => ens.stop());
    await ens.settled();
    return ens;
  };

  /** A client on `first`, falling back to `then` when `first` goes away. */
  const client = async (ens: TestEnsemble, first: QuorumServer, then: QuorumServer): Promise<CorralClient> => {
    const hostOf = (m: QuorumServer): string => ens.connectStringOf(m);
    const c = await connect(`${hostOf(first)},${hostOf(then)}`, { sessionTimeoutMs: 4000, shuffleHosts: false, ...transport.client() });
    stops.push(() => c.close());
    return c;
  };

  it("a lock waiter moves to another member on the same session and is granted there, with one node", async () => {
    const ens = await ensemble();
    const [f1, f2] = ens.followers();
    const leader = ens.leader()!;
    const a = await client(ens, leader, f2!);
    const b = await client(ens, f1!, f2!);
    const held = await a.mutex("/ens-lock");
    const sid = b.sessionId;
    const waiting = outcome(b.mutex("/ens-lock", { timeoutMs: 30_000 }));
    await untilChildren(a, "/ens-lock", 2);
    const back = reach(b, "RECONNECTED");
    await ens.stopMember(f1!);
    await back;
    expect(b.sessionId).toBe(sid);
    await b.sync("/");
    expect((await a.getChildren("/ens-lock")).length).toBe(2);
    await held.release();
    const got = await waiting;
    expect(got.ok).toBe(true);
    if (!got.ok) return;
    expect(await a.getChildren("/ens-lock")).toEqual([got.value.node.slice("/ens-lock/".length)]);
    await got.value.release();
  });

  it("an election member moves to another member and keeps its place; never two leaders", async () => {
    const ens = await ensemble();
    const [f1, f2] = ens.followers();
    const leader = ens.leader()!;
    const a = await client(ens, f1!, f2!);
    const b = await client(ens, leader, f2!);
    const leading = new Set<string>();
    const events: string[] = [];
    let overlaps = 0;
    const ea = a.election("/ens-elect", "a");
    const eb = b.election("/ens-elect", "b");
    for (const [id, e] of [["a", ea], ["b", eb]] as const) {
      e.onLeadershipChange((v) => {
        events.push(`${id} ${v ? "leads" : "stops"}`);
        if (v && leading.size > 0) overlaps++;
        if (v) leading.add(id);
        else leading.delete(id);
      });
    }
    await ea.join();
    await eb.join();
    expect(ea.isLeader()).toBe(true);
    const back = reach(a, "RECONNECTED");
    await ens.stopMember(f1!); // a's member: a is cut off, steps down, comes back on f2
    await back;
    await until(a, "a leads again", () => ea.isLeader());
    expect(events).toEqual(["a leads", "a stops", "a leads"]);
    expect(await eb.members()).toEqual(["a", "b"]);
    expect(eb.isLeader()).toBe(false);
    expect(overlaps).toBe(0);
    await ea.leave();
    await until(b, "b leads", () => eb.isLeader());
    expect(overlaps).toBe(0);
    await eb.leave();
  });
});
