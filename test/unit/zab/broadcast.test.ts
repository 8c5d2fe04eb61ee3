// Broadcast batching of the ZAB state machine: a follower ACKs a batch of proposals with
// one cumulative ACK, the leader counts that ACK for every proposal up to it, and each
// follower gets one COMMIT per commit step (observers still get every txn as INFORM).
// Driven by hand: messages are delivered synchronously and "persisting" is instant.

import { describe, expect, it } from "vitest";
import { PeerState, ZabPeer, type PeerConfig, type Ready, type ZabMsg } from "../../../src/zab/index.js";

interface Sent {
  from: bigint;
  to: bigint;
  msg: ZabMsg;
}

class Cluster {
  readonly peers = new Map<bigint, ZabPeer>();
  readonly sent: Sent[] = [];
  /** Readies held back (not persisted yet), per server. */
  readonly held = new Map<bigint, Ready[]>();
  readonly hold = new Set<bigint>();

  constructor(voters: number, observers: number) {
    const servers = [
      ...Array.from({ length: voters }, (_, i) => ({ id: BigInt(i + 1), role: "participant" as const })),
      ...Array.from({ length: observers }, (_, i) => ({ id: BigInt(voters + i + 1), role: "observer" as const })),
    ];
    for (const s of servers) {
      const cfg: PeerConfig = { myId: s.id, servers, initLimitTicks: 10, syncLimitTicks: 5, finalizeTicks: 1, committedLogMax: 100 };
      this.peers.set(s.id, new ZabPeer(cfg, { acceptedEpoch: 0, currentEpoch: 0, lastZxid: 0n, lastCommitted: 0n, recent: [] }));
    }
  }

  /** Runs every peer's ready batches until nothing moves (held servers keep theirs). */
  settle(): void {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [id, peer] of this.peers) {
        const r = peer.ready();
        if (r === undefined) continue;
        moved = true;
        if (this.hold.has(id)) {
          const list = this.held.get(id) ?? [];
          list.push(r);
          this.held.set(id, list);
          continue;
        }
        this.#run(id, peer, r);
      }
    }
  }

  release(id: bigint): void {
    this.hold.delete(id);
    const peer = this.peers.get(id)!;
    for (const r of this.held.get(id) ?? []) this.#run(id, peer, r);
    this.held.delete(id);
    this.settle();
  }

  #run(id: bigint, peer: ZabPeer, r: Ready): void {
    for (const o of [...r.sendNow, ...r.sendAfterPersist]) {
      this.sent.push({ from: id, to: o.to, msg: o.msg });
      this.peers.get(o.to)!.step(id, o.msg);
    }
    peer.advance(r);
  }

  elect(): ZabPeer {
    for (let i = 0; i < 50; i++) {
      for (const p of this.peers.values()) p.tick();
      this.settle();
      const leader = [...this.peers.values()].find((p) => p.state === PeerState.LEADING && p.serving);
      if (leader !== undefined && [...this.peers.values()].every((p) => p.serving)) return leader;
    }
    throw new Error("no leader after 50 ticks");
  }

  of(type: ZabMsg["type"], filter: (s: Sent) => boolean = () => true): Sent[] {
    return this.sent.filter((s) => s.msg.type === type && filter(s));
  }
}

function proposeMany(leader: ZabPeer, n: number): bigint[] {
  const zxids: bigint[] = [];
  for (let i = 0; i < n; i++) zxids.push(leader.propose(() => new Uint8Array([i]))!);
  return zxids;
}

/** Elects a leader, then has it propose `n` txns, recording only what is sent from then on. */
function electThenPropose(voters: number, observers: number, n: number): { c: Cluster; zxids: bigint[] } {
  const c = new Cluster(voters, observers);
  const leader = c.elect();
  c.sent.length = 0;
  const zxids = proposeMany(leader, n);
  c.settle();
  return { c, zxids };
}

