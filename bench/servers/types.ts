// The face of a server under test, whichever it is and however many processes it has.

export const TARGETS = ["corral", "zookeeper"] as const;
export type TargetName = (typeof TARGETS)[number];

export const TOPOLOGIES = ["standalone", "ensemble"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

export const TARGET_LABEL: Record<TargetName, string> = { corral: "Corral", zookeeper: "ZooKeeper" };

export interface ServerUnderTest {
  readonly target: TargetName;
  readonly topology: Topology;
  /** "127.0.0.1:p1[,127.0.0.1:p2,...]" */
  readonly connectString: string;
  /** The server's own version line (first line of `srvr`). */
  readonly version: string;
  /** How it runs: "child process: node dist/src/cli/main.js ...", JVM flags, ... */
  readonly how: string;
  /** Process ids whose memory and CPU are the server's (summed for an ensemble). */
  readonly pids: readonly number[];
  /** True when the pid is the harness itself (in-process server: CPU and RSS include the driver). */
  readonly inProcess: boolean;
  /** Facts a reader of the results must know (e.g. "wrote nothing to dataDir"). Grows at stop(). */
  readonly notes: string[];
  /** Each member's /metrics with its fsync histogram (Corral's child processes), if served. */
  readonly metricsUrls?: readonly string[];
  /** Each member's client port, in the order of `pids` (scale workloads ask each member). */
  readonly clientPorts?: readonly number[];
  /** Each member's dataDir, in the order of `pids` (snapshots and logs are watched there). */
  readonly dataDirs?: readonly string[];
  /**
   * kill -9 every member, then start them again on the same config and ports (with
   * `wipe`, on emptied dataDirs: a fresh server). Resolves once every member serves
   * (`srvr` answers) with when the new processes were spawned (performance.now()).
   * `pids` are the new ones afterwards. Absent for an in-process server.
   */
  kill9AndRestart?(opts: { wipe: boolean }): Promise<{ spawnedAt: number }>;
  /** Stops every process and removes the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

/** A server the harness could start, or why not ("not available yet"). */
export type StartOutcome = { ok: true; server: ServerUnderTest } | { ok: false; reason: string };

/** Settings both servers get, so the comparison is like for like. */
export interface CommonServerSettings {
  tickMs: number;
  /** Written as forceSync=yes|no. */
  forceSync: boolean;
}
