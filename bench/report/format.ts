// Number formatting and the per-case figures every report shows the same way.

import type { Spread } from "../stats.js";
import type { BenchReport, CaseReport, Comparison, TargetCheck } from "./types.js";

export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (n >= 100_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function fmtSpread(s: Spread, f: (n: number) => string = fmtNum): string {
  if (s.min === s.max) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

export function fmtRatio(r: number | null): string {
  return r === null ? "-" : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
}

export function fmtMiB(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? "-" : `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** The disk probes of a run, e.g. "write+fdatasync p50/p99 0.21/0.35 ms before, 0.24/0.52 ms after". */
export function fmtDisk(disk: BenchReport["disk"]): string {
  const one = (p: BenchReport["disk"]["before"], when: string): string | undefined =>
    p === null ? undefined : `${fmtMs(p.p50Ms)}/${fmtMs(p.p99Ms)} ms ${when}`;
  const parts = [one(disk.before, "before"), one(disk.after, "after")].filter((x) => x !== undefined);
  return parts.length === 0 ? "not measured" : `write+fdatasync of 256 B, p50/p99 ${parts.join(", ")}`;
}

/** The durable hand-off floor, as measured before and after the run. */
export function fmtFloor(floor: BenchReport["floor"]): string {
  const one = (p: BenchReport["floor"]["before"], when: string): string | undefined =>
    p === null
      ? undefined
      : `${Math.round(p.durableRoundTripsPerSec)}/s (fsync+RTT p50 ${fmtMs(p.durableRoundTripP50Ms)} ms, RTT p50 ${fmtMs(p.rttP50Ms)} ms) ${when}`;
  const parts = [one(floor.before, "before"), one(floor.after, "after")].filter((x) => x !== undefined);
  return parts.length === 0 ? "not measured" : parts.join(", ");
}

/** A case against its floor: "62% floor" for a chain (of the floor's rate), "1.4x floor" for a latency. */
export function fmtOfFloor(c: CaseReport | undefined): string {
  const f = c?.ofFloor;
  if (f === null || f === undefined) return "-";
  return f.kind === "chain" ? `${Math.round(f.value * 100)}%` : `${fmtNum(f.value)}x`;
}

/** The number that matters for a case: ops/s, or the median failover time for the election. */
export function headlineValue(c: CaseReport): Spread {
  return c.headline === "latency" ? c.summary.p50Ms : c.summary.opsPerSec;
}

export function headlineText(c: CaseReport | undefined): string {
  if (c === undefined) return "-";
  return c.headline === "latency" ? `${fmtSpread(c.summary.p50Ms, fmtMs)} ms` : `${fmtSpread(c.summary.opsPerSec)}/s`;
}

export function headlineRatio(cmp: Comparison | undefined, headline: "throughput" | "latency"): number | null {
  if (cmp === undefined) return null;
  return headline === "latency" ? cmp.p50Ratio : cmp.throughputRatio;
}

export function fmtTarget(t: TargetCheck): string {
  if (t.metric === "lostRaces") return `${t.ratio} lost races ${t.met ? "met" : "MISSED"}`;
  if (t.metric === "extra") return `${t.key ?? "?"}${t.versus === "zookeeper" ? " vs ZK" : ""} ${t.op === ">=" ? "≥" : "≤"}${t.ratio}${t.versus === "zookeeper" ? "x" : ""} ${t.met ? "met" : "MISSED"} (${fmtNum(t.actual)})`;
  const metric = t.metric === "throughput" ? "" : `${t.metric} `;
  return `${metric}${t.op === ">=" ? "≥" : "≤"}${t.ratio}x ${t.met ? "met" : "MISSED"}`;
}

export function p50p99(c: CaseReport | undefined): string {
  return c === undefined ? "-" : `${fmtMs(c.summary.p50Ms.median)}/${fmtMs(c.summary.p99Ms.median)}`;
}