/** Three participants with a leader; both followers hold (do not persist) what they get. */
function electedHoldingFollowers(): { c: Cluster; leader: ZabPeer; followers: bigint[] } {
  const c = new Cluster(3, 0);
  const leader = c.elect();
  const leaderId = [...c.peers].find(([, p]) => p === leader)![0];
  const followers = [...c.peers.keys()].filter((id) => id !== leaderId);
  for (const f of followers) c.hold.add(f);
  return { c, leader, followers };
}

describe("ZAB broadcast batching", () => {
  it("a follower ACKs a batch of proposals once, with the last zxid", () => {
    const { c, zxids } = electThenPropose(3, 0, 5);
    const acks = c.of("ACK");
    expect(acks).toHaveLength(2); // one per follower
    for (const a of acks) expect(a.msg).toEqual({ type: "ACK", zxid: zxids[4] });
    for (const p of c.peers.values()) expect(p.lastCommitted).toBe(zxids[4]);
  });

  it("the leader commits every proposal up to a cumulative ACK, once a quorum has it", () => {
    // Both followers hold their batches: nothing is acked, nothing commits.
    const { c, leader, followers } = electedHoldingFollowers();
    const before = leader.lastCommitted;
    const zxids = proposeMany(leader, 4);
    c.settle();
    expect(leader.lastCommitted).toBe(before);
    c.sent.length = 0;
    // One follower persists: its single ACK plus the leader's own makes a quorum for all 4.
    c.release(followers[0]!);
    expect(c.of("ACK", (s) => s.from === followers[0])).toHaveLength(1);
    expect(leader.lastCommitted).toBe(zxids[3]);
    // One COMMIT per follower for the whole step, naming the last zxid.
    const commits = c.of("COMMIT");
    expect(commits.map((s) => s.to).sort()).toEqual([...followers].sort());
    for (const s of commits) expect(s.msg).toEqual({ type: "COMMIT", zxid: zxids[3] });
    c.release(followers[1]!);
    for (const p of c.peers.values()) expect(p.lastCommitted).toBe(zxids[3]);
  });

  it("an ACK below a proposal does not count for it", () => {
    const { c, leader, followers } = electedHoldingFollowers();
    const first = proposeMany(leader, 2);
    c.settle();
    const second = proposeMany(leader, 2);
    c.settle();
    // Follower A persists only the first batch: the leader commits exactly that far.
    const a = followers[0]!;
    const peerA = c.peers.get(a)!;
    const [batch1, batch2] = c.held.get(a)!;
    c.held.set(a, [batch1!]);
    c.release(a);
    expect(leader.lastCommitted).toBe(first[1]);
    c.hold.add(a);
    c.held.set(a, [batch2!]);
    expect(peerA.lastLogged).toBe(second[1]);
    c.release(a);
    expect(leader.lastCommitted).toBe(second[1]);
  });

  it("observers still get every committed txn as its own INFORM", () => {
    const { c, zxids } = electThenPropose(3, 1, 3);
    expect(c.of("INFORM").map((s) => (s.msg as { zxid: bigint }).zxid)).toEqual(zxids);
    expect(c.peers.get(4n)!.lastCommitted).toBe(zxids[2]);
  });
});

describe("a learner that starts over on a live connection", () => {
  it("refuses a proposal that skips part of its epoch, and is synced afresh by the same leader", () => {
    const { c, zxids } = electThenPropose(3, 0, 3);
    const leader = [...c.peers.values()].find((p) => p.state === PeerState.LEADING)!;
    const leaderId = [...c.peers].find(([, p]) => p === leader)![0];
    const [followerId, follower] = [...c.peers].find(([, p]) => p !== leader)!;
    // A proposal with a hole: the follower must not log it; it goes looking instead.
    follower.step(leaderId, { type: "PROPOSAL", zxid: zxids[2]! + 2n, data: new Uint8Array([9]) });
    expect(follower.state).toBe(PeerState.LOOKING);
    expect(follower.lastLogged).toBe(zxids[2]);
    c.settle();
    // The leader still counts it as synced (only the follower's clock runs, so the leader
    // cannot time it out): its new FOLLOWERINFO must start a new session, and it serves
    // again once synced. (The leader used to ignore its ACKEPOCH: stuck for good.)
    for (let i = 0; i < 40 && !(follower.serving && follower.leader === leaderId); i++) {
      follower.tick();
      c.settle();
    }
    expect(follower.state).toBe(PeerState.FOLLOWING);
    expect(follower.serving).toBe(true);
    const more = proposeMany(leader, 2);
    c.settle();
    expect(follower.lastCommitted).toBe(more[1]);
    expect(c.of("ACK", (s) => s.from === followerId).length).toBeGreaterThan(0);
  });
});

