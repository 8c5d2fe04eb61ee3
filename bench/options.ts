// Command-line options of `npm run bench` (node:util parseArgs), their defaults for the
// default run (< 15 min) and --quick (< 2 min), and the help text.

import { parseArgs } from "node:util";
import { join } from "node:path";
import type { RecipeChoice } from "./recipes/api.js";
import { repoRoot } from "./servers/corral.js";
import { TARGETS, TOPOLOGIES, type TargetName, type Topology } from "./servers/types.js";
import { DEFAULT_ZK_JVM_FLAGS } from "./servers/zookeeper.js";
import { DEFAULT_WORKLOADS, WORKLOADS, WORKLOAD_GROUPS } from "./workloads/index.js";
import type { PlanOptions, ScaleSizes } from "./workloads/types.js";

export interface BenchOptions {
  quick: boolean;
  targets: TargetName[];
  topologies: Topology[];
  workloads: string[];
  repeats: number;
  warmupMs: number;
  durationMs: number;
  opsMax: number;
  plan: PlanOptions;
  recipes: RecipeChoice;
  /** "process" (default) or "in-process" (smoke test; debugging). */
  corral: "process" | "in-process";
  forceSync: boolean;
  tickMs: number;
  zkJvmFlags: string[];
  seed: number;
  /** Where <date>.json and <date>.md go; null: write nothing. */
  resultsDir: string | null;
}

export const HELP = `Usage: npm run bench -- [options]

Starts the servers under test on 127.0.0.1 (temp dirs, forceSync=yes), runs the
workloads against each, checks correctness as it measures, prints a table and writes
bench/results/<date>.json and bench/results/<date>.md (see bench/results/README.md).

  --quick                 short run (< 2 min): standalone only, 1 run per case, 1 s windows
  --target T              corral | zookeeper | both (default both)
  --topology T            standalone | ensemble | both (default: both; --quick: standalone)
  --workload a,b          names or groups (default all):
                          ${WORKLOADS.map((w) => w.name).join(", ")}
                          groups: ${Object.keys(WORKLOAD_GROUPS).join(", ")}
                          ("all" is every workload but the scale group's; "scale" runs
                          those at full size, about 30 min: use --repeats 1)
  --repeats N             runs per case; median, min and max are reported (default 3)
  --duration S            measured seconds per run (default 2; --quick 1)
  --warmup S              unmeasured seconds before each window (default 0.5; --quick 0.2)
  --ops-max N             op count bound per run (default 1000000)
  --clients 1,8,64        client counts of the raw op workloads (default 1,8,64)
  --in-flight K           requests each raw-op client keeps in flight (default 16)
  --lock-clients N        uncontended lock clients (default 8)
  --mutex-clients 16,64   contended mutex client counts (default 16,64)
  --rwlock-clients N      read/write lock clients (default 20)
  --read-percent P        read share of rw-lock acquisitions (default 90)
  --producers P           queue producers (default 4)
  --consumers C           queue consumers (default 4)
  --barrier-clients N     double barrier size (default 10)
  --election-members N    election members (default 5)
  --scale F               multiplies every count of the scale workloads (default 1; 0.01 for a smoke run)
  --mutexes N             mutex-many: independent mutexes (default 1000)
  --contenders N          mutex-many: contenders per mutex (default 4)
  --mutex-sessions N      mutex-many: sessions the contenders share (default 64)
  --waiters N             waiters-100k: waiters on one lock (default 100000)
  --waiter-sessions N     waiters-100k: sessions filing them (default 16)
  --sessions N            sessions-10k: sessions (default 10000)
  --idle S                sessions-10k: seconds of idle CPU measured (default 10)
  --znodes N              znodes-1m: znodes of 100 bytes (default 1000000)
  --backlog N             queue-backlog: items in the backlog (default 1000000)
  --mixed-clients N       mixed-p999: sessions (default 32)
  --mixed-duration S      mixed-p999: seconds of mixed load (default 10)
  --phase-max S           scale workloads: bound of one phase (filing, loading, a storm; default 240)
  --recipes R             auto (the client's recipe API when it has one) | standin (bench's classic recipes)
  --corral M              process (default) | in-process
  --force-sync yes|no     forceSync for both servers (default yes)
  --zk-jvm-flags "..."    JVM flags for ZooKeeper (default: "${DEFAULT_ZK_JVM_FLAGS.join(" ")}")
  --seed N                seed of the workloads' random choices (default 1)
  --out DIR               results directory (default bench/results); --no-write writes nothing
  -h, --help              this text
`;

