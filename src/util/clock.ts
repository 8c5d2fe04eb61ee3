// Time and randomness come in through these interfaces (DESIGN.md "Determinism and
// time"): production wires the real ones in src/server, tests wire fakes.

export interface Clock {
  /** Wall-clock milliseconds since the epoch (ctime/mtime of znodes). */
  nowMs(): number;
  /** Monotonic milliseconds, for timeouts. */
  monotonicMs(): number;
}

export interface Prng {
  /** A uniformly random integer in [0, bound). */
  nextInt(bound: number): number;
  /** Fill `out` with random bytes. */
  fill(out: Uint8Array): void;
}

/** A seeded PRNG (xoshiro128**): deterministic, for tests and simulations. */
export class SeededPrng implements Prng {
  #s: Uint32Array;

  constructor(seed: number) {
    this.#s = new Uint32Array(4);
    let x = seed >>> 0 || 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      // splitmix32 to spread the seed over the state
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  next32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  nextInt(bound: number): number {
    return Math.floor((this.next32() / 0x1_0000_0000) * bound);
  }

  fill(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.next32() & 0xff;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  #wallMs: number;
  #monoMs = 0;

  constructor(startWallMs = 1_700_000_000_000) {
    this.#wallMs = startWallMs;
  }

  nowMs(): number {
    return this.#wallMs;
  }

  monotonicMs(): number {
    return this.#monoMs;
  }

  advance(ms: number): void {
    this.#wallMs += ms;
    this.#monoMs += ms;
  }
}
