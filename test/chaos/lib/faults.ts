/**
 * The fault injector of a recipe fault run. Faults are chosen by a seeded PRNG of their own
 * (so the sequence of choices depends on the seed only, not on the workloads' timing):
 *
 * - on one client's connections (through its FaultProxies): cut; black hole for a short
 *   while (below the session timeout) or past it (the session expires on purpose); delay;
 * - on server processes, one at a time: kill -9 and restart of the standalone server, of
 *   the leader or of a follower; SIGSTOP of the leader for longer than syncLimit, then
 *   SIGCONT; a follower forced to resync by SNAP: it is killed, more txns are written than
 *   the leader keeps in memory for a DIFF (the leader's committedLogMax, 500: see
 *   src/zab/peer.ts #syncLearner and src/server/quorum.ts), and it is restarted.
 *
 * `heal()` undoes everything: every proxy healed (except clients killed on purpose), every
 * member running and continued, the cluster settled with one leader.
 */
import { SeededPrng } from "../../../src/util/clock.js";
import { connect, type CorralClient } from "../../../src/client/index.js";
import type { ClientNet, Member, ProcCluster } from "./cluster.js";
import type { History } from "./history.js";
import { PATHS, type WorkloadContext } from "./workloads.js";

/** More txns than the leader keeps for DIFF (committedLogMax = 500 in src/server/quorum.ts). */
export const SNAP_FILL_TXNS = 600;

export interface FaultOptions {
  sessionTimeoutMs: number;
  tickTimeMs: number;
  syncLimitTicks: number;
  /** Fault kinds not to inject (e.g. "snap"), for narrowing a replay. */
  exclude?: readonly string[];
}

type Kind = "cut" | "blackhole-short" | "blackhole-expire" | "delay" | "kill-standalone" | "kill-leader" | "kill-follower" | "stop-leader" | "snap";

const WEIGHTS: Record<Kind, number> = {
  cut: 4,
  "blackhole-short": 3,
  "blackhole-expire": 2,
  delay: 2,
  "kill-standalone": 2,
  "kill-leader": 2,
  "kill-follower": 2,
  "stop-leader": 2,
  snap: 1,
};

const PROCESS_KINDS: readonly Kind[] = ["kill-standalone", "kill-leader", "kill-follower", "stop-leader", "snap"];

export class FaultInjector {
  readonly #cluster: ProcCluster;
  readonly #net: ClientNet;
  readonly #h: History;
  readonly #ctx: WorkloadContext;
  readonly #prng: SeededPrng;
  readonly #opts: FaultOptions;
  /** The process fault under way (one at a time), awaited by heal(). */
  #processFault: Promise<void> | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  readonly errors: string[] = [];
  readonly counts: Partial<Record<Kind, number>> = {};

  constructor(cluster: ProcCluster, net: ClientNet, h: History, ctx: WorkloadContext, seed: number, opts: FaultOptions) {
    this.#cluster = cluster;
    this.#net = net;
    this.#h = h;
    this.#ctx = ctx;
    this.#prng = new SeededPrng(seed);
    this.#opts = opts;
  }

