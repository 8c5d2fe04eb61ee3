// The LEADING role: one LeaderRole per leadership, created when this peer decides it
// leads and dropped (stop()) when it goes looking, so nothing of one leadership leaks
// into the next. No I/O: everything leaves through the core's ready batch.
//
// Phases (ZAB 1.0 as ZooKeeper implements it):
//   discovery  FOLLOWERINFO from a quorum fixes the new epoch (above every acceptedEpoch
//              heard) -> LEADERINFO(newEpoch) -> ACKEPOCH(currentEpoch, lastZxid);
//   sync       once a quorum acked the epoch: DIFF / TRUNC / SNAP, the txns the learner
//              lacks, NEWLEADER; a quorum's NEWLEADER ACK (ours only after persisting
//              currentEpoch, see advance) commits the inherited history: serve, UPTODATE;
//   broadcast  PROPOSAL -> ACK (cumulative) -> COMMIT strictly in zxid order; observers
//              get INFORM; a reconfig takes effect before later proposals are counted.
// Per-learner state is plain data (STYLE.md). A leader steps down when a quorum is not
// connected within initLimit, or stops hearing a synced quorum within syncLimit.

import { asZxid, assert, assertNever, counterOf, epochOf, zxidOf } from "../util/index.js";
import type { PeerCore, RoleHost } from "./core.js";
import { membershipOf, type Membership } from "./membership.js";
import { PeerState, type Ready, type Role, type ZabMsg } from "./types.js";

interface LearnerInfo {
  role: Role;
  acceptedEpoch: number;
  /** ACKEPOCH received; lastZxid it reported. */
  epochAcked: boolean;
  lastZxid: bigint;
  /** Sync sent; receives proposals and commits from now on. */
  syncing: boolean;
  /** NEWLEADER acked. */
  synced: boolean;
  lastHeardTick: number;
  /**
   * The highest zxid it acked (NEWLEADER's, then a follower's proposals), or 0 before
   * NEWLEADER's ack. Recorded for the operators' view (learnerProgress) only: nothing
   * in the protocol reads it.
   */
  lastAckedZxid: bigint;
}

/** One learner as this leader sees it, for the operators' view (admin `learners`). */
export interface LearnerProgress {
  id: bigint;
  role: Role;
  /** discovery: FOLLOWERINFO heard, epoch not acked yet; syncing: DIFF/TRUNC/SNAP sent, NEWLEADER not acked yet. */
  phase: "discovery" | "syncing" | "synced";
  /**
   * The highest zxid it acked; undefined before its NEWLEADER ack, and for an observer
   * (it acks NEWLEADER only, which says nothing of its progress since).
   */
  lastAckedZxid: bigint | undefined;
  /**
   * Proposals logged here that it has not acked; undefined while it is not synced, and
   * for an observer (observers are sent commits and acknowledge none).
   */
  lagTxns: number | undefined;
  ticksSinceHeard: number;
}

interface Outstanding {
  data: Uint8Array;
  acks: Set<bigint>;
  /** The configurations whose quorums must ack it: the committed one, and a pending one. */
  configs: readonly Membership[];
}

/** The leader's PING carries nothing; a learner's answer carries its session report. */
const NO_SESSIONS = new Uint8Array(0);

/** A zxid's counter is 32 bits; the last one is never handed out (a new epoch is needed). */
const ZXID_COUNTER_MAX = 0xffff_ffff;

export class LeaderRole {
  readonly #core: PeerCore;
  readonly #host: RoleHost;
  readonly #pingEveryTicks: number;
  /** The epoch this leadership proposes in; fixed once a quorum connected (#epochDecided). */
  #epoch: number;
  readonly #learners = new Map<bigint, LearnerInfo>();
  #epochDecided = false;
  readonly #epochAcks: Set<bigint>;
  readonly #newLeaderAcks = new Set<bigint>();
  #selfNewLeaderPending = false;
  #established = false;
  #counter = 0;
  readonly #outstanding = new Map<bigint, Outstanding>();
  readonly #leadingSinceTick: number;
  /** This leadership ended (the peer went looking); code still on the stack must not act. */
  #stopped = false;

