// ZAB's messages and the ready batch (DESIGN.md, STYLE.md "the core is a state machine").
// Txn payloads are opaque bytes with a zxid. ZooKeeper's state and packet names are kept.

export const PeerState = {
  LOOKING: "LOOKING",
  FOLLOWING: "FOLLOWING",
  LEADING: "LEADING",
  OBSERVING: "OBSERVING",
} as const;
export type PeerState = (typeof PeerState)[keyof typeof PeerState];

/** Zab phases as the `zabstate` admin command names them. */
export type ZabPhase = "ELECTION" | "DISCOVERY" | "SYNCHRONIZATION" | "BROADCAST";

export type Role = "participant" | "observer";

/** One server of a configuration (ZooKeeper's QuorumServer, as far as ZAB cares). */
export interface Member {
  id: bigint;
  role: Role;
}

export interface Vote {
  leader: bigint;
  zxid: bigint;
  peerEpoch: number;
}

export interface Proposal {
  zxid: bigint;
  data: Uint8Array;
}

export type ZabMsg =
  /** configVersion: the version of the sender's committed configuration. */
  | { type: "NOTIFICATION"; state: PeerState; vote: Vote; electionEpoch: number; configVersion: bigint }
  | { type: "FOLLOWERINFO"; acceptedEpoch: number; role: Role }
  | { type: "LEADERINFO"; newEpoch: number }
  | { type: "ACKEPOCH"; currentEpoch: number; lastZxid: bigint }
  | { type: "DIFF"; zxid: bigint }
  | { type: "TRUNC"; zxid: bigint }
  /**
   * SNAP sync: the leader's image is streamed after this header (ZAB decides it at
   * `zxid`, the last committed; the driver's stream starts where its tree is, >= zxid),
   * as SNAPCHUNKs of bounded size, then SNAPEND. Every other message to that learner
   * leaves after SNAPEND (the transport queues them behind the stream).
   */
  | { type: "SNAP"; zxid: bigint }
  /** A piece of the image: opaque here, the driver's format (storage/image.ts). */
  | { type: "SNAPCHUNK"; data: Uint8Array }
  /** The image is complete: it is exactly the leader's tree at `zxid` (>= SNAP's zxid). */
  | { type: "SNAPEND"; zxid: bigint }
  | { type: "PROPOSAL"; zxid: bigint; data: Uint8Array }
  | { type: "COMMIT"; zxid: bigint }
  | { type: "INFORM"; zxid: bigint; data: Uint8Array }
  | { type: "NEWLEADER"; epoch: number; zxid: bigint }
  | { type: "ACK"; zxid: bigint }
  | { type: "UPTODATE" }
  | { type: "PING"; sessions: Uint8Array }
  /** A client request a learner forwards to the leader; opaque to ZAB. */
  | { type: "REQUEST"; data: Uint8Array };

export type ZabMsgType = ZabMsg["type"];

export interface Outgoing {
  to: bigint;
  msg: ZabMsg;
}

/**
 * What the driver must do, in this order: send `sendNow`; persist; apply `commit`; send
 * `sendAfterPersist`. (Its first commitsBeforePersist(r) commits may be applied before
 * the persist: their txns are already durable.)
 */
export interface Ready {
  persist: {
    acceptedEpoch?: number;
    currentEpoch?: number;
    /** Drop every logged txn after this zxid (TRUNC). */
    truncateTo?: bigint;
    /**
     * Replace the tree and the log with the image streamed by SNAP..SNAPEND, which is the
     * leader's tree at `zxid` (the driver received it: ZAB never holds image bytes).
     */
    snapshot?: { zxid: bigint };
    append: Proposal[];
  };
  sendNow: Outgoing[];
  sendAfterPersist: Outgoing[];
  /** Txns now committed, in zxid order, to apply. */
  commit: Proposal[];
  /** Set when the role or serving status changed in this batch. */
  state?: { state: PeerState; leader: bigint | undefined; serving: boolean; epoch: number };
  /** Messages the leader received from learners that the driver handles (REQUEST, PING). */
  delivered: { from: bigint; msg: ZabMsg }[];
  /** Set when a committed reconfig activated a new configuration in this batch. */
  config?: { servers: Member[]; version: bigint };
}

