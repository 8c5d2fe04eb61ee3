/**
 * One recipe fault run: a seed and a topology in, a checked history out.
 *
 * 1. Start the servers (standalone or an ensemble of real processes) and the workloads,
 *    every workload client behind its own FaultProxies.
 * 2. Safety phase ("faults"): the injector breaks things for `faultMs`.
 * 3. "healed": every fault undone, every member up, one leader; the workloads go on for
 *    `recoveryMs`.
 * 4. "stopped": the workloads are told to stop (their blocking calls are aborted); every
 *    call must settle within the liveness bound.
 * 5. The workload clients close (their sessions end: what they hold in flight goes back);
 *    a fresh client drains what is left, waiting past the session timeout for the jobs of
 *    dead consumers to come back. Then "end", the checkers, and teardown.
 *
 * The seed fixes every choice (faults, victims, durations, workload decisions); the timing
 * of real processes still varies, so a replay reproduces the same run, not always the same
 * interleaving.
 */
import { setMaxListeners } from "node:events";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeededPrng } from "../../../src/util/clock.js";
import { connectChaosClient } from "./client-adapter.js";
import { checkAll, summarize, type Property, type Violation } from "./checkers.js";
import { ClientNet, ProcCluster, sleep } from "./cluster.js";
import { FaultInjector } from "./faults.js";
import { History } from "./history.js";
import {
  FencedRegister,
  PATHS,
  WORKLOAD_DEFAULTS,
  WorkloadContext,
  drain,
  electionMember,
  fifoConsumer,
  jobConsumer,
  lockWorker,
  numberOf,
  producer,
  type WorkloadConfig,
} from "./workloads.js";

export type Topology = "standalone" | "ensemble3";

export interface RunOptions {
  seed: number;
  topology: Topology;
  /** Length of the safety phase (faults on). */
  faultMs?: number;
  /** Workloads keep going this long after healing, before they are stopped. */
  recoveryMs?: number;
  sessionTimeoutMs?: number;
  tickTimeMs?: number;
  syncLimitTicks?: number;
  workloads?: Partial<WorkloadConfig>;
  /** Fault kinds left out (see faults.ts). */
  excludeFaults?: readonly string[];
}

export interface RunResult {
  seed: number;
  topology: Topology;
  violations: Violation[];
  byProperty: Partial<Record<Property, number>>;
  /** Harness trouble (a member that would not restart, ...): the run proves nothing. */
  errors: string[];
  stats: Record<string, number>;
  faults: Record<string, number>;
  durationMs: number;
  /** Where the history was written (only when there were violations or errors). */
  historyFile: string | undefined;
}

export const RUN_DEFAULTS = {
  faultMs: 6_000,
  recoveryMs: 1_500,
  sessionTimeoutMs: 2_000,
  tickTimeMs: 100,
  syncLimitTicks: 5,
} as const;

/** The command that replays one seed, printed with every failure. */
export function replayCommand(seed: number, topology: Topology): string {
  return `CHAOS_SEEDS=${seed} CHAOS_TOPOLOGY=${topology} npx vitest run --project main test/chaos/recipe-faults.test.ts   # or: SOAK_FROM=${seed} SOAK_SEEDS=1 SOAK_TOPOLOGY=${topology} npm run soak:recipes`;
}

