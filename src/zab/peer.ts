// One ZAB peer as a pure state machine (STYLE.md, after etcd's raft): `step(from, msg)`
// and `tick()` in, a `Ready` batch out, `advance(ready)` once the driver has done it.
// No sockets, timers, disk or tree: the driver (src/server) does all I/O.
//
// Durability contract, asserted by the driver doing Ready in order (send sendNow;
// persist; apply commit; send sendAfterPersist):
//   - acceptedEpoch is persisted before ACKEPOCH leaves (ACKEPOCH is sendAfterPersist);
//   - currentEpoch and every synced txn are persisted before the NEWLEADER ack leaves;
//   - each txn is persisted before its PROPOSAL is acked; the leader counts its own ack
//     only in advance(), i.e. after persisting;
//   - a commit is applied only after the txn is persisted. Commits of txns that earlier
//     batches persisted (commitsBeforePersist) may be applied before this batch's
//     persist, so that a commit never waits for the next proposals' fsync.
//
// Phases: fast leader election (votes compared by peerEpoch, zxid, sid; a logical clock
// per round), discovery (FOLLOWERINFO -> LEADERINFO(newEpoch) -> ACKEPOCH), synchronization
// (DIFF / TRUNC / SNAP, then NEWLEADER, acked by a quorum before serving; UPTODATE), and
// broadcast (PROPOSAL -> ACK -> COMMIT strictly in zxid order; INFORM to observers).
//
// Reconfiguration (ZooKeeper 3.5's dynamic reconfig): a reconfig is an ordinary proposal
// that `cfg.reconfigOf` recognises. Once logged it is the "last seen" (pending)
// configuration; from then on every quorum — election, discovery, NEWLEADER, and each
// proposal made while it is pending — needs a majority of the committed configuration
// AND of the pending one. When it commits, it becomes the configuration: a leader no
// longer in it (or now an observer) steps down, a learner whose role changed rejoins,
// and a server left out of it stays on as a non-voting follower. Servers not in the
// configuration may connect as learners (joiners sync before the reconfig that adds
// them); their acks and votes never count.

import { asZxid, assert, epochOf, zxidOf } from "../util/index.js";
import {
  PeerState,
  emptyReady,
  readyIsEmpty,
  type Outgoing,
  type PeerConfig,
  type PersistedState,
  type Proposal,
  type Member,
  type Ready,
  type Role,
  type Vote,
  type ZabMsg,
  type ZabPhase,
} from "./types.js";

interface Recorded {
  vote: Vote;
  electionEpoch: number;
  state: PeerState;
}

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
}

interface Outstanding {
  data: Uint8Array;
  acks: Set<bigint>;
  /** The configurations whose quorums must ack it: the committed one, and a pending one. */
  configs: readonly Membership[];
}

/** A configuration as quorums see it (ZooKeeper's QuorumVerifier, majority only). */
interface Membership {
  /** The zxid of the reconfig that made it; 0 for a static configuration. */
  version: bigint;
  voters: ReadonlySet<bigint>;
  observers: ReadonlySet<bigint>;
}

/** The leader's PING carries nothing; a learner's answer carries its session report. */
const NO_SESSIONS = new Uint8Array(0);

function membershipOf(servers: readonly Member[], version: bigint): Membership {
  return {
    version,
    voters: new Set(servers.filter((s) => s.role === "participant").map((s) => s.id)),
    observers: new Set(servers.filter((s) => s.role === "observer").map((s) => s.id)),
  };
}

function membersOf(m: Membership): Member[] {
  const all: Member[] = [...m.voters].map((id) => ({ id, role: "participant" }));
  for (const id of m.observers) all.push({ id, role: "observer" });
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function majorityOf(m: Membership, ids: Iterable<bigint>): boolean {
  let n = 0;
  for (const id of new Set(ids)) if (m.voters.has(id)) n++;
  return n >= Math.floor(m.voters.size / 2) + 1;
}

/** `a` is a better vote than `b`: higher peerEpoch, then zxid, then server id. */
export function betterVote(a: Vote, b: Vote): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}

export class ZabPeer {
  readonly cfg: PeerConfig;
  readonly #pingEveryTicks: number;
  /** The committed configuration. */
  #config: Membership;
  /** The last seen configuration: a logged reconfig not yet committed. */
  #pending: Membership | undefined;
  /** Reconfig txns in the in-memory log, by zxid: what each installs when it commits. */
  readonly #reconfigs = new Map<bigint, Membership>();

  // Persistent state (mirrors disk once advanced).
  acceptedEpoch: number;
  currentEpoch: number;
  lastLogged: bigint;
  lastCommitted: bigint;
  /** Logged proposals kept in memory: (logBase, lastLogged]. */
  #log: Proposal[];
  /** The zxid just before #log[0]: the oldest point a DIFF can start from. */
  #logBase: bigint;

  state: PeerState = PeerState.LOOKING;
  leader: bigint | undefined;
  serving = false;
  phase: ZabPhase = "ELECTION";
  #tick = 0;
  #ready: Ready = emptyReady();
  /** Destinations with a message in #ready.sendAfterPersist (later ones must queue behind it). */
  readonly #afterPersistTo = new Set<bigint>();

