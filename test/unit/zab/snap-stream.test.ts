// SNAP as a stream in the ZAB state machine (issue 14, item 2): the leader decides SNAP at
// its last committed zxid; the driver streams the image as SNAP, SNAPCHUNK*, SNAPEND(Z1)
// and the learner takes it at SNAPEND (at Z1, which may be past SNAP's zxid); anything
// else between SNAP and SNAPEND means the stream was cut, and the learner starts over; a
// learner taking an image is silent, and the leader keeps it for initLimit, not syncLimit.
// Driven by hand: messages are delivered synchronously, "persisting" is instant, and the
// harness plays the driver's part of SNAP.

import { describe, expect, it } from "vitest";
import { PeerState, ZabPeer, type PeerConfig, type ZabMsg } from "../../../src/zab/index.js";

const INIT_LIMIT_TICKS = 30;
const SYNC_LIMIT_TICKS = 5;

class Cluster {
  readonly peers = new Map<bigint, ZabPeer>();
  readonly servers = [1n, 2n, 3n].map((id) => ({ id, role: "participant" as const }));
  /** Servers cut off: nothing to or from them is delivered. */
  readonly down = new Set<bigint>();
  /** How the harness's "driver" turns the leader's SNAP into a stream (default: complete). */
  snapAs: (m: { zxid: bigint }) => ZabMsg[] = (m) => [m as ZabMsg, { type: "SNAPCHUNK", data: new Uint8Array(8) }, { type: "SNAPEND", zxid: m.zxid }];
  /** Snapshots each peer was told to install. */
  readonly installed = new Map<bigint, bigint[]>();

  constructor() {
    for (const s of this.servers) this.restart(s.id);
  }

  restart(id: bigint): void {
    const cfg: PeerConfig = { myId: id, servers: this.servers, initLimitTicks: INIT_LIMIT_TICKS, syncLimitTicks: SYNC_LIMIT_TICKS, finalizeTicks: 1, committedLogMax: 4 };
    this.peers.set(id, new ZabPeer(cfg, { acceptedEpoch: 0, currentEpoch: 0, lastZxid: 0n, lastCommitted: 0n, recent: [] }));
  }

  settle(): void {
    for (let moved = true, rounds = 0; moved; rounds++) {
      if (rounds > 10_000) throw new Error("cluster does not settle");
      moved = false;
      for (const [id, peer] of this.peers) {
        const r = peer.ready();
        if (r === undefined) continue;
        moved = true;
        if (r.persist.snapshot !== undefined) this.installed.set(id, [...(this.installed.get(id) ?? []), r.persist.snapshot.zxid]);
        // The driver answers the leader's pings (a real one with its sessions' touches).
        for (const d of r.delivered) if (d.msg.type === "PING" && peer.state !== PeerState.LEADING) peer.sendToLeader({ type: "PING", sessions: new Uint8Array(0) });
        for (const o of [...r.sendNow, ...r.sendAfterPersist]) {
          if (this.down.has(id) || this.down.has(o.to)) continue;
          const to = this.peers.get(o.to)!;
          for (const m of o.msg.type === "SNAP" ? this.snapAs(o.msg) : [o.msg]) to.step(id, m);
        }
        peer.advance(r);
      }
    }
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const p of this.peers.values()) p.tick();
      this.settle();
    }
  }

  leader(): ZabPeer | undefined {
    return [...this.peers.values()].find((p) => p.state === PeerState.LEADING && p.serving);
  }

  tickUntil(probe: () => boolean, what: string): void {
    for (let i = 0; i < 200; i++) {
      if (probe()) return;
      this.tick();
    }
    throw new Error(`no ${what} after 200 ticks`);
  }

  /** Elects, cuts server 3 off, commits `n` txns past what a DIFF holds, brings 3 back wiped. */
  wipedThirdServer(n: number): ZabPeer {
    this.tickUntil(() => this.leader() !== undefined && [...this.peers.values()].every((p) => p.serving), "leader");
    const leader = this.leader()!;
    const third = [...this.peers.keys()].find((id) => this.peers.get(id) !== leader && id !== 2n && this.peers.get(id)!.state !== PeerState.LEADING) ?? 3n;
    this.down.add(third);
    for (const p of this.peers.values()) p.disconnected(third);
    this.peers.get(third)!.disconnected(leader.cfg.myId);
    this.settle();
    for (let i = 0; i < n; i++) {
      leader.propose(() => new TextEncoder().encode(`w${i}`));
      this.settle();
    }
    this.restart(third);
    this.down.delete(third);
    return leader;
  }
}

