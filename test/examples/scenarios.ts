// The example runs whose outcomes are checked in two places: test/examples (the examples
// in this repository, importing the build in dist/) and test/integration/package.test.ts
// (the examples shipped in the packed package, copied into an app that installed it, so
// "corral" is the installed tarball). Each takes the connect string of a running server and
// where the examples run from, starts the example processes, asserts, and kills what it
// started on the way out.

import { expect } from "vitest";
import { connect } from "../../src/client/index.js";
import { ExampleProcess, type ExampleSite } from "./run-example.js";

/** The session cap (20 ticks) that the examples' 10 s sessions are cut to, at a tick. */
export function shortSessions(tickMs: number): { tickTimeMs: number; config: { maxSessionTimeout: number } } {
  return { tickTimeMs: tickMs, config: { maxSessionTimeout: 20 * tickMs } };
}

async function withProcs(body: (start: (file: string, args: string[], env?: Record<string, string>) => ExampleProcess) => Promise<void>, site: ExampleSite): Promise<void> {
  const procs: ExampleProcess[] = [];
  try {
    await body((file, args, env = {}) => {
      const p = new ExampleProcess(file, args, env, site);
      procs.push(p);
      return p;
    });
  } finally {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGCONT");
    await Promise.all(procs.map((p) => p.kill()));
  }
}

const POOL_JOBS = 30;

/**
 * examples/worker-pool: three workers; the elected one schedules POOL_JOBS jobs, all take
 * and ack. Two are stopped with SIGTERM mid-job: one whose job ends within the grace period
 * (it acks, exits 0), one whose job does not (it releases it, exits 0, another worker does
 * it). The released one leads first, so scheduling moves mid-run too. Every job is
 * scheduled once and done exactly once.
 */
