// Fast leader election (ZooKeeper's FastLeaderElection) as plain state over the peer's
// core: votes compared by peerEpoch, zxid, then server id; a logical clock
// (electionEpoch) per round; notification backoff. No I/O: notifications go into the
// core's ready batch. It never changes the peer's role itself: `onLookingNotification`
// and `tick` return the vote decided on, and the peer takes the role it names.
//
// Only voters of the committed configuration are candidates (#candidate); a pending
// reconfig's voters vote, but are voted for only once it commits. A round ends when a
// quorum (of each configuration in force: see membership.ts) agrees on one vote and
// either every voter has voted alike or finalizeTicks passed without a better vote; or,
// for a server that rejoins, when a quorum of servers out of election names one leader
// that itself says it leads.

import { assert } from "../util/index.js";
import type { PeerCore } from "./core.js";
import { PeerState, type Vote } from "./types.js";

interface Recorded {
  vote: Vote;
  electionEpoch: number;
  state: PeerState;
}

/** The notification backoff's ceiling, in ticks (FastLeaderElection's maxNotificationInterval). */
const NOTIFY_BACKOFF_TICKS_MAX = 16;

/** No vote: what a non-voter proposes, and what has been decided before any round ends. */
const NO_VOTE: Vote = { leader: -1n, zxid: -1n, peerEpoch: -1 };

/** `a` is a better vote than `b`: higher peerEpoch, then zxid, then server id. */
export function betterVote(a: Vote, b: Vote): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}

export class Election {
  readonly #core: PeerCore;
  /** The logical clock: the round this server is in (or decided in). */
  electionEpoch = 0;
  #proposed: Vote = NO_VOTE;
  /** Votes of this round from LOOKING voters (and from decided voters of this round). */
  readonly #recv = new Map<bigint, Vote>();
  /** What servers that already decided (FOLLOWING, LEADING) told us. */
  readonly #outOfElection = new Map<bigint, Recorded>();
  #finalizeAt: number | undefined;
  #nextNotifyTick = 0;
  #notifyBackoff = 1;
  /** The vote this server last decided on, which it reports while not LOOKING. */
  #decidedVote: Vote = NO_VOTE;
  /** Per server outside our configuration: what we last answered it, and when (tick). */
  readonly #answered = new Map<bigint, { what: string; tick: number }>();

  constructor(core: PeerCore) {
    this.#core = core;
  }

