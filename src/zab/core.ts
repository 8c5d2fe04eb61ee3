// The state a ZAB peer keeps whatever its role (src/zab/peer.ts owns one and hands it to
// the election and to its current role object): epochs, the in-memory log, the commit
// point, the peer's externally visible state, and the ready batch being built with its
// per-destination send ordering. No I/O: the driver persists and sends what `ready` holds.
//
// Ordering contract: per destination, messages leave in the order they were made, so once
// one for `to` waits for the persist (sendAfter), every later one for `to` in this batch
// does too. The log is kept in zxid order without duplicates: (logBase, lastLogged].

import { assert } from "../util/index.js";
import { Configurations, membersOf, membershipOf, type Membership } from "./membership.js";
import {
  PeerState,
  emptyReady,
  readyIsEmpty,
  type Outgoing,
  type PeerConfig,
  type PersistedState,
  type Proposal,
  type Ready,
  type ZabMsg,
  type ZabPhase,
} from "./types.js";

/** What a role object may ask of the peer that owns it: role changes stay with the peer. */
export interface RoleHost {
  /** Give up the current role and start an election. */
  goLooking(): void;
  /** Report state, leader, serving and epoch to the driver in this batch. */
  emitState(): void;
  /** A new configuration is in force: step down or rejoin if it changed our place. */
  afterActivation(): void;
}

export class PeerCore {
  readonly cfg: PeerConfig;
  /** The committed and pending configurations, and the logged reconfigs. */
  readonly configs: Configurations;

  // Persistent state (mirrors disk once advanced).
  acceptedEpoch: number;
  currentEpoch: number;
  lastLogged: bigint;
  lastCommitted: bigint;
  /** Logged proposals kept in memory: (logBase, lastLogged], in zxid order. */
  log: Proposal[];
  /** The zxid just before log[0]: the oldest point a DIFF can start from. */
  logBase: bigint;

  state: PeerState = PeerState.LOOKING;
  leader: bigint | undefined;
  serving = false;
  phase: ZabPhase = "ELECTION";
  tick = 0;
  ready: Ready = emptyReady();
  /** Destinations with a message in ready.sendAfterPersist (later ones must queue behind it). */
  readonly #afterPersistTo = new Set<bigint>();

  constructor(cfg: PeerConfig, persisted: PersistedState) {
    this.cfg = cfg;
    this.configs = new Configurations(cfg.servers, cfg.configVersion ?? 0n);
    this.acceptedEpoch = persisted.acceptedEpoch;
    this.currentEpoch = persisted.currentEpoch;
    this.lastLogged = persisted.lastZxid;
    this.lastCommitted = persisted.lastCommitted;
    assert(this.currentEpoch <= this.acceptedEpoch, "currentEpoch is never ahead of acceptedEpoch");
    assert(this.lastCommitted <= this.lastLogged, "nothing is committed that is not logged");
    this.log = [...persisted.recent];
    this.logBase = this.log.length > 0 ? this.log[0]!.zxid - 1n : persisted.lastZxid;
    let prev = this.logBase;
    for (const p of this.log) {
      assert(p.zxid > prev, "recent log out of order");
      prev = p.zxid;
      this.noteReconfig(p);
    }
    assert(prev <= this.lastLogged, "the recent log ends at or before the last logged zxid");
    const pending = persisted.pendingConfig;
    if (pending !== undefined) {
      assert(pending.version <= this.lastLogged, "a pending configuration comes from a logged txn");
      this.configs.restorePending(membershipOf(pending.servers, pending.version));
    }
  }

  /** The batch built since the last call, or undefined if there is none. */
  takeReady(): Ready | undefined {
    if (readyIsEmpty(this.ready)) return undefined;
    const r = this.ready;
    this.ready = emptyReady();
    this.#afterPersistTo.clear();
    return r;
  }

  /** Cheap checks after every input (they stay on in production, as TigerBeetle's). */
  assertInvariants(): void {
    assert(this.lastCommitted <= this.lastLogged, "committed beyond the log");
    const last = this.log[this.log.length - 1];
    assert(last === undefined || last.zxid <= this.lastLogged, "the in-memory log runs past lastLogged");
    assert(this.log[0] === undefined || this.log[0].zxid > this.logBase, "the in-memory log starts after logBase");
    assert(this.state === PeerState.LOOKING ? this.leader === undefined && !this.serving : this.leader !== undefined, "a leader is known exactly when not LOOKING");
  }

  appendLocal(p: Proposal): void {
    assert(p.zxid > this.lastLogged, "proposals are logged in zxid order, once");
    this.log.push(p);
    this.ready.persist.append.push(p);
    this.lastLogged = p.zxid;
    this.noteReconfig(p);
  }

  /** Remembers a logged reconfig txn; it becomes the pending configuration. */
  noteReconfig(p: Proposal): void {
    this.configs.noteLogged(p, this.lastCommitted, this.cfg.reconfigOf?.(p.data));
  }

  /** A committed txn: if it is a reconfig, its configuration is now the one in force. */
  committed(p: Proposal): void {
    const m = this.configs.committedTxn(p.zxid);
    if (m !== undefined) this.ready.config = { servers: membersOf(m), version: m.version };
  }

  /**
   * The history through `zxid` is committed: a pending configuration in it takes effect
   * (the driver hears of it through Ready). True if one did.
   */
  activatePendingThrough(zxid: bigint): boolean {
    const m = this.configs.commitPendingThrough(zxid);
    if (m === undefined) return false;
    this.ready.config = { servers: membersOf(m), version: m.version };
    return true;
  }

  /** `m` is the configuration in force now; the driver hears of it through Ready. */
  activate(m: Membership): void {
    this.configs.activate(m);
    this.ready.config = { servers: membersOf(m), version: m.version };
  }

  /** Index in log of the first proposal after lastCommitted (log is in zxid order). */
  firstUncommitted(): number {
    const log = this.log;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid]!.zxid <= this.lastCommitted) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Keeps committedLogMax committed txns in memory for DIFF syncs (older syncs use SNAP),
   * trimming in steps of a quarter of that so the splice is not paid on every commit.
   */
  trimLog(): void {
    const max = this.cfg.committedLogMax;
    const drop = this.firstUncommitted() - max;
    if (drop <= 0 || drop < Math.ceil(max / 4)) return;
    this.logBase = this.log[drop - 1]!.zxid;
    this.log.splice(0, drop);
  }

  /** Per destination, messages leave in the order they were made: once something for `to`
   * waits for the persist, so does everything after it in this batch. */
  send(to: bigint, msg: ZabMsg): void {
    if (this.#afterPersistTo.has(to)) this.ready.sendAfterPersist.push({ to, msg });
    else this.ready.sendNow.push({ to, msg } satisfies Outgoing);
  }

  sendAfter(to: bigint, msg: ZabMsg): void {
    this.#afterPersistTo.add(to);
    this.ready.sendAfterPersist.push({ to, msg });
  }
}