function list(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

function positiveInts(name: string, text: string): number[] {
  const out = list(text).map((t) => positiveInt(name, t));
  if (out.length === 0) throw new Error(`--${name} needs at least one number`);
  return out;
}

function seconds(name: string, text: string, allowZero: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`--${name} must be a ${allowZero ? "non-negative" : "positive"} number of seconds`);
  return Math.round(n * 1000);
}

/** The default plan; --quick uses the same shapes with shorter windows. */
export function defaultPlan(): PlanOptions {
  return {
    quick: false,
    rawClients: [1, 8, 64],
    inFlight: 16,
    lockClients: 8,
    mutexClients: [16, 64],
    rwlockClients: 20,
    readPercent: 90,
    producers: 4,
    consumers: 4,
    barrierClients: 10,
    electionMembers: 5,
    scale: scaleSizes(1),
  };
}

/** The scale workloads' sizes at `factor` (counts scaled, never below a workable minimum). */
export function scaleSizes(factor: number, base: Partial<ScaleSizes> = {}): ScaleSizes {
  const n = (full: number, min: number): number => Math.max(min, Math.round(full * factor));
  return {
    factor,
    mutexes: base.mutexes ?? n(1_000, 2),
    contendersPerMutex: base.contendersPerMutex ?? 4,
    mutexSessions: base.mutexSessions ?? n(64, 4),
    waiters: base.waiters ?? n(100_000, 20),
    waiterSessions: base.waiterSessions ?? n(16, 2),
    waitersBase: base.waitersBase ?? 10,
    handoffs: base.handoffs ?? n(2_000, 50),
    sessions: base.sessions ?? n(10_000, 10),
    connectsInFlight: base.connectsInFlight ?? 256,
    idleSeconds: base.idleSeconds ?? Math.max(1, Math.round(10 * Math.min(1, factor * 10))),
    znodes: base.znodes ?? n(1_000_000, 200),
    znodeBytes: base.znodeBytes ?? 100,
    createsInFlight: base.createsInFlight ?? 1_000,
    backlog: base.backlog ?? n(1_000_000, 100),
    queueItems: base.queueItems ?? n(5_000, 50),
    mixedClients: base.mixedClients ?? n(32, 4),
    mixedSeconds: base.mixedSeconds ?? Math.max(1, Math.round(10 * Math.min(1, factor * 10))),
    phaseSeconds: base.phaseSeconds ?? 240,
  };
}

export function defaultOptions(quick = false): BenchOptions {
  return {
    quick,
    targets: [...TARGETS],
    topologies: quick ? ["standalone"] : [...TOPOLOGIES],
    workloads: DEFAULT_WORKLOADS.map((w) => w.name),
    repeats: quick ? 1 : 3,
    warmupMs: quick ? 200 : 500,
    durationMs: quick ? 1_000 : 2_000,
    opsMax: 1_000_000,
    plan: { ...defaultPlan(), quick },
    recipes: "auto",
    corral: "process",
    forceSync: true,
    tickMs: 2_000,
    zkJvmFlags: [...DEFAULT_ZK_JVM_FLAGS],
    seed: 1,
    resultsDir: join(repoRoot(), "bench", "results"),
  };
}

