// @ts-check
// A worker pool: run this program several times (one process per worker). Every worker
// takes jobs from a job queue and acks each when it is done; one of them, elected leader,
// is also the scheduler that offers the jobs. Stop a worker with SIGTERM (or Ctrl-C): it
// stops taking, gives its current job a grace period to finish (then acks it) or else
// releases it (no ack: closing the session puts the job back at the head of the queue,
// for another worker), leaves the election, closes its session and exits 0.
//
//   node worker.mjs [connectString]        # or CORRAL_CONNECT=host:port; default 127.0.0.1:2181
//
// Knobs (environment): POOL_ID (default worker-<pid>), POOL_JOBS (how many jobs the
// scheduler offers in all, default 20), POOL_INTERVAL_MS (between offers, default 200),
// POOL_WORK_MS (how long a job takes, default 500), POOL_GRACE_MS (how long a stopping
// worker lets its current job run on, default 5000).
//
// The layout: /pool/jobs (the job queue), /pool/leader (the election), /pool/cursor (how
// many jobs the scheduler has offered). A new leader carries on from the cursor.

import { setTimeout as sleep } from "node:timers/promises";
import { connect, MultiError, ZooKeeperError } from "corral";

const connectString = process.argv[2] ?? process.env.CORRAL_CONNECT ?? "127.0.0.1:2181";
const id = process.env.POOL_ID ?? `worker-${process.pid}`;
const totalJobs = Number(process.env.POOL_JOBS ?? 20);
const intervalMs = Number(process.env.POOL_INTERVAL_MS ?? 200);
const workMs = Number(process.env.POOL_WORK_MS ?? 500);
const graceMs = Number(process.env.POOL_GRACE_MS ?? 5000);

const ROOT = "/pool";
const JOBS = `${ROOT}/jobs`;
const CURSOR = `${ROOT}/cursor`;

const log = (/** @type {string} */ line) => console.log(`${id} ${line}`);

const client = await connect(connectString, { sessionTimeoutMs: 10_000 });
const jobs = client.jobQueue(JOBS);
const election = client.election(`${ROOT}/leader`, id);

/** Aborted on SIGTERM/SIGINT: stop taking, stop scheduling. */
const stopping = new AbortController();
/**
 * The job in progress: aborting `work` gives it up (it is released, not acked).
 * @type {{ name: string, work: AbortController } | undefined}
 */
let current;

const onSignal = () => {
  if (stopping.signal.aborted) return;
  log("stopping");
  stopping.abort();
  const job = current;
  if (job !== undefined) setTimeout(() => job.work.abort(), graceMs).unref();
};
// once: a second signal ends the process at once (Node's default), as impatient operators expect.
process.once("SIGTERM", onSignal);
process.once("SIGINT", onSignal);

await createIfMissing(ROOT);
await createIfMissing(JOBS);
await createIfMissing(CURSOR, "0");

// ---- the scheduler: runs while this worker leads ------------------------------------------

/** @type {Promise<void> | undefined} */
let scheduling;
election.onLeadershipChange((leading) => {
  log(leading ? "leading" : "not leading");
  if (leading && !stopping.signal.aborted && scheduling === undefined) {
    scheduling = schedule()
      .catch((e) => log(`scheduler failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (scheduling = undefined));
  }
});
await election.join();
log("joined");

async function schedule() {
  while (election.isLeader() && !stopping.signal.aborted) {
    try {
      const { data, stat } = await client.getData(CURSOR);
      const offered = Number(data?.toString() ?? 0);
      if (offered >= totalJobs) {
        log(`scheduled all ${totalJobs} jobs`);
        return;
      }
      const name = `job-${offered + 1}`;
      // The offer and the cursor move in one transaction, and only from the cursor version
      // just read: a job is offered once, even when leadership moves between two offers (a
      // deposed leader's multi fails with BadVersion). JobQueue.offer() cannot take part in
      // a multi, so this creates the item as offer() does: a persistent-sequential "qn-" child
      // of the queue (the queue's documented layout).
      await client.multi([
        { op: "create", path: `${JOBS}/qn-`, data: name, mode: "persistentSequential" },
        { op: "setData", path: CURSOR, data: String(offered + 1), version: stat.version },
      ]);
      log(`scheduled ${name}`);
    } catch (e) {
      if (e instanceof MultiError && e.code === "BadVersion") continue; // someone else moved the cursor
      if (!(e instanceof ZooKeeperError && e.code === "ConnectionLoss")) throw e;
      // Disconnected: leadership is dropped (isLeader() false) until it is known again.
    }
    await sleep(intervalMs, undefined, { signal: stopping.signal }).catch(() => undefined);
  }
}

// ---- the worker: take, work, ack ------------------------------------------------------------

/** The job's work. Replace with yours; it should give up when `signal` aborts. */
async function work(/** @type {string} */ name, /** @type {AbortSignal} */ signal) {
  await sleep(workMs, undefined, { signal });
}

while (!stopping.signal.aborted) {
  let job;
  try {
    job = await jobs.take({ signal: stopping.signal });
  } catch (e) {
    if (stopping.signal.aborted) break;
    log(`take failed: ${e instanceof Error ? e.message : String(e)}`);
    await sleep(1000);
    continue;
  }
  const name = job.data.toString();
  if (stopping.signal.aborted) {
    // Taken just as we stopped: not ours to do; closing the session puts it back.
    log(`released ${name}`);
    break;
  }
  log(`start ${name}`);
  current = { name, work: new AbortController() };
  try {
    await work(name, current.work.signal);
  } catch {
    log(`released ${name}`); // given up after the grace period: no ack, so it goes back
    break;
  } finally {
    current = undefined;
  }
  try {
    await job.ack();
    log(`done ${name}`);
  } catch (e) {
    // NoNode: it went back to the queue first (our session ended), so another worker does
    // it. AckOutcomeUnknownError: done or back in the queue, never lost.
    log(`ack failed ${name}: ${e instanceof ZooKeeperError ? e.code : String(e)}`);
  }
}

// ---- graceful shutdown ----------------------------------------------------------------------

await scheduling;
await election.leave();
await client.close(); // any job taken and not acked goes back to the head of the queue
log("stopped");

/** Creates a persistent node unless it exists. */
async function createIfMissing(/** @type {string} */ path, /** @type {string | null} */ data = null) {
  try {
    await client.create(path, data);
  } catch (e) {
    if (!(e instanceof ZooKeeperError && e.code === "NodeExists")) throw e;
  }
}
