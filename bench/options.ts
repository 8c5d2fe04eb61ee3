// Command-line options of `npm run bench` (node:util parseArgs), their defaults for the
// default run (< 15 min) and --quick (< 2 min), and the help text.

import { parseArgs } from "node:util";
import { join } from "node:path";
import type { RecipeChoice } from "./recipes/api.js";
import { repoRoot } from "./servers/corral.js";
import { TARGETS, TOPOLOGIES, type TargetName, type Topology } from "./servers/types.js";
import { DEFAULT_ZK_JVM_FLAGS } from "./servers/zookeeper.js";
import { WORKLOADS, WORKLOAD_GROUPS } from "./workloads/index.js";
import type { PlanOptions } from "./workloads/types.js";

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
  };
}

export function defaultOptions(quick = false): BenchOptions {
  return {
    quick,
    targets: [...TARGETS],
    topologies: quick ? ["standalone"] : [...TOPOLOGIES],
    workloads: WORKLOADS.map((w) => w.name),
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
