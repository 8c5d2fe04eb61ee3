// The harness: for each topology (standalone, 3-node), start the servers under test
// (Corral, Apache ZooKeeper), run every selected case `repeats` times on each, the runs
// of a case alternating between the servers, stop them; then summarise (median, min,
// max), compare Corral with ZooKeeper and collect correctness violations. Servers are
// stopped on every path out, including an abort (Ctrl-C).
//
// One run of a case: an admin session makes a fresh root znode, the workload opens its
// metered sessions and drives load through a Window; the server's CPU is sampled at the
// window's start and end, its RSS at the end; then the sessions close and the root is
// deleted (bounded), so each case starts from the same small tree.

import { setMaxListeners } from "node:events";
import { hostname, cpus, totalmem, platform, release, tmpdir } from "node:os";
import { connect, seededRandom, ZooKeeperError, type ZooKeeperClient } from "../src/client/index.js";
import { CorrectnessViolation, LockTable, ViolationLog } from "./checks.js";
import { probeDisk } from "./disk-probe.js";
import { probeFloor } from "./floor-probe.js";
import { fsyncBetween, scrapeFsync, type FsyncCounts } from "./fsync-metrics.js";
import type { BenchOptions } from "./options.js";
import { recipesFor, type RecipeClient } from "./recipes/api.js";
import {
  REPORT_SCHEMA,
  type BenchReport,
  type CaseReport,
  type CaseSummary,
  type Comparison,
  type DiskProbe,
  type FloorProbe,
  type MemoryFinding,
  type RunResult,
  type ServerInfo,
  type TargetCheck,
  type Violation,
} from "./report/types.js";
import { startCorralInProcess, startCorralProcess } from "./servers/corral.js";
import { sampleProcesses, type ProcSample } from "./servers/proc.js";
import type { ServerUnderTest, StartOutcome, TargetName, Topology } from "./servers/types.js";
import { startZooKeeper } from "./servers/zookeeper.js";
import { spread } from "./stats.js";
import { ensurePath, HerdMeter, Window } from "./workloads/driver.js";
import { selectWorkloads } from "./workloads/index.js";
import type { CaseContext, CaseSpec, Target, Workload } from "./workloads/types.js";

const BENCH_ROOT = "/corral-bench";
const SESSION_TIMEOUT_MS = 10_000;
const CLOSE_WAIT_MS = 10_000;
const CLEANUP_MS_MAX = 30_000;
const CLEANUP_CONCURRENCY = 256;
/** A run may overrun its window by this much (drain, slow closes) before it is aborted. */
const OVERRUN_MS = 20_000;
/** A blocking recipe call (lock, barrier) that waits longer than max(this, the window) is an error. */
const WAIT_MS_MIN = 5_000;
export const MEMORY_TARGET_RATIO = 0.3;

/** What the progress line shows. */
export interface BenchStatus {
  runsDone: number;
  runsTotal: number;
  label: string;
  /** Ops counted so far in the current run. */
  ops: () => number;
  runStartedAt: number;
  runMs: number;
}

export interface HarnessHooks {
  /** Ctrl-C / SIGTERM: stop the current run, stop the servers, return what we have. */
  signal?: AbortSignal;
  status?: (s: BenchStatus) => void;
  /** Replaces the recipe API per client (the smoke test injects a broken lock). */
  recipeOverride?: (client: ZooKeeperClient, recipes: RecipeClient) => RecipeClient;
  /** Warnings for the terminal. */
  warn?: (line: string) => void;
}

interface PlannedCase {
  workload: Workload;
  spec: CaseSpec;
}

export function planCases(opts: BenchOptions): PlannedCase[] {
  const plan = { ...opts.plan, quick: opts.quick };
  return selectWorkloads(opts.workloads).flatMap((w) => w.cases(plan).map((spec) => ({ workload: w, spec })));
}

async function startServer(target: TargetName, topology: Topology, opts: BenchOptions): Promise<StartOutcome> {
  const settings = { tickMs: opts.tickMs, forceSync: opts.forceSync };
  if (target === "zookeeper") return startZooKeeper(topology, settings, opts.zkJvmFlags);
  if (opts.corral === "in-process") {
    if (topology === "ensemble") return { ok: false, reason: "Corral 3-node ensemble: not available in-process" };
    return startCorralInProcess(settings);
  }
  return startCorralProcess(topology, settings);
}

function message(e: unknown): string {
  if (e instanceof ZooKeeperError) return `${e.code}${e.path === undefined ? "" : ` ${e.path}`}`;
  return e instanceof Error ? e.message : String(e);
}

