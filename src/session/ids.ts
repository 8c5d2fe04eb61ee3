// Session ids (ZOOKEEPER.md §1.8), ZooKeeper's layout (SessionTrackerImpl.initializeNextSessionId):
//
//   bit 63..56  the creating server's id (its low byte; standalone: 0)
//   bit 55..16  wall-clock ms at the server's start, modulo 2^40 (the time base)
//   bit 15..0   room for 65,536 sessions per ms of uptime before the counter reaches the
//               next start's base
//
// ZooKeeper takes the time from Time.currentElapsedTime() (System.nanoTime(), whose origin
// is arbitrary, often the boot); Corral takes the wall clock, whose origin is the same
// across restarts and reboots, which is what makes a restart start above its earlier ids.
//
// The first id is the time base and every new session takes the next. Two members never
// hand out the same id (their top bytes differ), and a restarted member starts above the
// ids of its previous run as long as the clock moved forward and that run issued fewer than
// 65,536 ids per ms it was up. The clock may be behind (set back, or another machine's disk
// in the data dir): then ids this server's id byte issued before, that it knows of (in the
// recovered log and snapshot, or applied since), lift the counter above them. Ids carrying
// another server's byte never move the counter: they are that server's to issue, and
// starting above them is how two members came to hand out the same ids.
//
// The counter lives in the low 56 bits. Should it reach the top (the time base wraps every
// 2^40 ms, about 35 years, and a floor close to the top leaves little room), it wraps to 1:
// the ids issued right after a wrap are the oldest ones, decades old. An id whose low 56
// bits are 0 is never issued (session 0 means "no session"; 0x80000000_00000000 is
// ZooKeeper's container marker), and neither is an id the session table still holds.

import { asSessionId, assert, type SessionId } from "../util/index.js";

const COUNTER_BITS = 56n;
const COUNTER_MASK = (1n << COUNTER_BITS) - 1n;
const U64 = 64;

/** The byte a server's session ids carry: the low 8 bits of its id, as ZooKeeper's `id << 56`. */
export function serverByteOf(serverId: bigint): bigint {
  assert(serverId >= 0n, "server ids are not negative");
  return serverId & 0xffn;
}

/** The server byte an id carries (its top byte, read unsigned). */
export function creatorByteOf(id: bigint): bigint {
  return BigInt.asUintN(U64, id) >> COUNTER_BITS;
}

/** The low 56 bits of an id: the counter below the server byte. */
export function counterOf(id: bigint): bigint {
  return BigInt.asUintN(U64, id) & COUNTER_MASK;
}

/** ZooKeeper's first id for a server started at `nowMs`: `((nowMs << 24) >>> 8) | (serverId << 56)`. */
export function initialSessionId(nowMs: number, serverId: bigint): bigint {
  assert(Number.isFinite(nowMs) && nowMs >= 0, "the clock gives ms since the epoch");
  const base = BigInt.asUintN(U64, BigInt(Math.floor(nowMs)) << 24n) >> 8n;
  return compose(serverByteOf(serverId), base);
}

function compose(serverByte: bigint, counter: bigint): bigint {
  return BigInt.asIntN(U64, (serverByte << COUNTER_BITS) | counter);
}

/**
 * Hands out one server's session ids. Not persistent by itself: the time base and the ids
 * the server sees (`observe`) keep a restarted server above its earlier ids.
 */
export class SessionIdGenerator {
  readonly #serverByte: bigint;
  /** The next counter value to try (low 56 bits), in [1, 2^56). */
  #next: bigint;
  #wraps = 0;

  constructor(serverId: bigint, nowMs: number) {
    this.#serverByte = serverByteOf(serverId);
    this.#next = counterOf(initialSessionId(nowMs, serverId));
    if (this.#next === 0n) this.#next = 1n;
  }

  /** Times the counter wrapped from the top of its 56 bits back to 1. */
  get wraps(): number {
    return this.#wraps;
  }

  /** The id next() would try first (for logs and tests). */
  peek(): bigint {
    return compose(this.#serverByte, this.#next);
  }

  /**
   * An id that exists or existed (recovered, or applied from the log): if it carries this
   * server's byte and is at or above the counter, the counter moves past it. Any other
   * server's id is ignored.
   */
  observe(id: bigint): boolean {
    if (creatorByteOf(id) !== this.#serverByte) return false;
    const c = counterOf(id);
    if (c < this.#next) return false;
    this.#next = c + 1n;
    if (this.#next > COUNTER_MASK) this.#wrap();
    return true;
  }

  /** A new id; `inUse` says whether the session table still holds one (never reissued). */
  next(inUse: (id: SessionId) => boolean = () => false): SessionId {
    // Bounded: the table holds far fewer than 2^56 sessions, so a free id is near.
    for (;;) {
      const id = asSessionId(compose(this.#serverByte, this.#next));
      this.#next++;
      if (this.#next > COUNTER_MASK) this.#wrap();
      if (!inUse(id)) return id;
    }
  }

  #wrap(): void {
    this.#next = 1n;
    this.#wraps++;
  }
}
