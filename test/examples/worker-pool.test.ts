// examples/worker-pool/worker.mjs as users run it: three worker processes against a real
// standalone server; the elected one schedules the jobs, all of them take and ack. Two are
// stopped with SIGTERM in the middle of a job: one whose job ends within the grace period
// (it acks it, then exits 0), one whose job does not (it releases it, exits 0, and another
// worker does the job). The released one leads first, so the scheduling moves mid-run
// too. Every job is scheduled once and done exactly once; none is lost.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { ExampleProcess } from "./run-example.js";

const JOBS = 30;
const SCRIPT = "worker-pool/worker.mjs";

describe("examples/worker-pool", () => {
  let srv: TestServer;
  const workers: ExampleProcess[] = [];

  beforeAll(async () => {
    srv = await startStandaloneForTest();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await srv?.stop();
  });

  const start = (id: string, workMs: number, graceMs: number): ExampleProcess => {
    const w = new ExampleProcess(SCRIPT, [srv.connectString], {
      POOL_ID: id,
      POOL_JOBS: String(JOBS),
      POOL_INTERVAL_MS: "50",
      POOL_WORK_MS: String(workMs),
      POOL_GRACE_MS: String(graceMs),
    });
    workers.push(w);
    return w;
  };

  it("does every job exactly once with three workers, two of them stopped by SIGTERM mid-job, each exiting 0", async () => {
    // The test leads the election first, so that no worker schedules before all three are
    // in (each waiting in take()); then it leaves, and the first worker in line, w3, leads.
    const holder = await connect(srv.connectString);
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
    const [finishingJob, releasedJob] = await Promise.all([firstJob(finishing), firstJob(releasing)]);
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
    await fast.until(`all ${JOBS} jobs done`, () => new Set(done()).size === JOBS);
    const names = Array.from({ length: JOBS }, (_, i) => `job-${i + 1}`);
    expect(done().sort()).toEqual([...names].sort()); // each exactly once
    expect(fast.lines).toContain(`w1 done ${releasedJob}`);
    const scheduled = all.flatMap((w) => w.lines.filter((l) => / scheduled job-\d+$/.test(l)).map((l) => l.split(" ").pop()!));
    expect(scheduled.sort()).toEqual([...names].sort()); // each offered once, across leaders
    // w3 scheduled the first jobs; after it left, another worker carried on from the cursor.
    const scheduledBy = (w: ExampleProcess): number => w.lines.filter((l) => / scheduled job-\d+$/.test(l)).length;
    expect(scheduledBy(releasing)).toBeGreaterThan(0);
    expect(scheduledBy(releasing)).toBeLessThan(JOBS);
    expect(releasing.lines).toContain("w3 not leading");

    // The last worker, idle in take(), stops on SIGTERM too.
    fast.proc.kill("SIGTERM");
    expect(await fast.exit()).toEqual({ code: 0, signal: null });
    expect(fast.lines.at(-1)).toBe("w1 stopped");
  });
});