  #int(lo: number, hi: number): number {
    return lo + this.#prng.nextInt(hi - lo + 1);
  }

  #kinds(): Kind[] {
    const standalone = this.#cluster.standalone;
    return (Object.keys(WEIGHTS) as Kind[]).filter((k) => {
      if (this.#opts.exclude?.includes(k)) return false;
      if (standalone) return !["kill-leader", "kill-follower", "stop-leader", "snap"].includes(k);
      return k !== "kill-standalone";
    });
  }

  #pick(): Kind {
    const kinds = this.#kinds();
    const total = kinds.reduce((s, k) => s + WEIGHTS[k], 0);
    let r = this.#prng.nextInt(total);
    for (const k of kinds) {
      r -= WEIGHTS[k];
      if (r < 0) return k;
    }
    return kinds[0]!;
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#stopped) fn();
    }, ms);
    this.#timers.add(t);
  }

  /** Injects faults until `untilMs` (performance.now() time); bounded in count. */
  async run(untilMs: number): Promise<void> {
    for (let i = 0; i < 1_000 && performance.now() < untilMs; i++) {
      await sleep(this.#int(150, 600));
      if (performance.now() >= untilMs) break;
      const kind = this.#pick();
      // The victim is drawn now (whatever happens) so the PRNG stream stays the seed's.
      const victimDraw = this.#prng.nextInt(1_000_000);
      const msDraw = this.#prng.nextInt(1_000_000);
      if (PROCESS_KINDS.includes(kind)) {
        if (this.#processFault !== undefined) continue; // one process fault at a time
        this.#processFault = this.#process(kind, victimDraw, msDraw)
          .catch((e: unknown) => {
            this.errors.push(`${kind}: ${e instanceof Error ? e.message : String(e)}`);
          })
          .finally(() => {
            this.#processFault = undefined;
          });
      } else {
        this.#network(kind, victimDraw, msDraw);
      }
    }
  }

  #network(kind: Kind, victimDraw: number, msDraw: number): void {
    const names = [...this.#ctx.current.values()].map((c) => c.name).filter((n) => !this.#ctx.dead.has(n));
    const critical = [...this.#ctx.critical].filter((n) => !this.#ctx.dead.has(n)).sort();
    if (names.length === 0) return;
    // Half the time at a lock holder or a leader, if there is one.
    const pool = critical.length > 0 && victimDraw % 2 === 0 ? critical : names;
    const name = pool[Math.floor(victimDraw / 2) % pool.length]!;
    const T = this.#opts.sessionTimeoutMs;
    const frac = msDraw / 1_000_000;
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    switch (kind) {
      case "cut":
        this.#fault(`cut ${name}`);
        this.#net.cut(name);
        return;
      case "blackhole-short": {
        const ms = Math.round(T * (0.1 + 0.4 * frac));
        this.#fault(`blackhole ${name} ${ms}ms`);
        this.#net.blackhole(name, ms);
        return;
      }
      case "blackhole-expire": {
        const ms = Math.round(T * (1.3 + 0.7 * frac));
        this.#fault(`blackhole ${name} ${ms}ms (past the session timeout)`);
        this.#net.blackhole(name, ms);
        return;
      }
      case "delay": {
        const ms = Math.round(20 + 180 * frac);
        const forMs = Math.round(300 + 1200 * frac);
        this.#fault(`delay ${name} ${ms}ms for ${forMs}ms`);
        this.#net.delay(name, ms);
        this.#later(forMs, () => this.#net.delay(name, 0));
        return;
      }
      default:
        throw new Error(`not a network fault: ${kind}`);
    }
  }

  async #process(kind: Kind, victimDraw: number, msDraw: number): Promise<void> {
    const c = this.#cluster;
    const frac = msDraw / 1_000_000;
    const leader = await c.leader();
    const running = c.members.filter((m) => m.proc !== undefined && !m.paused);
    const followers = running.filter((m) => m !== leader);
    const pickFollower = (): Member | undefined => followers[victimDraw % Math.max(1, followers.length)];
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    switch (kind) {
      case "kill-standalone":
      case "kill-leader":
      case "kill-follower": {
        const victim = kind === "kill-follower" ? pickFollower() : leader;
        if (victim === undefined) return;
        const downMs = Math.round(100 + 1400 * frac);
        this.#fault(`kill -9 member ${victim.id} (${kind === "kill-follower" ? "follower" : kind === "kill-leader" ? "leader" : "standalone"}), restart after ${downMs}ms`);
        await c.kill9(victim);
        await sleep(downMs);
        this.#fault(`restart member ${victim.id}`);
        await c.restart(victim);
        return;
      }
      case "stop-leader": {
        if (leader === undefined || c.standalone) return;
        const syncLimitMs = this.#opts.syncLimitTicks * this.#opts.tickTimeMs;
        const ms = Math.round(syncLimitMs * (1.5 + 2 * frac));
        this.#fault(`SIGSTOP leader ${leader.id} for ${ms}ms (syncLimit ${syncLimitMs}ms)`);
        c.pause(leader);
        await sleep(ms);
        this.#fault(`SIGCONT member ${leader.id}`);
        c.resume(leader);
        return;
      }
      case "snap": {
        const victim = pickFollower();
        if (victim === undefined || leader === undefined) return;
        this.#fault(`snap: kill -9 follower ${victim.id}, write ${SNAP_FILL_TXNS} txns, restart it`);
        await c.kill9(victim);
        await fill(`127.0.0.1:${leader.clientPort}`, this.#opts.sessionTimeoutMs);
        this.#fault(`restart member ${victim.id} (SNAP sync)`);
        await c.restart(victim);
        return;
      }
      default:
        throw new Error(`not a process fault: ${kind}`);
    }
  }

  #fault(what: string): void {
    this.#h.record({ k: "fault", what });
  }

  /** Undo every fault and wait (bounded) for the cluster to settle. */
  async heal(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // A process fault under way finishes (its restart/continue is the healing).
    if (this.#processFault !== undefined) await this.#processFault;
    this.#net.healAll();
    for (const m of this.#cluster.members) {
      if (m.paused) this.#cluster.resume(m);
      if (m.proc === undefined) await this.#cluster.restart(m);
    }
    await this.#cluster.settled(30_000);
  }

  dispose(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/** Writes SNAP_FILL_TXNS setData txns through one member (pipelined in batches). */
async function fill(connectString: string, sessionTimeoutMs: number): Promise<void> {
  let c: CorralClient | undefined;
  try {
    c = await connect(connectString, { sessionTimeoutMs, connectTimeoutMs: 10_000 });
    await c.create(PATHS.fill, "").catch(() => undefined);
    for (let done = 0; done < SNAP_FILL_TXNS; done += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => c!.setData(PATHS.fill, String(done + i)).catch(() => undefined)));
    }
  } finally {
    await c?.close().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
