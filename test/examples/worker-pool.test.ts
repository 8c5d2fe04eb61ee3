// examples/worker-pool/worker.mjs as users run it: three worker processes against a real
// 3-member ensemble (corral/testing's TestingCluster; each worker's client may land on any
// member); the elected one schedules the jobs, all of them
// take and ack. Two are stopped with SIGTERM in the middle of a job: one whose job ends
// within the grace period (it acks it, then exits 0), one whose job does not (it releases
// it, exits 0, and another worker does the job). The released one leads first, so the
// scheduling moves mid-run too. Every job is scheduled once and done exactly once; none is
// lost. (The run is in ./scenarios.ts: the package test runs it too, from an app that
// installed the packed package.)
//
// On an ensemble this once failed about one run in three: each member served its own
// clients' queue waits, and a worker on a follower waited through all 30 jobs while those
// on the leader took them. The leader keeps every wait now (recipes/queue/binding.ts).

import { afterAll, beforeAll, describe, it } from "vitest";
import { TestingCluster } from "../../src/testing/index.js";
import { workerPoolRun } from "./scenarios.js";

describe("examples/worker-pool", () => {
  let srv: TestingCluster | undefined;

  beforeAll(async () => {
    srv = await TestingCluster.start();
  });

  afterAll(async () => {
    await srv?.stop();
  });

  it("does every job exactly once with three workers, two of them stopped by SIGTERM mid-job, each exiting 0", async () => {
    await workerPoolRun(srv!.connectString);
  });
});
