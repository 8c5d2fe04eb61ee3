// Smoke test of the scale workloads (bench/workloads/scale-*.ts) at a tiny --scale against
// an in-process Corral: each runs its phases and the correctness checks it makes while
// measuring (mutual exclusion and fencing on every grant, every acknowledged znode in the
// tree, every queue item delivered at most once and none lost, no reply frame over
// jute.maxbuffer), and reports the numbers it exists for. Not a speed test.

import { setMaxListeners } from "node:events";
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { FrameParser } from "../../src/jute/index.js";
import { exitCodeFor, runBench } from "../../bench/harness.js";
import { defaultOptions, parseOptions, scaleSizes, type BenchOptions } from "../../bench/options.js";
import { renderTable } from "../../bench/report/table.js";
import type { BenchReport, CaseReport } from "../../bench/report/types.js";
import type { LockHandle, RecipeClient } from "../../bench/recipes/api.js";
import { corralCliPath } from "../../bench/servers/corral.js";
import { WORKLOAD_GROUPS } from "../../bench/workloads/index.js";
import { FrameSpy, JUTE_MAXBUFFER } from "../../bench/workloads/scale-common.js";

const SCALE = WORKLOAD_GROUPS["scale"]!;

beforeAll(() => {
  setMaxListeners(0);
});

function tinyOptions(workloads: string[]): BenchOptions {
  const o = defaultOptions(true);
  return {
    ...o,
    targets: ["corral"],
    topologies: ["standalone"],
    corral: "in-process",
    workloads,
    repeats: 1,
    resultsDir: null,
    plan: { ...o.plan, scale: scaleSizes(0.001, { phaseSeconds: 20, idleSeconds: 1, mixedSeconds: 1 }) },
  };
}

describe("scale workloads at a tiny scale (Corral in-process)", () => {
  let report: BenchReport;
  const one = (w: string): CaseReport => {
    const c = report.cases.find((x) => x.workload === w);
    expect(c, w).toBeDefined();
    return c!;
  };
  const extra = (w: string, k: string): number | undefined => one(w).runs[0]!.extra[k];

  beforeAll(async () => {
    report = await runBench(tinyOptions([...SCALE]));
  }, 120_000);

  it("runs every scale workload without a violation or an error", () => {
    expect(report.violations).toEqual([]);
    expect(exitCodeFor(report)).toBe(0);
    expect(report.cases.map((c) => c.workload)).toEqual([...SCALE]);
    for (const c of report.cases) {
      const run = c.runs[0]!;
      expect(run.errors, `${c.workload}: ${run.errorSamples.join("; ")}`).toBe(0);
      expect(run.ops, c.workload).toBeGreaterThan(0);
    }
  });

  it("mutex-many: many mutexes' grants all went through the mutual-exclusion check", () => {
    const c = one("mutex-many");
    expect(c.params).toMatchObject({ mutexes: 2, contenders: 4, sessions: 4 });
    expect(extra("mutex-many", "grantsChecked")).toBeGreaterThanOrEqual(c.runs[0]!.ops);
  });

  it("waiters-100k: files the line, times hand-offs with a short and a long line, and measures memory per waiter", () => {
    expect(extra("waiters-100k", "waitersFiled")).toBe(100);
    expect(extra("waiters-100k", "fileMs")).toBeGreaterThan(0);
    expect(extra("waiters-100k", "handoffP99BaseMs")).toBeGreaterThan(0);
    expect(extra("waiters-100k", "handoffP99Ms")).toBeGreaterThan(0);
    expect(extra("waiters-100k", "p99BigOverBase")).toBeGreaterThan(0);
    expect(extra("waiters-100k", "heapBytesPerWaiter")).toBeDefined();
    // Every grant (two chains of 50 plus the first holder) passed the lock table.
    expect(extra("waiters-100k", "grantsChecked")).toBe(101);
    expect(one("waiters-100k").runs[0]!.ops).toBe(50);
    // A chain of durable hand-offs on one lock: held against the floor.
    expect(one("waiters-100k").ofFloor?.kind).toBe("chain");
    expect(one("queue-backlog").ofFloor?.kind).toBe("latency");
  });

  it("sessions-10k: opens every session in the storm and reads the server's idle CPU", () => {
    expect(extra("sessions-10k", "sessionsOpened")).toBe(10);
    expect(one("sessions-10k").runs[0]!.ops).toBe(10);
    expect(extra("sessions-10k", "idleCpuPct")).toBeGreaterThanOrEqual(0);
    expect(extra("sessions-10k", "rssMiB")).toBeGreaterThan(0);
  });

  it("znodes-1m: loads the tree (every create checked to be there) and reads heap per znode", () => {
    expect(extra("znodes-1m", "loaded")).toBe(1_000);
    expect(one("znodes-1m").runs[0]!.ops).toBe(1_000);
    expect(extra("znodes-1m", "heapBytesPerZnode")).toBeDefined();
    expect(extra("znodes-1m", "rssMiBLoaded")).toBeGreaterThan(0);
  });

  it("queue-backlog: offers and takes on an empty queue and over a backlog, each item once, no frame over jute.maxbuffer", () => {
    expect(extra("queue-backlog", "backlogLoaded")).toBe(1_000);
    expect(extra("queue-backlog", "takenEmpty")).toBe(50);
    expect(extra("queue-backlog", "takenBacklog")).toBe(50);
    expect(extra("queue-backlog", "itemsDelivered")).toBe(100);
    // Offered: 50 + 1,000 + 50; taken: 100.
    expect(extra("queue-backlog", "leftInQueue")).toBeGreaterThanOrEqual(1_000);
    expect(extra("queue-backlog", "framesOverMaxbuffer")).toBe(0);
    expect(extra("queue-backlog", "maxReplyFrameKiB")).toBeGreaterThan(0);
    expect(extra("queue-backlog", "offerBacklogOverEmpty")).toBeGreaterThan(0);
    expect(extra("queue-backlog", "takeBacklogOverEmpty")).toBeGreaterThan(0);
  });

  it("mixed-p999: reports p99.9 overall and per kind, lock grants checked", () => {
    for (const k of ["p999Ms", "p999ReadMs", "p999WriteMs", "p999LockMs"]) expect(extra("mixed-p999", k), k).toBeGreaterThan(0);
    expect(extra("mixed-p999", "grantsChecked")).toBeGreaterThan(0);
  });

  it("prints each scale case's numbers in the table", () => {
    const table = renderTable(report);
    if (process.env.CORRAL_BENCH_PRINT === "1") process.stdout.write(table);
    expect(table).toContain("scale details (median; Corral|ZooKeeper):");
    for (const w of SCALE) expect(table).toMatch(new RegExp(`^  ${w} `, "m"));
    expect(table).toMatch(/waiters-100k .*p99BigOverBase [\d.]+\|-/);
  });
});