/** Waits for `p`, but no longer than `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

async function closeAll(clients: readonly ZooKeeperClient[]): Promise<void> {
  const closing = Promise.allSettled(clients.map((c) => c.close()));
  await within(closing, CLOSE_WAIT_MS);
}

/** Deletes `path` and everything below it, bounded in time; false if it ran out of time. */
async function deleteTree(client: ZooKeeperClient, path: string, deadline: number): Promise<boolean> {
  if (performance.now() > deadline) return false;
  const children = await client.getChildren(path).catch(() => [] as string[]);
  for (let i = 0; i < children.length; i += CLEANUP_CONCURRENCY) {
    const ok = await Promise.all(children.slice(i, i + CLEANUP_CONCURRENCY).map((c) => deleteTree(client, `${path}/${c}`, deadline)));
    if (ok.includes(false)) return false;
  }
  await client.delete(path).catch(() => undefined);
  return true;
}

let runCounter = 0;

async function runOnce(server: ServerUnderTest, pc: PlannedCase, run: number, opts: BenchOptions, hooks: HarnessHooks, status: BenchStatus): Promise<{ result: RunResult; recipes: RecipeClient | undefined }> {
  const { workload, spec } = pc;
  const abort = new AbortController();
  // Every waiting op listens on the run's signal: hundreds at once is expected.
  setMaxListeners(0, abort.signal);
  const onOuterAbort = (): void => abort.abort(hooks.signal?.reason);
  hooks.signal?.addEventListener("abort", onOuterAbort, { once: true });
  // Scale workloads set their own window and bound (a load phase, a storm); others use the options'.
  const timing = workload.timing?.(spec, { ...opts.plan, quick: opts.quick }) ?? { warmupMs: opts.warmupMs, durationMs: opts.durationMs, boundMs: opts.warmupMs + opts.durationMs + OVERRUN_MS, opsMax: opts.opsMax };
  const boundMs = timing.boundMs;
  let overran = false;
  const hardTimer = setTimeout(() => {
    overran = true;
    abort.abort(new Error(`run overran its time bound (${boundMs} ms)`));
  }, boundMs);
  hardTimer.unref();
  const violations = new ViolationLog((m) => abort.abort(new CorrectnessViolation(m)));
  let cpuStart: ProcSample | undefined;
  let cpuEnd: ProcSample | undefined;
  const sample = (): ProcSample | undefined => sampleProcesses(server.pids);
  // The server's fsync histogram at the window's edges (read without blocking the window).
  let fsyncStart: Promise<FsyncCounts | null> | undefined;
  let fsyncEnd: Promise<FsyncCounts | null> | undefined;
  const window = new Window({
    warmupMs: timing.warmupMs,
    durationMs: timing.durationMs,
    opsMax: timing.opsMax,
    signal: abort.signal,
    onStart: () => {
      cpuStart = sample();
      if (server.metricsUrls !== undefined) fsyncStart = scrapeFsync(server.metricsUrls);
    },
    onEnd: () => {
      cpuEnd = sample();
      if (server.metricsUrls !== undefined) fsyncEnd = scrapeFsync(server.metricsUrls);
    },
  });
  const meter = new HerdMeter(window);
  const errorSamples = new Set<string>();
  let errors = 0;
  const clients: ZooKeeperClient[] = [];
  const extra: Record<string, number> = {};
  const locks = new LockTable(violations);
  let firstRecipes: RecipeClient | undefined;
  status.ops = () => window.ops;
  const open = async (sessionTimeoutMs = SESSION_TIMEOUT_MS): Promise<ZooKeeperClient> => {
    const c = await connect(server.connectString, { sessionTimeoutMs, connectTimeoutMs: Math.max(SESSION_TIMEOUT_MS, sessionTimeoutMs) });
    clients.push(c);
    if (abort.signal.aborted) {
      await closeAll([c]);
      throw new Error("run stopped");
    }
    return c;
  };
  // Stopping means stopping now: close the workload's sessions, which fails every request
  // and recipe wait still pending (a wait whose event never comes would otherwise hang).
  abort.signal.addEventListener("abort", () => void closeAll(clients), { once: true });
  const admin = await open();
  const root = `${BENCH_ROOT}/${workload.name}-${spec.variant.replace(/[^A-Za-z0-9]+/g, "_")}-r${run}-${++runCounter}`;
  const seedOffset = runCounter;
  try {
    await ensurePath(admin, root);
    const ctx: CaseContext = {
      connectString: server.connectString,
      root,
      window,
      violations,
      locks,
      signal: abort.signal,
      // The client's seeded PRNG (mulberry32): workload choices repeat from run to run.
      random: seededRandom(opts.seed * 1_000_003 + seedOffset),
      waitMs: Math.max(WAIT_MS_MIN, opts.durationMs),
      admin,
      server,
      connect: async (o) => {
        const c = await open(o?.sessionTimeoutMs);
        meter.attach(c);
        return c;
      },
      recipes: async (c) => {
        let r = await recipesFor(c, opts.recipes);
        if (hooks.recipeOverride !== undefined) r = hooks.recipeOverride(c, r);
        firstRecipes ??= r;
        return r;
      },
      error: (e) => {
        errors++;
        if (errorSamples.size < 5) errorSamples.add(message(e));
      },
      extra,
    };
    await workload.run(ctx, spec);
  } catch (e) {
    if (!(e instanceof CorrectnessViolation) && violations.messages.length === 0 && !(hooks.signal?.aborted ?? false)) {
      errors++;
      errorSamples.add(`run failed: ${message(e)}`);
    }
  } finally {
    if (overran) {
      errors++;
      errorSamples.add(`run aborted: still busy ${boundMs} ms after it started (sessions closed)`);
    }
    window.close();
    clearTimeout(hardTimer);
    hooks.signal?.removeEventListener("abort", onOuterAbort);
  }
  cpuEnd ??= sample();
  // Proof that the mutual-exclusion check ran (the smoke test looks for it).
  if (locks.grants > 0) extra["grantsChecked"] = locks.grants;
  const lat = window.histogram.summary();
  window.histogram.destroy();
  await closeAll(clients.filter((c) => c !== admin));
  // Cleanup with the admin session, or a new one if the run was stopped (that closed it).
  const cleaner = admin.state === "CONNECTED" ? admin : await connect(server.connectString, { sessionTimeoutMs: SESSION_TIMEOUT_MS, connectTimeoutMs: SESSION_TIMEOUT_MS }).catch(() => undefined);
  if (cleaner !== undefined) {
    await within(deleteTree(cleaner, root, performance.now() + CLEANUP_MS_MAX), CLEANUP_MS_MAX);
    await closeAll([cleaner]);
  }
  await closeAll([admin]);
  const elapsedMs = window.elapsedMs;
  const notifications = meter.watchEvents + meter.recipeEvents;
  const cpu = cpuStart !== undefined && cpuEnd !== undefined ? Math.max(0, cpuEnd.cpuSeconds - cpuStart.cpuSeconds) : null;
  const [fs0, fs1] = await Promise.all([fsyncStart ?? null, fsyncEnd ?? null]);
  const serverFsync = fs0 !== null && fs1 !== null ? fsyncBetween(fs0, fs1) : null;
  return {
    recipes: firstRecipes,
    result: {
      run,
      ops: window.ops,
      elapsedMs,
      opsPerSec: elapsedMs > 0 ? (window.ops * 1000) / elapsedMs : 0,
      latency: lat,
      errors,
      errorSamples: [...errorSamples],
      watchEvents: meter.watchEvents,
      recipeEvents: meter.recipeEvents,
      notificationsPerOp: window.ops > 0 ? notifications / window.ops : 0,
      serverCpuSeconds: cpu,
      serverCpuUsPerOp: cpu !== null && window.ops > 0 ? (cpu * 1e6) / window.ops : null,
      serverRssBytes: cpuEnd?.rssBytes ?? null,
      serverPeakRssBytes: cpuEnd?.hwmBytes ?? null,
      serverFsync,
      extra,
      violations: [...violations.messages],
    },
  };
}

