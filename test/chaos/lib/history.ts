/**
 * The history of one recipe fault run: everything the workloads, the fault injector and
 * the clients' state changes did, each stamped from ONE monotonic clock of the test process
 * (`performance.now()` minus the run's start), so "before" between two events means
 * before as the test process saw it. The checkers (checkers.ts) are pure functions over it.
 *
 * Tokens and session ids are decimal / hex strings so a history is plain JSON (it is
 * written to disk when a run fails).
 */

export type LockMode = "write" | "read";

export type HistoryEvent =
  /** A client call began; `blocking` calls (lock, take, join) may legitimately wait. */
  | { k: "call-start"; t: number; id: number; client: string; op: string; blocking: boolean }
  | { k: "call-end"; t: number; id: number; ok: boolean; err?: string }
  /** A client's connection state changed (the adapter's names: v2 states or old ones). */
  | { k: "conn"; t: number; client: string; session: string; state: string }
  /**
   * The session `session` of `client` is gone or must be treated as gone: LOST/EXPIRED as
   * the client announced it, or killed on purpose by the test (a consumer that "dies").
   */
  | { k: "session-lost"; t: number; client: string; session: string; why: string }
  | { k: "lock-acquired"; t: number; lock: string; holder: string; mode: LockMode; token: string; session: string }
  /** The handle's `lost` fired (AbortSignal) while held. */
  | { k: "lock-lost"; t: number; lock: string; holder: string; token: string; reason: string }
  /** The holder called release (it stops believing it holds at this instant). */
  | { k: "lock-release"; t: number; lock: string; holder: string; token: string }
  /**
   * A write to the fenced register of `lock`, issued by a holder that believed it held the
   * lock (the workload checks `lost` right before); the register's own verdict is
   * `accepted`, but the checker recomputes it from the sequence of writes.
   */
  | { k: "fenced-write"; t: number; lock: string; writer: string; token: string; accepted: boolean }
  /** An offer returned (ok) or failed (then it may or may not be in the queue). */
  | { k: "offer"; t: number; queue: "fifo" | "job"; n: number; ok: boolean }
  /** A consumer received item `n` on session `session`. */
  | { k: "recv"; t: number; queue: "fifo" | "job"; n: number; consumer: string; session: string }
  /**
   * A job's ack returned (ok) or failed; `unknown`: it failed with its outcome unknown (sent,
   * then the connection and the session were lost before the answer): applied or not.
   */
  | { k: "job-ack"; t: number; n: number; consumer: string; ok: boolean; unknown?: boolean }
  /** An election member's belief changed (onLeadershipChange, or its client was replaced). */
  | { k: "lead"; t: number; election: string; member: string; on: boolean }
  | { k: "fault"; t: number; what: string }
  /**
   * After the drain: what is left under a queue node, read by a fresh client. `items` are
   * items still queued; `inflight` taken items whose in-flight node is still there, with
   * the session owning it. (Evidence for a violation's detail: stuck, not lost.)
   */
  | { k: "final-queue"; t: number; queue: "fifo" | "job"; items: number[]; inflight: { n: number; owner: string }[] }
  /**
   * Run phases: "faults" (faults on), "healed" (every fault undone, every member up),
   * "stopped" (workloads told to stop; blocking waits aborted), "end" (history closed).
   */
  | { k: "phase"; t: number; phase: "faults" | "healed" | "stopped" | "end" };

/** Distributes Omit over the union, so `record({k: "fault", what})` type-checks. */
type WithoutT<E> = E extends unknown ? Omit<E, "t"> : never;
export type HistoryInput = WithoutT<HistoryEvent>;

/** Events bounded in number: a run that records more than this is a bug in the workload. */
export const HISTORY_EVENTS_MAX = 500_000;

export class History {
  readonly events: HistoryEvent[] = [];
  readonly #t0: number;
  #nextCallId = 1;

  constructor(t0 = performance.now()) {
    this.#t0 = t0;
  }

  now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  record(e: HistoryInput): HistoryEvent {
    if (this.events.length >= HISTORY_EVENTS_MAX) throw new Error(`history: more than ${HISTORY_EVENTS_MAX} events`);
    const ev = { ...e, t: this.now() } as HistoryEvent;
    this.events.push(ev);
    return ev;
  }

  /** Records a call's start and end around `fn` (rethrowing its error). */
  async call<T>(client: string, op: string, blocking: boolean, fn: () => Promise<T>): Promise<T> {
    const id = this.#nextCallId++;
    this.record({ k: "call-start", id, client, op, blocking });
    try {
      const v = await fn();
      this.record({ k: "call-end", id, ok: true });
      return v;
    } catch (e) {
      this.record({ k: "call-end", id, ok: false, err: errName(e) });
      throw e;
    }
  }
}

export function errName(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? code : e.name === "Error" ? e.message.slice(0, 80) : e.name;
  }
  return String(e).slice(0, 80);
}