describe("ZAB SNAP as a stream", () => {
  it("a wiped learner takes the image at SNAPEND's zxid, which may be past SNAP's, and then serves", () => {
    const c = new Cluster();
    let header = -1n;
    // The driver's image is the tree when it starts streaming, and ends where the walk ended.
    c.snapAs = (m) => {
      header = m.zxid;
      return [{ type: "SNAP", zxid: m.zxid }, { type: "SNAPCHUNK", data: new Uint8Array(8) }, { type: "SNAPEND", zxid: m.zxid }];
    };
    const leader = c.wipedThirdServer(12);
    const third = [...c.peers.entries()].find(([, p]) => !p.serving)![0];
    c.tickUntil(() => c.peers.get(third)!.serving, "the wiped server serving");
    expect(header).toBe(leader.lastCommitted);
    expect(c.installed.get(third)).toEqual([header]);
    expect(c.peers.get(third)!.lastLogged).toBe(leader.lastLogged);
  });

  it("a message other than the image between SNAP and SNAPEND sends the learner back to LOOKING, and the cut image is never installed", () => {
    const c = new Cluster();
    let snaps = 0;
    // The first stream is cut short (NEWLEADER comes where SNAPEND should); the retry is whole.
    c.snapAs = (m) => (++snaps === 1 ? [{ type: "SNAP", zxid: m.zxid }, { type: "SNAPCHUNK", data: new Uint8Array(8) }] : [{ type: "SNAP", zxid: m.zxid }, { type: "SNAPEND", zxid: m.zxid }]);
    const leader = c.wipedThirdServer(12);
    const third = [...c.peers.entries()].find(([, p]) => !p.serving)![0];
    c.tickUntil(() => c.peers.get(third)!.serving, "the wiped server serving");
    expect(snaps).toBe(2); // it started over after the cut stream
    expect(c.installed.get(third)).toEqual([leader.lastCommitted]);
  });

  it("a SNAPEND with no SNAP before it sends the learner back to LOOKING", () => {
    const c = new Cluster();
    c.wipedThirdServer(0);
    const p3 = [...c.peers.values()].find((p) => !p.serving)!;
    c.tickUntil(() => p3.serving, "the third server synced");
    p3.step(p3.leader!, { type: "SNAPEND", zxid: 5n });
    expect(p3.state).toBe(PeerState.LOOKING);
  });

  it("the leader keeps a learner that is silent while it takes an image for initLimit, not syncLimit", () => {
    const c = new Cluster();
    let third = 0n;
    // The image is still streaming in: the learner says nothing from here on.
    c.snapAs = (m) => {
      c.down.add(third);
      return [{ type: "SNAP", zxid: m.zxid }];
    };
    const leader = c.wipedThirdServer(12);
    third = [...c.peers.entries()].find(([, p]) => !p.serving)![0];
    c.tickUntil(() => c.down.has(third), "the leader starting the SNAP");
    expect(leader.pendingSyncs()).toBe(1);
    c.tick(SYNC_LIMIT_TICKS * 3);
    expect(leader.serving).toBe(true);
    expect(leader.pendingSyncs()).toBe(1);
    c.tick(INIT_LIMIT_TICKS);
    expect(leader.pendingSyncs()).toBe(0);
  });
});