  /** A new round: vote for ourselves (a voter) and tell everyone. */
  start(): void {
    const core = this.#core;
    assert(core.state === PeerState.LOOKING, "an election runs only while LOOKING");
    this.electionEpoch++;
    const candidate = this.#candidate(core.cfg.myId);
    this.#proposed = candidate ? this.#selfVote() : NO_VOTE;
    this.#recv.clear();
    this.#outOfElection.clear();
    this.#finalizeAt = undefined;
    if (candidate) this.#recv.set(core.cfg.myId, this.#proposed);
    this.#notifyBackoff = 1;
    this.#broadcastNotification();
    // A one-voter ensemble agrees with itself.
    if (candidate && this.#hasQuorum(this.#recv, this.#proposed)) this.#finalizeAt = core.tick;
  }

  /** The round ended on `vote`: remember it (it is what we report from now on) and forget the round. */
  decided(vote: Vote): void {
    this.#decidedVote = vote;
    this.#finalizeAt = undefined;
    this.#recv.clear();
    this.#outOfElection.clear();
  }

  /** Tells `to` our vote: the proposed one while LOOKING, else the one decided on. */
  sendNotification(to: bigint): void {
    // Once decided, a server reports the vote it decided on, so that a rejoining server
    // sees a quorum agree on one vote and follows its leader.
    const core = this.#core;
    const vote = core.state === PeerState.LOOKING ? this.#proposed : this.#decidedVote;
    core.send(to, { type: "NOTIFICATION", state: core.state, vote, electionEpoch: this.electionEpoch, configVersion: core.configs.committed.version });
  }

  /** LOOKING: a notification from `from`; the vote decided on, if this ends the round. */
  onLookingNotification(from: bigint, state: PeerState, vote: Vote, electionEpoch: number, configVersion: bigint): Vote | undefined {
    const core = this.#core;
    assert(core.state === PeerState.LOOKING, "votes are counted only while LOOKING");
    const configs = core.configs;
    // A voter's committed configuration is the reconfig our log holds pending: that reconfig
    // was committed (a zxid names one txn), so it is in force here too, and a new round
    // starts under it, as ZooKeeper restarts its election when a notification brings a
    // newer configuration. Else a member still counting the old configuration keeps
    // preferring a server the reconfig removed, which the members that saw the commit
    // cannot elect: no round ever ends (driver simulator seed 36986).
    if (configVersion > configs.committed.version && configs.pending?.version === configVersion && configs.isVoter(from)) {
      core.activatePendingThrough(configVersion);
      this.start();
    }
    const myId = core.cfg.myId;
    const fromVoter = configs.isVoter(from);
    if (state === PeerState.LOOKING) {
      // As FastLeaderElection: only voters' votes take part, and only votes for a
      // candidate (#candidate). A server outside our configuration still hears our vote in
      // answer: our broadcasts never reach it, and it may be a voter of a newer
      // configuration we missed, which needs our vote to make its quorum (driver
      // simulator seed 7390).
      if (!fromVoter) {
        this.#answerNonVoter(from, electionEpoch);
        return undefined;
      }
      if (!configs.isVoter(myId)) {
        // A voter whose committed configuration is newer than ours may count us among its
        // voters (a reconfig we missed made us one), and its quorum may need our vote: we
        // take up its vote when it is better than ours (it always is: a non-voter proposes
        // none). Safe either way: voting for a server is never unsafe for the voter, and
        // servers that do not count us as a voter ignore our vote (driver simulator seed
        // 448: a member that missed "add 2" voted for no one, and the others' pending
        // "remove 1" needed 2's vote: no leader, for good).
        if (configVersion <= configs.committed.version) return undefined;
        return this.#onLookingVote(from, vote, electionEpoch);
      }
      // A voter whose committed configuration is newer than ours knows better who may
      // lead: its candidate is ours too (we missed that reconfig; the sync will bring it).
      // Else a member that missed a reconfig never agrees with those that did (driver
      // simulator seed 10709: 4 made a participant, 2 not told, 2 ignoring votes for 4).
      // A vote for someone we cannot elect still tells us the sender's round: it counts as
      // no vote, so a later round still moves us (seed 11090: a member that ignored such
      // notifications stayed in round 1 while the others, in round 12, ignored its votes).
      const electable = this.#candidate(vote.leader) || configVersion > configs.committed.version;
      return this.#onLookingVote(from, electable ? vote : NO_VOTE, electionEpoch);
    }
    // `from` has already decided: FOLLOWING or LEADING. A leader outside our
    // configuration (one a reconfig we missed added) is still heard: who agrees on it
    // is counted among our voters only.
    if (fromVoter && electionEpoch === this.electionEpoch && configs.isVoter(myId)) {
      this.#recv.set(from, vote);
      if (this.#hasQuorum(this.#recv, vote) && this.#checkLeader(vote.leader, electionEpoch)) return vote;
    }
    // Servers out of election agree when they name the same leader (as ZooKeeper's Vote
    // equality for non-LOOKING states): rounds and zxids differ between those who joined
    // at different times. Following is safe either way: discovery and sync decide. So a
    // quorum of the committed configuration, this server counted in, is enough: its
    // configuration may come from a reconfig only it logged (pending, or replayed into its
    // tree at restart), which the leader's sync will truncate; counting only the others,
    // or the pending configuration too, it would wait for ever for voters that follow
    // someone else (driver simulator seeds 12 and 92).
    this.#outOfElection.set(from, { vote, electionEpoch, state });
    const agreeing: bigint[] = [myId];
    for (const [id, r] of this.#outOfElection) if (r.vote.leader === vote.leader) agreeing.push(id);
    const leaderSays = this.#outOfElection.get(vote.leader);
    if (!configs.isQuorum(agreeing, [configs.committed]) || vote.leader === myId) return undefined;
    if (leaderSays?.state === PeerState.LEADING) {
      this.electionEpoch = leaderSays.electionEpoch;
      return leaderSays.vote;
    }
    // A leader our configuration does not list is never notified by our broadcasts: ask
    // it, so that it answers with its state (driver simulator seed 10077). Ask again while
    // what it last told us is not that it leads: that may be old news from before it won
    // (seeds 8598, 16337: an observer that missed reconfigs had heard the new leader
    // FOLLOWING in an earlier round and, never asking again, stayed LOOKING for good).
    // Each ask answers a notification from a server out of election, and those only
    // answer ours, which back off: no storm.
    this.sendNotification(vote.leader);
    return undefined;
  }

  /** LOOKING: a tick; the vote decided on if finalizeWait ran out with a quorum agreeing. */
  tick(): Vote | undefined {
    const core = this.#core;
    assert(core.state === PeerState.LOOKING, "the election ticks only while LOOKING");
    if (this.#finalizeAt !== undefined && core.tick >= this.#finalizeAt && this.#hasQuorum(this.#recv, this.#proposed)) {
      return this.#proposed;
    }
    if (core.tick >= this.#nextNotifyTick) this.#broadcastNotification();
    return undefined;
  }

  /**
   * Who may be voted leader: a voter of the committed configuration only, not one that
   * only a pending reconfig adds. Every server that knows the committed configuration
   * agrees on that set, while only those that logged the reconfig know the pending one:
   * votes for a server only some accept split the round for good (driver simulator seeds
   * 12018, 12048: the proposer of an uncommitted reconfig voted for the server it adds,
   * which the others, never having seen the reconfig, ignore). It is also what keeps FLE
   * sound: each voter of the committed configuration is a candidate and only ever moves
   * to a better vote, so the leader is at least as up to date as a majority of it, and
   * so holds every txn committed under it (a txn committed while a reconfig was pending
   * had that majority too).
   */
  #candidate(id: bigint): boolean {
    return this.#core.configs.committed.voters.has(id);
  }

  /**
   * Answers a looking server outside our configuration with our vote, once per change of
   * its round, ours or our vote, and else at most every NOTIFY_BACKOFF_TICKS_MAX ticks (a
   * lost answer is made good): two servers outside each other's configurations would
   * otherwise answer each other for ever (driver simulator seed 634).
   */
  #answerNonVoter(from: bigint, theirRound: number): void {
    const core = this.#core;
    const v = this.#proposed;
    const what = `${theirRound}/${this.electionEpoch}/${v.leader}/${v.zxid}/${v.peerEpoch}`;
    const last = this.#answered.get(from);
    if (last !== undefined && last.what === what && core.tick - last.tick < NOTIFY_BACKOFF_TICKS_MAX) return;
    this.#answered.set(from, { what, tick: core.tick });
    this.sendNotification(from);
  }

  #selfVote(): Vote {
    const core = this.#core;
    return { leader: core.cfg.myId, zxid: core.lastLogged, peerEpoch: core.currentEpoch };
  }

  #onLookingVote(from: bigint, vote: Vote, electionEpoch: number): Vote | undefined {
    const core = this.#core;
    if (electionEpoch > this.electionEpoch) {
      this.electionEpoch = electionEpoch;
      this.#recv.clear();
      const self = this.#candidate(core.cfg.myId) ? this.#selfVote() : NO_VOTE;
      this.#proposed = betterVote(vote, self) ? vote : self;
      this.#recv.set(core.cfg.myId, this.#proposed);
      this.#broadcastNotification();
    } else if (electionEpoch < this.electionEpoch) {
      this.sendNotification(from);
      return undefined;
    } else if (betterVote(vote, this.#proposed)) {
      this.#proposed = vote;
      this.#recv.set(core.cfg.myId, vote);
      this.#broadcastNotification();
    }
    this.#recv.set(from, vote);
    if (!this.#hasQuorum(this.#recv, this.#proposed)) {
      this.#finalizeAt = undefined;
      return undefined;
    }
    const everyoneVoted = core.configs.all().every((m) => [...m.voters].every((id) => this.#recv.has(id)));
    if (everyoneVoted && [...this.#recv.values()].every((v) => sameVote(v, this.#proposed))) return this.#proposed;
    this.#finalizeAt ??= core.tick + core.cfg.finalizeTicks;
    return undefined;
  }

  #broadcastNotification(): void {
    const core = this.#core;
    const myId = core.cfg.myId;
    const targets = new Set<bigint>();
    for (const m of core.configs.all()) {
      for (const id of m.voters) targets.add(id);
      if (core.configs.isVoter(myId)) for (const id of m.observers) targets.add(id);
    }
    for (const id of targets) if (id !== myId) this.sendNotification(id);
    this.#nextNotifyTick = core.tick + this.#notifyBackoff;
    this.#notifyBackoff = Math.min(this.#notifyBackoff * 2, NOTIFY_BACKOFF_TICKS_MAX);
  }

  #hasQuorum(votes: Map<bigint, Vote>, vote: Vote): boolean {
    // No vote (a non-candidate's, or one standing in for a vote we cannot elect) is never
    // a decision, however many agree on it.
    if (vote.leader === NO_VOTE.leader) return false;
    const agreeing: bigint[] = [];
    for (const [id, v] of votes) if (sameVote(v, vote)) agreeing.push(id);
    return this.#core.configs.isQuorum(agreeing);
  }

  /** A leader is only followed once it says it leads (or, for ourselves, we agree). */
  #checkLeader(leader: bigint, electionEpoch: number): boolean {
    if (leader === this.#core.cfg.myId) return electionEpoch === this.electionEpoch;
    return this.#outOfElection.get(leader)?.state === PeerState.LEADING;
  }
}