export function emptyReady(): Ready {
  return { persist: { append: [] }, sendNow: [], sendAfterPersist: [], commit: [], delivered: [] };
}

/**
 * How many of `r`'s commits (a prefix: commits and appends are both in zxid order) are of
 * txns that earlier batches persisted, so the driver may apply them before this batch's
 * persist. Only for a batch that just appends: with a snapshot, a truncation or an epoch
 * to write, every commit waits for the persist.
 */
export function commitsBeforePersist(r: Ready): number {
  const p = r.persist;
  if (p.snapshot !== undefined || p.truncateTo !== undefined || p.acceptedEpoch !== undefined || p.currentEpoch !== undefined) return 0;
  const firstNew = p.append[0]?.zxid;
  if (firstNew === undefined) return r.commit.length;
  let n = 0;
  while (n < r.commit.length && r.commit[n]!.zxid < firstNew) n++;
  return n;
}

export function readyIsEmpty(r: Ready): boolean {
  const p = r.persist;
  return (
    p.acceptedEpoch === undefined &&
    p.currentEpoch === undefined &&
    p.truncateTo === undefined &&
    p.snapshot === undefined &&
    p.append.length === 0 &&
    r.sendNow.length === 0 &&
    r.sendAfterPersist.length === 0 &&
    r.commit.length === 0 &&
    r.state === undefined &&
    r.config === undefined &&
    r.delivered.length === 0
  );
}

export interface PeerConfig {
  myId: bigint;
  /**
   * The last committed configuration: every server of the ensemble. This server may be
   * missing from it (a joiner that knows only the ensemble, or a server a reconfig
   * removed): it then follows as a non-voting follower.
   */
  servers: Member[];
  /** The version of `servers`: the zxid of the reconfig txn that made it, 0 for a static config. */
  configVersion?: bigint;
  /**
   * Recognises a reconfig txn among proposals (payloads are opaque here): the membership
   * it installs once committed, or undefined for any other txn. Without it the
   * configuration never changes.
   */
  reconfigOf?: (data: Uint8Array) => Member[] | undefined;
  /** Ticks a learner may take to connect and sync (initLimit). */
  initLimitTicks: number;
  /** Ticks of silence after which leader or learner gives up on the other (syncLimit). */
  syncLimitTicks: number;
  /** Ticks an election waits for better votes once a quorum agrees (finalizeWait). */
  finalizeTicks: number;
  /** Committed txns kept in memory for DIFF syncs (commitLogCount). */
  committedLogMax: number;
  /**
   * The leader pings each learner every this many ticks (default 1); ZooKeeper's leader
   * pings every tickTime/2. A learner answers every ping with the sessions it heard from
   * since its last answer, so this is also the rate of session reports. Less than
   * syncLimitTicks, so a live leader is never taken for a dead one.
   */
  pingEveryTicks?: number;
}

/** What survived on disk, read at start. */
export interface PersistedState {
  acceptedEpoch: number;
  currentEpoch: number;
  /** The last logged zxid. */
  lastZxid: bigint;
  /** The last zxid known committed (applied to the tree). */
  lastCommitted: bigint;
  /** The most recent logged proposals (for DIFF), oldest first. */
  recent: Proposal[];
  /**
   * A configuration found in the log but not known committed: a reconfig txn this member
   * logged (and replayed at start) whose commit it never recorded. It is the last seen
   * (pending) configuration until the leader's sync settles it: committed with the new
   * leader's history (its version is at most the synced zxid), cut by TRUNC, or replaced
   * by a SNAP image's. Its version is above cfg.configVersion, at most lastZxid.
   */
  pendingConfig?: { servers: Member[]; version: bigint };
}
