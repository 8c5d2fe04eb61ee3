// The leader's ping rate (pingEveryTicks): ZooKeeper's leader pings every learner each
// tickTime/2, and each learner's answer carries its session report, so the rate of pings
// is the rate of reports. Driven by hand: messages are delivered synchronously.

import { describe, expect, it } from "vitest";
import { PeerState, ZabPeer, type PeerConfig, type ZabMsg } from "../../../src/zab/index.js";

function cluster(pingEveryTicks: number | undefined): { peers: Map<bigint, ZabPeer>; sent: { from: bigint; to: bigint; msg: ZabMsg }[]; tick: () => void } {
  const servers = [1n, 2n, 3n].map((id) => ({ id, role: id === 3n ? ("observer" as const) : ("participant" as const) }));
  const peers = new Map<bigint, ZabPeer>();
  for (const s of servers) {
    const cfg: PeerConfig = { myId: s.id, servers, initLimitTicks: 40, syncLimitTicks: 20, finalizeTicks: 1, committedLogMax: 100 };
    if (pingEveryTicks !== undefined) cfg.pingEveryTicks = pingEveryTicks;
    peers.set(s.id, new ZabPeer(cfg, { acceptedEpoch: 0, currentEpoch: 0, lastZxid: 0n, lastCommitted: 0n, recent: [] }));
  }
  const sent: { from: bigint; to: bigint; msg: ZabMsg }[] = [];
  const settle = (): void => {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [id, peer] of peers) {
        const r = peer.ready();
        if (r === undefined) continue;
        moved = true;
        for (const o of [...r.sendNow, ...r.sendAfterPersist]) {
          sent.push({ from: id, to: o.to, msg: o.msg });
          peers.get(o.to)!.step(id, o.msg);
        }
        // A learner answers the leader's PING as the driver does.
        for (const d of r.delivered) if (d.msg.type === "PING" && peer.state !== PeerState.LEADING) peer.sendToLeader({ type: "PING", sessions: new Uint8Array(4) });
        peer.advance(r);
      }
    }
  };
  return {
    peers,
    sent,
    tick: () => {
      for (const p of peers.values()) p.tick();
      settle();
    },
  };
}

describe("leader pings", () => {
  it("go to every learner once per pingEveryTicks, and each learner answers each", () => {
    const c = cluster(10);
    for (let i = 0; i < 200 && ![...c.peers.values()].every((p) => p.serving); i++) c.tick();
    expect([...c.peers.values()].every((p) => p.serving)).toBe(true);
    const leader = [...c.peers.values()].find((p) => p.state === PeerState.LEADING)!;
    const leaderId = leader.cfg.myId;
    c.sent.length = 0;
    for (let i = 0; i < 100; i++) c.tick();
    const pings = c.sent.filter((s) => s.msg.type === "PING" && s.from === leaderId);
    const answers = c.sent.filter((s) => s.msg.type === "PING" && s.to === leaderId);
    // 100 ticks, one ping round each 10: 10 rounds to the 2 learners (observer included).
    expect(pings.length).toBe(20);
    expect(answers.length).toBe(20);
    // Nobody timed out in between: pings are frequent enough for syncLimit.
    expect([...c.peers.values()].every((p) => p.serving)).toBe(true);
  });

  it("default to every tick", () => {
    const c = cluster(undefined);
    for (let i = 0; i < 200 && ![...c.peers.values()].every((p) => p.serving); i++) c.tick();
    const leaderId = [...c.peers.values()].find((p) => p.state === PeerState.LEADING)!.cfg.myId;
    c.sent.length = 0;
    for (let i = 0; i < 10; i++) c.tick();
    expect(c.sent.filter((s) => s.msg.type === "PING" && s.from === leaderId).length).toBe(20);
  });

  it("must be more frequent than syncLimit", () => {
    expect(() => cluster(20)).toThrow(/syncLimit/);
  });
});