  constructor(core: PeerCore, host: RoleHost, pingEveryTicks: number) {
    assert(core.state === PeerState.LEADING && core.leader === core.cfg.myId, "a LeaderRole is made for a LEADING peer");
    this.#core = core;
    this.#host = host;
    this.#pingEveryTicks = pingEveryTicks;
    this.#epochAcks = new Set([core.cfg.myId]);
    this.#leadingSinceTick = core.tick;
    this.#epoch = core.acceptedEpoch + 1;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Discovery starts: with a one-voter quorum, the epoch is decided at once. */
  start(): void {
    this.#maybeDecideEpoch();
  }

  /** The peer went looking: forget the learners and the proposals in flight. */
  stop(): void {
    this.#stopped = true;
    this.#learners.clear();
    this.#outstanding.clear();
    this.#established = false;
  }

  get established(): boolean {
    return this.#established;
  }

  /** The next zxid the leader will propose (so prep can stamp txns). */
  nextZxid(): bigint {
    return zxidOf(this.#epoch, this.#counter + 1);
  }

  isQuorumSynced(voters: readonly bigint[]): boolean {
    const ids = [this.#core.cfg.myId];
    for (const [id, l] of this.#learners) if (l.synced && l.role === "participant") ids.push(id);
    return this.#core.configs.isQuorum(ids, [membershipOf(voters.map((id) => ({ id, role: "participant" })), 0n)]);
  }

  syncedLearners(): { id: bigint; role: Role }[] {
    return [...this.#learners].filter(([, l]) => l.synced).map(([id, l]) => ({ id, role: l.role }));
  }

  pendingSyncs(): number {
    return [...this.#learners.values()].filter((l) => l.syncing && !l.synced).length;
  }

  /** Every connected learner's phase, last ack and lag (read-only). */
  learnerProgress(): LearnerProgress[] {
    const core = this.#core;
    return [...this.#learners].map(([id, l]) => ({
      id,
      role: l.role,
      phase: l.synced ? "synced" : l.syncing ? "syncing" : "discovery",
      lastAckedZxid: l.synced && l.role === "participant" ? l.lastAckedZxid : undefined,
      lagTxns: l.synced && l.role === "participant" ? lagTxns(core.lastLogged, l.lastAckedZxid) : undefined,
      ticksSinceHeard: core.tick - l.lastHeardTick,
    }));
  }

  outstandingProposals(): number {
    return this.#outstanding.size;
  }

  /** The driver persisted `r`: our own acks count from now on. */
  advance(r: Ready): void {
    for (const p of r.persist.append) {
      const o = this.#outstanding.get(p.zxid);
      if (o !== undefined) o.acks.add(this.#core.cfg.myId);
    }
    if (r.persist.currentEpoch === this.#epoch && this.#selfNewLeaderPending) {
      this.#selfNewLeaderPending = false;
      this.#newLeaderAcks.add(this.#core.cfg.myId);
      this.#maybeEstablish();
    }
    this.#tryCommit();
    this.#assertInvariants();
  }

  propose(makeData: (zxid: bigint) => Uint8Array): bigint | undefined {
    if (!this.#established) return undefined;
    const core = this.#core;
    assert(this.#counter < ZXID_COUNTER_MAX, "zxid counter exhausted: a new epoch is needed");
    const zxid = zxidOf(this.#epoch, ++this.#counter);
    const data = makeData(zxid);
    assert(zxid > core.lastLogged, "proposals must be logged in zxid order");
    core.appendLocal({ zxid, data });
    this.#outstanding.set(zxid, { data, acks: new Set(), configs: core.configs.all() });
    for (const [id, l] of this.#learners) {
      if (l.syncing && l.role === "participant") core.send(id, { type: "PROPOSAL", zxid, data });
    }
    return zxid;
  }

  step(from: bigint, msg: ZabMsg): void {
    const l = this.#learners.get(from);
    if (l !== undefined) l.lastHeardTick = this.#core.tick;
    switch (msg.type) {
      case "FOLLOWERINFO":
        this.#onFollowerInfo(from, msg.acceptedEpoch, this.#core.configs.roleOf(from) ?? msg.role);
        return;
      case "ACKEPOCH":
        // Only from a learner of this leadership (one dropped by a timeout reconnects).
        if (l !== undefined) this.#onAckEpoch(from, l, msg.currentEpoch, msg.lastZxid);
        return;
      case "ACK":
        if (l !== undefined) this.#onAck(from, l, msg.zxid);
        return;
      case "PING":
      case "REQUEST":
        // A learner not yet synced, or of an earlier leadership, has no sessions here yet.
        if (l?.synced === true) this.#core.ready.delivered.push({ from, msg });
        return;
      case "LEADERINFO":
      case "DIFF":
      case "TRUNC":
      case "SNAP":
      case "SNAPCHUNK":
      case "SNAPEND":
      case "PROPOSAL":
      case "COMMIT":
      case "INFORM":
      case "NEWLEADER":
      case "UPTODATE":
        // A leader's messages: from a server that still thinks it leads us (we followed it
        // before this election) or that leads a stale epoch. Its own timeouts, or the
        // election's notifications, bring it round; nothing it says counts here.
        return;
      case "NOTIFICATION":
        assert(false, "the peer handles election notifications in every state");
        return;
      default:
        assertNever(msg, "ZAB message");
    }
  }

  tick(): void {
    const core = this.#core;
    if ((core.tick - this.#leadingSinceTick) % this.#pingEveryTicks === 0) {
      for (const [id, l] of this.#learners) if (l.syncing) core.send(id, { type: "PING", sessions: NO_SESSIONS });
    }
    // A learner still syncing has initLimit, as ZooKeeper's LearnerHandler gives it: one
    // that takes a streamed SNAP says nothing until the image is in.
    for (const [id, l] of this.#learners) {
      const limit = this.#established && l.synced ? core.cfg.syncLimitTicks : core.cfg.initLimitTicks;
      if (core.tick - l.lastHeardTick > limit) this.#learners.delete(id);
    }
    if (!this.#established && core.tick - this.#leadingSinceTick > core.cfg.initLimitTicks) {
      this.#host.goLooking();
      return;
    }
    this.#checkLeaderQuorum();
  }

  /** The transport to `peer` broke: it is no longer a learner of ours. */
  disconnected(peer: bigint): void {
    if (this.#learners.delete(peer)) this.#checkLeaderQuorum();
  }

  // ---- discovery ---------------------------------------------------------------------------

  #onFollowerInfo(from: bigint, acceptedEpoch: number, role: Role): void {
    const core = this.#core;
    // A learner that comes back in another role (a reconfig changed it) starts afresh.
    if (this.#learners.get(from)?.role !== role) this.#learners.delete(from);
    // A learner retries FOLLOWERINFO only until it hears LEADERINFO, which is before its
    // ACKEPOCH: one after that starts a new session (it went looking and came back over
    // the same connection), so it is discovered and synced afresh.
    if (this.#learners.get(from)?.epochAcked === true) {
      this.#learners.delete(from);
      this.#epochAcks.delete(from);
      this.#newLeaderAcks.delete(from);
    }
    if (this.#learners.has(from)) {
      // A retry: the learner has not heard LEADERINFO yet.
      if (this.#epochDecided) core.send(from, { type: "LEADERINFO", newEpoch: this.#epoch });
      return;
    }
    if (this.#epochDecided && acceptedEpoch > this.#epoch) {
      // It promised a later epoch to a leader that never got going, so it cannot follow
      // ours; step down, and the next election picks an epoch everyone can accept.
      this.#host.goLooking();
      return;
    }
    this.#learners.set(from, {
      role,
      acceptedEpoch,
      epochAcked: false,
      lastZxid: 0n,
      syncing: false,
      synced: false,
      lastHeardTick: core.tick,
      lastAckedZxid: 0n,
    });
    if (this.#epochDecided) core.send(from, { type: "LEADERINFO", newEpoch: this.#epoch });
    else {
      if (acceptedEpoch >= this.#epoch) this.#epoch = acceptedEpoch + 1;
      this.#maybeDecideEpoch();
    }
  }

  /** Discovery: once a quorum (with us) has connected, the new epoch is fixed. */
  #maybeDecideEpoch(): void {
    const core = this.#core;
    const connected = [core.cfg.myId, ...[...this.#learners].filter(([, l]) => l.role === "participant").map(([id]) => id)];
    if (!core.configs.isQuorum(connected)) return;
    assert(!this.#epochDecided && this.#epoch > core.acceptedEpoch, "a leadership decides one new epoch, above every accepted one");
    this.#epochDecided = true;
    core.acceptedEpoch = this.#epoch;
    core.ready.persist.acceptedEpoch = this.#epoch;
    for (const id of this.#learners.keys()) core.sendAfter(id, { type: "LEADERINFO", newEpoch: this.#epoch });
    this.#maybeEpochQuorum();
  }

  /** A quorum acknowledged the new epoch: it is ours; sync everyone who has acked. */
  #maybeEpochQuorum(): void {
    const core = this.#core;
    if (core.phase !== "DISCOVERY" || !this.#epochDecided || !core.configs.isQuorum(this.#epochAcks)) return;
    core.phase = "SYNCHRONIZATION";
    core.currentEpoch = this.#epoch;
    core.ready.persist.currentEpoch = this.#epoch;
    this.#selfNewLeaderPending = true;
    for (const [id, x] of this.#learners) if (x.epochAcked) this.#syncLearner(id, x);
  }

  #onAckEpoch(from: bigint, l: LearnerInfo, currentEpoch: number, lastZxid: bigint): void {
    const core = this.#core;
    if (l.epochAcked) return; // a duplicate
    // A learner more up to date than us means the election went wrong: start over.
    if (currentEpoch > core.currentEpoch || (currentEpoch === core.currentEpoch && lastZxid > core.lastLogged)) {
      this.#host.goLooking();
      return;
    }
    l.epochAcked = true;
    l.lastZxid = lastZxid;
    if (l.role === "participant") this.#epochAcks.add(from);
    if (core.phase === "DISCOVERY") {
      this.#maybeEpochQuorum();
      return;
    }
    this.#syncLearner(from, l);
  }

  // ---- synchronization -----------------------------------------------------------------------

  /** DIFF, TRUNC or SNAP, then the txns the learner lacks, then NEWLEADER. */
  #syncLearner(id: bigint, l: LearnerInfo): void {
    const core = this.#core;
    assert(this.#epochDecided && l.epochAcked && !l.syncing, "a learner is synced once, after its ACKEPOCH");
    const peerLast = l.lastZxid;
    const out: ZabMsg[] = [];
    let from: bigint;
    if (peerLast === core.lastLogged) {
      out.push({ type: "DIFF", zxid: core.lastLogged });
      from = peerLast;
    } else if (peerLast > core.lastLogged) {
      out.push({ type: "TRUNC", zxid: core.lastLogged });
      from = core.lastLogged;
    } else if (peerLast >= core.logBase) {
      // The newest point of our history at or before the learner's last zxid.
      let common = core.logBase;
      for (const p of core.log) if (p.zxid <= peerLast) common = p.zxid;
      out.push(common === peerLast ? { type: "DIFF", zxid: peerLast } : { type: "TRUNC", zxid: common });
      from = common;
    } else {
      out.push({ type: "SNAP", zxid: core.lastCommitted });
      from = core.lastCommitted;
    }
    // The learner may hold txns up to `from` it logged but never saw committed (it left the
    // broadcast between a PROPOSAL and its COMMIT, e.g. a reconfig made it an observer):
    // one COMMIT covers them, as commits are cumulative (driver simulator seeds 8309, 9633:
    // an observer stayed behind until the next write). The learner applies it at UPTODATE.
    const heldCommitted = from < core.lastCommitted ? from : core.lastCommitted;
    if (out[0]!.type !== "SNAP" && heldCommitted > 0n) out.push({ type: "COMMIT", zxid: heldCommitted });
    for (const p of core.log) {
      if (p.zxid <= from) continue;
      out.push({ type: "PROPOSAL", zxid: p.zxid, data: p.data });
      if (p.zxid <= core.lastCommitted) out.push({ type: "COMMIT", zxid: p.zxid });
    }
    out.push({ type: "NEWLEADER", epoch: this.#epoch, zxid: zxidOf(this.#epoch, 0) });
    for (const m of out) core.sendAfter(id, m);
    l.syncing = true;
    core.phase = this.#established ? "BROADCAST" : "SYNCHRONIZATION";
  }

  #onAck(from: bigint, l: LearnerInfo, zxid: bigint): void {
    if (zxid > l.lastAckedZxid) l.lastAckedZxid = zxid;
    if (zxid === zxidOf(this.#epoch, 0)) {
      if (l.synced) return; // a duplicate
      l.synced = true;
      if (l.role === "participant") this.#newLeaderAcks.add(from);
      if (this.#established) this.#core.send(from, { type: "UPTODATE" });
      else this.#maybeEstablish();
      return;
    }
    // ACKs are cumulative: a follower logs proposals in order, without gaps, so its ACK
    // of `zxid` says every proposal up to it is durable there (learners coalesce them).
    if (l.role !== "participant") return;
    const core = this.#core;
    for (let i = core.firstUncommitted(); i < core.log.length; i++) {
      const p = core.log[i]!;
      if (p.zxid > zxid) break;
      this.#outstanding.get(p.zxid)?.acks.add(from);
    }
    this.#tryCommit();
  }

  /** A quorum acked NEWLEADER: the new epoch's history is committed; serve. */
  #maybeEstablish(): void {
    const core = this.#core;
    if (this.#established || !core.configs.isQuorum(this.#newLeaderAcks) || !this.#newLeaderAcks.has(core.cfg.myId)) return;
    this.#established = true;
    core.phase = "BROADCAST";
    core.serving = true;
    this.#counter = 0;
    this.#commitUpTo(core.lastLogged);
    // A configuration this leader recovered from its log without a recorded commit is
    // part of the history just committed: it is in force now (and may remove us).
    if (!this.#stopped && core.activatePendingThrough(core.lastLogged)) this.#host.afterActivation();
    if (this.#stopped) return; // the inherited history removed us
    for (const [id, l] of this.#learners) if (l.synced) core.send(id, { type: "UPTODATE" });
    this.#host.emitState();
  }

  // ---- broadcast --------------------------------------------------------------------------

  /** Commits, strictly in zxid order, every outstanding proposal a quorum has acked. */
  #tryCommit(): void {
    const core = this.#core;
    for (;;) {
      // Up to the last proposal a quorum (of every configuration it needs) has acked, or
      // up to the first reconfig, which must take effect before the rest are counted.
      let upTo: bigint | undefined;
      let atReconfig = false;
      for (let i = core.firstUncommitted(); i < core.log.length; i++) {
        const p = core.log[i]!;
        const o = this.#outstanding.get(p.zxid);
        if (o === undefined || !core.configs.isQuorum(o.acks, o.configs)) break;
        upTo = p.zxid;
        if (core.configs.isReconfig(p.zxid)) {
          atReconfig = true;
          break;
        }
      }
      if (upTo === undefined) return;
      this.#commitUpTo(upTo);
      // A reconfig that leaves this leader out: it stops here and steps down.
      if (!atReconfig || this.#stopped) return;
    }
  }

  /** Commits the log through `zxid`: observers get each txn (INFORM), followers one COMMIT of the last. */
  #commitUpTo(zxid: bigint): void {
    const core = this.#core;
    const version = core.configs.committed.version;
    const before = core.lastCommitted;
    for (let i = core.firstUncommitted(); i < core.log.length; i++) {
      const p = core.log[i]!;
      if (p.zxid > zxid) break;
      core.lastCommitted = p.zxid;
      this.#outstanding.delete(p.zxid);
      core.ready.commit.push(p);
      for (const [id, l] of this.#learners) {
        if (l.syncing && l.role === "observer") core.send(id, { type: "INFORM", zxid: p.zxid, data: p.data });
      }
      core.committed(p);
    }
    if (core.lastCommitted !== before) {
      for (const [id, l] of this.#learners) {
        if (l.syncing && l.role === "participant") core.send(id, { type: "COMMIT", zxid: core.lastCommitted });
      }
    }
    core.trimLog();
    if (core.configs.committed.version !== version) this.#host.afterActivation();
  }

  /** A leader that no longer hears a quorum steps down and stops accepting writes. */
  #checkLeaderQuorum(): void {
    if (!this.#established) return;
    const live = [this.#core.cfg.myId];
    for (const [id, l] of this.#learners) if (l.role === "participant" && l.synced) live.push(id);
    if (!this.#core.configs.isQuorum(live)) this.#host.goLooking();
  }

  /** Every outstanding proposal is in the log and not yet committed. */
  #assertInvariants(): void {
    if (this.#stopped) return;
    const core = this.#core;
    assert(this.#outstanding.size <= core.log.length - core.firstUncommitted(), "outstanding proposals are logged, uncommitted txns");
    // Proposals are made (and the map filled) in zxid order: the oldest is the first key.
    const oldest = this.#outstanding.keys().next();
    assert(oldest.done === true || (oldest.value > core.lastCommitted && oldest.value <= core.lastLogged), "an outstanding proposal is logged and uncommitted");
  }
}

/**
 * Proposals after `acked` up to `last`. A synced learner acked NEWLEADER (counter 0 of this
 * epoch) or a later proposal, and every proposal since is of this epoch, numbered without
 * gaps: the counters' difference. Nothing logged after its ack: 0. (Epochs that differ
 * cannot happen; this view answers undefined then rather than assert on an admin request.)
 */
function lagTxns(last: bigint, acked: bigint): number | undefined {
  if (acked >= last) return 0;
  if (epochOf(asZxid(last)) !== epochOf(asZxid(acked))) return undefined;
  return counterOf(asZxid(last)) - counterOf(asZxid(acked));
}
