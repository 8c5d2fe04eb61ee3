// The Markdown report (bench/results/<stem>.md) and its SVG charts (bench/results/<stem>/):
// per workload, throughput (or failover time) and latency percentiles per client count,
// Corral beside ZooKeeper; the summary table with ratios and targets; servers, memory,
// violations, and every run's raw numbers.

import { TARGET_LABEL, type TargetName, type Topology } from "../servers/types.js";
import { fmtDisk, fmtFloor, fmtMiB, fmtMs, fmtNum, fmtRatio, fmtSpread } from "./format.js";
import { renderBarChart, type BarGroup } from "./svg.js";
import { rowsFor, TABLE_COLUMNS } from "./table.js";
import type { BenchReport, CaseReport } from "./types.js";

const COLORS: Record<TargetName, string> = { corral: "#2b7bb9", zookeeper: "#d9822b" };
const PCT_COLORS = ["#9ecae1", "#4292c6", "#08519c", "#08306b"];

export interface Chart {
  /** File name inside the chart folder. */
  file: string;
  svg: string;
}

function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string): string => s.replace(/\|/g, "\\|");
  return [`| ${header.map(cell).join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)].join("\n");
}

function casesOf(report: BenchReport, workload: string, topology: Topology): CaseReport[] {
  return report.cases.filter((c) => c.workload === workload && c.topology === topology);
}

function variantsOf(cases: readonly CaseReport[]): string[] {
  return [...new Set(cases.map((c) => c.variant))];
}

function headlineChart(report: BenchReport, workload: string, topology: Topology): string | undefined {
  const cases = casesOf(report, workload, topology);
  if (cases.length === 0) return undefined;
  const latency = cases[0]!.headline === "latency";
  const targets = [...new Set(cases.map((c) => c.target))];
  const groups: BarGroup[] = variantsOf(cases).map((v) => ({
    label: latency ? `${v} members` : `${v} clients`.replace(/^(\d+)x(\d+) clients$/, "$1 clients x $2"),
    bars: targets.flatMap((t) => {
      const c = cases.find((x) => x.variant === v && x.target === t);
      if (c === undefined) return [];
      const s = latency ? c.summary.p50Ms : c.summary.opsPerSec;
      return [{ series: TARGET_LABEL[t], value: s.median, min: s.min, max: s.max }];
    }),
  }));
  return renderBarChart({
    title: `${workload} (${topology}): ${latency ? "failover time, p50" : `throughput, ${cases[0]!.unit}/s`}`,
    yLabel: latency ? "ms (lower is better)" : `${cases[0]!.unit}/s (higher is better)`,
    groups,
    series: targets.map((t) => ({ name: TARGET_LABEL[t], color: COLORS[t] })),
  });
}

function latencyChart(report: BenchReport, workload: string, topology: Topology): string | undefined {
  const cases = casesOf(report, workload, topology);
  if (cases.length === 0) return undefined;
  const groups: BarGroup[] = [];
  for (const v of variantsOf(cases)) {
    for (const c of cases.filter((x) => x.variant === v)) {
      const s = c.summary;
      groups.push({
        label: `${v} ${TARGET_LABEL[c.target]}`,
        bars: [
          { series: "p50", value: s.p50Ms.median, min: s.p50Ms.min, max: s.p50Ms.max },
          { series: "p90", value: s.p90Ms.median, min: s.p90Ms.min, max: s.p90Ms.max },
          { series: "p99", value: s.p99Ms.median, min: s.p99Ms.min, max: s.p99Ms.max },
          { series: "max", value: s.maxMs.median, min: s.maxMs.min, max: s.maxMs.max },
        ],
      });
    }
  }
  return renderBarChart({
    title: `${workload} (${topology}): latency percentiles — ${cases[0]!.latency}`,
    yLabel: "ms (log scale)",
    groups,
    series: ["p50", "p90", "p99", "max"].map((name, i) => ({ name, color: PCT_COLORS[i]! })),
    log: true,
  });
}

function runsTable(cases: readonly CaseReport[]): string {
  const rows = cases.flatMap((c) =>
    c.runs.map((r) => [
      TARGET_LABEL[c.target],
      c.variant,
      String(r.run),
      fmtNum(r.opsPerSec),
      String(r.ops),
      `${fmtMs(r.latency.p50Ms)} / ${fmtMs(r.latency.p90Ms)} / ${fmtMs(r.latency.p99Ms)} / ${fmtMs(r.latency.maxMs)}`,
      String(r.errors),
      fmtNum(r.notificationsPerOp),
      r.serverCpuUsPerOp === null ? "-" : fmtNum(r.serverCpuUsPerOp),
      fmtMiB(r.serverRssBytes),
      Object.entries(r.extra)
        .map(([k, v]) => `${k}=${fmtNum(v)}`)
        .join(", ") + (r.errorSamples.length > 0 ? ` errors: ${r.errorSamples.join("; ")}` : "") + (r.violations.length > 0 ? ` VIOLATION: ${r.violations.join("; ")}` : ""),
    ]),
  );
  return mdTable(["server", "case", "run", "ops/s", "ops", "p50 / p90 / p99 / max ms", "errors", "notif/op", "server CPU µs/op", "server RSS", "extra"], rows);
}

/** The report text and the charts it links to (as `<chartDir>/<file>`). */
export function renderMarkdown(report: BenchReport, chartDir: string): { markdown: string; charts: Chart[] } {
  const charts: Chart[] = [];
  const out: string[] = [];
  const status = report.violations.length > 0 ? "**FAILED: correctness violations (see below)**" : report.interrupted ? "**interrupted: partial results**" : "passed every correctness check";
  out.push(`# Corral vs Apache ZooKeeper — benchmark of ${report.startedAt}`, "");
  out.push(`Result: ${status}. Took ${report.durationSeconds.toFixed(0)} s.`, "");
  const h = report.host;
  const o = report.options;
  out.push(`Host: ${h.cpus} × ${h.cpuModel}, ${fmtMiB(h.memoryBytes)} RAM, ${h.platform} ${h.release}, Node ${h.node}.`, "");
  out.push(`Disk (the servers' dataDir, without load): ${fmtDisk(report.disk)}.`, "");
  out.push(
    `Durable hand-off floor (64 B to another process, appended with fdatasync, answered; one at a time): ${fmtFloor(report.floor)}. "of floor" is a chain's ops/s as a share of 1/floor, or a latency's p50 as a multiple of the floor; an ensemble's floor adds one round trip.`,
    "",
  );
  out.push(
    `Run: ${o["quick"] === true ? "--quick, " : ""}${String(o["repeats"])} run(s) per case, ${Number(o["warmupMs"]) / 1000} s warm-up + ${Number(o["durationMs"]) / 1000} s measured (at most ${String(o["opsMax"])} ops), forceSync=${o["forceSync"] === true ? "yes" : "no"}, recipes: ${String(o["recipes"])}, seed ${String(o["seed"])}.`,
    "",
  );
  out.push("## Servers", "");
  for (const s of report.servers) {
    out.push(`- **${TARGET_LABEL[s.target]} ${s.topology}**: ${s.available ? `${s.version ?? ""} — ${s.how ?? ""}` : s.reason ?? "not available"}`);
    for (const n of s.notes) out.push(`  - note: ${n}`);
  }
  out.push("");
  for (const topology of ["standalone", "ensemble"] as const) {
    const rows = rowsFor(report, topology);
    if (rows.length === 0) continue;
    out.push(`## Summary — ${topology === "standalone" ? "standalone" : "3-node ensemble"}`, "");
    out.push("Median of the runs (min–max in brackets). Ratio is Corral ÷ ZooKeeper of ops/s (of the failover time for `election`: lower is better there).", "");
    out.push(mdTable(TABLE_COLUMNS, rows), "");
  }
  out.push("## Memory", "");
  for (const f of report.memory.findings) out.push(`- ${TARGET_LABEL[f.target]} ${f.topology}: ${fmtMiB(f.rssBytes)} RSS after ${f.afterCase} (peak ${fmtMiB(f.peakRssBytes)})`);
  if (report.memory.ratio !== null) {
    const m = report.memory;
    out.push(`- Corral/ZooKeeper (standalone, after each one's heaviest case): **${fmtRatio(m.ratio)}** — target ≤ ${m.targetRatio}x: ${m.ratio! <= m.targetRatio ? "met" : "missed"}`);
  }
  out.push("");
  if (report.violations.length > 0) {
    out.push("## Correctness violations", "");
    for (const v of report.violations) out.push(`- ${TARGET_LABEL[v.target]} ${v.topology} \`${v.workload}\` ${v.variant} run ${v.run}: ${v.message}`);
    out.push("");
  }
  out.push("## Workloads", "");
  const workloads = [...new Set(report.cases.map((c) => c.workload))];
  for (const w of workloads) {
    const first = report.cases.find((c) => c.workload === w)!;
    out.push(`### ${w} — ${first.title}`, "");
    out.push(`Ops counted: ${first.unit}. Latency: ${first.latency}.`, "");
    for (const topology of ["standalone", "ensemble"] as const) {
      const cases = casesOf(report, w, topology);
      if (cases.length === 0) continue;
      const mode = cases.find((c) => c.target === "corral")?.recipeMode;
      if (mode !== null && mode !== undefined) out.push(`Corral ran the recipes in \`${mode}\` mode; ZooKeeper in \`${cases.find((c) => c.target === "zookeeper")?.recipeMode ?? "-"}\` mode.`, "");
      for (const [kind, svg] of [
        ["headline", headlineChart(report, w, topology)],
        ["latency", latencyChart(report, w, topology)],
      ] as const) {
        if (svg === undefined) continue;
        const file = `${w}-${topology}-${kind}.svg`;
        charts.push({ file, svg });
        out.push(`![${w} ${topology} ${kind}](${chartDir}/${file})`, "");
      }
      out.push(runsTable(cases), "");
      const spreadLine = cases.map((c) => `${TARGET_LABEL[c.target]} ${c.variant}: ${fmtSpread(c.summary.opsPerSec)} ${c.unit}/s`).join("; ");
      out.push(`<sub>${spreadLine}</sub>`, "");
    }
  }
  out.push("## Reading this report", "");
  out.push(
    "- **notif/op** (the herd meter): watch notifications plus recipe-engine events delivered to the driver's clients per op while measuring. A herd-free lock hand-off costs one.",
    "- **server CPU µs/op**: utime+stime of the server process(es) over the window ÷ ops; **server RSS**: VmRSS at the window's end (3-node: the sum).",
    "- **lost races/item**: client-side queue takes that found their head item already gone, per delivered item.",
    "- The driver is one Node process with Corral's TypeScript client for both servers; against ZooKeeper the recipes run client-side (classic protocol), against Corral through its engine when it has one.",
    "",
  );
  return { markdown: out.join("\n"), charts };
}