  // Election.
  electionEpoch = 0;
  #proposed: Vote;
  #recv = new Map<bigint, Vote>();
  #outOfElection = new Map<bigint, Recorded>();
  #finalizeAt: number | undefined;
  #nextNotifyTick = 0;
  #notifyBackoff = 1;

  // Leading.
  #epoch = 0;
  #learners = new Map<bigint, LearnerInfo>();
  #epochDecided = false;
  #epochAcks = new Set<bigint>();
  #newLeaderAcks = new Set<bigint>();
  #selfNewLeaderPending = false;
  #established = false;
  #counter = 0;
  #outstanding = new Map<bigint, Outstanding>();
  #leadingSinceTick = 0;

  // Following / observing.
  #lastHeardTick = 0;
  #newLeaderAcked = false;
  /** This sync began with a SNAP (whose image may be ahead of its stated zxid). */
  #snapSynced = false;
  /** Between SNAP and SNAPEND: the image is streaming in, nothing else may arrive. */
  #snapStreaming = false;
  /** LEADERINFO arrived in this follow session (FOLLOWERINFO is no longer retried). */
  #leaderInfoSeen = false;

  constructor(cfg: PeerConfig, persisted: PersistedState) {
    this.cfg = cfg;
    this.#pingEveryTicks = cfg.pingEveryTicks ?? 1;
    assert(Number.isInteger(this.#pingEveryTicks) && this.#pingEveryTicks >= 1, "pingEveryTicks must be a whole number of ticks");
    assert(this.#pingEveryTicks < cfg.syncLimitTicks, "the leader must ping more often than syncLimit");
    this.#config = membershipOf(cfg.servers, cfg.configVersion ?? 0n);
    assert(this.#config.voters.size > 0, "a configuration needs at least one participant");
    this.acceptedEpoch = persisted.acceptedEpoch;
    this.currentEpoch = persisted.currentEpoch;
    this.lastLogged = persisted.lastZxid;
    this.lastCommitted = persisted.lastCommitted;
    this.#log = [...persisted.recent];
    this.#logBase = this.#log.length > 0 ? this.#log[0]!.zxid - 1n : persisted.lastZxid;
    for (const p of this.#log) {
      assert(p.zxid > this.#logBase, "recent log out of order");
      this.#noteReconfig(p);
    }
    this.#proposed = this.#selfVote();
    this.#startElection();
  }

  /** A majority of the committed configuration's participants. */
  get quorumSize(): number {
    return Math.floor(this.#config.voters.size / 2) + 1;
  }

  /** The committed configuration and its version. */
  get configVersion(): bigint {
    return this.#config.version;
  }

  members(): Member[] {
    return membersOf(this.#config);
  }

  /** A reconfig is logged but not yet committed (ZooKeeper: lastSeen != current verifier). */
  get reconfigPending(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Leader: whether a majority of `voters` is this leader and its synced followers, as a
   * reconfig to that voter set requires before it is proposed (Leader.isQuorumSynced).
   */
  isQuorumSynced(voters: readonly bigint[]): boolean {
    if (this.state !== PeerState.LEADING) return false;
    const ids = [this.cfg.myId];
    for (const [id, l] of this.#learners) if (l.synced && l.role === "participant") ids.push(id);
    return majorityOf(membershipOf(voters.map((id) => ({ id, role: "participant" })), 0n), ids);
  }

  /**
   * The configuration found in a state the driver installed (a SNAP image, or the tree
   * rebuilt after a TRUNC), which this peer did not see committed txn by txn.
   */
  adoptConfig(servers: readonly Member[], version: bigint): void {
    if (version === this.#config.version) return;
    this.#activate(membershipOf(servers, version));
    this.#afterActivation();
  }

  get epoch(): number {
    return this.state === PeerState.LEADING ? this.#epoch : this.currentEpoch;
  }

  /** Learners synced with this leader (`zk_synced_followers`). */
  syncedLearners(): { id: bigint; role: Role }[] {
    return [...this.#learners].filter(([, l]) => l.synced).map(([id, l]) => ({ id, role: l.role }));
  }

  pendingSyncs(): number {
    return [...this.#learners.values()].filter((l) => l.syncing && !l.synced).length;
  }

  outstandingProposals(): number {
    return this.#outstanding.size;
  }

  // ---- driver interface ----------------------------------------------------------------

  /** The batch of work accumulated since the last call, or undefined if there is none. */
  ready(): Ready | undefined {
    if (readyIsEmpty(this.#ready)) return undefined;
    const r = this.#ready;
    this.#ready = emptyReady();
    this.#afterPersistTo.clear();
    return r;
  }

  /** The driver has done `r`: persisted, applied, sent. */
  advance(r: Ready): void {
    if (this.state !== PeerState.LEADING) return;
    for (const p of r.persist.append) {
      const o = this.#outstanding.get(p.zxid);
      if (o !== undefined) o.acks.add(this.cfg.myId);
    }
    if (r.persist.currentEpoch === this.#epoch && this.#selfNewLeaderPending) {
      this.#selfNewLeaderPending = false;
      this.#newLeaderAcks.add(this.cfg.myId);
      this.#maybeEstablish();
    }
    this.#tryCommit();
  }

  tick(): void {
    this.#tick++;
    switch (this.state) {
      case PeerState.LOOKING:
        this.#tickLooking();
        return;
      case PeerState.LEADING:
        this.#tickLeading();
        return;
      case PeerState.FOLLOWING:
      case PeerState.OBSERVING:
        this.#tickLearning();
        return;
    }
  }

  step(from: bigint, msg: ZabMsg): void {
    // Servers outside the configuration are heard too: a joiner looks for the leader and
    // syncs with it before the reconfig that adds it, and a removed server stays on as a
    // non-voting follower. Only voters' votes and acks are ever counted.
    if (msg.type === "NOTIFICATION") {
      this.#onNotification(from, msg.state, msg.vote, msg.electionEpoch);
      return;
    }
    switch (this.state) {
      case PeerState.LOOKING:
        return; // quorum traffic from an old epoch; the election will sort it out
      case PeerState.LEADING:
        this.#stepLeading(from, msg);
        return;
      case PeerState.FOLLOWING:
      case PeerState.OBSERVING:
        if (from === this.leader) this.#stepLearning(msg);
        return;
    }
  }

  /** The transport to `peer` broke. */
  disconnected(peer: bigint): void {
    if ((this.state === PeerState.FOLLOWING || this.state === PeerState.OBSERVING) && peer === this.leader) {
      this.#goLooking();
    } else if (this.state === PeerState.LEADING && this.#learners.delete(peer)) {
      this.#checkLeaderQuorum();
    }
  }

  /** Leader only: proposes a txn; returns its zxid, or undefined if not serving. */
  propose(makeData: (zxid: bigint) => Uint8Array): bigint | undefined {
    if (this.state !== PeerState.LEADING || !this.#established) return undefined;
    assert(this.#counter < 0xffff_ffff, "zxid counter exhausted: a new epoch is needed");
    const zxid = zxidOf(this.#epoch, ++this.#counter);
    const data = makeData(zxid);
    assert(zxid > this.lastLogged, "proposals must be logged in zxid order");
    this.#appendLocal({ zxid, data });
    this.#outstanding.set(zxid, { data, acks: new Set(), configs: this.#configs() });
    for (const [id, l] of this.#learners) {
      if (l.syncing && l.role === "participant") this.#send(id, { type: "PROPOSAL", zxid, data });
    }
    return zxid;
  }

  /** The next zxid the leader will propose (so prep can stamp txns). */
  nextZxid(): bigint {
    return zxidOf(this.#epoch, this.#counter + 1);
  }

  /** Learner only: sends a message to the leader (REQUEST, PING replies). */
  sendToLeader(msg: ZabMsg): boolean {
    if ((this.state !== PeerState.FOLLOWING && this.state !== PeerState.OBSERVING) || this.leader === undefined) return false;
    this.#send(this.leader, msg);
    return true;
  }

  // ---- election --------------------------------------------------------------------------

  #selfVote(): Vote {
    return { leader: this.cfg.myId, zxid: this.lastLogged, peerEpoch: this.currentEpoch };
  }

  #startElection(): void {
    this.electionEpoch++;
    const voter = this.#isVoter(this.cfg.myId);
    this.#proposed = voter ? this.#selfVote() : { leader: -1n, zxid: -1n, peerEpoch: -1 };
    this.#recv.clear();
    this.#outOfElection.clear();
    this.#finalizeAt = undefined;
    if (voter) this.#recv.set(this.cfg.myId, this.#proposed);
    this.#notifyBackoff = 1;
    this.#broadcastNotification();
    // A one-voter ensemble agrees with itself.
    if (voter && this.#hasQuorum(this.#recv, this.#proposed)) this.#finalizeAt = this.#tick;
  }

  #broadcastNotification(): void {
    const targets = new Set<bigint>();
    for (const m of this.#configs()) {
      for (const id of m.voters) targets.add(id);
      if (this.#isVoter(this.cfg.myId)) for (const id of m.observers) targets.add(id);
    }
    for (const id of targets) if (id !== this.cfg.myId) this.#sendNotification(id);
    this.#nextNotifyTick = this.#tick + this.#notifyBackoff;
    this.#notifyBackoff = Math.min(this.#notifyBackoff * 2, 16);
  }

  #sendNotification(to: bigint): void {
    // Once decided, a server reports the vote it decided on, so that a rejoining server
    // sees a quorum agree on one vote and follows its leader.
    const vote = this.state === PeerState.LOOKING ? this.#proposed : this.#decidedVote;
    this.#send(to, { type: "NOTIFICATION", state: this.state, vote, electionEpoch: this.electionEpoch });
  }

  #onNotification(from: bigint, state: PeerState, vote: Vote, electionEpoch: number): void {
    if (this.state !== PeerState.LOOKING) {
      // Our own leader is looking again: it gave up leading, so do we.
      if (state === PeerState.LOOKING && from === this.leader && this.state !== PeerState.LEADING) {
        this.#goLooking();
        return;
      }
      // Tell a looking server who leads (that is how a rejoining server learns it).
      if (state === PeerState.LOOKING) this.#sendNotification(from);
      return;
    }
    const fromVoter = this.#isVoter(from);
    if (state === PeerState.LOOKING) {
      // As FastLeaderElection: only voters' votes, and only for voters, take part.
      if (!fromVoter || !this.#isVoter(this.cfg.myId) || !this.#isVoter(vote.leader)) return;
      this.#onLookingVote(from, vote, electionEpoch);
      return;
    }
    // `from` has already decided: FOLLOWING or LEADING. A leader outside our
    // configuration (one a reconfig we missed added) is still heard: who agrees on it
    // is counted among our voters only.
    if (fromVoter && electionEpoch === this.electionEpoch && this.#isVoter(this.cfg.myId)) {
      this.#recv.set(from, vote);
      if (this.#hasQuorum(this.#recv, vote) && this.#checkLeader(vote.leader, electionEpoch)) {
        this.#decide(vote);
        return;
      }
    }
    // Servers out of election agree when they name the same leader (as ZooKeeper's Vote
    // equality for non-LOOKING states): rounds and zxids differ between those who joined
    // at different times. Following is safe either way: discovery and sync decide.
    this.#outOfElection.set(from, { vote, electionEpoch, state });
    const agreeing: bigint[] = [];
    for (const [id, r] of this.#outOfElection) if (r.vote.leader === vote.leader) agreeing.push(id);
    const leaderSays = this.#outOfElection.get(vote.leader);
    if (this.#isQuorum(agreeing) && vote.leader !== this.cfg.myId && leaderSays?.state === PeerState.LEADING) {
      this.electionEpoch = leaderSays.electionEpoch;
      this.#decide(leaderSays.vote);
    }
  }

  #onLookingVote(from: bigint, vote: Vote, electionEpoch: number): void {
    if (electionEpoch > this.electionEpoch) {
      this.electionEpoch = electionEpoch;
      this.#recv.clear();
      const self = this.#selfVote();
      this.#proposed = betterVote(vote, self) ? vote : self;
      this.#recv.set(this.cfg.myId, this.#proposed);
      this.#broadcastNotification();
    } else if (electionEpoch < this.electionEpoch) {
      this.#sendNotification(from);
      return;
    } else if (betterVote(vote, this.#proposed)) {
      this.#proposed = vote;
      this.#recv.set(this.cfg.myId, vote);
      this.#broadcastNotification();
    }
    this.#recv.set(from, vote);
    if (!this.#hasQuorum(this.#recv, this.#proposed)) {
      this.#finalizeAt = undefined;
      return;
    }
    const everyoneVoted = this.#configs().every((m) => [...m.voters].every((id) => this.#recv.has(id)));
    if (everyoneVoted && [...this.#recv.values()].every((v) => sameVote(v, this.#proposed))) this.#decide(this.#proposed);
    else this.#finalizeAt ??= this.#tick + this.cfg.finalizeTicks;
  }

  #tickLooking(): void {
    if (this.#finalizeAt !== undefined && this.#tick >= this.#finalizeAt && this.#hasQuorum(this.#recv, this.#proposed)) {
      this.#decide(this.#proposed);
      return;
    }
    if (this.#tick >= this.#nextNotifyTick) this.#broadcastNotification();
  }

  #hasQuorum(votes: Map<bigint, Vote>, vote: Vote): boolean {
    const agreeing: bigint[] = [];
    for (const [id, v] of votes) if (sameVote(v, vote)) agreeing.push(id);
    return this.#isQuorum(agreeing);
  }

  // ---- configurations ---------------------------------------------------------------------

  /** The configurations every quorum must satisfy: the committed one, and a pending one. */
  #configs(): Membership[] {
    return this.#pending === undefined ? [this.#config] : [this.#config, this.#pending];
  }

  /** `ids` hold a majority of the voters of each configuration in `configs`. */
  #isQuorum(ids: Iterable<bigint>, configs: readonly Membership[] = this.#configs()): boolean {
    const list = [...ids];
    return configs.every((m) => majorityOf(m, list));
  }

  /** A voter of the committed or of the pending configuration. */
  #isVoter(id: bigint): boolean {
    return this.#config.voters.has(id) || this.#pending?.voters.has(id) === true;
  }

  #roleOf(id: bigint): Role | undefined {
    for (const m of [this.#config, this.#pending]) {
      if (m?.voters.has(id) === true) return "participant";
      if (m?.observers.has(id) === true) return "observer";
    }
    return undefined;
  }

  /** How this server learns: as an observer if configured so, else as a (maybe non-voting) follower. */
  #learnerRole(): Role {
    return this.#roleOf(this.cfg.myId) === "observer" ? "observer" : "participant";
  }

  /** Remembers a logged reconfig txn; it becomes the pending configuration. */
  #noteReconfig(p: Proposal): void {
    if (p.zxid <= this.lastCommitted) return; // already in force: the driver's configuration
    const servers = this.cfg.reconfigOf?.(p.data);
    if (servers === undefined) return;
    const m = membershipOf(servers, p.zxid);
    this.#reconfigs.set(p.zxid, m);
    this.#pending = m;
  }

  /** A committed txn: if it is a reconfig, its configuration is now the one in force. */
  #committed(p: Proposal): void {
    const m = this.#reconfigs.get(p.zxid);
    if (m === undefined) return;
    this.#reconfigs.delete(p.zxid);
    this.#activate(m);
  }

  #activate(m: Membership): void {
    this.#config = m;
    if (this.#pending !== undefined && this.#pending.version <= m.version) this.#pending = undefined;
    this.#ready.config = { servers: membersOf(m), version: m.version };
  }

  /**
   * After a new configuration: a leader that is no longer a voter steps down (the voters
   * elect a new one); a learner whose role changed, or whose leader left, starts over.
   */
  #afterActivation(): void {
    const me = this.cfg.myId;
    switch (this.state) {
      case PeerState.LEADING:
        if (!this.#config.voters.has(me)) this.#goLooking();
        return;
      case PeerState.FOLLOWING:
      case PeerState.OBSERVING: {
        const wantObserving = this.#learnerRole() === "observer";
        const leaderGone = this.leader === undefined || !this.#config.voters.has(this.leader);
        if (wantObserving !== (this.state === PeerState.OBSERVING) || leaderGone) this.#goLooking();
        return;
      }
      case PeerState.LOOKING:
        return;
    }
  }

  /** A leader is only followed once it says it leads (or, for ourselves, we agree). */
  #checkLeader(leader: bigint, electionEpoch: number): boolean {
    if (leader === this.cfg.myId) return electionEpoch === this.electionEpoch;
    return this.#outOfElection.get(leader)?.state === PeerState.LEADING;
  }

  #decidedVote: Vote = { leader: -1n, zxid: -1n, peerEpoch: -1 };

  #decide(vote: Vote): void {
    this.#decidedVote = vote;
    this.#finalizeAt = undefined;
    this.#recv.clear();
    this.#outOfElection.clear();
    if (vote.leader === this.cfg.myId) this.#becomeLeader();
    else this.#becomeLearner(vote.leader);
  }

  #emitState(): void {
    this.#ready.state = { state: this.state, leader: this.leader, serving: this.serving, epoch: this.epoch };
  }

  #goLooking(): void {
    this.state = PeerState.LOOKING;
    this.leader = undefined;
    this.serving = false;
    this.phase = "ELECTION";
    this.#learners.clear();
    this.#outstanding.clear();
    this.#established = false;
    this.#emitState();
    this.#startElection();
  }

  // ---- leading -----------------------------------------------------------------------------

  #becomeLeader(): void {
    this.state = PeerState.LEADING;
    this.leader = this.cfg.myId;
    this.serving = false;
    this.phase = "DISCOVERY";
    this.#learners.clear();
    this.#epochDecided = false;
    this.#epochAcks = new Set([this.cfg.myId]);
    this.#newLeaderAcks = new Set();
    this.#selfNewLeaderPending = false;
    this.#established = false;
    this.#outstanding.clear();
    this.#leadingSinceTick = this.#tick;
    this.#epoch = this.acceptedEpoch + 1;
    this.#emitState();
    this.#maybeDecideEpoch();
  }

  #stepLeading(from: bigint, msg: ZabMsg): void {
    const l = this.#learners.get(from);
    if (l !== undefined) l.lastHeardTick = this.#tick;
    switch (msg.type) {
      case "FOLLOWERINFO":
        this.#onFollowerInfo(from, msg.acceptedEpoch, this.#roleOf(from) ?? msg.role);
        return;
      case "ACKEPOCH":
        if (l !== undefined) this.#onAckEpoch(from, l, msg.currentEpoch, msg.lastZxid);
        return;
      case "ACK":
        if (l !== undefined) this.#onAck(from, l, msg.zxid);
        return;
      case "PING":
      case "REQUEST":
        if (l?.synced === true) this.#ready.delivered.push({ from, msg });
        return;
      default:
        return;
    }
  }

  #onFollowerInfo(from: bigint, acceptedEpoch: number, role: Role): void {
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
      if (this.#epochDecided) this.#send(from, { type: "LEADERINFO", newEpoch: this.#epoch });
      return;
    }
    if (this.#epochDecided && acceptedEpoch > this.#epoch) {
      // It promised a later epoch to a leader that never got going, so it cannot follow
      // ours; step down, and the next election picks an epoch everyone can accept.
      this.#goLooking();
      return;
    }
    this.#learners.set(from, {
      role,
      acceptedEpoch,
      epochAcked: false,
      lastZxid: 0n,
      syncing: false,
      synced: false,
      lastHeardTick: this.#tick,
    });
    if (this.#epochDecided) this.#send(from, { type: "LEADERINFO", newEpoch: this.#epoch });
    else {
      if (acceptedEpoch >= this.#epoch) this.#epoch = acceptedEpoch + 1;
      this.#maybeDecideEpoch();
    }
  }

  /** Discovery: once a quorum (with us) has connected, the new epoch is fixed. */
  #maybeDecideEpoch(): void {
    const connected = [this.cfg.myId, ...[...this.#learners].filter(([, l]) => l.role === "participant").map(([id]) => id)];
    if (!this.#isQuorum(connected)) return;
    this.#epochDecided = true;
    this.acceptedEpoch = this.#epoch;
    this.#ready.persist.acceptedEpoch = this.#epoch;
    for (const id of this.#learners.keys()) this.#sendAfter(id, { type: "LEADERINFO", newEpoch: this.#epoch });
    this.#maybeEpochQuorum();
  }

  /** A quorum acknowledged the new epoch: it is ours; sync everyone who has acked. */
  #maybeEpochQuorum(): void {
    if (this.phase !== "DISCOVERY" || !this.#epochDecided || !this.#isQuorum(this.#epochAcks)) return;
    this.phase = "SYNCHRONIZATION";
    this.currentEpoch = this.#epoch;
    this.#ready.persist.currentEpoch = this.#epoch;
    this.#selfNewLeaderPending = true;
    for (const [id, x] of this.#learners) if (x.epochAcked) this.#syncLearner(id, x);
  }

  #onAckEpoch(from: bigint, l: LearnerInfo, currentEpoch: number, lastZxid: bigint): void {
    if (l.epochAcked) return;
    // A learner more up to date than us means the election went wrong: start over.
    if (currentEpoch > this.currentEpoch || (currentEpoch === this.currentEpoch && lastZxid > this.lastLogged)) {
      this.#goLooking();
      return;
    }
    l.epochAcked = true;
    l.lastZxid = lastZxid;
    if (l.role === "participant") this.#epochAcks.add(from);
    if (this.phase === "DISCOVERY") {
      this.#maybeEpochQuorum();
      return;
    }
    this.#syncLearner(from, l);
  }

  /** DIFF, TRUNC or SNAP, then the txns the learner lacks, then NEWLEADER. */
  #syncLearner(id: bigint, l: LearnerInfo): void {
    const peerLast = l.lastZxid;
    const out: ZabMsg[] = [];
    let from: bigint;
    if (peerLast === this.lastLogged) {
      out.push({ type: "DIFF", zxid: this.lastLogged });
      from = peerLast;
    } else if (peerLast > this.lastLogged) {
      out.push({ type: "TRUNC", zxid: this.lastLogged });
      from = this.lastLogged;
    } else if (peerLast >= this.#logBase) {
      // The newest point of our history at or before the learner's last zxid.
      let common = this.#logBase;
      for (const p of this.#log) if (p.zxid <= peerLast) common = p.zxid;
      out.push(common === peerLast ? { type: "DIFF", zxid: peerLast } : { type: "TRUNC", zxid: common });
      from = common;
    } else {
      out.push({ type: "SNAP", zxid: this.lastCommitted });
      from = this.lastCommitted;
    }
    for (const p of this.#log) {
      if (p.zxid <= from) continue;
      out.push({ type: "PROPOSAL", zxid: p.zxid, data: p.data });
      if (p.zxid <= this.lastCommitted) out.push({ type: "COMMIT", zxid: p.zxid });
    }
    out.push({ type: "NEWLEADER", epoch: this.#epoch, zxid: zxidOf(this.#epoch, 0) });
    for (const m of out) this.#sendAfter(id, m);
    l.syncing = true;
    this.phase = this.#established ? "BROADCAST" : "SYNCHRONIZATION";
  }

  #onAck(from: bigint, l: LearnerInfo, zxid: bigint): void {
    if (zxid === zxidOf(this.#epoch, 0)) {
      if (l.synced) return;
      l.synced = true;
      if (l.role === "participant") this.#newLeaderAcks.add(from);
      if (this.#established) this.#send(from, { type: "UPTODATE" });
      else this.#maybeEstablish();
      return;
    }
    // ACKs are cumulative: a follower logs proposals in order, without gaps, so its ACK
    // of `zxid` says every proposal up to it is durable there (learners coalesce them).
    if (l.role !== "participant") return;
    for (let i = this.#firstUncommitted(); i < this.#log.length; i++) {
      const p = this.#log[i]!;
      if (p.zxid > zxid) break;
      this.#outstanding.get(p.zxid)?.acks.add(from);
    }
    this.#tryCommit();
  }

  /** A quorum acked NEWLEADER: the new epoch's history is committed; serve. */
  #maybeEstablish(): void {
    if (this.#established || !this.#isQuorum(this.#newLeaderAcks) || !this.#newLeaderAcks.has(this.cfg.myId)) return;
    this.#established = true;
    this.phase = "BROADCAST";
    this.serving = true;
    this.#counter = 0;
    this.#commitUpTo(this.lastLogged);
    if (this.state !== PeerState.LEADING) return; // the inherited history removed us
    for (const [id, l] of this.#learners) if (l.synced) this.#send(id, { type: "UPTODATE" });
    this.#emitState();
  }

  /** Commits, strictly in zxid order, every outstanding proposal a quorum has acked. */
  #tryCommit(): void {
    for (;;) {
      // Up to the last proposal a quorum (of every configuration it needs) has acked, or
      // up to the first reconfig, which must take effect before the rest are counted.
      let upTo: bigint | undefined;
      let atReconfig = false;
      for (let i = this.#firstUncommitted(); i < this.#log.length; i++) {
        const p = this.#log[i]!;
        const o = this.#outstanding.get(p.zxid);
        if (o === undefined || !this.#isQuorum(o.acks, o.configs)) break;
        upTo = p.zxid;
        if (this.#reconfigs.has(p.zxid)) {
          atReconfig = true;
          break;
        }
      }
      if (upTo === undefined) return;
      this.#commitUpTo(upTo);
      // A reconfig that leaves this leader out: it stops here and steps down.
      if (!atReconfig || this.state !== PeerState.LEADING) return;
    }
  }

  /** Commits the log through `zxid`: observers get each txn (INFORM), followers one COMMIT of the last. */
  #commitUpTo(zxid: bigint): void {
    const version = this.#config.version;
    const before = this.lastCommitted;
    for (let i = this.#firstUncommitted(); i < this.#log.length; i++) {
      const p = this.#log[i]!;
      if (p.zxid > zxid) break;
      this.lastCommitted = p.zxid;
      this.#outstanding.delete(p.zxid);
      this.#ready.commit.push(p);
      for (const [id, l] of this.#learners) {
        if (l.syncing && l.role === "observer") this.#send(id, { type: "INFORM", zxid: p.zxid, data: p.data });
      }
      this.#committed(p);
    }
    if (this.lastCommitted !== before) {
      for (const [id, l] of this.#learners) {
        if (l.syncing && l.role === "participant") this.#send(id, { type: "COMMIT", zxid: this.lastCommitted });
      }
    }
    this.#trimLog();
    if (this.#config.version !== version) this.#afterActivation();
  }

  #tickLeading(): void {
    if ((this.#tick - this.#leadingSinceTick) % this.#pingEveryTicks === 0) {
      for (const [id, l] of this.#learners) if (l.syncing) this.#send(id, { type: "PING", sessions: NO_SESSIONS });
    }
    // A learner still syncing has initLimit, as ZooKeeper's LearnerHandler gives it: one
    // that takes a streamed SNAP says nothing until the image is in.
    for (const [id, l] of this.#learners) {
      const limit = this.#established && l.synced ? this.cfg.syncLimitTicks : this.cfg.initLimitTicks;
      if (this.#tick - l.lastHeardTick > limit) this.#learners.delete(id);
    }
    if (!this.#established && this.#tick - this.#leadingSinceTick > this.cfg.initLimitTicks) {
      this.#goLooking();
      return;
    }
    this.#checkLeaderQuorum();
  }

  /** A leader that no longer hears a quorum steps down and stops accepting writes. */
  #checkLeaderQuorum(): void {
    if (!this.#established) return;
    const live = [this.cfg.myId];
    for (const [id, l] of this.#learners) if (l.role === "participant" && l.synced) live.push(id);
    if (!this.#isQuorum(live)) this.#goLooking();
  }

  // ---- following and observing ----------------------------------------------------------

  #becomeLearner(leader: bigint): void {
    this.state = this.#learnerRole() === "observer" ? PeerState.OBSERVING : PeerState.FOLLOWING;
    this.leader = leader;
    this.serving = false;
    this.phase = "DISCOVERY";
    this.#lastHeardTick = this.#tick;
    this.#newLeaderAcked = false;
    this.#snapSynced = false;
    this.#snapStreaming = false;
    this.#leaderInfoSeen = false;
    this.#emitState();
    this.#send(leader, { type: "FOLLOWERINFO", acceptedEpoch: this.acceptedEpoch, role: this.#learnerRole() });
  }

  #stepLearning(msg: ZabMsg): void {
    // Only what a leader sends proves it leads; a "leader" that sends learner messages
    // is following someone else (both picked each other): let the timeout run.
    if (msg.type === "FOLLOWERINFO" || msg.type === "ACKEPOCH" || msg.type === "ACK" || msg.type === "REQUEST") return;
    this.#lastHeardTick = this.#tick;
    // Until its sync starts (DIFF, TRUNC or SNAP), a learner takes no broadcast: what the
    // leader sends meanwhile belongs to an earlier session it still thinks we are in.
    // (So is the rest of an image stream of that session: its chunks and its end.)
    if (this.phase === "DISCOVERY" && (msg.type === "PROPOSAL" || msg.type === "COMMIT" || msg.type === "INFORM" || msg.type === "NEWLEADER" || msg.type === "UPTODATE" || msg.type === "SNAPEND")) return;
    // The leader's transport sends nothing to a learner between SNAP and SNAPEND but the
    // image: anything else means the stream was cut short; start over.
    if (this.#snapStreaming && msg.type !== "SNAPCHUNK" && msg.type !== "SNAPEND") {
      this.#goLooking();
      return;
    }
    switch (msg.type) {
      case "LEADERINFO":
        this.#onLeaderInfo(msg.newEpoch);
        return;
      case "DIFF":
        this.phase = "SYNCHRONIZATION";
        return;
      case "TRUNC":
        this.phase = "SYNCHRONIZATION";
        this.#truncate(msg.zxid);
        return;
      case "SNAP":
        // The image streams in (the driver assembles it); it is taken at SNAPEND.
        this.phase = "SYNCHRONIZATION";
        this.#snapStreaming = true;
        return;
      case "SNAPCHUNK":
        return; // the driver's: hearing it is what counts here (#lastHeardTick)
      case "SNAPEND":
        if (!this.#snapStreaming) {
          this.#goLooking();
          return;
        }
        this.#snapStreaming = false;
        this.#snapSynced = true;
        this.#ready.persist.snapshot = { zxid: msg.zxid };
        this.#ready.persist.append = [];
        this.lastLogged = msg.zxid;
        this.lastCommitted = msg.zxid;
        this.#log = [];
        this.#logBase = msg.zxid;
        // The image's configuration is the driver's to read (adoptConfig).
        this.#reconfigs.clear();
        this.#pending = undefined;
        return;
      case "PROPOSAL":
        this.#onProposal(msg.zxid, msg.data);
        return;
      case "COMMIT":
        this.#commitLearned(msg.zxid);
        return;
      case "INFORM":
        if (msg.zxid > this.lastLogged) this.#onProposal(msg.zxid, msg.data);
        this.#commitLearned(msg.zxid);
        return;
      case "NEWLEADER":
        this.currentEpoch = msg.epoch;
        this.#ready.persist.currentEpoch = msg.epoch;
        this.#newLeaderAcked = true;
        this.#sendAfter(this.leader!, { type: "ACK", zxid: msg.zxid });
        return;
      case "UPTODATE":
        this.phase = "BROADCAST";
        this.serving = true;
        this.#emitState();
        return;
      case "PING":
        this.#ready.delivered.push({ from: this.leader!, msg });
        return;
      default:
        return;
    }
  }

  #onLeaderInfo(newEpoch: number): void {
    this.#leaderInfoSeen = true;
    if (newEpoch < this.acceptedEpoch) {
      this.#goLooking();
      return;
    }
    const ack: ZabMsg = { type: "ACKEPOCH", currentEpoch: this.currentEpoch, lastZxid: this.lastLogged };
    if (newEpoch > this.acceptedEpoch) {
      this.acceptedEpoch = newEpoch;
      this.#ready.persist.acceptedEpoch = newEpoch;
      this.#sendAfter(this.leader!, ack);
    } else this.#send(this.leader!, ack);
  }

  #onProposal(zxid: bigint, data: Uint8Array): void {
    // After a SNAP, the image may already hold the first proposals of the sync.
    if (zxid <= this.lastLogged && this.#snapSynced && this.phase === "SYNCHRONIZATION") return;
    // A repeated proposal, or one that skips some of its epoch's: never log out of order
    // or with a hole (ZOOKEEPER-4925); start over and sync.
    if (zxid <= this.lastLogged || (epochOf(asZxid(zxid)) === epochOf(asZxid(this.lastLogged)) && zxid !== this.lastLogged + 1n)) {
      this.#goLooking();
      return;
    }
    this.#appendLocal({ zxid, data });
    if (this.#newLeaderAcked && this.state === PeerState.FOLLOWING) this.#ackLogged(zxid);
  }

  #commitLearned(zxid: bigint): void {
    const version = this.#config.version;
    for (let i = this.#firstUncommitted(); i < this.#log.length; i++) {
      const p = this.#log[i]!;
      if (p.zxid > zxid) break;
      this.lastCommitted = p.zxid;
      this.#ready.commit.push(p);
      this.#committed(p);
    }
    this.#trimLog();
    if (this.#config.version !== version) this.#afterActivation();
  }

  /**
   * ACKs `zxid` once it is logged. ACKs are cumulative (see #onAck): when the last message
   * this batch sends the leader after persisting is already a proposal ACK, it is raised to
   * `zxid` instead of adding another (NEWLEADER's ACK, of counter 0, is never merged).
   */
  #ackLogged(zxid: bigint): void {
    const after = this.#ready.sendAfterPersist;
    const last = after[after.length - 1];
    if (last !== undefined && last.to === this.leader && last.msg.type === "ACK" && (last.msg.zxid & 0xffff_ffffn) !== 0n) {
      last.msg.zxid = zxid;
      return;
    }
    this.#sendAfter(this.leader!, { type: "ACK", zxid });
  }

  #truncate(zxid: bigint): void {
    this.#ready.persist.truncateTo = zxid;
    this.#ready.persist.append = this.#ready.persist.append.filter((p) => p.zxid <= zxid);
    this.#log = this.#log.filter((p) => p.zxid <= zxid);
    for (const z of [...this.#reconfigs.keys()]) if (z > zxid) this.#reconfigs.delete(z);
    if (this.#pending !== undefined && this.#pending.version > zxid) this.#pending = undefined;
    this.lastLogged = zxid;
    if (this.lastCommitted > zxid) this.lastCommitted = zxid;
  }

  #tickLearning(): void {
    // FOLLOWERINFO may have reached the leader before it was leading: say it again, until
    // it answers (after that a FOLLOWERINFO tells the leader this is a new session).
    if (this.phase === "DISCOVERY" && !this.#leaderInfoSeen && this.leader !== undefined) {
      this.#send(this.leader, { type: "FOLLOWERINFO", acceptedEpoch: this.acceptedEpoch, role: this.#learnerRole() });
    }
    const limit = this.phase === "BROADCAST" ? this.cfg.syncLimitTicks : this.cfg.initLimitTicks;
    if (this.#tick - this.#lastHeardTick > limit) this.#goLooking();
  }

  // ---- shared ----------------------------------------------------------------------------

  #appendLocal(p: Proposal): void {
    this.#log.push(p);
    this.#ready.persist.append.push(p);
    this.lastLogged = p.zxid;
    this.#noteReconfig(p);
  }

  /** Index in #log of the first proposal after lastCommitted (#log is in zxid order). */
  #firstUncommitted(): number {
    const log = this.#log;
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
  #trimLog(): void {
    const max = this.cfg.committedLogMax;
    const drop = this.#firstUncommitted() - max;
    if (drop <= 0 || drop < Math.ceil(max / 4)) return;
    this.#logBase = this.#log[drop - 1]!.zxid;
    this.#log.splice(0, drop);
  }

  /** Per destination, messages leave in the order they were made: once something for `to`
   * waits for the persist, so does everything after it in this batch. */
  #send(to: bigint, msg: ZabMsg): void {
    if (this.#afterPersistTo.has(to)) this.#ready.sendAfterPersist.push({ to, msg });
    else this.#ready.sendNow.push({ to, msg } satisfies Outgoing);
  }

  #sendAfter(to: bigint, msg: ZabMsg): void {
    this.#afterPersistTo.add(to);
    this.#ready.sendAfterPersist.push({ to, msg });
  }
}

