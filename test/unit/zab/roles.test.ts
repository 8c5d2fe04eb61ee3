// ZabPeer's roles (src/zab/leader.ts, learner.ts) and the invariants the facade asserts:
// a role lives for one leadership or follow session, messages that can arrive late or from
// a server that thinks it leads are ignored, and a persisted state ZAB could never have
// written is refused at start (as ZooKeeper's QuorumPeer.loadDataBase refuses an accepted
// epoch below the current one).

import { describe, expect, it } from "vitest";
import { PeerState, ZabPeer, type PeerConfig, type PersistedState, type ZabMsg } from "../../../src/zab/index.js";

const fresh: PersistedState = { acceptedEpoch: 0, currentEpoch: 0, lastZxid: 0n, lastCommitted: 0n, recent: [] };

function config(myId: bigint): PeerConfig {
  const servers = [1n, 2n, 3n].map((id) => ({ id, role: "participant" as const }));
  return { myId, servers, initLimitTicks: 40, syncLimitTicks: 20, finalizeTicks: 1, committedLogMax: 100 };
}

/** Three peers delivering synchronously; `drop` filters messages out. */
function cluster(): { peers: Map<bigint, ZabPeer>; tick: () => void; settle: () => void } {
  const peers = new Map<bigint, ZabPeer>();
  for (const id of [1n, 2n, 3n]) peers.set(id, new ZabPeer(config(id), fresh));
  const settle = (): void => {
    for (let moved = true, rounds = 0; moved && rounds < 1000; rounds++) {
      moved = false;
      for (const [id, peer] of peers) {
        const r = peer.ready();
        if (r === undefined) continue;
        moved = true;
        for (const o of [...r.sendNow, ...r.sendAfterPersist]) peers.get(o.to)!.step(id, o.msg);
        peer.advance(r);
      }
    }
  };
  return {
    peers,
    settle,
    tick: () => {
      for (const p of peers.values()) p.tick();
      settle();
    },
  };
}

function elected(): { peers: Map<bigint, ZabPeer>; leader: ZabPeer; follower: ZabPeer; tick: () => void; settle: () => void } {
  const c = cluster();
  for (let i = 0; i < 200 && ![...c.peers.values()].every((p) => p.serving); i++) c.tick();
  const leader = [...c.peers.values()].find((p) => p.state === PeerState.LEADING)!;
  const follower = [...c.peers.values()].find((p) => p.state === PeerState.FOLLOWING)!;
  expect(leader.serving && follower.serving).toBe(true);
  return { ...c, leader, follower };
}

/** One message of each type a leader sends its learners. */
function leaderMessages(epoch: number): ZabMsg[] {
  const z = (BigInt(epoch) << 32n) | 7n;
  return [
    { type: "LEADERINFO", newEpoch: epoch },
    { type: "DIFF", zxid: z },
    { type: "TRUNC", zxid: 0n },
    { type: "SNAP", zxid: z },
    { type: "SNAPCHUNK", data: new Uint8Array([1]) },
    { type: "SNAPEND", zxid: z },
    { type: "PROPOSAL", zxid: z, data: new Uint8Array([1]) },
    { type: "COMMIT", zxid: z },
    { type: "INFORM", zxid: z, data: new Uint8Array([1]) },
    { type: "NEWLEADER", epoch, zxid: BigInt(epoch) << 32n },
    { type: "UPTODATE" },
    { type: "PING", sessions: new Uint8Array() },
  ];
}

describe("ZabPeer roles", () => {
  it("a leader ignores a leader's messages from a server that still thinks it leads", () => {
    const { leader, follower } = elected();
    const before = { epoch: leader.epoch, logged: leader.lastLogged, committed: leader.lastCommitted };
    // (PING is left out: a learner's PING is its session report, delivered to the driver.)
    for (const msg of leaderMessages(leader.epoch + 5)) if (msg.type !== "PING") leader.step(follower.cfg.myId, msg);
    expect(leader.ready()).toBeUndefined();
    expect({ epoch: leader.epoch, logged: leader.lastLogged, committed: leader.lastCommitted }).toEqual(before);
    expect(leader.state).toBe(PeerState.LEADING);
    expect(leader.serving).toBe(true);
  });

  it("a follower ignores learner messages from its leader and every message from another server", () => {
    const { leader, follower, peers } = elected();
    const other = [...peers.values()].find((p) => p !== leader && p !== follower)!;
    const learnerMsgs: ZabMsg[] = [
      { type: "FOLLOWERINFO", acceptedEpoch: 9, role: "participant" },
      { type: "ACKEPOCH", currentEpoch: 9, lastZxid: 5n },
      { type: "ACK", zxid: 5n },
      { type: "REQUEST", data: new Uint8Array([1]) },
    ];
    for (const msg of learnerMsgs) follower.step(leader.cfg.myId, msg);
    for (const msg of [...learnerMsgs, ...leaderMessages(follower.epoch + 3)]) follower.step(other.cfg.myId, msg);
    expect(follower.ready()).toBeUndefined();
    expect(follower.state).toBe(PeerState.FOLLOWING);
    expect(follower.serving).toBe(true);
  });

  it("a new leadership starts with no learners or proposals of the last one", () => {
    const c = elected();
    const first = c.leader;
    const zxid = first.propose(() => new Uint8Array([1]));
    expect(zxid).toBeDefined();
    // The proposal stays outstanding: nobody else hears of it before the leader drops out.
    first.ready();
    expect(first.outstandingProposals()).toBe(1);
    for (const p of c.peers.values()) if (p !== first) first.disconnected(p.cfg.myId);
    expect(first.state).toBe(PeerState.LOOKING);
    expect(first.outstandingProposals()).toBe(0);
    expect(first.syncedLearners()).toEqual([]);
    expect(first.isQuorumSynced([1n, 2n, 3n])).toBe(false);
  });

  it("only a leader hands out zxids", () => {
    const { leader, follower } = elected();
    expect(leader.nextZxid()).toBe((BigInt(leader.epoch) << 32n) | 1n);
    expect(() => follower.nextZxid()).toThrow(/only a leader/);
    expect(follower.propose(() => new Uint8Array())).toBeUndefined();
  });

  it("a persisted state whose currentEpoch is ahead of its acceptedEpoch is refused", () => {
    expect(() => new ZabPeer(config(1n), { ...fresh, acceptedEpoch: 1, currentEpoch: 2 })).toThrow(/currentEpoch/);
  });

  it("a persisted state committed beyond its log is refused", () => {
    expect(() => new ZabPeer(config(1n), { ...fresh, lastZxid: 4n, lastCommitted: 5n })).toThrow(/committed/);
  });

  it("a recent log that runs past the last logged zxid is refused", () => {
    const recent = [{ zxid: 3n, data: new Uint8Array() }, { zxid: 6n, data: new Uint8Array() }];
    expect(() => new ZabPeer(config(1n), { ...fresh, lastZxid: 5n, lastCommitted: 3n, recent })).toThrow(/recent log/);
  });
});
