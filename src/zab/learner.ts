// The FOLLOWING and OBSERVING roles: one LearnerRole per session with a leader, created
// when this peer decides to follow (or observe) and dropped when it goes looking, so
// nothing of one session leaks into the next. No I/O: everything leaves through the core's
// ready batch.
//
// The learner's side of ZAB: FOLLOWERINFO (retried until LEADERINFO) -> ACKEPOCH, sent
// after acceptedEpoch is persisted when it changed; then DIFF / TRUNC / SNAP and the
// txns it lacks; NEWLEADER, acked after currentEpoch and the synced history are
// persisted; UPTODATE: serve. In broadcast a follower logs each PROPOSAL in zxid order,
// with no hole, and acks it after persisting (cumulative ACKs); an observer takes INFORMs.
// It goes looking when the leader is silent past initLimit (before broadcast) or
// syncLimit, or when the leader shows it is not the leader this session followed.

import { asZxid, assert, assertNever, epochOf } from "../util/index.js";
import type { PeerCore, RoleHost } from "./core.js";
import { PeerState, type ZabMsg } from "./types.js";

export class LearnerRole {
  readonly #core: PeerCore;
  readonly #host: RoleHost;
  readonly #leader: bigint;
  #lastHeardTick: number;
  #newLeaderAcked = false;
  /** The zxid NEWLEADER named: the history the leader establishes, ours too once synced. */
  #newLeaderZxid: bigint | undefined;
  /**
   * The newest commit heard before UPTODATE. Until the leader has established its epoch,
   * what it calls committed may be txns it replayed from its own log at a restart and
   * never saw committed: applying them here, then losing them to a TRUNC from the next
   * leader, would show txns no quorum ever accepted (ZOOKEEPER-3911's kind; driver
   * simulator seed 15090). So commits wait for UPTODATE, which says the history is
   * committed; then everything up to the newer of NEWLEADER's zxid and this is applied.
   */
  #commitHeard = 0n;
  /** This sync began with a SNAP (whose image may be ahead of its stated zxid). */
  #snapSynced = false;
  /** Between SNAP and SNAPEND: the image is streaming in, nothing else may arrive. */
  #snapStreaming = false;
  /** LEADERINFO arrived in this follow session (FOLLOWERINFO is no longer retried). */
  #leaderInfoSeen = false;

  constructor(core: PeerCore, host: RoleHost) {
    assert((core.state === PeerState.FOLLOWING || core.state === PeerState.OBSERVING) && core.leader !== undefined, "a LearnerRole is made for a FOLLOWING or OBSERVING peer");
    assert(core.leader !== core.cfg.myId, "a learner follows another server");
    this.#core = core;
    this.#host = host;
    this.#leader = core.leader;
    this.#lastHeardTick = core.tick;
  }

  get leader(): bigint {
    return this.#leader;
  }

  /** Discovery starts: tell the leader who we are and which epoch we last accepted. */
  start(): void {
    this.#sendFollowerInfo();
  }

