// Smoke test of the benchmark harness (bench/): every default workload runs for about a second
// against an in-process Corral, with small client counts. Checks the output's shape
// (JSON, table, Markdown, SVG) and that the correctness checks run and pass — and that
// they catch a lock that lets two holders in and a queue that delivers an item twice.
// Not a speed test: no number here is compared with anything.

import { setMaxListeners } from "node:events";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exitCodeFor, runBench } from "../../bench/harness.js";
import { defaultOptions, type BenchOptions } from "../../bench/options.js";
import type { LockHandle, QueueApi, RecipeClient } from "../../bench/recipes/api.js";
import { renderMarkdown } from "../../bench/report/markdown.js";
import { renderTable, TABLE_COLUMNS } from "../../bench/report/table.js";
import { REPORT_SCHEMA, type BenchReport } from "../../bench/report/types.js";
import { writeReport } from "../../bench/report/write.js";
import { DEFAULT_WORKLOADS as WORKLOADS } from "../../bench/workloads/index.js";
import { findZooKeeperInstall, inCi } from "../helpers/zookeeper-install.js";

const zk = findZooKeeperInstall();
const haveZk = zk.java !== undefined && zk.serverClasspath !== undefined;

let dir: string;

beforeAll(async () => {
  // Corral's client adds an abort listener per recipe wait to its session signal (reported
  // as a leak to the client's owner); keep Node's warning about it out of the test log.
  setMaxListeners(0);
  dir = await mkdtemp(join(tmpdir(), "corral-bench-smoke-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function smokeOptions(workloads: string[]): BenchOptions {
  const o = defaultOptions(true);
  return {
    ...o,
    targets: ["corral"],
    topologies: ["standalone"],
    corral: "in-process",
    workloads,
    repeats: 1,
    warmupMs: 100,
    durationMs: 900,
    resultsDir: dir,
    plan: {
      ...o.plan,
      rawClients: [2],
      inFlight: 4,
      lockClients: 2,
      mutexClients: [4],
      rwlockClients: 5,
      producers: 2,
      consumers: 2,
      barrierClients: 3,
      electionMembers: 3,
    },
  };
}

/** A mutex that grants at once, to everyone: two holders at a time. */
function brokenMutex(real: RecipeClient): RecipeClient {
  let token = 0n;
  const grant = async (): Promise<LockHandle> => ({ token: ++token, lost: new AbortController().signal, release: async () => {} });
  return { ...real, mutex: grant, writeLock: grant, lostRaces: () => real.lostRaces() };
}

/** A queue that hands every item out twice. */
function duplicatingQueue(real: RecipeClient): RecipeClient {
  return {
    ...real,
    lostRaces: () => real.lostRaces(),
    queue: (path: string): QueueApi => {
      const q = real.queue(path);
      let again: Buffer | undefined;
      return {
        offer: (d) => q.offer(d),
        size: () => q.size(),
        take: async (opts) => {
          if (again !== undefined) {
            const b = again;
            again = undefined;
            return b;
          }
          again = await q.take(opts);
          return again;
        },
      };
    },
  };
}

describe("bench harness smoke test (Corral only, ~1 s per workload)", () => {
  let report: BenchReport;

  it("runs every workload with its correctness checks passing", async () => {
    report = await runBench(smokeOptions(WORKLOADS.map((w) => w.name)));
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(exitCodeFor(report)).toBe(0);
    expect(new Set(report.cases.map((c) => c.workload))).toEqual(new Set(WORKLOADS.map((w) => w.name)));
    for (const c of report.cases) {
      const run = c.runs[0]!;
      expect(run.ops, `${c.workload} did some ops`).toBeGreaterThan(0);
      expect(run.errors, `${c.workload}: ${run.errorSamples.join("; ")}`).toBe(0);
      expect(run.latency.p50Ms).toBeGreaterThan(0);
      expect(run.latency.p99Ms).toBeGreaterThanOrEqual(run.latency.p50Ms);
      expect(run.latency.maxMs).toBeGreaterThanOrEqual(run.latency.p99Ms);
    }
    // The checks ran: grants went through the lock table, items through the ledger, rounds and failovers were checked.
    const extra = (w: string, k: string): number => report.cases.find((c) => c.workload === w)?.runs[0]?.extra[k] ?? 0;
    for (const w of ["lock", "mutex", "rwlock"]) expect(extra(w, "grantsChecked"), w).toBeGreaterThan(0);
    for (const w of ["queue", "jobqueue"]) expect(extra(w, "itemsDelivered"), w).toBeGreaterThan(0);
    expect(extra("barrier", "roundsChecked")).toBeGreaterThan(0);
    expect(extra("election", "failoversChecked")).toBeGreaterThan(0);
  }, 90_000);

  it("reports JSON with the documented shape", async () => {
    const files = await writeReport(report, dir);
    expect(files.json).toMatch(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(-\d+)?\.json$/);
    const json = JSON.parse(await readFile(files.json, "utf8")) as BenchReport;
    expect(json.schema).toBe(REPORT_SCHEMA);
    for (const k of ["startedAt", "finishedAt", "durationSeconds", "ok", "interrupted", "host", "disk", "floor", "options", "servers", "cases", "comparisons", "memory", "violations"]) {
      expect(json, k).toHaveProperty(k);
    }
    // The disk probe ran before and after, on the disk the servers' data dirs are on.
    for (const p of [json.disk.before, json.disk.after]) {
      expect(p?.samples).toBeGreaterThan(0);
      expect(p!.p50Ms).toBeGreaterThan(0);
      expect(p!.p99Ms).toBeGreaterThanOrEqual(p!.p50Ms);
    }
    // The durable hand-off floor too, and every fsync-bound case is held against it.
    for (const p of [json.floor.before, json.floor.after]) {
      expect(p?.samples).toBeGreaterThan(0);
      expect(p!.durableRoundTripP50Ms).toBeGreaterThan(0);
      expect(p!.rttP50Ms).toBeGreaterThan(0);
      expect(p!.durableRoundTripsPerSec).toBeGreaterThan(0);
    }
    for (const name of ["mutex", "rwlock", "queue", "election"]) {
      const f = json.cases.find((x) => x.workload === name)?.ofFloor;
      expect(f?.value, name).toBeGreaterThan(0);
      expect(f!.kind).toBe(name === "mutex" || name === "rwlock" ? "chain" : "latency");
    }
    expect(json.cases.find((x) => x.workload === "create")?.ofFloor).toBeNull();
    expect(json.servers).toEqual([expect.objectContaining({ target: "corral", topology: "standalone", available: true })]);
    const c = json.cases[0]!;
    for (const k of ["workload", "title", "variant", "clients", "params", "unit", "latency", "headline", "target", "topology", "runs", "summary"]) expect(c, k).toHaveProperty(k);
    for (const k of ["opsPerSec", "p50Ms", "p90Ms", "p99Ms", "maxMs", "errors", "notificationsPerOp"]) {
      expect(c.summary, k).toHaveProperty(k);
      const s = (c.summary as unknown as Record<string, { median: number; min: number; max: number }>)[k]!;
      expect(s.min).toBeLessThanOrEqual(s.median);
      expect(s.median).toBeLessThanOrEqual(s.max);
    }
    const run = c.runs[0]!;
    for (const k of ["ops", "elapsedMs", "opsPerSec", "latency", "errors", "watchEvents", "recipeEvents", "notificationsPerOp", "serverCpuSeconds", "serverRssBytes", "extra", "violations"]) {
      expect(run, k).toHaveProperty(k);
    }
    expect(run.serverRssBytes).toBeGreaterThan(0);
    const recipe = json.cases.find((x) => x.workload === "mutex")!;
    expect(["engine", "client"]).toContain(recipe.recipeMode);
    expect(json.memory.findings[0]?.target).toBe("corral");
  });

  it("prints a table with every workload and a Markdown report with SVG charts", async () => {
    const table = renderTable(report);
    for (const col of ["workload", "case", "Corral", "ZooKeeper", "Corral/ZK", "target"]) expect(table).toContain(col);
    expect(TABLE_COLUMNS.length).toBeGreaterThan(5);
    for (const w of WORKLOADS) expect(table).toMatch(new RegExp(`^${w.name}\\s`, "m"));
    expect(table).toMatch(/memory: Corral standalone RSS \d+ MiB/);
    expect(table).toMatch(/^disk: write\+fdatasync of 256 B, p50\/p99 [\d.]+\/[\d.]+ ms before, [\d.]+\/[\d.]+ ms after/m);
    expect(table).toMatch(/^floor: durable hand-off \d+\/s \(fsync\+RTT p50 [\d.]+ ms, RTT p50 [\d.]+ ms\) before, \d+\/s .* after/m);
    expect(table).toMatch(/^mutex\s.*\s\d+%\|-\s/m);
    const { markdown, charts } = renderMarkdown(report, "charts");
    expect(markdown).toContain("## Summary — standalone");
    expect(markdown).toContain("| workload | case |");
    expect(charts.length).toBeGreaterThanOrEqual(2 * WORKLOADS.length);
    for (const c of charts) {
      expect(markdown).toContain(`](charts/${c.file})`);
      expect(c.svg.startsWith("<svg")).toBe(true);
      expect(c.svg.trim().endsWith("</svg>")).toBe(true);
    }
    const written = await readdir(dir);
    expect(written.some((f) => f.endsWith(".md"))).toBe(true);
  });

  it("runs the recipe workloads with bench's classic stand-in recipes too", async () => {
    const recipeWorkloads = WORKLOADS.filter((w) => w.group === "recipe").map((w) => w.name);
    const classic = await runBench({ ...smokeOptions(recipeWorkloads), recipes: "standin", resultsDir: null });
    expect(classic.violations).toEqual([]);
    for (const c of classic.cases) {
      expect(c.recipeImplementation).toBe("bench stand-in");
      expect(c.runs[0]!.ops, c.workload).toBeGreaterThan(0);
      expect(c.runs[0]!.errors, `${c.workload}: ${c.runs[0]!.errorSamples.join("; ")}`).toBe(0);
    }
  }, 60_000);

  it("fails loudly when a lock lets two holders in", async () => {
    const broken = await runBench({ ...smokeOptions(["mutex"]), resultsDir: null }, { recipeOverride: (_c, r) => brokenMutex(r) });
    expect(broken.violations.length).toBeGreaterThan(0);
    expect(broken.violations[0]!.message).toMatch(/mutual exclusion broken|fencing token/);
    expect(broken.ok).toBe(false);
    expect(exitCodeFor(broken)).toBe(1);
    expect(renderTable(broken)).toContain("CORRECTNESS VIOLATIONS");
  }, 30_000);

  it("fails loudly when a FIFO queue delivers an item twice", async () => {
    const broken = await runBench({ ...smokeOptions(["queue"]), resultsDir: null }, { recipeOverride: (_c, r) => duplicatingQueue(r) });
    expect(broken.violations.map((v) => v.message).join("\n")).toMatch(/delivered 2 times/);
    expect(exitCodeFor(broken)).toBe(1);
  }, 30_000);

  it.skipIf(!haveZk && !inCi())("alternates each case's runs between Corral and ZooKeeper, both servers up", async () => {
    const labels: string[] = [];
    const both = await runBench(
      { ...smokeOptions(["exists"]), targets: ["corral", "zookeeper"], repeats: 2, warmupMs: 50, durationMs: 300, resultsDir: null },
      { status: (st) => (labels[labels.length - 1] === st.label ? undefined : labels.push(st.label)) },
    );
    expect(both.violations).toEqual([]);
    const runs = labels.filter((l) => / run \d\/2$/.test(l)).map((l) => `${l.split(" ")[0]} ${l.slice(-3)}`);
    expect(runs).toEqual(["corral 1/2", "zookeeper 1/2", "corral 2/2", "zookeeper 2/2"]);
    expect(both.cases.map((c) => [c.target, c.runs.length])).toEqual([
      ["corral", 2],
      ["zookeeper", 2],
    ]);
    expect(both.comparisons[0]?.throughputRatio).toBeGreaterThan(0);
  }, 90_000);
});
