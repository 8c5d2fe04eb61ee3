/**
 * The recipe fault suite's workloads, each a bounded loop that records what it did in the
 * history: contended write/read locks whose holders do fenced writes to a register, a FIFO
 * queue of numbered items, a job queue whose consumers sometimes die before acking, and an
 * election whose members record every leadership change.
 *
 * Every loop ends when the run's `stop` signal fires (blocking calls get it as their
 * AbortSignal) and is bounded in iterations too. Decisions come from a seeded PRNG so one
 * seed makes the same choices (timing still varies from run to run).
 */
import type { SeededPrng } from "../../../src/util/clock.js";
import { connectChaosClient, type ChaosClient } from "./client-adapter.js";
import type { ClientNet } from "./cluster.js";
import { errName, type History } from "./history.js";

export const PATHS = {
  lock: "/chaos/lock",
  fifo: "/chaos/fifo",
  jobs: "/chaos/jobs",
  election: "/chaos/election",
  fill: "/chaos/fill",
} as const;

/** Bounds on every loop (iterations), whatever the timing. */
const LOCK_ROUNDS_MAX = 2_000;
const OFFERS_MAX = 400;
const TAKES_MAX = 2_000;
const CONNECT_ATTEMPTS_MAX = 200;

export interface WorkloadConfig {
  lockWorkers: number;
  fifoConsumers: number;
  jobConsumers: number;
  electionMembers: number;
  /** Chance (0..1) a job consumer dies after a take, before acking. */
  jobDeathRate: number;
}

export const WORKLOAD_DEFAULTS: WorkloadConfig = {
  lockWorkers: 3,
  fifoConsumers: 2,
  jobConsumers: 2,
  electionMembers: 3,
  jobDeathRate: 0.15,
};

/** The fenced resource of a lock: rejects a token lower than the highest it accepted. */
export class FencedRegister {
  #highest = -1n;
  readonly writes: { token: bigint; writer: string; accepted: boolean }[] = [];

  write(token: bigint, writer: string): boolean {
    const accepted = token >= this.#highest;
    if (accepted) this.#highest = token;
    if (this.writes.length < 100_000) this.writes.push({ token, writer, accepted });
    return accepted;
  }
}

/** What the workloads share: the history, the network, the PRNG and the stop signal. */
export class WorkloadContext {
  readonly h: History;
  readonly net: ClientNet;
  readonly prng: SeededPrng;
  readonly stop: AbortSignal;
  readonly sessionTimeoutMs: number;
  /** Current incarnation of every role, for the fault injector to pick from. */
  readonly current = new Map<string, ChaosClient>();
  /** Every client ever made, to close at the end. */
  readonly all: ChaosClient[] = [];
  /** Incarnations killed on purpose: their proxies stay refused, healAll skips them. */
  readonly dead = new Set<string>();
  /**
   * Clients whose faults matter most right now (lock holders, members that believe they
   * lead): the injector aims at them half the time, so a partitioned holder or leader is
   * not left to chance.
   */
  readonly critical = new Set<string>();
  readonly #incarnations = new Map<string, number>();