function summarize(runs: readonly RunResult[]): CaseSummary {
  const nums = (f: (r: RunResult) => number | null): number[] => runs.map(f).filter((x): x is number => x !== null);
  const maybe = (f: (r: RunResult) => number | null) => {
    const v = nums(f);
    return v.length === 0 ? null : spread(v);
  };
  const extraKeys = new Set(runs.flatMap((r) => Object.keys(r.extra)));
  return {
    opsPerSec: spread(nums((r) => r.opsPerSec)),
    p50Ms: spread(nums((r) => r.latency.p50Ms)),
    p90Ms: spread(nums((r) => r.latency.p90Ms)),
    p99Ms: spread(nums((r) => r.latency.p99Ms)),
    maxMs: spread(nums((r) => r.latency.maxMs)),
    errors: spread(nums((r) => r.errors)),
    notificationsPerOp: spread(nums((r) => r.notificationsPerOp)),
    serverCpuUsPerOp: maybe((r) => r.serverCpuUsPerOp),
    serverRssBytes: maybe((r) => r.serverRssBytes),
    serverFsyncP50Ms: maybe((r) => r.serverFsync?.p50Ms ?? null),
    serverFsyncsPerOp: maybe((r) => (r.serverFsync !== null && r.ops > 0 ? r.serverFsync.fsyncs / r.ops : null)),
    extra: Object.fromEntries([...extraKeys].map((k) => [k, spread(nums((r) => r.extra[k] ?? null))])),
  };
}