describe("a proposal outstanding while its followers resync", () => {
  it("commits once the followers rejoin, without waiting for a later proposal (ZAB simulator seed 1541)", () => {
    const c = new Cluster(3, 0);
    const leader = c.elect();
    const leaderId = [...c.peers].find(([, p]) => p === leader)![0];
    const followers = [...c.peers].filter(([, p]) => p !== leader);
    // Both followers leave the broadcast (each refuses a proposal with a hole): the leader
    // does not know yet, and proposes P, which they drop while LOOKING.
    const last = leader.lastLogged;
    for (const [, f] of followers) {
      f.step(leaderId, { type: "PROPOSAL", zxid: last + 2n, data: new Uint8Array([9]) });
      expect(f.state).toBe(PeerState.LOOKING);
    }
    const p = leader.propose(() => new Uint8Array([1]))!;
    c.settle();
    // They rejoin the same leader; its DIFF carries P, still outstanding. Nothing else is
    // proposed: P commits only if the followers ack what their sync carried.
    for (let i = 0; i < 40 && !followers.every(([, f]) => f.serving); i++) {
      for (const [, f] of followers) f.tick();
      c.settle();
    }
    expect(followers.every(([, f]) => f.serving && f.leader === leaderId)).toBe(true);
    expect(leader.lastCommitted).toBe(p);
    for (const [, f] of followers) expect(f.lastCommitted).toBe(p);
  });
});

describe("the leader's view of its learners (admin `learners`)", () => {
  it("each learner's last ack and lag follow its persisted proposals; an observer has no lag figure", () => {
    const c = new Cluster(3, 1);
    const leader = c.elect();
    const leaderId = [...c.peers].find(([, p]) => p === leader)![0];
    const followers = [...c.peers.keys()].filter((id) => id !== leaderId && id !== 4n);
    const progress = (id: bigint) => leader.learnerProgress().find((l) => l.id === id)!;
    expect(leader.learnerProgress().map((l) => [l.id, l.role, l.phase]).sort()).toEqual(
      [...followers.map((id) => [id, "participant", "synced"]), [4n, "observer", "synced"]].sort(),
    );
    const first = proposeMany(leader, 3);
    c.settle();
    for (const f of followers) expect([progress(f).lastAckedZxid, progress(f).lagTxns]).toEqual([first[2], 0]);
    expect([progress(4n).lastAckedZxid, progress(4n).lagTxns]).toEqual([undefined, undefined]);
    // One follower holds what it gets: its ack stays put and its lag grows by each proposal.
    const [slow, fast] = followers as [bigint, bigint];
    c.hold.add(slow);
    const more = proposeMany(leader, 4);
    c.settle();
    expect([progress(slow).lastAckedZxid, progress(slow).lagTxns]).toEqual([first[2], 4]);
    expect([progress(fast).lastAckedZxid, progress(fast).lagTxns]).toEqual([more[3], 0]);
    c.release(slow);
    expect([progress(slow).lastAckedZxid, progress(slow).lagTxns]).toEqual([more[3], 0]);
    // A learner only: nothing to report.
    expect(c.peers.get(fast)!.learnerProgress()).toEqual([]);
  });
});
