/**
 * Checkers for recipe fault runs: pure functions from a history (history.ts) to the list
 * of violations found (empty = the property holds). Each one's doc comment defines its
 * property precisely; test/unit/chaos/checkers.test.ts shows each one can fail.
 */
import type { HistoryEvent, LockMode } from "./history.js";

export type Property =
  | "stale-fenced-write"
  | "lock-overlap"
  | "fifo-exactly-once"
  | "job-at-least-once"
  | "two-leaders"
  | "liveness";

export interface Violation {
  property: Property;
  detail: string;
}

type Ev<K extends HistoryEvent["k"]> = Extract<HistoryEvent, { k: K }>;

function ofKind<K extends HistoryEvent["k"]>(h: readonly HistoryEvent[], k: K): Ev<K>[] {
  return h.filter((e): e is Ev<K> => e.k === k);
}

/** The time the history was closed ("end" phase), or its last event's time. */
export function endOf(h: readonly HistoryEvent[]): number {
  const end = ofKind(h, "phase").find((p) => p.phase === "end");
  return end?.t ?? h[h.length - 1]?.t ?? 0;
}

function phaseAt(h: readonly HistoryEvent[], phase: Ev<"phase">["phase"]): number | undefined {
  return ofKind(h, "phase").find((p) => p.phase === phase)?.t;
}

/**
 * No stale fenced write.
 *
 * Every lock has a fenced register, a resource that remembers the highest token it has
 * accepted and rejects a write carrying a lower one. Holders write to it only while they
 * believe they hold the lock (their `lost` has not fired and they have not called release).
 * A *stale fenced write* is a write whose token is lower than the highest token the register
 * had accepted before it, in history order: the register had to reject it although its
 * writer believed its lock valid, so the lock service let two holders believe at once (the
 * fence only limited the damage). Also a violation: two different writers using one token
 * (one grant handed to two holders). The verdict is recomputed from the writes' order, not
 * taken from the `accepted` flag the workload recorded (which must agree with it).
 */
export function checkFencedWrites(h: readonly HistoryEvent[]): Violation[] {
  const out: Violation[] = [];
  const highest = new Map<string, { token: bigint; writer: string }>();
  for (const w of ofKind(h, "fenced-write")) {
    const token = BigInt(w.token);
    const top = highest.get(w.lock);
    if (top !== undefined && token < top.token) {
      out.push({
        property: "stale-fenced-write",
        detail: `t=${w.t} ${w.writer} wrote ${w.lock} with token ${w.token} after ${top.writer} had written token ${top.token}`,
      });
      continue;
    }
    if (top !== undefined && token === top.token && w.writer !== top.writer) {
      out.push({ property: "stale-fenced-write", detail: `t=${w.t} ${w.writer} and ${top.writer} both wrote ${w.lock} with token ${w.token}` });
      continue;
    }
    if (w.accepted === false) {
      out.push({ property: "stale-fenced-write", detail: `t=${w.t} the register rejected ${w.writer}'s token ${w.token} on ${w.lock} (the recorded verdict disagrees with the order)` });
    }
    highest.set(w.lock, { token, writer: w.writer });
  }
  return out;
}

interface Hold {
  lock: string;
  holder: string;
  mode: LockMode;
  token: string;
  start: number;
  /** When the holder stopped believing: its release call, or the end of the history. */
  end: number;
  lostAt: number | undefined;
}

/** Hold intervals, from acquisition to release call (or the end), with `lost` times. */
export function holdsOf(h: readonly HistoryEvent[]): Hold[] {
  const end = endOf(h);
  const open = new Map<string, Hold>();
  const holds: Hold[] = [];
  const keyOf = (lock: string, holder: string, token: string) => `${lock}\u0000${holder}\u0000${token}`;
  for (const e of h) {
    if (e.k === "lock-acquired") {
      const hold: Hold = { lock: e.lock, holder: e.holder, mode: e.mode, token: e.token, start: e.t, end, lostAt: undefined };
      open.set(keyOf(e.lock, e.holder, e.token), hold);
      holds.push(hold);
    } else if (e.k === "lock-lost") {
      const hold = open.get(keyOf(e.lock, e.holder, e.token));
      if (hold !== undefined && hold.lostAt === undefined) hold.lostAt = e.t;
    } else if (e.k === "lock-release") {
      const k = keyOf(e.lock, e.holder, e.token);
      const hold = open.get(k);
      if (hold !== undefined) {
        hold.end = e.t;
        open.delete(k);
      }
    }
  }
  return holds;
}

/**
 * No two holders at once.
 *
 * A hold lasts from the moment the acquire call returned in the holder (`lock-acquired`)
 * until the holder called release (or the end of the history, if it never did). Two holds
 * of the same lock conflict when at least one is a write hold. For every conflicting pair
 * A, B with A acquired first (A.start <= B.start), B.start < A.end is a violation unless A's
 * `lost` fired first: A.lostAt <= B.start. (Losing the lock is allowed; not knowing it
 * before someone else is granted is not.)
 */
