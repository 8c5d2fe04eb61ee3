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
//   - a commit may be applied before this member persisted the txn (it is durable on a
//     quorum): the driver applies the commits of a batch that only appends and commits
//     at once, ahead of earlier batches' fsyncs, as ZooKeeper's CommitProcessor does; in
//     a batch that persists an epoch, a TRUNC or a SNAP only the commits of txns earlier
//     batches persisted (commitsBeforePersist) go before the persist.
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
//
// Layout: this file is the facade the driver sees. It owns the shared core (core.ts:
// epochs, log, ready batch, send ordering), the election (election.ts), the
// configurations (membership.ts, inside the core) and the current role object — a
// LeaderRole (leader.ts) or a LearnerRole (learner.ts), made fresh for each leadership or
// follow session and stopped when the peer goes looking; none while LOOKING. Only this
// file changes the peer's state (LOOKING -> LEADING | FOLLOWING | OBSERVING -> LOOKING).

import { assert } from "../util/index.js";
import { PeerCore, type RoleHost } from "./core.js";
import { Election } from "./election.js";
import { LeaderRole, type LearnerProgress } from "./leader.js";
import { LearnerRole } from "./learner.js";
import { membersOf, membershipOf } from "./membership.js";
import { PeerState, type Member, type PeerConfig, type PersistedState, type Ready, type Role, type Vote, type ZabMsg, type ZabPhase } from "./types.js";

export { betterVote } from "./election.js";

export class ZabPeer {
  readonly cfg: PeerConfig;
  readonly #pingEveryTicks: number;
  readonly #core: PeerCore;
  readonly #election: Election;
  /** The role of the current leadership or follow session; undefined while LOOKING. */
  #role: LeaderRole | LearnerRole | undefined;
  readonly #host: RoleHost;