function ratio(a: number, b: number): number | null {
  return b > 0 && Number.isFinite(a) ? a / b : null;
}

function lostRacesPerItem(c: CaseReport): number | null {
  const races = c.summary.extra["lostRaces"]?.median;
  const items = c.summary.extra["itemsDelivered"]?.median;
  return races === undefined || items === undefined || items === 0 ? null : races / items;
}

/** A target on a number of `extra`: Corral's median, alone or ÷ ZooKeeper's. */
function extraTarget(c: CaseReport, z: CaseReport, t: Target): number | null {
  const mine = t.key === undefined ? undefined : c.summary.extra[t.key]?.median;
  if (mine === undefined || !Number.isFinite(mine)) return null;
  if (t.versus !== "zookeeper") return mine;
  const theirs = z.summary.extra[t.key!]?.median;
  return theirs === undefined ? null : ratio(mine, theirs);
}

export function compare(cases: readonly CaseReport[], workloads: readonly Workload[]): Comparison[] {
  const out: Comparison[] = [];
  for (const c of cases.filter((x) => x.target === "corral")) {
    const z = cases.find((x) => x.target === "zookeeper" && x.topology === c.topology && x.workload === c.workload && x.variant === c.variant);
    if (z === undefined) continue;
    const tr = ratio(c.summary.opsPerSec.median, z.summary.opsPerSec.median);
    const p50 = ratio(c.summary.p50Ms.median, z.summary.p50Ms.median);
    const p99 = ratio(c.summary.p99Ms.median, z.summary.p99Ms.median);
    const w = workloads.find((x) => x.name === c.workload);
    const targets: TargetCheck[] = [];
    for (const t of w?.targets?.(c) ?? []) {
      const actual =
        t.metric === "throughput" ? tr : t.metric === "p50" ? p50 : t.metric === "p99" ? p99 : t.metric === "extra" ? extraTarget(c, z, t) : lostRacesPerItem(c);
      if (actual === null) continue;
      targets.push({ ...t, actual, met: t.op === ">=" ? actual >= t.ratio : actual <= t.ratio });
    }
    out.push({ workload: c.workload, variant: c.variant, clients: c.clients, topology: c.topology, throughputRatio: tr, p50Ratio: p50, p99Ratio: p99, targets });
  }
  return out;
}

function memoryFindings(cases: readonly CaseReport[]): BenchReport["memory"] {
  const findings: MemoryFinding[] = [];
  for (const target of ["corral", "zookeeper"] as const) {
    for (const topology of ["standalone", "ensemble"] as const) {
      let best: MemoryFinding | undefined;
      for (const c of cases.filter((x) => x.target === target && x.topology === topology)) {
        const rss = c.summary.serverRssBytes?.median;
        if (rss === undefined || (best !== undefined && rss <= best.rssBytes)) continue;
        const peaks = c.runs.map((r) => r.serverPeakRssBytes).filter((x): x is number => x !== null);
        best = { target, topology, rssBytes: rss, afterCase: `${c.workload} ${c.variant}`, peakRssBytes: peaks.length === 0 ? null : Math.max(...peaks) };
      }
      if (best !== undefined) findings.push(best);
    }
  }
  const corral = findings.find((f) => f.target === "corral" && f.topology === "standalone");
  const zk = findings.find((f) => f.target === "zookeeper" && f.topology === "standalone");
  return { findings, ratio: corral !== undefined && zk !== undefined ? corral.rssBytes / zk.rssBytes : null, targetRatio: MEMORY_TARGET_RATIO };
}

interface LiveServer {
  target: TargetName;
  server: ServerUnderTest;
  info: ServerInfo;
  /** It failed (or died) during a run: no more runs on it. */
  stopped: boolean;
}

