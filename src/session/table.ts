// The session table (ZOOKEEPER.md §1.8): which sessions exist, their negotiated timeout
// and password, and when each expires. Expiry uses ZooKeeper's bucketed scheme: a
// session's deadline is rounded up to the next tick boundary, so one check per tick
// finds every session due. Sessions enter and leave the table only by applied txns
// (createSession, closeSession) so that every replica has the same table; touching and
// expiry are local to the server that owns expiry. No I/O and no clock: callers pass ms.
//
// "Heard from": a learner tells the leader which of its sessions it heard from (any packet
// of the client, pings included) since its last report, and the leader touches only
// those (ZooKeeper's LearnerSessionTracker touch table): a client behind an open but
// silent connection expires on time. A touch sets the session's `heard` bit and, the first
// time since the last report, puts the session in a list; drainHeard() walks that list and
// clears the bits. Nothing is allocated per packet: the list's slots are reused report
// after report. The leader never drains its own list; sessions removed while listed are
// compacted away once they are many, so the list never holds more than about twice the
// live sessions.

import { assert, type SessionId } from "../util/index.js";

export interface Session {
  readonly id: SessionId;
  readonly timeoutMs: number;
  /** Tick-rounded deadline; sessions past it are expired by the owner of expiry. */
  expiresAtMs: number;
  /** A closeSession txn for it is in flight: no new requests are accepted. */
  closing: boolean;
  /** Touched since the last drainHeard() (then it is in the heard list once). */
  heard: boolean;
}

export interface SessionTableOptions {
  tickMs: number;
  /** Password for a session id (the server wires an HMAC with its secret). */
  passwordFor: (id: SessionId) => Buffer;
}

export class SessionTable {
  readonly #tickMs: number;
  readonly #passwordFor: (id: SessionId) => Buffer;
  readonly #sessions = new Map<SessionId, Session>();
  /** Expiry buckets: deadline (a multiple of tickMs) -> sessions due then. */
  readonly #buckets = new Map<number, Set<SessionId>>();
  /** Sessions heard from since the last drainHeard(): slots [0, #heardCount) are in use. */
  readonly #heard: Session[] = [];
  #heardCount = 0;
  /** Listed sessions that were removed since: compacted away when they pile up. */
  #heardRemoved = 0;

  constructor(opts: SessionTableOptions) {
    assert(opts.tickMs > 0, "tickMs must be positive");
    this.#tickMs = opts.tickMs;
    this.#passwordFor = opts.passwordFor;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: SessionId): Session | undefined {
    return this.#sessions.get(id);
  }

  all(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  passwordFor(id: SessionId): Buffer {
    return this.#passwordFor(id);
  }

  checkPassword(id: SessionId, passwd: Buffer): boolean {
    const want = this.#passwordFor(id);
    return want.length === passwd.length && want.equals(passwd);
  }

  /** Adds a session (applying createSession); its first deadline counts from nowMs. */
  add(id: SessionId, timeoutMs: number, nowMs: number): Session {
    const existing = this.#sessions.get(id);
    if (existing !== undefined) return existing;
    const s: Session = { id, timeoutMs, expiresAtMs: 0, closing: false, heard: false };
    this.#sessions.set(id, s);
    // Applying a createSession is no news of the client: the server it connected to
    // hears from it (its handshake touches the session there).
    this.touch(id, nowMs, false);
    return s;
  }

  /** Removes a session (applying closeSession). */
  remove(id: SessionId): void {
    const s = this.#sessions.get(id);
    if (s === undefined) return;
    this.#buckets.get(s.expiresAtMs)?.delete(id);
    this.#sessions.delete(id);
    if (s.heard) {
      s.heard = false;
      this.#heardRemoved++;
      if (this.#heardRemoved > HEARD_COMPACT_MIN && this.#heardRemoved * 2 > this.#heardCount) this.#compactHeard();
    }
  }

  /**
   * Extends a live session's deadline; false if it is unknown or closing. `heard`: the
   * touch is news of the client (a packet from it), to be reported to the leader; the
   * leader's touches on a learner's report pass false.
   */
  touch(id: SessionId, nowMs: number, heard = true): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) return false;
    if (heard && !s.heard) {
      s.heard = true;
      this.#heard[this.#heardCount++] = s;
    }
    const deadline = this.#roundUp(nowMs + s.timeoutMs);
    if (deadline === s.expiresAtMs) return true;
    const old = this.#buckets.get(s.expiresAtMs);
    old?.delete(id);
    if (old?.size === 0) this.#buckets.delete(s.expiresAtMs);
    s.expiresAtMs = deadline;
    let bucket = this.#buckets.get(deadline);
    if (bucket === undefined) this.#buckets.set(deadline, (bucket = new Set()));
    bucket.add(id);
    return true;
  }

  /** Marks a session as closing; returns false if it was already closing or unknown. */
  markClosing(id: SessionId): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) return false;
    s.closing = true;
    return true;
  }

  /**
   * Every session marked closing is live again, with a full timeout from nowMs. For when the
   * closeSession txns behind those marks were abandoned (a leader stepping down): a session
   * is gone only once its closeSession is applied, and a mark left behind would keep it from
   * ever expiring again (ZooKeeper's new leader likewise rebuilds its session tracker from the
   * database). Returns how many were reopened.
   */
  reopenClosing(nowMs: number): number {
    let n = 0;
    for (const s of this.#sessions.values()) {
      if (!s.closing) continue;
      s.closing = false;
      // expired() dropped its bucket: force the touch to file it again.
      this.#buckets.get(s.expiresAtMs)?.delete(s.id);
      s.expiresAtMs = 0;
      this.touch(s.id, nowMs, false);
      n++;
    }
    return n;
  }

  /** Sessions whose deadline has passed at nowMs and that are not yet closing, oldest first. */
  expired(nowMs: number): SessionId[] {
    const out: SessionId[] = [];
    const due = [...this.#buckets.keys()].filter((t) => t <= nowMs).sort((a, b) => a - b);
    for (const t of due) {
      for (const id of this.#buckets.get(t)!) if (!this.#sessions.get(id)!.closing) out.push(id);
      this.#buckets.delete(t);
    }
    return out;
  }

  /** How many sessions are heard from and not yet reported. */
  get heardCount(): number {
    return this.#heardCount - this.#heardRemoved;
  }

  /**
   * Calls `fn` with every live session heard from since the last drain, once each, and
   * starts the next period; returns how many it reported.
   */
  drainHeard(fn: (id: SessionId) => void): number {
    let n = 0;
    for (let i = 0; i < this.#heardCount; i++) {
      const s = this.#heard[i]!;
      this.#heard[i] = undefined as unknown as Session;
      if (!s.heard || this.#sessions.get(s.id) !== s) continue;
      s.heard = false;
      if (s.closing) continue;
      fn(s.id);
      n++;
    }
    this.#heardCount = 0;
    this.#heardRemoved = 0;
    return n;
  }

  #compactHeard(): void {
    let j = 0;
    for (let i = 0; i < this.#heardCount; i++) {
      const s = this.#heard[i]!;
      if (s.heard && this.#sessions.get(s.id) === s) this.#heard[j++] = s;
    }
    for (let i = j; i < this.#heardCount; i++) this.#heard[i] = undefined as unknown as Session;
    this.#heardCount = j;
    this.#heardRemoved = 0;
  }

  #roundUp(ms: number): number {
    return (Math.floor(ms / this.#tickMs) + 1) * this.#tickMs;
  }
}

/** Removed sessions the heard list may hold before it is compacted. */
const HEARD_COMPACT_MIN = 1024;