export function checkLockExclusion(h: readonly HistoryEvent[]): Violation[] {
  const out: Violation[] = [];
  const byLock = new Map<string, Hold[]>();
  for (const hold of holdsOf(h)) byLock.set(hold.lock, [...(byLock.get(hold.lock) ?? []), hold]);
  for (const [lock, holds] of byLock) {
    holds.sort((a, b) => a.start - b.start);
    for (let i = 0; i < holds.length; i++) {
      const a = holds[i]!;
      for (let j = i + 1; j < holds.length; j++) {
        const b = holds[j]!;
        if (b.start >= a.end) continue; // sorted by start, but ends vary: keep scanning
        if (a.mode === "read" && b.mode === "read") continue;
        if (a.lostAt !== undefined && a.lostAt <= b.start) continue;
        out.push({
          property: "lock-overlap",
          detail: `${lock}: ${b.holder} (${b.mode}, token ${b.token}) granted at t=${b.start} while ${a.holder} (${a.mode}, token ${a.token}) held it since t=${a.start} until t=${a.end}${a.lostAt === undefined ? ", lost never fired" : `, lost fired only at t=${a.lostAt}`}`,
        });
      }
    }
  }
  return out;
}

/** Sessions the history knows were lost (announced LOST/EXPIRED, or killed on purpose). */
export function lostSessions(h: readonly HistoryEvent[]): Set<string> {
  return new Set(ofKind(h, "session-lost").map((e) => e.session));
}

/**
 * Every acknowledged FIFO offer delivered exactly once.
 *
 * An item is *delivered* when a consumer's take returned it (`recv`). A delivery is *firm*
 * when the consumer's session (the one it took on) was never lost: such a consumer received
 * the item and the queue was told so (the v2 client acks FIFO takes by itself). A delivery
 * to a session that was lost (LOST, expired, or killed by the test) may not have been
 * acknowledged to the queue, so the item may be delivered again: for those the guarantee
 * is at least once. So, for every item:
 * - an offer that returned ok must be delivered at least once (firm or not): else "lost";
 * - at most one firm delivery: two firm deliveries are a duplicate;
 * - a delivered item must have been offered (an offer that failed may or may not have
 *   enqueued: delivering it is fine, not delivering it is too).
 */
export function checkFifo(h: readonly HistoryEvent[]): Violation[] {
  return checkQueue(h, "fifo");
}

/**
 * Every acknowledged job offer acked at least once.
 *
 * Jobs are at-least-once by design (a consumer that dies before acking gives the job back),
 * so duplicates are allowed. Every offer that returned ok must have a successful `job-ack`
 * by the end of the history (the run drains the queue after healing, waiting past the
 * session timeout so the jobs of dead consumers come back). A received job must have been
 * offered.
 */
export function checkJobs(h: readonly HistoryEvent[]): Violation[] {
  return checkQueue(h, "job");
}

function checkQueue(h: readonly HistoryEvent[], queue: "fifo" | "job"): Violation[] {
  const property: Property = queue === "fifo" ? "fifo-exactly-once" : "job-at-least-once";
  const out: Violation[] = [];
  const offered = new Map<number, boolean>();
  for (const o of ofKind(h, "offer")) if (o.queue === queue) offered.set(o.n, (offered.get(o.n) ?? false) || o.ok);
  const recvs = new Map<number, Ev<"recv">[]>();
  for (const r of ofKind(h, "recv")) if (r.queue === queue) recvs.set(r.n, [...(recvs.get(r.n) ?? []), r]);
  const lost = lostSessions(h);
  for (const [n, rs] of recvs) {
    if (!offered.has(n)) out.push({ property, detail: `item ${n} received by ${rs[0]!.consumer} but never offered` });
  }
  if (queue === "fifo") {
    for (const [n, ok] of offered) {
      const rs = recvs.get(n) ?? [];
      if (ok && rs.length === 0) out.push({ property, detail: `item ${n}: offer acknowledged, never delivered (lost)` });
      const firm = rs.filter((r) => !lost.has(r.session));
      if (firm.length > 1) {
        out.push({ property, detail: `item ${n} delivered ${firm.length} times to live sessions: ${firm.map((r) => `${r.consumer}@t=${r.t}`).join(", ")}` });
      }
    }
  } else {
    const acked = new Set(ofKind(h, "job-ack").filter((a) => a.ok).map((a) => a.n));
    const left = ofKind(h, "final-queue").find((f) => f.queue === queue);
    const whereLeft = (n: number): string => {
      const stuck = left?.inflight.find((i) => i.n === n);
      if (stuck !== undefined) return `; after the drain still in flight under session ${stuck.owner}${lost.has(stuck.owner) ? ", which the history says is gone" : ""}`;
      if (left?.items.includes(n) === true) return "; after the drain still queued (never handed out again)";
      return left === undefined ? "" : "; after the drain nowhere in the queue";
    };
    // An ack of unknown outcome may have been applied: if the item is then nowhere in the
    // queue after the drain, it was (a lost item would have gone back and been drained).
    const maybeAcked = new Set(ofKind(h, "job-ack").filter((a) => a.unknown === true).map((a) => a.n));
    const nowhere = (n: number): boolean => left !== undefined && !left.items.includes(n) && !left.inflight.some((i) => i.n === n);
    for (const [n, ok] of offered) {
      if (ok && !acked.has(n) && !(maybeAcked.has(n) && nowhere(n))) {
        const rs = recvs.get(n) ?? [];
        out.push({ property, detail: `job ${n}: offer acknowledged, never acked (received ${rs.length} times${rs.length > 0 ? `, last by ${rs[rs.length - 1]!.consumer}` : ""})${whereLeft(n)}` });
      }
    }
  }
  return out;
}