export async function workerPoolRun(connectString: string, site: ExampleSite = {}): Promise<void> {
  await withProcs(async (run) => {
    const start = (id: string, workMs: number, graceMs: number): ExampleProcess =>
      run("worker-pool/worker.mjs", [connectString], {
        POOL_ID: id,
        POOL_JOBS: String(POOL_JOBS),
        POOL_INTERVAL_MS: "50",
        POOL_WORK_MS: String(workMs),
        POOL_GRACE_MS: String(graceMs),
      });

    // The test leads the election first, so that no worker schedules before all three are
    // in (each waiting in take()); then it leaves, and the first worker in line, w3, leads.
    const holder = await connect(connectString);
    const gate = holder.election("/pool/leader", "test");
    await gate.join();
    expect(gate.isLeader()).toBe(true);
    const releasing = start("w3", 60_000, 200); // its job does not end within the grace period: released
    await releasing.line(/ joined$/);
    const fast = start("w1", 20, 5_000);
    const finishing = start("w2", 1_500, 10_000); // its job ends within the grace period
    const all = [fast, finishing, releasing];
    await Promise.all(all.map((w) => w.line(/ joined$/)));
    await gate.leave();
    await holder.close();
    await releasing.line(/^w3 leading$/);

    const firstJob = (w: ExampleProcess): Promise<string> => w.line(/ start job-\d+$/).then((l) => l.split(" ").pop()!);
    const [finishingJob, releasedJob] = await Promise.all([firstJob(finishing), firstJob(releasing)]).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${all.map((w) => w.describe()).join("\n")}`);
    });
    finishing.proc.kill("SIGTERM");
    releasing.proc.kill("SIGTERM");

    // The finishing worker acks its job after it was told to stop; the releasing one gives
    // its job up. Both stop taking, leave, close and exit 0 by themselves.
    expect(await finishing.exit()).toEqual({ code: 0, signal: null });
    expect(await releasing.exit()).toEqual({ code: 0, signal: null });
    const after = (w: ExampleProcess, re: RegExp): boolean => {
      const stopAt = w.lines.indexOf(`${w === finishing ? "w2" : "w3"} stopping`);
      return stopAt >= 0 && w.lines.slice(stopAt).some((l) => re.test(l));
    };
    expect(after(finishing, new RegExp(`^w2 done ${finishingJob}$`)), finishing.describe()).toBe(true);
    expect(after(releasing, new RegExp(`^w3 released ${releasedJob}$`)), releasing.describe()).toBe(true);
    expect(releasing.lines.some((l) => l.startsWith("w3 done")), releasing.describe()).toBe(false);
    expect(finishing.lines.at(-1)).toBe("w2 stopped");
    expect(releasing.lines.at(-1)).toBe("w3 stopped");

    // The remaining worker does the rest, the released job included (it went back to the
    // queue when w3 closed its session); whoever leads schedules them, from the cursor.
    const done = (): string[] => all.flatMap((w) => w.lines.filter((l) => / done job-\d+$/.test(l)).map((l) => l.split(" ").pop()!));
    await fast.until(`all ${POOL_JOBS} jobs done`, () => new Set(done()).size === POOL_JOBS);
    const names = Array.from({ length: POOL_JOBS }, (_, i) => `job-${i + 1}`);
    expect(done().sort()).toEqual([...names].sort()); // each exactly once
    expect(fast.lines).toContain(`w1 done ${releasedJob}`);
    const scheduled = all.flatMap((w) => w.lines.filter((l) => / scheduled job-\d+$/.test(l)).map((l) => l.split(" ").pop()!));
    expect(scheduled.sort()).toEqual([...names].sort()); // each offered once, across leaders
    // w3 scheduled the first jobs; after it left, another worker carried on from the cursor.
    const scheduledBy = (w: ExampleProcess): number => w.lines.filter((l) => / scheduled job-\d+$/.test(l)).length;
    expect(scheduledBy(releasing)).toBeGreaterThan(0);
    expect(scheduledBy(releasing)).toBeLessThan(POOL_JOBS);
    expect(releasing.lines).toContain("w3 not leading");

    // The last worker, idle in take(), stops on SIGTERM too.
    fast.proc.kill("SIGTERM");
    expect(await fast.exit()).toEqual({ code: 0, signal: null });
    expect(fast.lines.at(-1)).toBe("w1 stopped");
  }, site);
}

/**
 * examples/service-discovery, against a server with short sessions ({@link shortSessions}):
 * a watching client sees each instance appear when it registers, one killed with SIGKILL
 * disappear once its session expires, one stopped with SIGTERM disappear at once (it
 * closes its session), and one paused past its session's expiry register again once
 * resumed; all of them exit 0 on SIGTERM.
 */
export async function serviceDiscoveryRun(connectString: string, site: ExampleSite = {}): Promise<void> {
  await withProcs(async (start) => {
    const run = (args: string[]): ExampleProcess => start("service-discovery/discovery.mjs", [...args, connectString]);

    const watcher = run(["watch", "api"]);
    await watcher.line(/^watching \/services\/api$/);
    expect(watcher.lines[0]).toBe("instances api: (none)");

    const a = run(["register", "api", "127.0.0.1:9001"]);
    await a.line(/^registered \/services\/api\/127\.0\.0\.1:9001$/);
    await watcher.line(/^instances api: 127\.0\.0\.1:9001$/);
    const b = run(["register", "api", "127.0.0.1:9002"]);
    await b.line(/^registered /);
    await watcher.line(/^instances api: 127\.0\.0\.1:9001, 127\.0\.0\.1:9002$/);
    const other = run(["register", "billing", "127.0.0.1:9100"]); // another service: not listed
    await other.line(/^registered \/services\/billing\/127\.0\.0\.1:9100$/);

    // Killed: no goodbye; the server expires its session, and the ephemeral node goes.
    // (No bound on when: on a loaded machine the killed process may have gone unheard for
    // most of its session timeout before the kill.)
    a.proc.kill("SIGKILL");
    await watcher.line(/^instances api: 127\.0\.0\.1:9002$/);
    const client = await connect(connectString);
    try {
      expect(await client.getChildren("/services/api")).toEqual(["127.0.0.1:9002"]);
    } finally {
      await client.close();
    }

    // Stopped: it closes its session, so it is gone at once, and it exits 0.
    b.proc.kill("SIGTERM");
    expect(await b.exit()).toEqual({ code: 0, signal: null });
    expect(b.lines.slice(-2)).toEqual(["deregistered /services/api/127.0.0.1:9002", "stopped"]);
    await watcher.line(/^instances api: \(none\)$/);

    expect(watcher.lines.filter((l) => l.startsWith("instances"))).toEqual([
      "instances api: (none)",
      "instances api: 127.0.0.1:9001",
      "instances api: 127.0.0.1:9001, 127.0.0.1:9002",
      "instances api: 127.0.0.1:9002",
      "instances api: (none)",
    ]);
    // Paused past its session's expiry (SIGSTOP: a GC pause, a stalled VM): the server
    // drops it; resumed, its client finds the session LOST, opens a new one, and the
    // instance registers again.
    const billing = run(["watch", "billing"]);
    await billing.line(/^instances billing: 127\.0\.0\.1:9100$/);
    other.proc.kill("SIGSTOP");
    await billing.line(/^instances billing: \(none\)$/);
    other.proc.kill("SIGCONT");
    await other.line(/^registered \/services\/billing\/127\.0\.0\.1:9100 again, on a new session$/);
    await billing.until("the instance back", (lines) => lines.filter((l) => l === "instances billing: 127.0.0.1:9100").length === 2);

    for (const p of [watcher, other, billing]) {
      p.proc.kill("SIGTERM");
      expect(await p.exit()).toEqual({ code: 0, signal: null });
      expect(p.lines.at(-1)).toBe("stopped");
    }
  }, site);
}