/** Parses argv; returns "help" for -h/--help. Throws with a readable message on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean" },
      target: { type: "string" },
      topology: { type: "string" },
      workload: { type: "string", multiple: true },
      repeats: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      "ops-max": { type: "string" },
      clients: { type: "string" },
      "in-flight": { type: "string" },
      "lock-clients": { type: "string" },
      "mutex-clients": { type: "string" },
      "rwlock-clients": { type: "string" },
      "read-percent": { type: "string" },
      producers: { type: "string" },
      consumers: { type: "string" },
      "barrier-clients": { type: "string" },
      "election-members": { type: "string" },
      scale: { type: "string" },
      mutexes: { type: "string" },
      contenders: { type: "string" },
      "mutex-sessions": { type: "string" },
      waiters: { type: "string" },
      "waiter-sessions": { type: "string" },
      sessions: { type: "string" },
      idle: { type: "string" },
      znodes: { type: "string" },
      backlog: { type: "string" },
      "mixed-clients": { type: "string" },
      "mixed-duration": { type: "string" },
      "phase-max": { type: "string" },
      recipes: { type: "string" },
      corral: { type: "string" },
      "force-sync": { type: "string" },
      "zk-jvm-flags": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "no-write": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  const o = defaultOptions(values.quick === true);
  const p = { ...o.plan };
  if (values.target !== undefined) {
    if (values.target === "both") o.targets = [...TARGETS];
    else if ((TARGETS as readonly string[]).includes(values.target)) o.targets = [values.target as TargetName];
    else throw new Error(`--target must be corral, zookeeper or both, got ${JSON.stringify(values.target)}`);
  }
  if (values.topology !== undefined) {
    if (values.topology === "both") o.topologies = [...TOPOLOGIES];
    else if ((TOPOLOGIES as readonly string[]).includes(values.topology)) o.topologies = [values.topology as Topology];
    else throw new Error(`--topology must be standalone, ensemble or both, got ${JSON.stringify(values.topology)}`);
  }
  if (values.workload !== undefined) o.workloads = values.workload.flatMap(list);
  if (values.repeats !== undefined) o.repeats = positiveInt("repeats", values.repeats);
  if (values.duration !== undefined) o.durationMs = seconds("duration", values.duration, false);
  if (values.warmup !== undefined) o.warmupMs = seconds("warmup", values.warmup, true);
  if (values["ops-max"] !== undefined) o.opsMax = positiveInt("ops-max", values["ops-max"]);
  if (values.clients !== undefined) p.rawClients = positiveInts("clients", values.clients);
  if (values["in-flight"] !== undefined) p.inFlight = positiveInt("in-flight", values["in-flight"]);
  if (values["lock-clients"] !== undefined) p.lockClients = positiveInt("lock-clients", values["lock-clients"]);
  if (values["mutex-clients"] !== undefined) p.mutexClients = positiveInts("mutex-clients", values["mutex-clients"]);
  if (values["rwlock-clients"] !== undefined) p.rwlockClients = positiveInt("rwlock-clients", values["rwlock-clients"]);
  if (values["read-percent"] !== undefined) {
    const n = Number(values["read-percent"]);
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error("--read-percent must be between 0 and 100");
    p.readPercent = n;
  }
  if (values.producers !== undefined) p.producers = positiveInt("producers", values.producers);
  if (values.consumers !== undefined) p.consumers = positiveInt("consumers", values.consumers);
  if (values["barrier-clients"] !== undefined) p.barrierClients = positiveInt("barrier-clients", values["barrier-clients"]);
  if (values["election-members"] !== undefined) {
    p.electionMembers = positiveInt("election-members", values["election-members"]);
    if (p.electionMembers < 2) throw new Error("--election-members must be at least 2");
  }
  {
    let factor = 1;
    if (values.scale !== undefined) {
      factor = Number(values.scale);
      if (!Number.isFinite(factor) || factor <= 0 || factor > 10) throw new Error(`--scale must be a number in (0, 10], got ${JSON.stringify(values.scale)}`);
    }
    const base: Partial<ScaleSizes> = {};
    const int = (k: keyof typeof values, key: keyof ScaleSizes): void => {
      const v = values[k];
      if (typeof v === "string") (base as Record<string, number>)[key] = positiveInt(String(k), v);
    };
    int("mutexes", "mutexes");
    int("contenders", "contendersPerMutex");
    int("mutex-sessions", "mutexSessions");
    int("waiters", "waiters");
    int("waiter-sessions", "waiterSessions");
    int("sessions", "sessions");
    int("idle", "idleSeconds");
    int("znodes", "znodes");
    int("backlog", "backlog");
    int("mixed-clients", "mixedClients");
    int("mixed-duration", "mixedSeconds");
    int("phase-max", "phaseSeconds");
    p.scale = scaleSizes(factor, base);
  }
  if (values.recipes !== undefined) {
    if (values.recipes !== "auto" && values.recipes !== "standin") throw new Error("--recipes must be auto or standin");
    o.recipes = values.recipes;
  }
  if (values.corral !== undefined) {
    if (values.corral !== "process" && values.corral !== "in-process") throw new Error("--corral must be process or in-process");
    o.corral = values.corral;
  }
  if (values["force-sync"] !== undefined) {
    if (values["force-sync"] !== "yes" && values["force-sync"] !== "no") throw new Error("--force-sync must be yes or no");
    o.forceSync = values["force-sync"] === "yes";
  }
  if (values["zk-jvm-flags"] !== undefined) o.zkJvmFlags = values["zk-jvm-flags"].split(/\s+/).filter((s) => s !== "");
  if (values.seed !== undefined) o.seed = positiveInt("seed", values.seed);
  if (values.out !== undefined) o.resultsDir = values.out;
  if (values["no-write"] === true) o.resultsDir = null;
  o.plan = p;
  return o;
}