  /** A message from this session's leader (the peer drops those of anyone else). */
  step(msg: ZabMsg): void {
    const core = this.#core;
    switch (msg.type) {
      case "FOLLOWERINFO":
      case "ACKEPOCH":
      case "ACK":
      case "REQUEST":
        // Only what a leader sends proves it leads; a "leader" that sends learner messages
        // is following someone else (both picked each other): let the timeout run.
        return;
      case "NOTIFICATION":
        assert(false, "the peer handles election notifications in every state");
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
      case "PING":
        break;
      default:
        assertNever(msg, "ZAB message");
    }
    this.#lastHeardTick = core.tick;
    // Until its sync starts (DIFF, TRUNC or SNAP), a learner takes no broadcast: what the
    // leader sends meanwhile belongs to an earlier session it still thinks we are in.
    // (So is the rest of an image stream of that session: its chunks and its end.)
    if (core.phase === "DISCOVERY" && (msg.type === "PROPOSAL" || msg.type === "COMMIT" || msg.type === "INFORM" || msg.type === "NEWLEADER" || msg.type === "UPTODATE" || msg.type === "SNAPCHUNK" || msg.type === "SNAPEND")) return;
    // The leader's transport sends nothing to a learner between SNAP and SNAPEND but the
    // image: anything else means the stream was cut short; start over.
    if (this.#snapStreaming && msg.type !== "SNAPCHUNK" && msg.type !== "SNAPEND") {
      this.#host.goLooking();
      return;
    }
    switch (msg.type) {
      case "LEADERINFO":
        this.#onLeaderInfo(msg.newEpoch);
        return;
      case "DIFF":
        core.phase = "SYNCHRONIZATION";
        return;
      case "TRUNC":
        core.phase = "SYNCHRONIZATION";
        this.#truncate(msg.zxid);
        return;
      case "SNAP":
        // The image streams in (the driver assembles it); it is taken at SNAPEND.
        core.phase = "SYNCHRONIZATION";
        this.#snapStreaming = true;
        return;
      case "SNAPCHUNK":
        return; // the driver's: hearing it is what counts here (#lastHeardTick)
      case "SNAPEND":
        if (!this.#snapStreaming) {
          this.#host.goLooking();
          return;
        }
        this.#snapStreaming = false;
        this.#snapSynced = true;
        core.ready.persist.snapshot = { zxid: msg.zxid };
        core.ready.persist.append = [];
        core.lastLogged = msg.zxid;
        core.lastCommitted = msg.zxid;
        core.log = [];
        core.logBase = msg.zxid;
        // The image's configuration is the driver's to read (adoptConfig).
        core.configs.forgetLogged();
        return;
      case "PROPOSAL":
        this.#onProposal(msg.zxid, msg.data);
        return;
      case "COMMIT":
        this.#onCommit(msg.zxid);
        return;
      case "INFORM":
        if (msg.zxid > core.lastLogged) this.#onProposal(msg.zxid, msg.data);
        this.#onCommit(msg.zxid);
        return;
      case "NEWLEADER":
        core.currentEpoch = msg.epoch;
        core.ready.persist.currentEpoch = msg.epoch;
        this.#newLeaderAcked = true;
        this.#newLeaderZxid = msg.zxid;
        core.sendAfter(this.#leader, { type: "ACK", zxid: msg.zxid });
        // Proposals of this epoch the sync carried and no COMMIT covered were outstanding
        // at the leader: ack them too, once logged, as ZooKeeper's learner logs and acks them after its sync.
        // Else a proposal outstanding while every follower resynced is acked by none, and
        // nothing commits until a later proposal's (cumulative) ACK covers it: with no later
        // write, never (ZAB simulator seed 1541).
        const known = core.lastCommitted > this.#commitHeard ? core.lastCommitted : this.#commitHeard;
        if (core.state === PeerState.FOLLOWING && core.lastLogged > known && core.lastLogged > msg.zxid && epochOf(asZxid(core.lastLogged)) === msg.epoch) {
          core.sendAfter(this.#leader, { type: "ACK", zxid: core.lastLogged });
        }
        return;
      case "UPTODATE": {
        // The leader established the history we synced to: all of it is committed, a
        // configuration we recovered from our log without a recorded commit too.
        const synced = this.#newLeaderZxid;
        if (synced === undefined) {
          this.#host.goLooking(); // UPTODATE before NEWLEADER: not this session's
          return;
        }
        this.#commitLearned(synced > this.#commitHeard ? synced : this.#commitHeard);
        if ((core.state as PeerState) === PeerState.LOOKING) return; // a reconfig in it changed our role
        if (core.activatePendingThrough(synced)) {
          this.#host.afterActivation();
          if ((core.state as PeerState) === PeerState.LOOKING) return;
        }
        core.phase = "BROADCAST";
        core.serving = true;
        this.#host.emitState();
        return;
      }
      case "PING":
        core.ready.delivered.push({ from: this.#leader, msg });
        return;
      default:
        assertNever(msg, "ZAB message"); // the learner's messages were dropped above
    }
  }

  tick(): void {
    const core = this.#core;
    // FOLLOWERINFO may have reached the leader before it was leading: say it again, until
    // it answers (after that a FOLLOWERINFO tells the leader this is a new session).
    if (core.phase === "DISCOVERY" && !this.#leaderInfoSeen) this.#sendFollowerInfo();
    const limit = core.phase === "BROADCAST" ? core.cfg.syncLimitTicks : core.cfg.initLimitTicks;
    if (core.tick - this.#lastHeardTick > limit) this.#host.goLooking();
  }

  #sendFollowerInfo(): void {
    const core = this.#core;
    core.send(this.#leader, { type: "FOLLOWERINFO", acceptedEpoch: core.acceptedEpoch, role: core.configs.learnerRole(core.cfg.myId) });
  }

  #onLeaderInfo(newEpoch: number): void {
    const core = this.#core;
    this.#leaderInfoSeen = true;
    if (newEpoch < core.acceptedEpoch) {
      this.#host.goLooking();
      return;
    }
    const ack: ZabMsg = { type: "ACKEPOCH", currentEpoch: core.currentEpoch, lastZxid: core.lastLogged };
    if (newEpoch > core.acceptedEpoch) {
      core.acceptedEpoch = newEpoch;
      core.ready.persist.acceptedEpoch = newEpoch;
      core.sendAfter(this.#leader, ack);
    } else core.send(this.#leader, ack);
  }

  #onProposal(zxid: bigint, data: Uint8Array): void {
    const core = this.#core;
    // After a SNAP, the image may already hold the first proposals of the sync.
    if (zxid <= core.lastLogged && this.#snapSynced && core.phase === "SYNCHRONIZATION") return;
    // A repeated proposal, or one that skips some of its epoch's: never log out of order
    // or with a hole (ZOOKEEPER-4925); start over and sync.
    if (zxid <= core.lastLogged || (epochOf(asZxid(zxid)) === epochOf(asZxid(core.lastLogged)) && zxid !== core.lastLogged + 1n)) {
      this.#host.goLooking();
      return;
    }
    core.appendLocal({ zxid, data });
    if (this.#newLeaderAcked && core.state === PeerState.FOLLOWING) this.#ackLogged(zxid);
  }

  /** A COMMIT (or INFORM): applied now in broadcast, else held until UPTODATE (#commitHeard). */
  #onCommit(zxid: bigint): void {
    if (this.#core.phase === "BROADCAST") this.#commitLearned(zxid);
    else if (zxid > this.#commitHeard) this.#commitHeard = zxid;
  }

  #commitLearned(zxid: bigint): void {
    const core = this.#core;
    const version = core.configs.committed.version;
    for (let i = core.firstUncommitted(); i < core.log.length; i++) {
      const p = core.log[i]!;
      if (p.zxid > zxid) break;
      core.lastCommitted = p.zxid;
      core.ready.commit.push(p);
      core.committed(p);
    }
    core.trimLog();
    if (core.configs.committed.version !== version) this.#host.afterActivation();
  }

  /**
   * ACKs `zxid` once it is logged. ACKs are cumulative (see LeaderRole's #onAck): when the
   * last message this batch sends the leader after persisting is already a proposal ACK, it
   * is raised to `zxid` instead of adding another (NEWLEADER's ACK, of counter 0, is never
   * merged).
   */
  #ackLogged(zxid: bigint): void {
    const after = this.#core.ready.sendAfterPersist;
    const last = after[after.length - 1];
    if (last !== undefined && last.to === this.#leader && last.msg.type === "ACK" && (last.msg.zxid & 0xffff_ffffn) !== 0n) {
      last.msg.zxid = zxid;
      return;
    }
    this.#core.sendAfter(this.#leader, { type: "ACK", zxid });
  }

  #truncate(zxid: bigint): void {
    const core = this.#core;
    core.ready.persist.truncateTo = zxid;
    core.ready.persist.append = core.ready.persist.append.filter((p) => p.zxid <= zxid);
    core.log = core.log.filter((p) => p.zxid <= zxid);
    core.configs.truncateAfter(zxid);
    core.lastLogged = zxid;
    if (core.lastCommitted > zxid) core.lastCommitted = zxid;
  }
}