  constructor(h: History, net: ClientNet, prng: SeededPrng, stop: AbortSignal, sessionTimeoutMs: number) {
    this.h = h;
    this.net = net;
    this.prng = prng;
    this.stop = stop;
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  /** Random integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.prng.nextInt(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.prng.nextInt(1_000_000) < p * 1_000_000;
  }

  /** The role's current client, or a new incarnation if it has none or it is unusable. */
  async client(role: string): Promise<ChaosClient | undefined> {
    const c = this.current.get(role);
    if (c !== undefined && c.usable() && !this.dead.has(c.name)) return c;
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS_MAX && !this.stop.aborted; attempt++) {
      const k = (this.#incarnations.get(role) ?? 0) + 1;
      this.#incarnations.set(role, k);
      const name = `${role}#${k}`;
      const cs = await this.net.connectString(name);
      try {
        const made = await this.h.call(name, "connect", false, () =>
          connectChaosClient(name, cs, { sessionTimeoutMs: this.sessionTimeoutMs, connectTimeoutMs: this.sessionTimeoutMs }, {
            onState: (state, session) => this.h.record({ k: "conn", client: name, session, state }),
            onSessionLost: (session, why) => this.h.record({ k: "session-lost", client: name, session, why }),
          }),
        );
        this.current.set(role, made);
        this.all.push(made);
        return made;
      } catch {
        await this.pause(50, 200);
      }
    }
    return undefined;
  }

  /** Kills a client as a dying process would: its connections reset, never reconnected. */
  kill(c: ChaosClient, why: string): void {
    this.dead.add(c.name);
    this.net.kill(c.name);
    this.h.record({ k: "session-lost", client: c.name, session: c.session(), why });
  }

  /** Sleeps a random time in [lo, hi] ms, or less if stop fires. */
  pause(lo: number, hi: number): Promise<void> {
    const ms = this.int(lo, hi);
    const stop = this.stop;
    return new Promise((resolve) => {
      if (stop.aborted) return resolve();
      const done = (): void => {
        clearTimeout(t);
        stop.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      stop.addEventListener("abort", done, { once: true });
    });
  }
}

/** The client's word that an ack may or may not have been applied (v2: AckOutcomeUnknownError). */
function ackOutcomeUnknown(e: unknown): boolean {
  return e instanceof Error && e.name === "AckOutcomeUnknownError";
}

export function numberOf(data: string, prefix: string): number {
  if (!data.startsWith(prefix)) return -1;
  const n = Number(data.slice(prefix.length));
  return Number.isSafeInteger(n) ? n : -1;
}

/** A lock worker: acquire (write 3 in 4, else read), fenced writes while held, release. */
export async function lockWorker(ctx: WorkloadContext, role: string, register: FencedRegister): Promise<void> {
  const { h } = ctx;
  for (let round = 0; round < LOCK_ROUNDS_MAX && !ctx.stop.aborted; round++) {
    const c = await ctx.client(role);
    if (c === undefined) return;
    const mode = ctx.chance(0.75) ? "write" : "read";
    let held;
    try {
      held = await h.call(c.name, `${mode}Lock`, true, () => c.lock(PATHS.lock, mode, ctx.stop));
    } catch {
      await ctx.pause(10, 50);
      continue;
    }
    const token = held.token.toString();
    h.record({ k: "lock-acquired", lock: PATHS.lock, holder: c.name, mode, token, session: c.session() });
    let released = false;
    const onLost = (): void => {
      if (!released) h.record({ k: "lock-lost", lock: PATHS.lock, holder: c.name, token, reason: errName(held.lost.reason) });
    };
    if (held.lost.aborted) onLost();
    else held.lost.addEventListener("abort", onLost, { once: true });
    ctx.critical.add(c.name);
    // Most holds are short; one in six is a long job (past the session timeout, written
    // every 100 ms), so a partition during a hold outlives the session.
    const long = ctx.chance(1 / 6);
    const writes = long ? Math.ceil((ctx.sessionTimeoutMs * 1.5) / 100) : ctx.int(1, 3);
    for (let i = 0; i < writes && !ctx.stop.aborted; i++) {
      if (held.lost.aborted) break;
      if (mode === "write") {
        const accepted = register.write(held.token, c.name);
        h.record({ k: "fenced-write", lock: PATHS.lock, writer: c.name, token, accepted });
      }
      if (long) await ctx.pause(100, 100);
      else await ctx.pause(5, 60);
    }
    ctx.critical.delete(c.name);
    released = true;
    held.lost.removeEventListener("abort", onLost);
    h.record({ k: "lock-release", lock: PATHS.lock, holder: c.name, token });
    await h.call(c.name, "release", false, () => held.release()).catch(() => undefined);
    await ctx.pause(0, 30);
  }
}

/** Offers numbered items "<prefix><n>" until stopped (bounded), recording each outcome. */
export async function producer(ctx: WorkloadContext, role: string, queue: "fifo" | "job"): Promise<void> {
  const prefix = `${queue}:`;
  for (let n = 1; n <= OFFERS_MAX && !ctx.stop.aborted; n++) {
    const c = await ctx.client(role);
    if (c === undefined) return;
    const data = `${prefix}${n}`;
    const path = queue === "fifo" ? PATHS.fifo : PATHS.jobs;
    const ok = await ctx.h
      .call(c.name, `${queue}Offer`, false, () => (queue === "fifo" ? c.fifoOffer(path, data) : c.jobOffer(path, data)))
      .then(
        () => true,
        () => false,
      );
    ctx.h.record({ k: "offer", queue, n, ok });
    await ctx.pause(10, 60);
  }
}

/** Takes FIFO items until stopped. */
export async function fifoConsumer(ctx: WorkloadContext, role: string): Promise<void> {
  for (let i = 0; i < TAKES_MAX && !ctx.stop.aborted; i++) {
    const c = await ctx.client(role);
    if (c === undefined) return;
    try {
      const data = await ctx.h.call(c.name, "fifoTake", true, () => c.fifoTake(PATHS.fifo, ctx.stop));
      ctx.h.record({ k: "recv", queue: "fifo", n: numberOf(data, "fifo:"), consumer: c.name, session: c.session() });
    } catch {
      await ctx.pause(10, 50);
    }
  }
}

/**
 * Takes jobs until stopped; after a take it sometimes dies before acking: half the time it
 * closes its client (its session ends at once), half the time its process "dies" (its
 * connections reset, the session expires on the server later). Either way a new client
 * takes its place.
 */
export async function jobConsumer(ctx: WorkloadContext, role: string, deathRate: number): Promise<void> {
  for (let i = 0; i < TAKES_MAX && !ctx.stop.aborted; i++) {
    const c = await ctx.client(role);
    if (c === undefined) return;
    let job;
    try {
      job = await ctx.h.call(c.name, "jobTake", true, () => c.jobTake(PATHS.jobs, ctx.stop));
    } catch {
      await ctx.pause(10, 50);
      continue;
    }
    const n = numberOf(job.data, "job:");
    ctx.h.record({ k: "recv", queue: "job", n, consumer: c.name, session: c.session() });
    if (ctx.chance(deathRate)) {
      if (ctx.chance(0.5)) {
        ctx.h.record({ k: "session-lost", client: c.name, session: c.session(), why: "closed before ack" });
        ctx.dead.add(c.name);
        await ctx.h.call(c.name, "close", false, () => c.close()).catch(() => undefined);
      } else {
        ctx.kill(c, "died before ack");
      }
      continue;
    }
    await ctx.pause(0, 30);
    const acked = await ctx.h.call(c.name, "jobAck", false, () => job.ack()).then(
      () => ({ ok: true, unknown: false }),
      (e: unknown) => ({ ok: false, unknown: ackOutcomeUnknown(e) }),
    );
    ctx.h.record({ k: "job-ack", n, consumer: c.name, ...acked });
  }
}

/**
 * An election member: joins, records every leadership change. When its client becomes
 * unusable (old client: expired) a new incarnation joins; the old member's belief is
 * whatever its election object last said (the suite does not correct it).
 */
export async function electionMember(ctx: WorkloadContext, role: string): Promise<void> {
  for (let i = 0; i < 100 && !ctx.stop.aborted; i++) {
    const c = await ctx.client(role);
    if (c === undefined) return;
    const e = c.election(PATHS.election, c.name);
    e.onLeadershipChange((on) => {
      ctx.h.record({ k: "lead", election: PATHS.election, member: c.name, on });
      if (on) ctx.critical.add(c.name);
      else ctx.critical.delete(c.name);
    });
    try {
      // Blocking: a join may wait (its bound runs from "stopped"); the old one returns once filed.
      await ctx.h.call(c.name, "electionJoin", true, () => e.join());
    } catch {
      await ctx.pause(50, 150);
      // a join that failed may have left the member half-joined: a new client starts over
      if (!ctx.stop.aborted && c.usable()) {
        ctx.dead.add(c.name);
        await c.close().catch(() => undefined);
      }
      continue;
    }
    // Poll (bounded by stop and in count) for the client to become unusable.
    for (let polls = 0; polls < 10_000 && !ctx.stop.aborted && c.usable(); polls++) await ctx.pause(50, 100);
    ctx.critical.delete(c.name);
  }
}

/** Takes what is left after the run, until every acknowledged offer is accounted for. */
export async function drain(ctx: WorkloadContext, deadlineMs: number, signal: AbortSignal): Promise<void> {
  const c = await connectChaosClient("drain", await ctx.net.connectString("drain"), { sessionTimeoutMs: ctx.sessionTimeoutMs, connectTimeoutMs: ctx.sessionTimeoutMs }, {
    onSessionLost: (session, why) => ctx.h.record({ k: "session-lost", client: "drain", session, why }),
  });
  ctx.all.push(c);
  const outstanding = (queue: "fifo" | "job"): number => {
    const acked = new Set<number>();
    const done = new Set<number>();
    for (const e of ctx.h.events) {
      if (e.k === "offer" && e.queue === queue && e.ok) acked.add(e.n);
      if (queue === "fifo" && e.k === "recv" && e.queue === "fifo") done.add(e.n);
      if (queue === "job" && e.k === "job-ack" && e.ok) done.add(e.n);
    }
    let left = 0;
    for (const n of acked) if (!done.has(n)) left++;
    return left;
  };
  const takeOne = async <T>(op: string, fn: (s: AbortSignal) => Promise<T>): Promise<T | undefined> => {
    const ctrl = new AbortController();
    const t = setTimeout(() => ctrl.abort(new Error("drain take timed out")), 300);
    const onOuter = (): void => ctrl.abort(signal.reason);
    signal.addEventListener("abort", onOuter, { once: true });
    try {
      return await ctx.h.call("drain", op, false, () => fn(ctrl.signal));
    } catch {
      return undefined;
    } finally {
      clearTimeout(t);
      signal.removeEventListener("abort", onOuter);
    }
  };
  // One loop per queue, side by side: a queue that lost an item must not slow the other.
  const fifoLoop = async (): Promise<void> => {
    for (let i = 0; i < 5_000 && performance.now() < deadlineMs && !signal.aborted && outstanding("fifo") > 0; i++) {
      const data = await takeOne("fifoTake", (s) => c.fifoTake(PATHS.fifo, s));
      if (data !== undefined) ctx.h.record({ k: "recv", queue: "fifo", n: numberOf(data, "fifo:"), consumer: "drain", session: c.session() });
    }
  };
  const jobLoop = async (): Promise<void> => {
    for (let i = 0; i < 5_000 && performance.now() < deadlineMs && !signal.aborted && outstanding("job") > 0; i++) {
      const job = await takeOne("jobTake", (s) => c.jobTake(PATHS.jobs, s));
      if (job === undefined) continue;
      const n = numberOf(job.data, "job:");
      ctx.h.record({ k: "recv", queue: "job", n, consumer: "drain", session: c.session() });
      const acked = await ctx.h.call("drain", "jobAck", false, () => job.ack()).then(
        () => ({ ok: true, unknown: false }),
        (e: unknown) => ({ ok: false, unknown: ackOutcomeUnknown(e) }),
      );
      ctx.h.record({ k: "job-ack", n, consumer: "drain", ...acked });
    }
  };
  await Promise.all([fifoLoop(), jobLoop()]);
}
