// sessions-10k (issue 15, item 4): N sessions (default 10,000) opened in a storm, at most
// 256 connects in flight; the window is the storm (ops: sessions connected, latency: one
// connect). Then each member's RSS and heap (its own `envi`), and its CPU while the N
// sessions sit idle for S seconds (default 10; /proc/<pid>/stat), by role in an
// ensemble (leader, followers). Idle is what a real fleet costs: each session pings
// every third of its 30 s timeout, about N/10 pings a second.

import { ensurePath, now } from "./driver.js";
import { cpuSecondsOf, errorText, memberMemory, pipelined, put, sleep, sum } from "./scale-common.js";
import type { CaseContext, CaseSpec, Workload } from "./types.js";

/** The idle sessions' timeout: they ping every third of it. */
const IDLE_SESSION_TIMEOUT_MS = 30_000;

export const sessionsWorkload: Workload = {
  name: "sessions-10k",
  title: "many sessions: connect storm, memory, idle CPU",
  group: "scale",
  unit: "sessions",
  latency: "one connect (TCP + session handshake) during the storm",
  headline: "throughput",
  cases: (plan): CaseSpec[] => {
    const s = plan.scale;
    return [
      {
        workload: "sessions-10k",
        variant: String(s.sessions),
        clients: s.sessions,
        params: { sessions: s.sessions, inFlight: s.connectsInFlight, idleMs: s.idleSeconds * 1000, phaseMs: s.phaseSeconds * 1000 },
      },
    ];
  },
  timing: (_spec, plan) => {
    const phaseMs = plan.scale.phaseSeconds * 1000;
    return { warmupMs: 0, durationMs: phaseMs, boundMs: phaseMs + plan.scale.idleSeconds * 1000 + 60_000, opsMax: 10_000_000 };
  },
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const n = spec.params["sessions"]!;
    const idleMs = spec.params["idleMs"]!;
    await ensurePath(ctx.admin, ctx.root);
    const before = await memberMemory(ctx.server, 3);
    ctx.window.begin();
    const t0 = now();
    const storm = await pipelined(
      n,
      spec.params["inFlight"]!,
      async () => {
        const t = now();
        await ctx.connect({ sessionTimeoutMs: IDLE_SESSION_TIMEOUT_MS });
        ctx.window.tick(t, now() - t);
      },
      { signal: ctx.signal, deadline: t0 + spec.params["phaseMs"]!, stopOnError: true },
    );
    const stormMs = now() - t0;
    ctx.window.close();
    put(ctx, "sessionsOpened", storm.done);
    put(ctx, "stormMs", stormMs);
    if (storm.done < n) throw new Error(`opened ${storm.done} of ${n} sessions in ${Math.round(stormMs)} ms: ${storm.failed > 0 ? errorText(storm.firstError) : "out of time"}`);
    const after = await memberMemory(ctx.server, 3);
    const rss0 = sum(before.map((m) => m.rssBytes));
    const rss1 = sum(after.map((m) => m.rssBytes));
    const heap0 = sum(before.map((m) => m.heapBytes));
    const heap1 = sum(after.map((m) => m.heapBytes));
    if (rss1 !== null) put(ctx, "rssMiB", rss1 / 2 ** 20);
    if (rss0 !== null && rss1 !== null) put(ctx, "rssBytesPerSession", (rss1 - rss0) / n);
    if (heap0 !== null && heap1 !== null) put(ctx, "heapBytesPerSession", (heap1 - heap0) / n);
    // Idle: every member's CPU over idleMs (the measurement is the wait itself).
    const pids = after.map((m) => m.pid);
    const cpu0 = pids.map(cpuSecondsOf);
    await sleep(idleMs);
    const cpu1 = pids.map(cpuSecondsOf);
    const pct = pids.map((_, i) => (cpu0[i] === null || cpu1[i] === null ? null : ((cpu1[i]! - cpu0[i]!) / (idleMs / 1000)) * 100));
    put(ctx, "idleCpuPct", sum(pct));
    if (after.length > 1) {
      after.forEach((m, i) => {
        const role = m.mode === "leader" ? "leader" : "follower";
        const k = (name: string): string => `${role}${name}`;
        const keep = (key: string, v: number | null): void => {
          if (v === null) return;
          // Followers: the busiest of the two.
          const prev = ctx.extra[key];
          if (prev === undefined || v > prev) put(ctx, key, v);
        };
        keep(k("IdleCpuPct"), pct[i] ?? null);
        keep(k("RssMiB"), m.rssBytes === null ? null : m.rssBytes / 2 ** 20);
      });
    }
  },
};
