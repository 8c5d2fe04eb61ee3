// The result file's shape (bench/results/<date>.json). `schema` changes when a field's
// meaning does; tools reading old files should check it.

import type { LatencySummary, Spread } from "../stats.js";
import type { TargetName, Topology } from "../servers/types.js";
import type { Target } from "../workloads/types.js";

export const REPORT_SCHEMA = "corral-bench/1";

export interface RunResult {
  run: number;
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
  latency: LatencySummary;
  errors: number;
  /** A few distinct error messages, for the reader. */
  errorSamples: string[];
  /** Watch notifications delivered to the driver's clients while measuring. */
  watchEvents: number;
  /** Recipe engine events (grants, items) pushed to the driver's clients while measuring. */
  recipeEvents: number;
  /** (watchEvents + recipeEvents) / ops: the herd meter. */
  notificationsPerOp: number;
  /** Server process(es) CPU seconds during the measurement window (summed for an ensemble). */
  serverCpuSeconds: number | null;
  /** Server CPU per op, microseconds. */
  serverCpuUsPerOp: number | null;
  /** Server resident memory at the end of the window (summed for an ensemble). */
  serverRssBytes: number | null;
  /** Peak resident memory of the server process(es) so far (VmHWM). */
  serverPeakRssBytes: number | null;
  /** The server's own fsyncs during the window (Corral's /metrics histogram, summed over members); null if not read. */
  serverFsync: { fsyncs: number; meanMs: number; p50Ms: number } | null;
  /** Workload-specific counts: lostRaces, redeliveries, undeliveredAtEnd, ... */
  extra: Record<string, number>;
  violations: string[];
}

export interface CaseSummary {
  opsPerSec: Spread;
  p50Ms: Spread;
  p90Ms: Spread;
  p99Ms: Spread;
  maxMs: Spread;
  errors: Spread;
  notificationsPerOp: Spread;
  serverCpuUsPerOp: Spread | null;
  serverRssBytes: Spread | null;
  /** The server's fsync p50 under this case's load (see RunResult.serverFsync). */
  serverFsyncP50Ms: Spread | null;
  /**
   * The server's fsyncs per op in the window (summed over an ensemble's members): how well
   * group commit shares a disk wait. A serial hand-off chain costs at least 1 on standalone.
   */
  serverFsyncsPerOp: Spread | null;
  extra: Record<string, Spread>;
}

export interface CaseReport {
  workload: string;
  title: string;
  variant: string;
  clients: number;
  params: Record<string, number>;
  unit: string;
  latency: string;
  headline: "throughput" | "latency";
  target: TargetName;
  topology: Topology;
  recipeMode: string | null;
  recipeImplementation: string | null;
  runs: RunResult[];
  summary: CaseSummary;
  /**
   * Against the durable hand-off floor of its topology (bench/floor-probe.ts), for
   * fsync-bound cases: "chain" = median ops/s ÷ floor rate (1 is the floor);
   * "latency" = median p50 ÷ floor time (1 is the floor). Null when not fsync-bound or
   * the floor was not measured.
   */
  ofFloor: { kind: "chain" | "latency"; value: number; floorMs: number } | null;
}

export interface ServerInfo {
  target: TargetName;
  topology: Topology;
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  /** It should have run and did not (failed to start, or died): the bench run fails. */
  failed?: boolean;
  version?: string;
  how?: string;
  inProcess?: boolean;
  notes: string[];
}

export interface TargetCheck extends Target {
  actual: number;
  met: boolean;
}

export interface Comparison {
  workload: string;
  variant: string;
  clients: number;
  topology: Topology;
  /** Corral ÷ ZooKeeper of the medians. */
  throughputRatio: number | null;
  p50Ratio: number | null;
  p99Ratio: number | null;
  /** Issue targets for this case, with what we reached. */
  targets: TargetCheck[];
}

export interface MemoryFinding {
  target: TargetName;
  topology: Topology;
  /** Largest RSS at the end of any case's window (median over runs), and which case. */
  rssBytes: number;
  afterCase: string;
  peakRssBytes: number | null;
}

export interface Violation {
  target: TargetName;
  topology: Topology;
  workload: string;
  variant: string;
  run: number;
  message: string;
}

/** write + fdatasync of one small record on the servers' disk, one at a time, without load. */
export interface DiskProbe {
  dir: string;
  samples: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/**
 * The floor of a durable hand-off (bench/floor-probe.ts): 64 bytes to another process,
 * which appends them with fdatasync and answers; one at a time, without server load.
 */
export interface FloorProbe {
  dir: string;
  samples: number;
  /** Loopback round trip between two Node processes, no fsync. */
  rttP50Ms: number;
  /** One fsync plus one round trip. */
  durableRoundTripP50Ms: number;
  /** What a serial chain of durable steps could reach: measured round trips per second. */
  durableRoundTripsPerSec: number;
}

export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  /** False if a correctness check failed or the run was interrupted. */
  ok: boolean;
  interrupted: boolean;
  host: { hostname: string; cpus: number; cpuModel: string; memoryBytes: number; platform: string; release: string; node: string };
  /** The disk probe before the first server started and after the last one stopped (null: failed). */
  disk: { before: DiskProbe | null; after: DiskProbe | null };
  /** The durable hand-off floor before the first server started and after the last one stopped. */
  floor: { before: FloorProbe | null; after: FloorProbe | null };
  options: Record<string, unknown>;
  servers: ServerInfo[];
  cases: CaseReport[];
  comparisons: Comparison[];
  memory: { findings: MemoryFinding[]; ratio: number | null; targetRatio: number };
  violations: Violation[];
}
