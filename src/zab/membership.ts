// Configurations as ZAB's quorums see them (ZooKeeper's QuorumVerifier, majority only):
// the committed configuration, the pending one (a logged reconfig not yet committed) and
// the reconfig txns of the in-memory log. Pure data and quorum arithmetic: no I/O, no
// ready batch; the peer reports an activation to the driver.
//
// While a reconfig is pending, every quorum — election, discovery, NEWLEADER and each
// proposal made meanwhile — needs a majority of the committed configuration AND of the
// pending one (ZooKeeper 3.5's dynamic reconfig). Only voters' acks and votes count.

import { assert } from "../util/index.js";
import type { Member, Proposal, Role } from "./types.js";

/** A configuration as quorums see it. */
export interface Membership {
  /** The zxid of the reconfig that made it; 0 for a static configuration. */
  version: bigint;
  voters: ReadonlySet<bigint>;
  observers: ReadonlySet<bigint>;
}

export function membershipOf(servers: readonly Member[], version: bigint): Membership {
  const m: Membership = {
    version,
    voters: new Set(servers.filter((s) => s.role === "participant").map((s) => s.id)),
    observers: new Set(servers.filter((s) => s.role === "observer").map((s) => s.id)),
  };
  for (const id of m.observers) assert(!m.voters.has(id), "a server is either a participant or an observer");
  return m;
}

/** The servers of `m`, by id. */
export function membersOf(m: Membership): Member[] {
  const all: Member[] = [...m.voters].map((id) => ({ id, role: "participant" }));
  for (const id of m.observers) all.push({ id, role: "observer" });
  return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `ids` (duplicates count once, non-voters not at all) are a majority of `m`'s voters. */
export function majorityOf(m: Membership, ids: Iterable<bigint>): boolean {
  let n = 0;
  for (const id of new Set(ids)) if (m.voters.has(id)) n++;
  return n >= Math.floor(m.voters.size / 2) + 1;
}

/** The committed configuration, the pending one, and the logged reconfigs not yet committed. */
export class Configurations {
  #config: Membership;
  /** The last seen configuration: a logged reconfig not yet committed. */
  #pending: Membership | undefined;
  /** Reconfig txns in the in-memory log, by zxid: what each installs when it commits. */
  readonly #reconfigs = new Map<bigint, Membership>();

  constructor(servers: readonly Member[], version: bigint) {
    this.#config = membershipOf(servers, version);
    assert(this.#config.voters.size > 0, "a configuration needs at least one participant");
  }

  /** The committed configuration. */
  get committed(): Membership {
    return this.#config;
  }

  get pending(): Membership | undefined {
    return this.#pending;
  }

  /** A majority of the committed configuration's participants. */
  get quorumSize(): number {
    return Math.floor(this.#config.voters.size / 2) + 1;
  }

  /** The configurations every quorum must satisfy: the committed one, and a pending one. */
  all(): Membership[] {
    return this.#pending === undefined ? [this.#config] : [this.#config, this.#pending];
  }

  /** `ids` hold a majority of the voters of each configuration in `configs`. */
  isQuorum(ids: Iterable<bigint>, configs: readonly Membership[] = this.all()): boolean {
    const list = [...ids];
    return configs.every((m) => majorityOf(m, list));
  }

  /** A voter of the committed or of the pending configuration. */
  isVoter(id: bigint): boolean {
    return this.#config.voters.has(id) || this.#pending?.voters.has(id) === true;
  }

  /** `id`'s role in the committed configuration, else in the pending one. */
  roleOf(id: bigint): Role | undefined {
    for (const m of [this.#config, this.#pending]) {
      if (m?.voters.has(id) === true) return "participant";
      if (m?.observers.has(id) === true) return "observer";
    }
    return undefined;
  }

  /** How `id` learns: as an observer if configured so, else as a (maybe non-voting) follower. */
  learnerRole(id: bigint): Role {
    return this.roleOf(id) === "observer" ? "observer" : "participant";
  }

  /** `zxid` is a logged reconfig not yet committed. */
  isReconfig(zxid: bigint): boolean {
    return this.#reconfigs.has(zxid);
  }

  /**
   * Remembers a logged txn if it is a reconfig (`servers`, from cfg.reconfigOf): it
   * becomes the pending configuration. A txn already committed is in force already: its
   * configuration is the driver's (adoptConfig).
   */
  noteLogged(p: Proposal, lastCommitted: bigint, servers: readonly Member[] | undefined): void {
    if (p.zxid <= lastCommitted || servers === undefined) return;
    const m = membershipOf(servers, p.zxid);
    this.#reconfigs.set(p.zxid, m);
    this.#pending = m;
  }

  /** A committed txn: the configuration it installs if it is a reconfig (now in force). */
  committedTxn(zxid: bigint): Membership | undefined {
    const m = this.#reconfigs.get(zxid);
    if (m === undefined) return undefined;
    this.#reconfigs.delete(zxid);
    this.activate(m);
    return m;
  }

  /** `m` is now the configuration in force; a pending one it supersedes is dropped. */
  activate(m: Membership): void {
    this.#config = m;
    if (this.#pending !== undefined && this.#pending.version <= m.version) this.#pending = undefined;
  }

  /** The log was truncated to `zxid` (TRUNC): reconfigs after it were never logged. */
  truncateAfter(zxid: bigint): void {
    for (const z of [...this.#reconfigs.keys()]) if (z > zxid) this.#reconfigs.delete(z);
    if (this.#pending !== undefined && this.#pending.version > zxid) this.#pending = undefined;
  }

  /**
   * At start: `m` is the configuration of a reconfig txn found in the log whose commit was
   * never recorded (PersistedState.pendingConfig); it is pending until settled.
   */
  restorePending(m: Membership): void {
    assert(m.version > this.#config.version, "a restored pending configuration is newer than the committed one");
    assert(m.voters.size > 0, "a configuration needs at least one participant");
    this.#pending = m;
  }

  /**
   * The history through `zxid` is committed (a leader established it, or a learner was
   * told UPTODATE after syncing to it): a pending configuration it contains takes effect.
   */
  commitPendingThrough(zxid: bigint): Membership | undefined {
    const m = this.#pending;
    if (m === undefined || m.version > zxid) return undefined;
    this.#reconfigs.delete(m.version);
    this.activate(m);
    return m;
  }

  /** The log was replaced by a snapshot (SNAP): its configuration is the driver's to read. */
  forgetLogged(): void {
    this.#reconfigs.clear();
    this.#pending = undefined;
  }
}
