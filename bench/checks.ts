// Correctness while measuring. A fast run that breaks a recipe's promise is a failed
// run: each check records a violation, the case stops at once, and the harness exits
// non-zero whatever the numbers were.
// - LockTable: no two write holders at once, no reader beside a writer, and fencing
//   tokens that only grow (a writer's token exceeds every token granted before it on
//   that lock; a reader's exceeds the last writer's).
// - DeliveryLedger: every item produced is delivered exactly once (FIFO queue) or at
//   least once (job queue), or is still in the queue when the run ends.

export class CorrectnessViolation extends Error {
  override name = "CorrectnessViolation";
}

/** Collects violations; the first one also aborts the case (via `onViolation`). */
export class ViolationLog {
  readonly messages: string[] = [];
  readonly #onViolation: (message: string) => void;

  constructor(onViolation: (message: string) => void) {
    this.#onViolation = onViolation;
  }

  /** Records the violation and returns an error to throw from where it was seen. */
  add(message: string): CorrectnessViolation {
    if (this.messages.length < 20) this.messages.push(message);
    this.#onViolation(message);
    return new CorrectnessViolation(message);
  }
}

interface LockState {
  writers: Set<string>;
  readers: Set<string>;
  maxToken: bigint;
  lastWriteToken: bigint;
  grants: number;
}

export class LockTable {
  readonly #locks = new Map<string, LockState>();
  readonly #log: ViolationLog;

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  #state(path: string): LockState {
    let s = this.#locks.get(path);
    if (s === undefined) this.#locks.set(path, (s = { writers: new Set(), readers: new Set(), maxToken: -1n, lastWriteToken: -1n, grants: 0 }));
    return s;
  }

  /** Call as soon as a grant arrives; throws (and records) on a violation. */
  acquired(path: string, mode: "read" | "write", token: bigint, holder: string): void {
    const s = this.#state(path);
    s.grants++;
    if (mode === "write") {
      if (s.writers.size > 0 || s.readers.size > 0) {
        throw this.#log.add(`mutual exclusion broken on ${path}: ${holder} got the write lock while ${[...s.writers, ...s.readers].join(", ")} held it`);
      }
      if (token <= s.maxToken) throw this.#log.add(`fencing token went backwards on ${path}: write grant to ${holder} with token ${token} <= ${s.maxToken}`);
      s.writers.add(holder);
      s.lastWriteToken = token;
    } else {
      if (s.writers.size > 0) throw this.#log.add(`reader ${holder} granted beside writer ${[...s.writers].join(", ")} on ${path}`);
      if (token <= s.lastWriteToken) throw this.#log.add(`fencing token went backwards on ${path}: read grant to ${holder} with token ${token} <= last writer's ${s.lastWriteToken}`);
      s.readers.add(holder);
    }
    if (token > s.maxToken) s.maxToken = token;
  }

  /** Still the holder(s) we think? Called at the end of the critical section. */
  check(path: string, mode: "read" | "write", holder: string): void {
    const s = this.#state(path);
    if (mode === "write" && (s.writers.size !== 1 || s.readers.size !== 0)) {
      throw this.#log.add(`mutual exclusion broken on ${path}: ${holder} shared its write lock with ${[...s.writers, ...s.readers].filter((h) => h !== holder).join(", ")}`);
    }
    if (mode === "read" && s.writers.size !== 0) throw this.#log.add(`reader ${holder} shared ${path} with writer ${[...s.writers].join(", ")}`);
  }

  /** Call before sending the release, so the next grant can only come after it. */
  released(path: string, mode: "read" | "write", holder: string): void {
    const s = this.#state(path);
    (mode === "write" ? s.writers : s.readers).delete(holder);
  }

  get grants(): number {
    let n = 0;
    for (const s of this.#locks.values()) n += s.grants;
    return n;
  }
}

export type DeliveryGuarantee = "exactly-once" | "at-least-once";

export class DeliveryLedger {
  readonly #guarantee: DeliveryGuarantee;
  readonly #log: ViolationLog;
  /** Items offered so far (an engine may deliver one before its offer's reply arrives). */
  readonly #offered = new Set<string>();
  /** Items whose offer succeeded. */
  readonly #produced = new Set<string>();
  readonly #delivered = new Map<string, number>();
  redeliveries = 0;

  constructor(guarantee: DeliveryGuarantee, log: ViolationLog) {
    this.#guarantee = guarantee;
    this.#log = log;
  }

  /** Call before sending the offer. */
  offering(id: string): void {
    this.#offered.add(id);
  }

  /** Call when the offer succeeded. */
  produced(id: string): void {
    this.#produced.add(id);
  }

  /** An offer that failed may or may not have landed: it is not counted as produced. */
  offerFailed(id: string): void {
    this.#produced.delete(id);
  }

  delivered(id: string): void {
    const n = (this.#delivered.get(id) ?? 0) + 1;
    this.#delivered.set(id, n);
    if (!this.#offered.has(id)) throw this.#log.add(`delivered an item nobody offered: ${JSON.stringify(id)}`);
    if (n > 1) {
      this.redeliveries++;
      if (this.#guarantee === "exactly-once") throw this.#log.add(`item ${id} delivered ${n} times (FIFO queue promises exactly once)`);
    }
  }

  get outstanding(): number {
    let n = 0;
    for (const id of this.#produced) if (!this.#delivered.has(id)) n++;
    return n;
  }

  get deliveredCount(): number {
    return this.#delivered.size;
  }

  /** At the end: every produced item was delivered or is still queued (`remaining`). */
  finish(remaining: ReadonlySet<string>): void {
    const lost: string[] = [];
    for (const id of this.#produced) if (!this.#delivered.has(id) && !remaining.has(id)) lost.push(id);
    if (lost.length > 0) {
      this.#log.add(`${lost.length} item(s) offered but neither delivered nor left in the queue (${this.#guarantee}): ${lost.slice(0, 5).join(", ")}`);
    }
  }
}
