// What a server process costs, read from Linux's /proc: resident memory (VmRSS and its
// peak VmHWM from /proc/<pid>/status) and CPU time (utime + stime from /proc/<pid>/stat,
// in clock ticks). Elsewhere (no /proc) every reading is undefined, never a guess.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface ProcSample {
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Peak resident set size (VmHWM), bytes. */
  hwmBytes: number;
  /** User + system CPU time since the process started, seconds. */
  cpuSeconds: number;
}

let clockTicksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK): 100 on every Linux we know, asked once to be sure. */
function clkTck(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      const n = Number.parseInt(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim(), 10);
      clockTicksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

function statusKb(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, "m").exec(text);
  return m === null ? undefined : Number.parseInt(m[1]!, 10);
}

/** One process's memory and CPU, or undefined if it is gone (or this is not Linux). */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields from 3 on: state=0 ... utime=11 stime=12 (proc(5) numbering minus 3).
    const utime = Number.parseInt(fields[11] ?? "", 10);
    const stime = Number.parseInt(fields[12] ?? "", 10);
    const rssKb = statusKb(status, "VmRSS");
    const hwmKb = statusKb(status, "VmHWM");
    if (rssKb === undefined || hwmKb === undefined || !Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return { rssBytes: rssKb * 1024, hwmBytes: hwmKb * 1024, cpuSeconds: (utime + stime) / clkTck() };
  } catch {
    return undefined;
  }
}

/** The sum over several processes (a 3-node ensemble); undefined if any is unreadable. */
export function sampleProcesses(pids: readonly number[]): ProcSample | undefined {
  let sum: ProcSample = { rssBytes: 0, hwmBytes: 0, cpuSeconds: 0 };
  for (const pid of pids) {
    const s = sampleProcess(pid);
    if (s === undefined) return undefined;
    sum = { rssBytes: sum.rssBytes + s.rssBytes, hwmBytes: sum.hwmBytes + s.hwmBytes, cpuSeconds: sum.cpuSeconds + s.cpuSeconds };
  }
  return sum;
}
