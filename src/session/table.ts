// The session table (ZOOKEEPER.md §1.8): which sessions exist, their negotiated timeout
// and password, and when each expires. Expiry uses ZooKeeper's bucketed scheme: a
// session's deadline is rounded up to the next tick boundary, so one check per tick
// finds every session due. Sessions enter and leave the table only by applied txns
// (createSession, closeSession) so that every replica has the same table; touching and
// expiry are local to the server that owns expiry. No I/O and no clock: callers pass ms.

import { assert, type SessionId } from "../util/index.js";

export interface Session {
  readonly id: SessionId;
  readonly timeoutMs: number;
  /** Tick-rounded deadline; sessions past it are expired by the owner of expiry. */
  expiresAtMs: number;
  /** A closeSession txn for it is in flight: no new requests are accepted. */
  closing: boolean;
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
    const s: Session = { id, timeoutMs, expiresAtMs: 0, closing: false };
    this.#sessions.set(id, s);
    this.touch(id, nowMs);
    return s;
  }

  /** Removes a session (applying closeSession). */
  remove(id: SessionId): void {
    const s = this.#sessions.get(id);
    if (s === undefined) return;
    this.#buckets.get(s.expiresAtMs)?.delete(id);
    this.#sessions.delete(id);
  }

  /** Extends a live session's deadline; false if it is unknown or closing. */
  touch(id: SessionId, nowMs: number): boolean {
    const s = this.#sessions.get(id);
    if (s === undefined || s.closing) return false;
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

  #roundUp(ms: number): number {
    return (Math.floor(ms / this.#tickMs) + 1) * this.#tickMs;
  }
}
