// What a workload is: a name, the cases it runs (one per client count or variant), and
// a run function that drives load through a CaseContext until the window closes.

import type { ZooKeeperClient } from "../../src/client/index.js";
import type { LockTable, ViolationLog } from "../checks.js";
import type { RecipeClient } from "../recipes/api.js";
import type { ServerUnderTest } from "../servers/types.js";
import type { Window } from "./driver.js";

export interface PlanOptions {
  quick: boolean;
  /** Client counts for the raw op workloads. */
  rawClients: readonly number[];
  /** Requests each raw-op client keeps in flight. */
  inFlight: number;
  /** Clients for the uncontended lock workload. */
  lockClients: number;
  /** Client counts for the contended mutex. */
  mutexClients: readonly number[];
  rwlockClients: number;
  /** Percentage of read acquisitions in the read/write lock workload. */
  readPercent: number;
  producers: number;
  consumers: number;
  barrierClients: number;
  electionMembers: number;
  /** Sizes of the scale workloads (bench/workloads/scale-*.ts), already multiplied by --scale. */
  scale: ScaleSizes;
}

/** Sizes of the scale workloads; `--scale F` multiplies the counts (not the seconds). */
export interface ScaleSizes {
  /** --scale itself, for the report. */
  factor: number;
  /** mutex-many: independent mutexes, contenders on each, sessions they share. */
  mutexes: number;
  contendersPerMutex: number;
  mutexSessions: number;
  /** waiters-100k: waiters filed on one lock, the sessions filing them, the small case's waiters. */
  waiters: number;
  waiterSessions: number;
  waitersBase: number;
  /** Hand-offs measured with the small and with the big line of waiters. */
  handoffs: number;
  /** sessions-10k: sessions, connects in flight during the storm, seconds of idle CPU. */
  sessions: number;
  connectsInFlight: number;
  idleSeconds: number;
  /** znodes-1m: znodes (of znodeBytes each), creates in flight while loading. */
  znodes: number;
  znodeBytes: number;
  createsInFlight: number;
  /** queue-backlog: items in the backlog; items offered and taken in each measured phase. */
  backlog: number;
  queueItems: number;
  /** mixed-p999: sessions, and seconds of mixed load. */
  mixedClients: number;
  mixedSeconds: number;
  /** Bound of any one phase of a scale workload (filing, loading, a storm), seconds. */
  phaseSeconds: number;
}

export interface CaseSpec {
  workload: string;
  /** Short label of this case within its workload, e.g. "8x16" or "16". */
  variant: string;
  /** Client sessions the case opens (for charts: the x axis). */
  clients: number;
  params: Record<string, number>;
}

export interface Target {
  /**
   * What is compared: the Corral/ZooKeeper ratio of ops/s ("throughput") or of a latency
   * percentile; or Corral's own lost races per item ("lostRaces", an absolute bound).
   */
  metric: "throughput" | "p50" | "p99" | "lostRaces" | "extra";
  /**
   * metric "extra": which number of the case's `extra` is compared, and against what:
   * "zookeeper" (Corral's ÷ ZooKeeper's median, e.g. RSS after loading a tree) or
   * "absolute" (Corral's own median, e.g. its p99 with 100,000 waiters ÷ with 10).
   */
  key?: string;
  versus?: "zookeeper" | "absolute";
  op: ">=" | "<=";
  ratio: number;
  /** Which issue sets it. */
  source: string;
}

export interface Workload {
  name: string;
  title: string;
  group: "raw" | "recipe" | "scale";
  /** What one op is, plural: "creates", "grants", "items", "rounds", "failovers". */
  unit: string;
  /** What the latency histogram measures. */
  latency: string;
  /** The number that matters: ops/s, or latency (election failover time). */
  headline: "throughput" | "latency";
  cases(plan: PlanOptions): CaseSpec[];
  /**
   * How the case compares with the durable hand-off floor (bench/floor-probe.ts), if it
   * is bound by it: "chain", a serial chain of durable steps (one txn and one push per
   * op: ops/s against 1 / floor); "latency", one durable step and its answer (p50 against
   * the floor). The floor is one fsync plus one round trip standalone, plus a second
   * round trip (leader to follower and back) in an ensemble.
   */
  floor?: "chain" | "latency";
  /**
   * The run's measurement window and hard bound when they are not --warmup/--duration
   * (scale workloads: a load phase, a storm, that ends when its work is done and closes
   * the window itself). `opsMax` replaces --ops-max.
   */
  timing?: (spec: CaseSpec, plan: PlanOptions) => { warmupMs: number; durationMs: number; boundMs: number; opsMax: number };
  /** The issues' targets for a case (none if absent). */
  targets?: (c: { variant: string; clients: number }) => Target[];
  run(ctx: CaseContext, spec: CaseSpec): Promise<void>;
}

export interface CaseContext {
  readonly connectString: string;
  /** A fresh znode path for this case (the parent exists). */
  readonly root: string;
  readonly window: Window;
  readonly violations: ViolationLog;
  readonly locks: LockTable;
  /** Fires at the hard deadline (or on Ctrl-C, or on a violation): stop waiting. */
  readonly signal: AbortSignal;
  readonly random: () => number;
  /** How long one blocking recipe call may wait before it counts as an error (scaled to the window). */
  readonly waitMs: number;
  /** An unmetered session for setup (parent nodes) and checks; not for load. */
  readonly admin: ZooKeeperClient;
  /** Opens a metered client session (closed by the harness at the end of the case). */
  connect(opts?: { sessionTimeoutMs?: number }): Promise<ZooKeeperClient>;
  /** The server under test: its processes, ports, dataDirs, and a kill -9 restart. */
  readonly server: ServerUnderTest;
  /** The recipe API for a client (the client's own, or bench's stand-in). */
  recipes(client: ZooKeeperClient): Promise<RecipeClient>;
  /** Records a failed op (not a correctness violation). */
  error(e: unknown): void;
  /** Extra numbers for the result (lost races, redeliveries, ...). */
  extra: Record<string, number>;
}
