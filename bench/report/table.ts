// The table printed at the end of a run: per case, Corral and ZooKeeper side by side
// with the Corral/ZooKeeper ratio of the headline number (ops/s; failover time for the
// election), the issue targets, latency, the herd meter, errors and lost races.

import { TARGET_LABEL, type Topology } from "../servers/types.js";
import { fmtDisk, fmtFloor, fmtOfFloor, fmtMiB, fmtMs, fmtNum, fmtRatio, fmtTarget, headlineRatio, headlineText, p50p99 } from "./format.js";
import { WORKLOAD_GROUPS } from "../workloads/index.js";
import type { BenchReport, CaseReport } from "./types.js";

export const TABLE_COLUMNS = [
  "workload",
  "case",
  "Corral",
  "ZooKeeper",
  "Corral/ZK",
  "target",
  "of floor Corral|ZK",
  "p50/p99 ms Corral",
  "p50/p99 ms ZK",
  "notif/op Corral|ZK",
  "errors Corral|ZK",
  "notes",
] as const;

export function alignTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c + " ".repeat(widths[i]! - [...c].length)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function errorsOf(c: CaseReport | undefined): string {
  return c === undefined ? "-" : String(c.runs.reduce((s, r) => s + r.errors, 0));
}

function notes(c: CaseReport | undefined, z: CaseReport | undefined): string {
  const out: string[] = [];
  const races = (x: CaseReport | undefined): string | undefined => {
    const s = x?.summary.extra["lostRaces"];
    const items = x?.summary.extra["itemsDelivered"];
    if (s === undefined || items === undefined || items.median === 0) return undefined;
    return fmtNum(s.median / items.median);
  };
  const rc = races(c);
  const rz = races(z);
  if (rc !== undefined || rz !== undefined) out.push(`lost races/item ${rc ?? "-"}|${rz ?? "-"}`);
  const fsync = c?.summary.serverFsyncP50Ms;
  if (fsync !== null && fsync !== undefined) out.push(`Corral fsync p50 ${fmtMs(fsync.median)} ms`);
  const perOp = c?.summary.serverFsyncsPerOp;
  if (perOp !== null && perOp !== undefined) out.push(`fsyncs/op ${fmtNum(perOp.median)}`);
  const mode = c?.recipeMode ?? null;
  if (mode !== null && mode !== "engine") out.push(`Corral recipes: ${mode} (${c?.recipeImplementation ?? "?"})`);
  if ((c?.runs.some((r) => r.violations.length > 0) ?? false) || (z?.runs.some((r) => r.violations.length > 0) ?? false)) out.push("VIOLATION");
  return out.join("; ");
}