/** Starts one server under test; `server` is undefined when it is not available or failed to start. */
async function startOne(
  target: TargetName,
  topology: Topology,
  opts: BenchOptions,
  status: BenchStatus,
  hooks: HarnessHooks,
): Promise<{ info: ServerInfo; server?: ServerUnderTest }> {
  status.label = `starting ${target} ${topology}`;
  hooks.status?.(status);
  let outcome: StartOutcome;
  try {
    outcome = await startServer(target, topology, opts);
  } catch (e) {
    // A server that should start and does not is a failed bench run (exit 2), unlike one
    // that is not available (the Corral ensemble in-process).
    const reason = `failed to start: ${message(e)}`;
    hooks.warn?.(`${target} ${topology}: ${reason}`);
    return { info: { target, topology, available: false, reason, failed: true, notes: [] } };
  }
  if (!outcome.ok) {
    hooks.warn?.(outcome.reason);
    return { info: { target, topology, available: false, reason: outcome.reason, notes: [] } };
  }
  const server = outcome.server;
  return { server, info: { target, topology, available: true, version: server.version, how: server.how, inProcess: server.inProcess, notes: server.notes } };
}

/**
 * A case against its floor: one fsync plus one round trip standalone, one more round trip
 * in an ensemble (client to leader, leader to follower and back), from the floor probes
 * before and after the run (their mean: the machine drifts during a run).
 */
export function ofFloor(c: CaseReport, kind: "chain" | "latency" | undefined, before: FloorProbe | null, after: FloorProbe | null): CaseReport["ofFloor"] {
  const probes = [before, after].filter((p): p is FloorProbe => p !== null);
  if (kind === undefined || probes.length === 0) return null;
  const mean = (f: (p: FloorProbe) => number): number => probes.reduce((a, p) => a + f(p), 0) / probes.length;
  const extra = c.topology === "ensemble" ? mean((p) => p.rttP50Ms) : 0;
  // A chain's ops/s is a rate over its window, so it is held against the probe's rate (its
  // mean step, tail included); a latency's p50 against the probe's p50.
  const floorMs = (kind === "chain" ? mean((p) => 1000 / p.durableRoundTripsPerSec) : mean((p) => p.durableRoundTripP50Ms)) + extra;
  if (!(floorMs > 0)) return null;
  const value = kind === "chain" ? c.summary.opsPerSec.median / (1000 / floorMs) : c.summary.p50Ms.median / floorMs;
  return Number.isFinite(value) ? { kind, value, floorMs } : null;
}