export async function runRecipeFaults(o: RunOptions): Promise<RunResult> {
  const faultMs = o.faultMs ?? RUN_DEFAULTS.faultMs;
  const recoveryMs = o.recoveryMs ?? RUN_DEFAULTS.recoveryMs;
  const sessionTimeoutMs = o.sessionTimeoutMs ?? RUN_DEFAULTS.sessionTimeoutMs;
  const tickTimeMs = o.tickTimeMs ?? RUN_DEFAULTS.tickTimeMs;
  const syncLimitTicks = o.syncLimitTicks ?? RUN_DEFAULTS.syncLimitTicks;
  const livenessBoundMs = 2 * sessionTimeoutMs;
  const w: WorkloadConfig = { ...WORKLOAD_DEFAULTS, ...o.workloads };
  const t0 = performance.now();
  const errors: string[] = [];

  const cluster = await ProcCluster.start({ members: o.topology === "standalone" ? 1 : 3, tickTimeMs, syncLimitTicks });
  const net = new ClientNet(cluster);
  const h = new History();
  const stopCtrl = new AbortController();
  setMaxListeners(0, stopCtrl.signal);
  const ctx = new WorkloadContext(h, net, new SeededPrng(o.seed ^ 0x5bd1e995), stopCtrl.signal, sessionTimeoutMs);
  const injector = new FaultInjector(cluster, net, h, ctx, o.seed, {
    sessionTimeoutMs,
    tickTimeMs,
    syncLimitTicks,
    ...(o.excludeFaults === undefined ? {} : { exclude: o.excludeFaults }),
  });
  let historyFile: string | undefined;
  try {
    const admin = await connectChaosClient("admin", cluster.directConnectString, { sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
    for (const p of [PATHS.lock, PATHS.fifo, PATHS.jobs, PATHS.election]) await admin.ensure(p);
    await admin.close();

    const register = new FencedRegister();
    const loops: Promise<void>[] = [];
    for (let i = 1; i <= w.lockWorkers; i++) loops.push(lockWorker(ctx, `lock${i}`, register));
    loops.push(producer(ctx, "fifo-producer", "fifo"));
    for (let i = 1; i <= w.fifoConsumers; i++) loops.push(fifoConsumer(ctx, `fifo${i}`));
    loops.push(producer(ctx, "job-producer", "job"));
    for (let i = 1; i <= w.jobConsumers; i++) loops.push(jobConsumer(ctx, `job${i}`, w.jobDeathRate));
    for (let i = 1; i <= w.electionMembers; i++) loops.push(electionMember(ctx, `elect${i}`));
    const workloads = Promise.allSettled(loops);

    h.record({ k: "phase", phase: "faults" });
    await injector.run(performance.now() + faultMs);
    try {
      await injector.heal();
    } catch (e) {
      errors.push(`heal: ${e instanceof Error ? e.message : String(e)}`);
    }
    errors.push(...injector.errors);
    h.record({ k: "phase", phase: "healed" });
    await sleep(recoveryMs);

    h.record({ k: "phase", phase: "stopped" });
    stopCtrl.abort(new Error("run stopped"));
    // Every call must settle within the bound: wait a little longer than it, no more.
    await Promise.race([workloads, sleep(livenessBoundMs + 1_000)]);

    // The queue clients shut down (close: their sessions end, so whatever they hold in
    // flight goes back to its queue), then a new consumer drains. Election members stay
    // until the end: a leader closing here would only re-test "leadership ends on close",
    // and hide what the faults did (the history's end closes their intervals).
    const queueClients = ctx.all.filter((c) => !ctx.dead.has(c.name) && /^(fifo|job)/.test(c.name));
    await Promise.race([Promise.allSettled(queueClients.map((c) => h.call(c.name, "close", false, () => c.close()))), sleep(livenessBoundMs)]);
    const drainCtrl = new AbortController();
    await drain(ctx, performance.now() + 2 * sessionTimeoutMs + 1_000, drainCtrl.signal).catch((e: unknown) => {
      errors.push(`drain: ${e instanceof Error ? e.message : String(e)}`);
    });
    h.record({ k: "phase", phase: "end" });
    await audit(ctx, net, sessionTimeoutMs).catch((e: unknown) => {
      errors.push(`audit: ${e instanceof Error ? e.message : String(e)}`);
    });

    const violations = checkAll(h.events, { livenessBoundMs });
    if (violations.length > 0 || errors.length > 0) {
      const dir = await mkdtemp(join(tmpdir(), "corral-recipe-history-"));
      historyFile = join(dir, `seed-${o.seed}-${o.topology}.json`);
      await writeFile(historyFile, JSON.stringify({ seed: o.seed, topology: o.topology, violations, errors, events: h.events }, null, 1));
    }
    return {
      seed: o.seed,
      topology: o.topology,
      violations,
      byProperty: summarize(violations),
      errors,
      stats: statsOf(h),
      faults: { ...injector.counts },
      durationMs: Math.round(performance.now() - t0),
      historyFile,
    };
  } finally {
    stopCtrl.abort(new Error("run over"));
    injector.dispose();
    // Closing can hang on a client whose server is gone: bounded.
    await Promise.race([Promise.allSettled(ctx.all.map((c) => c.close())), sleep(3_000)]);
    await net.closeAll();
    await cluster.stop();
  }
}

/** Records what is left in each queue after the drain (see the "final-queue" event). */
async function audit(ctx: WorkloadContext, net: ClientNet, sessionTimeoutMs: number): Promise<void> {
  const c = await connectChaosClient("audit", await net.connectString("audit"), { sessionTimeoutMs, connectTimeoutMs: sessionTimeoutMs });
  try {
    for (const [queue, path, prefix] of [["fifo", PATHS.fifo, "fifo:"], ["job", PATHS.jobs, "job:"]] as const) {
      const items: number[] = [];
      const inflight: { n: number; owner: string }[] = [];
      for (const node of await c.children(path)) {
        if (!node.name.startsWith("qn-") && !node.name.includes("inflight-")) continue;
        const n = numberOf(node.data, prefix);
        if (node.name.startsWith("qn-")) items.push(n);
        else inflight.push({ n, owner: node.owner });
      }
      ctx.h.record({ k: "final-queue", queue, items, inflight });
    }
  } finally {
    await c.close();
  }
}

function statsOf(h: History): Record<string, number> {
  const s: Record<string, number> = {};
  for (const e of h.events) {
    const k = e.k === "offer" ? `offer-${e.queue}` : e.k === "recv" ? `recv-${e.queue}` : e.k;
    s[k] = (s[k] ?? 0) + 1;
  }
  return s;
}

/** One line per run, for logs and the soak's output. */
export function describeResult(r: RunResult): string {
  const v = r.violations.length === 0 ? "ok" : `VIOLATIONS ${JSON.stringify(r.byProperty)}`;
  const e = r.errors.length === 0 ? "" : ` harness-errors=${r.errors.length}`;
  return `seed=${r.seed} topology=${r.topology} ${v}${e} ${r.durationMs}ms locks=${r.stats["lock-acquired"] ?? 0} fifo=${r.stats["recv-fifo"] ?? 0}/${r.stats["offer-fifo"] ?? 0} jobs=${r.stats["job-ack"] ?? 0}/${r.stats["offer-job"] ?? 0} faults=${JSON.stringify(r.faults)}`;
}