/**
 * Never two members believing they lead at the same instant.
 *
 * A member believes it leads from a `lead on` event until its next `lead off` (or the end
 * of the history). Intervals are half-open [on, off): one member stepping down at the very
 * instant another steps up is fine. Any two members of one election whose intervals
 * intersect is a violation.
 */
export function checkElection(h: readonly HistoryEvent[]): Violation[] {
  const end = endOf(h);
  const out: Violation[] = [];
  const intervals = new Map<string, { member: string; on: number; off: number }[]>();
  const current = new Map<string, number>();
  const push = (election: string, member: string, on: number, off: number) =>
    intervals.set(election, [...(intervals.get(election) ?? []), { member, on, off }]);
  for (const e of ofKind(h, "lead")) {
    const k = `${e.election}\u0000${e.member}`;
    const since = current.get(k);
    if (e.on && since === undefined) current.set(k, e.t);
    else if (!e.on && since !== undefined) {
      push(e.election, e.member, since, e.t);
      current.delete(k);
    }
  }
  for (const [k, since] of current) {
    const [election, member] = k.split("\u0000") as [string, string];
    push(election, member, since, end);
  }
  for (const [election, list] of intervals) {
    list.sort((a, b) => a.on - b.on);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (a.member === b.member || b.on >= a.off) continue;
        out.push({
          property: "two-leaders",
          detail: `${election}: ${b.member} leads from t=${b.on} while ${a.member} leads t=${a.on}..${a.off === end ? "end" : a.off}`,
        });
      }
    }
  }
  return out;
}

/**
 * Every call settles within a bound once faults stop.
 *
 * After the "healed" phase (all faults undone, all members up), every call must settle
 * (return or throw) within `boundMs` of max(its start, healed). Blocking calls (lock
 * acquires, takes, joins) may legitimately wait for another client, so the workloads abort
 * them at "stopped"; their bound runs from max(start, stopped). A call that never settled
 * by the end of the history is a violation.
 */
export function checkLiveness(h: readonly HistoryEvent[], boundMs: number): Violation[] {
  const healed = phaseAt(h, "healed");
  const stopped = phaseAt(h, "stopped") ?? healed;
  const out: Violation[] = [];
  const ends = new Map<number, number>();
  for (const e of ofKind(h, "call-end")) ends.set(e.id, e.t);
  for (const c of ofKind(h, "call-start")) {
    const endT = ends.get(c.id);
    const from = c.blocking ? stopped : healed;
    if (endT === undefined) {
      out.push({ property: "liveness", detail: `${c.client} ${c.op} started t=${c.t} never settled` });
      continue;
    }
    if (from === undefined) continue;
    const deadline = Math.max(c.t, from) + boundMs;
    if (endT > deadline) {
      out.push({ property: "liveness", detail: `${c.client} ${c.op} started t=${c.t} settled only at t=${endT} (bound ${boundMs} ms from t=${Math.max(c.t, from)})` });
    }
  }
  return out;
}

export interface CheckOptions {
  livenessBoundMs: number;
}

/** Every checker over one history. */
export function checkAll(h: readonly HistoryEvent[], opts: CheckOptions): Violation[] {
  return [
    ...checkFencedWrites(h),
    ...checkLockExclusion(h),
    ...checkFifo(h),
    ...checkJobs(h),
    ...checkElection(h),
    ...checkLiveness(h, opts.livenessBoundMs),
  ];
}

/** Violations per property, for summaries. */
export function summarize(violations: readonly Violation[]): Partial<Record<Property, number>> {
  const out: Partial<Record<Property, number>> = {};
  for (const v of violations) out[v.property] = (out[v.property] ?? 0) + 1;
  return out;
}