export async function runBench(opts: BenchOptions, hooks: HarnessHooks = {}): Promise<BenchReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const planned = planCases(opts);
  const workloads = selectWorkloads(opts.workloads);
  const servers: ServerInfo[] = [];
  const cases: CaseReport[] = [];
  const violations: Violation[] = [];
  const status: BenchStatus = { runsDone: 0, runsTotal: opts.targets.length * opts.topologies.length * planned.length * opts.repeats, label: "starting", ops: () => 0, runStartedAt: performance.now(), runMs: opts.warmupMs + opts.durationMs };
  const aborted = (): boolean => hooks.signal?.aborted ?? false;
  const probe = async (when: string): Promise<DiskProbe | null> => {
    status.label = `disk probe (${when})`;
    hooks.status?.(status);
    return probeDisk(tmpdir()).catch((e: unknown) => {
      hooks.warn?.(`disk probe failed: ${message(e)}`);
      return null;
    });
  };
  const diskBefore = await probe("before");
  const floorProbe = async (when: string): Promise<FloorProbe | null> => {
    status.label = `durable hand-off floor probe (${when})`;
    hooks.status?.(status);
    return probeFloor(tmpdir()).catch((e: unknown) => {
      hooks.warn?.(`floor probe failed: ${message(e)}`);
      return null;
    });
  };
  const floorBefore = await floorProbe("before");

  // One topology at a time, its servers (Corral, ZooKeeper) all up together; each case's
  // runs alternate between them (run 1 on each, then run 2 on each, ...), so a slow spell
  // of the shared machine (a busy disk, a noisy neighbour) falls on both sides of a ratio
  // instead of on whichever server happened to be measured at the time.
  for (const topology of opts.topologies) {
    if (aborted()) break;
    const live: LiveServer[] = [];
    try {
      for (const target of opts.targets) {
        if (aborted()) break;
        const started = await startOne(target, topology, opts, status, hooks);
        servers.push(started.info);
        if (started.server === undefined) status.runsTotal -= planned.length * opts.repeats;
        else live.push({ target, server: started.server, info: started.info, stopped: false });
      }
      for (const pc of planned) {
        if (aborted()) break;
        const ofServer = new Map<LiveServer, { runs: RunResult[]; recipes: RecipeClient | undefined }>();
        for (let run = 1; run <= opts.repeats && !aborted(); run++) {
          for (const l of live) {
            if (l.stopped || aborted()) continue;
            const { target, server } = l;
            try {
              status.label = `${target} ${topology} ${pc.workload.name} ${pc.spec.variant} run ${run}/${opts.repeats}`;
              status.runStartedAt = performance.now();
              hooks.status?.(status);
              const r = await runOnce(server, pc, run, opts, hooks, status);
              status.ops = () => 0;
              if (aborted()) break; // An interrupted run measured nothing worth keeping.
              const mine = ofServer.get(l) ?? { runs: [], recipes: undefined };
              ofServer.set(l, mine);
              mine.recipes ??= r.recipes;
              mine.runs.push(r.result);
              status.runsDone++;
              for (const m of r.result.violations) violations.push({ target, topology, workload: pc.workload.name, variant: pc.spec.variant, run, message: m });
              if (!server.inProcess && sampleProcesses(server.pids) === undefined) throw new Error(`${target} ${topology} server process died during ${pc.workload.name} ${pc.spec.variant}`);
            } catch (e) {
              l.stopped = true;
              l.info.failed = true;
              l.info.notes.push(`stopped early: ${message(e)}`);
              hooks.warn?.(`${target} ${topology}: ${message(e)}`);
              await l.server.stop();
            }
          }
        }
        for (const l of live) {
          const mine = ofServer.get(l);
          if (mine === undefined || mine.runs.length === 0) continue;
          cases.push({
            workload: pc.workload.name,
            title: pc.workload.title,
            variant: pc.spec.variant,
            clients: pc.spec.clients,
            params: pc.spec.params,
            unit: pc.workload.unit,
            latency: pc.workload.latency,
            headline: pc.workload.headline,
            target: l.target,
            topology,
            recipeMode: pc.workload.group !== "raw" ? (mine.recipes?.recipeMode ?? null) : null,
            recipeImplementation: pc.workload.group !== "raw" ? (mine.recipes?.implementation ?? null) : null,
            runs: mine.runs,
            summary: summarize(mine.runs),
            ofFloor: null,
          });
        }
      }
    } finally {
      for (const l of live) {
        status.label = `stopping ${l.target} ${topology}`;
        hooks.status?.(status);
        await l.server.stop();
      }
    }
  }
  const diskAfter = aborted() ? null : await probe("after");
  const floorAfter = aborted() ? null : await floorProbe("after");
  for (const c of cases) c.ofFloor = ofFloor(c, workloads.find((w) => w.name === c.workload)?.floor, floorBefore, floorAfter);
  const finishedAt = new Date();
  const cpuList = cpus();
  return {
    schema: REPORT_SCHEMA,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (performance.now() - t0) / 1000,
    ok: violations.length === 0 && !aborted() && !servers.some((s) => s.failed === true),
    interrupted: aborted(),
    host: { hostname: hostname(), cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? "unknown", memoryBytes: totalmem(), platform: platform(), release: release(), node: process.version },
    disk: { before: diskBefore, after: diskAfter },
    floor: { before: floorBefore, after: floorAfter },
    options: {
      quick: opts.quick,
      targets: opts.targets,
      topologies: opts.topologies,
      workloads: workloads.map((w) => w.name),
      repeats: opts.repeats,
      warmupMs: opts.warmupMs,
      durationMs: opts.durationMs,
      opsMax: opts.opsMax,
      plan: opts.plan,
      recipes: opts.recipes,
      corral: opts.corral,
      forceSync: opts.forceSync,
      tickMs: opts.tickMs,
      zkJvmFlags: opts.zkJvmFlags,
      seed: opts.seed,
    },
    servers,
    cases,
    comparisons: compare(cases, workloads),
    memory: memoryFindings(cases),
    violations,
  };
}

/** 1 if a correctness check failed, 130 if interrupted, 2 if a server failed to start or died, else 0. */
export function exitCodeFor(report: BenchReport): number {
  if (report.violations.length > 0) return 1;
  if (report.interrupted) return 130;
  if (report.servers.some((s) => s.failed === true)) return 2;
  return 0;
}