export function rowsFor(report: BenchReport, topology: Topology): string[][] {
  const rows: string[][] = [];
  const seen = new Set<string>();
  for (const c of report.cases.filter((x) => x.topology === topology)) {
    const key = `${c.workload}\u0000${c.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const corral = report.cases.find((x) => x.topology === topology && x.target === "corral" && x.workload === c.workload && x.variant === c.variant);
    const zk = report.cases.find((x) => x.topology === topology && x.target === "zookeeper" && x.workload === c.workload && x.variant === c.variant);
    const cmp = report.comparisons.find((x) => x.topology === topology && x.workload === c.workload && x.variant === c.variant);
    const notif = (x: CaseReport | undefined): string => (x === undefined ? "-" : fmtNum(x.summary.notificationsPerOp.median));
    rows.push([
      c.workload,
      c.variant,
      headlineText(corral),
      headlineText(zk),
      fmtRatio(headlineRatio(cmp, c.headline)),
      cmp?.targets.map(fmtTarget).join(", ") ?? "",
      `${fmtOfFloor(corral)}|${fmtOfFloor(zk)}`,
      p50p99(corral),
      p50p99(zk),
      `${notif(corral)}|${notif(zk)}`,
      `${errorsOf(corral)}|${errorsOf(zk)}`,
      notes(corral, zk),
    ]);
  }
  return rows;
}

/** Workloads whose extras are their result (the scale group): printed key by key, Corral|ZooKeeper. */
const DETAILED = new Set(WORKLOAD_GROUPS["scale"] ?? []);

/** One line per detailed case: every extra's median, Corral|ZooKeeper. */
export function detailLines(report: BenchReport, topology: Topology): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const c of report.cases.filter((x) => x.topology === topology && DETAILED.has(x.workload))) {
    const key = `${c.workload}\u0000${c.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const of = (t: string): CaseReport | undefined => report.cases.find((x) => x.topology === topology && x.target === t && x.workload === c.workload && x.variant === c.variant);
    const corral = of("corral");
    const zk = of("zookeeper");
    const keys = [...new Set([...Object.keys(corral?.summary.extra ?? {}), ...Object.keys(zk?.summary.extra ?? {})])];
    const v = (x: CaseReport | undefined, k: string): string => {
      const s = x?.summary.extra[k];
      return s === undefined ? "-" : fmtNum(s.median);
    };
    const errs = (x: CaseReport | undefined): string => (x === undefined ? "" : [...new Set(x.runs.flatMap((r) => r.errorSamples))].join("; "));
    out.push(`  ${c.workload} ${c.variant}: ${keys.map((k) => `${k} ${v(corral, k)}|${v(zk, k)}`).join(", ")}`);
    for (const [who, x] of [["Corral", corral], ["ZooKeeper", zk]] as const) {
      const e = errs(x);
      if (e !== "") out.push(`    ${who} errors: ${e}`);
    }
  }
  return out;
}

export function renderTable(report: BenchReport): string {
  const out: string[] = [];
  const runs = report.options["repeats"] as number;
  for (const topology of ["standalone", "ensemble"] as const) {
    const rows = rowsFor(report, topology);
    const unavailable = report.servers.filter((s) => s.topology === topology && !s.available);
    if (rows.length === 0 && unavailable.length === 0) continue;
    out.push(`\n${topology === "standalone" ? "Standalone" : "3-node ensemble"} — median of ${runs} run${runs === 1 ? "" : "s"} (min–max); ops/s, or failover time for election`);
    for (const s of unavailable) out.push(`  ${TARGET_LABEL[s.target]}: ${s.reason ?? "not available"}`);
    if (rows.length > 0) out.push(alignTable(TABLE_COLUMNS, rows));
    const details = detailLines(report, topology);
    if (details.length > 0) out.push("scale details (median; Corral|ZooKeeper):", ...details);
  }
  out.push(`disk: ${fmtDisk(report.disk)} (the servers' dataDir disk, no load)`);
  out.push(`floor: durable hand-off ${fmtFloor(report.floor)}; "of floor": ops/s as % of 1/floor (chains), or p50 as x floor (latencies); an ensemble's floor adds one RTT`);
  const mem = report.memory;
  for (const f of mem.findings) {
    out.push(`memory: ${TARGET_LABEL[f.target]} ${f.topology} RSS ${fmtMiB(f.rssBytes)} after ${f.afterCase} (peak ${fmtMiB(f.peakRssBytes)})`);
  }
  if (mem.ratio !== null) {
    out.push(`memory: Corral/ZooKeeper RSS ${fmtRatio(mem.ratio)} (target ≤ ${mem.targetRatio}x: ${mem.ratio <= mem.targetRatio ? "met" : "MISSED"})`);
  }
  for (const s of report.servers) for (const n of s.notes) out.push(`note (${TARGET_LABEL[s.target]} ${s.topology}): ${n}`);
  if (report.violations.length > 0) {
    out.push("", `CORRECTNESS VIOLATIONS (${report.violations.length}) — this run FAILED:`);
    for (const v of report.violations) out.push(`  ${TARGET_LABEL[v.target]} ${v.topology} ${v.workload} ${v.variant} run ${v.run}: ${v.message}`);
  }
  if (report.interrupted) out.push("", "interrupted: results are partial");
  return out.join("\n").replace(/^\n/, "") + "\n";
}