describe("scale options", () => {
  it("--workload scale selects the scale group at full size; the default run leaves it out", () => {
    const o = parseOptions(["--workload", "scale"]);
    if (o === "help") throw new Error("help");
    expect(o.workloads).toEqual(["scale"]);
    expect(o.plan.scale).toMatchObject({ mutexes: 1_000, contendersPerMutex: 4, mutexSessions: 64, waiters: 100_000, sessions: 10_000, znodes: 1_000_000, backlog: 1_000_000 });
    expect(defaultOptions().workloads.some((w) => SCALE.includes(w))).toBe(false);
  });

  it("--scale multiplies every count, and a size option overrides it", () => {
    const o = parseOptions(["--scale", "0.01", "--waiters", "500"]);
    if (o === "help") throw new Error("help");
    expect(o.plan.scale).toMatchObject({ factor: 0.01, mutexes: 10, waiters: 500, sessions: 100, znodes: 10_000, backlog: 10_000 });
    expect(() => parseOptions(["--scale", "0"])).toThrow(/--scale/);
  });
});

/** A mutex that grants at once, to everyone. */
function brokenMutex(real: RecipeClient): RecipeClient {
  let token = 0n;
  const grant = async (): Promise<LockHandle> => ({ token: ++token, lost: new AbortController().signal, release: async () => {} });
  return { ...real, mutex: grant, writeLock: grant, lostRaces: () => real.lostRaces() };
}

function frame(bodyBytes: number): Buffer {
  const b = Buffer.alloc(4 + bodyBytes);
  b.writeInt32BE(bodyBytes, 0);
  return b;
}

describe("scale workloads' checks catch what they are for", () => {
  it("mutex-many fails loudly when its mutexes let two holders in", async () => {
    const broken = await runBench(tinyOptions(["mutex-many"]), { recipeOverride: (_c, r) => brokenMutex(r) });
    expect(broken.violations[0]?.message).toMatch(/mutual exclusion broken/);
    expect(exitCodeFor(broken)).toBe(1);
  }, 30_000);

  it("the frame spy sees every reply frame: the largest, and any over jute.maxbuffer", () => {
    const spy = new FrameSpy().install();
    try {
      const taken = new FrameParser(JUTE_MAXBUFFER + 1024);
      expect(taken.push(Buffer.concat([frame(10), frame(JUTE_MAXBUFFER + 1)]))).toHaveLength(2);
      expect(() => new FrameParser(JUTE_MAXBUFFER).push(frame(JUTE_MAXBUFFER + 1))).toThrow();
    } finally {
      spy.uninstall();
    }
    expect(spy.maxFrameBytes).toBe(JUTE_MAXBUFFER + 1);
    expect(spy.overMaxbuffer).toBe(1);
    expect(spy.refused).toBe(1);
    // Uninstalled: no longer counting.
    new FrameParser(JUTE_MAXBUFFER + 1024).push(frame(JUTE_MAXBUFFER + 2));
    expect(spy.maxFrameBytes).toBe(JUTE_MAXBUFFER + 1);
  });

  it.skipIf(!existsSync(corralCliPath()))("znodes-1m against a Corral process: every acknowledged znode is back after kill -9, and the next case gets an empty server", async () => {
    const o = tinyOptions(["znodes-1m", "mixed-p999"]);
    const r = await runBench({ ...o, corral: "process" });
    expect(r.violations).toEqual([]);
    const z = r.cases.find((c) => c.workload === "znodes-1m")!.runs[0]!;
    expect(z.errors, z.errorSamples.join("; ")).toBe(0);
    expect(z.extra["loaded"]).toBe(1_000);
    expect(z.extra["recoveryMs"]).toBeGreaterThan(0);
    expect(z.extra["rssMiBRecovered"]).toBeGreaterThan(0);
    expect(z.extra["heapBytesPerZnode"]).toBeDefined();
    // The case after it ran on the restarted (wiped) server, pids and all.
    const m = r.cases.find((c) => c.workload === "mixed-p999")!.runs[0]!;
    expect(m.errors, m.errorSamples.join("; ")).toBe(0);
    expect(m.serverRssBytes).toBeGreaterThan(0);
    expect(exitCodeFor(r)).toBe(0);
  }, 60_000);
});