  constructor(cfg: PeerConfig, persisted: PersistedState) {
    this.cfg = cfg;
    this.#pingEveryTicks = cfg.pingEveryTicks ?? 1;
    assert(Number.isInteger(this.#pingEveryTicks) && this.#pingEveryTicks >= 1, "pingEveryTicks must be a whole number of ticks");
    assert(this.#pingEveryTicks < cfg.syncLimitTicks, "the leader must ping more often than syncLimit");
    this.#core = new PeerCore(cfg, persisted);
    this.#election = new Election(this.#core);
    this.#host = {
      goLooking: () => this.#goLooking(),
      emitState: () => this.#emitState(),
      afterActivation: () => this.#afterActivation(),
    };
    this.#election.start();
    this.#checkInvariants();
  }

  // ---- state the driver and tests read --------------------------------------------------

  get acceptedEpoch(): number {
    return this.#core.acceptedEpoch;
  }

  get currentEpoch(): number {
    return this.#core.currentEpoch;
  }

  get lastLogged(): bigint {
    return this.#core.lastLogged;
  }

  get lastCommitted(): bigint {
    return this.#core.lastCommitted;
  }

  get state(): PeerState {
    return this.#core.state;
  }

  get leader(): bigint | undefined {
    return this.#core.leader;
  }

  get serving(): boolean {
    return this.#core.serving;
  }

  get phase(): ZabPhase {
    return this.#core.phase;
  }

  get electionEpoch(): number {
    return this.#election.electionEpoch;
  }

  /** A majority of the committed configuration's participants. */
  get quorumSize(): number {
    return this.#core.configs.quorumSize;
  }

  /** The committed configuration and its version. */
  get configVersion(): bigint {
    return this.#core.configs.committed.version;
  }

  members(): Member[] {
    return membersOf(this.#core.configs.committed);
  }

  /** A reconfig is logged but not yet committed (ZooKeeper: lastSeen != current verifier). */
  get reconfigPending(): boolean {
    return this.#core.configs.pending !== undefined;
  }

  /**
   * Leader: whether a majority of `voters` is this leader and its synced followers, as a
   * reconfig to that voter set requires before it is proposed (Leader.isQuorumSynced).
   */
  isQuorumSynced(voters: readonly bigint[]): boolean {
    return this.#role instanceof LeaderRole && this.#role.isQuorumSynced(voters);
  }

  /**
   * The configuration found in a state the driver installed (a SNAP image, or the tree
   * rebuilt after a TRUNC), which this peer did not see committed txn by txn.
   */
  adoptConfig(servers: readonly Member[], version: bigint): void {
    if (version === this.#core.configs.committed.version) return;
    this.#core.activate(membershipOf(servers, version));
    this.#afterActivation();
    this.#checkInvariants();
  }

  get epoch(): number {
    return this.#role instanceof LeaderRole ? this.#role.epoch : this.#core.currentEpoch;
  }

  /** Learners synced with this leader (`zk_synced_followers`). */
  syncedLearners(): { id: bigint; role: Role }[] {
    return this.#role instanceof LeaderRole ? this.#role.syncedLearners() : [];
  }

  pendingSyncs(): number {
    return this.#role instanceof LeaderRole ? this.#role.pendingSyncs() : 0;
  }

  /** Leader: each connected learner's phase, last ack and lag (admin `learners`); else none. */
  learnerProgress(): LearnerProgress[] {
    return this.#role instanceof LeaderRole ? this.#role.learnerProgress() : [];
  }

  outstandingProposals(): number {
    return this.#role instanceof LeaderRole ? this.#role.outstandingProposals() : 0;
  }

  // ---- driver interface ----------------------------------------------------------------

  /** The batch of work accumulated since the last call, or undefined if there is none. */
  ready(): Ready | undefined {
    return this.#core.takeReady();
  }

  /** The driver has done `r`: persisted, applied, sent. */
  advance(r: Ready): void {
    if (this.#role instanceof LeaderRole) this.#role.advance(r);
    this.#checkInvariants();
  }

  tick(): void {
    this.#core.tick++;
    const role = this.#role;
    if (role === undefined) {
      const decided = this.#election.tick();
      if (decided !== undefined) this.#decide(decided);
    } else role.tick();
    this.#checkInvariants();
  }

  step(from: bigint, msg: ZabMsg): void {
    // Servers outside the configuration are heard too: a joiner looks for the leader and
    // syncs with it before the reconfig that adds it, and a removed server stays on as a
    // non-voting follower. Only voters' votes and acks are ever counted.
    const role = this.#role;
    if (msg.type === "NOTIFICATION") this.#onNotification(from, msg.state, msg.vote, msg.electionEpoch, msg.configVersion);
    else if (role instanceof LeaderRole) role.step(from, msg);
    else if (role instanceof LearnerRole) {
      // From anyone but our leader: a leader of an earlier session, or a server that
      // thinks it leads; only our leader's timeouts and the election decide.
      if (from === role.leader) role.step(msg);
    }
    // LOOKING: quorum traffic from an old epoch; the election will sort it out.
    this.#checkInvariants();
  }

  /** The transport to `peer` broke. */
  disconnected(peer: bigint): void {
    const role = this.#role;
    if (role instanceof LearnerRole && peer === role.leader) this.#goLooking();
    else if (role instanceof LeaderRole) role.disconnected(peer);
    this.#checkInvariants();
  }

  /** Leader only: proposes a txn; returns its zxid, or undefined if not serving. */
  propose(makeData: (zxid: bigint) => Uint8Array): bigint | undefined {
    if (!(this.#role instanceof LeaderRole)) return undefined;
    const zxid = this.#role.propose(makeData);
    this.#checkInvariants();
    return zxid;
  }

  /** Leader only: the next zxid it will propose (so prep can stamp txns). */
  nextZxid(): bigint {
    assert(this.#role instanceof LeaderRole, "only a leader proposes");
    return this.#role.nextZxid();
  }

  /** Learner only: sends a message to the leader (REQUEST, PING replies). */
  sendToLeader(msg: ZabMsg): boolean {
    if (!(this.#role instanceof LearnerRole)) return false;
    this.#core.send(this.#role.leader, msg);
    return true;
  }

  // ---- role changes --------------------------------------------------------------------

  #onNotification(from: bigint, state: PeerState, vote: Vote, electionEpoch: number, configVersion: bigint): void {
    const core = this.#core;
    if (core.state !== PeerState.LOOKING) {
      // Our own leader is looking again: it gave up leading, so do we.
      if (state === PeerState.LOOKING && from === core.leader && core.state !== PeerState.LEADING) {
        this.#goLooking();
        return;
      }
      // Tell a looking server who leads (that is how a rejoining server learns it).
      if (state === PeerState.LOOKING) this.#election.sendNotification(from);
      return;
    }
    const decided = this.#election.onLookingNotification(from, state, vote, electionEpoch, configVersion);
    if (decided !== undefined) this.#decide(decided);
  }

  #decide(vote: Vote): void {
    const core = this.#core;
    assert(core.state === PeerState.LOOKING && this.#role === undefined, "a decision ends an election");
    this.#election.decided(vote);
    if (vote.leader === core.cfg.myId) this.#becomeLeader();
    else this.#becomeLearner(vote.leader);
  }

  #becomeLeader(): void {
    const core = this.#core;
    core.state = PeerState.LEADING;
    core.leader = core.cfg.myId;
    core.serving = false;
    core.phase = "DISCOVERY";
    const role = new LeaderRole(core, this.#host, this.#pingEveryTicks);
    this.#role = role;
    this.#emitState();
    role.start();
  }

  #becomeLearner(leader: bigint): void {
    const core = this.#core;
    core.state = core.configs.learnerRole(core.cfg.myId) === "observer" ? PeerState.OBSERVING : PeerState.FOLLOWING;
    core.leader = leader;
    core.serving = false;
    core.phase = "DISCOVERY";
    const role = new LearnerRole(core, this.#host);
    this.#role = role;
    this.#emitState();
    role.start();
  }

  #goLooking(): void {
    const core = this.#core;
    // Roles stop acting once stopped, and the facade goes looking only from a role: a
    // second call would start a second round for one departure.
    assert(core.state !== PeerState.LOOKING && this.#role !== undefined, "LOOKING -> LOOKING is not a transition");
    if (this.#role instanceof LeaderRole) this.#role.stop();
    this.#role = undefined;
    core.state = PeerState.LOOKING;
    core.leader = undefined;
    core.serving = false;
    core.phase = "ELECTION";
    this.#emitState();
    this.#election.start();
  }

  /**
   * After a new configuration: a leader that is no longer a voter steps down (the voters
   * elect a new one); a learner whose role changed, or whose leader left, starts over.
   */
  #afterActivation(): void {
    const core = this.#core;
    const voters = core.configs.committed.voters;
    switch (core.state) {
      case PeerState.LEADING:
        if (!voters.has(core.cfg.myId)) this.#goLooking();
        return;
      case PeerState.FOLLOWING:
      case PeerState.OBSERVING: {
        const wantObserving = core.configs.learnerRole(core.cfg.myId) === "observer";
        const leaderGone = core.leader === undefined || !voters.has(core.leader);
        if (wantObserving !== (core.state === PeerState.OBSERVING) || leaderGone) this.#goLooking();
        return;
      }
      case PeerState.LOOKING:
        return;
    }
  }

  #emitState(): void {
    const core = this.#core;
    core.ready.state = { state: core.state, leader: core.leader, serving: core.serving, epoch: this.epoch };
  }

  /** After every input: the core's invariants, and the role object matches the state. */
  #checkInvariants(): void {
    const core = this.#core;
    core.assertInvariants();
    const role = this.#role;
    switch (core.state) {
      case PeerState.LOOKING:
        assert(role === undefined, "no role object while LOOKING");
        return;
      case PeerState.LEADING:
        assert(role instanceof LeaderRole && core.leader === core.cfg.myId, "a LEADING peer has a LeaderRole and leads itself");
        assert(!core.serving || role.established, "a leader serves only once established");
        return;
      case PeerState.FOLLOWING:
      case PeerState.OBSERVING:
        assert(role instanceof LearnerRole && core.leader === role.leader, "a learner has a LearnerRole for its leader");
        assert(!core.serving || core.phase === "BROADCAST", "a learner serves only in broadcast");
        return;
    }
  }
}
