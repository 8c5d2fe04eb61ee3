// Recipe commands beyond the classic four (recipes.ts): `jobqueue`, `semaphore` and
// `doublebarrier`, with the same habits: results on stdout, notes on stderr, a
// "Waiting for ...; Ctrl-C to give up" line once a blocking step has waited a second,
// Ctrl-C giving up a wait ("Interrupted"), and what a command holds (a job, a permit, a
// place inside a double barrier) kept until the next input line, end of input or Ctrl-C.
//
// A taken job waits for what to do with it, one line at a time: Enter or `ack` acks it,
// `nack` hands it back to the queue, `extend MS` pushes its visibility timeout out (and
// keeps waiting). Anything that is not a decision — end of input, Ctrl-C, another
// command — hands the job back (nack: nothing is lost), and another command then runs.

import type { Job, JobQueueOptions } from "../../client/index.js";
import { OptionError, parseOptions, type Parsed } from "./options.js";
import { call, hold, target, waitingFor } from "./recipes.js";
import { CliError, type Shell, type ShellCommand } from "./shell.js";

const JOBQUEUE_USAGE = "offer|take|size path [data] [-d delayMs] [-t visibilityMs] [-m maxDeliveries -l deadLetterPath]";

/** Options of `jobqueue`: each takes a value. */
const JOBQUEUE_OPTIONS = { d: true, t: true, m: true, l: true } as const;

function parsed(words: string[]): Parsed {
  try {
    return parseOptions(words, JOBQUEUE_OPTIONS);
  } catch (e) {
    if (e instanceof OptionError) throw new CliError(e.message);
    throw e;
  }
}

/** Option `name` as a whole number of at least `min`, or undefined when absent. */
function intOption(p: Parsed, name: string, what: string, min: number): number | undefined {
  const v = p.options.get(name);
  if (v === undefined) return undefined;
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new CliError(`${what} must be a whole number of at least ${min}: ${String(v)}`);
  return n;
}

function queueOptions(p: Parsed): JobQueueOptions {
  const opts: JobQueueOptions = {};
  const max = intOption(p, "m", "-m maxDeliveries", 1);
  const dead = p.options.get("l");
  if ((max === undefined) !== (dead === undefined)) throw new CliError("-m maxDeliveries and -l deadLetterPath go together");
  if (max !== undefined && typeof dead === "string") {
    opts.maxDeliveries = max;
    opts.deadLetterPath = dead;
  }
  const visibility = intOption(p, "t", "-t visibilityMs", 1);
  if (visibility !== undefined) opts.visibilityTimeoutMs = visibility;
  return opts;
}

const jobQueue: ShellCommand = {
  name: "jobqueue",
  usage: JOBQUEUE_USAGE,
  async run(sh, words) {
    const p = parsed(words);
    const { verb, path } = target(p.args, ["offer", "take", "size"], JOBQUEUE_USAGE, "jobqueue", p.args[1] === "offer" ? 4 : 3);
    const opts = queueOptions(p);
    const delayMs = intOption(p, "d", "-d delayMs", 0);
    if (delayMs !== undefined && verb !== "offer") throw new CliError(`jobqueue ${JOBQUEUE_USAGE}`);
    if (opts.visibilityTimeoutMs !== undefined && verb !== "take") throw new CliError(`jobqueue ${JOBQUEUE_USAGE}`);
    const zk = await sh.zk();
    const q = zk.jobQueue(path, opts);
    if (verb === "offer") {
      const name = await call(q.offer(p.args[3] ?? null, delayMs === undefined ? {} : { delayMs }));
      sh.io.err(delayMs === undefined || delayMs === 0 ? `Offered ${path}/${name}\n` : `Offered ${path}/${name}, visible in ${delayMs} ms\n`);
      return;
    }
    if (verb === "size") {
      sh.io.out(`${await call(q.size())}\n`);
      return;
    }
    let job: Job;
    const signal = sh.waitSignal();
    try {
      job = await waitingFor(sh, `a job of ${path}`, q.take({ signal }));
    } finally {
      sh.doneWaiting();
    }
    sh.io.out(`${job.data.toString("utf8")}\n`);
    sh.io.err(`Took ${job.id} (delivery ${job.deliveries})\n`);
    await decide(sh, job);
  },
};

/** Reads what to do with a taken job until it is acked or handed back. */
async function decide(sh: Shell, job: Job): Promise<void> {
  if (sh.tty) sh.io.err(`Holding ${job.id}; Enter or "ack" acks it, "nack" hands it back, "extend MS" extends it, Ctrl-C hands it back\n`);
  const signal = sh.waitSignal();
  try {
    // Bounded by the input: each round reads one line.
    for (;;) {
      const line = await sh.lines.next(signal);
      const words = line?.trim().split(/\s+/) ?? [];
      if (line !== undefined && (line.trim() === "" || (words.length === 1 && words[0] === "ack"))) {
        await call(job.ack());
        sh.io.err(`Acked ${job.id}\n`);
        return;
      }
      if (words[0] === "extend" && words.length === 2) {
        const ms = Number(words[1]);
        if (!/^[0-9]+$/.test(words[1]!) || !Number.isSafeInteger(ms) || ms < 1) {
          sh.io.err(`extend needs a whole number of milliseconds: ${words[1]!}\n`);
          continue;
        }
        await call(job.extend(ms));
        sh.io.err(`Extended ${job.id} by ${ms} ms\n`);
        continue;
      }
      // nack, end of input, Ctrl-C, or another command (run next): the job goes back.
      if (line !== undefined && !(words.length === 1 && words[0] === "nack")) sh.lines.unread(line);
      await call(job.nack());
      sh.io.err(`Handed back ${job.id}\n`);
      return;
    }
  } finally {
    sh.doneWaiting();
  }
}

const SEMAPHORE_USAGE = "acquire path permits";

const semaphore: ShellCommand = {
  name: "semaphore",
  usage: SEMAPHORE_USAGE,
  async run(sh, words) {
    const { path } = target(words, ["acquire"], SEMAPHORE_USAGE, "semaphore", 4);
    const permits = Number(words[3]);
    if (words[3] === undefined || !/^[0-9]+$/.test(words[3]) || !Number.isSafeInteger(permits) || permits < 1) throw new CliError(`semaphore ${SEMAPHORE_USAGE}`);
    const zk = await sh.zk();
    const signal = sh.waitSignal();
    try {
      const h = await waitingFor(sh, `a permit of ${path} (${permits} permits)`, zk.semaphore(path, permits, { signal }));
      sh.io.out(`Acquired a permit of ${path}: ${h.node}, fencing token ${h.token}\n`);
      if ((await hold(sh, signal, h.lost, `a permit of ${path}`)) === "lost") throw new CliError(`Lost the permit of ${path}: the session ended`);
      await call(h.release());
      sh.io.err(`Released ${h.node}\n`);
    } finally {
      sh.doneWaiting();
    }
  },
};

const DOUBLE_BARRIER_USAGE = "enter path count";

const doubleBarrier: ShellCommand = {
  name: "doublebarrier",
  usage: DOUBLE_BARRIER_USAGE,
  async run(sh, words) {
    const { path } = target(words, ["enter"], DOUBLE_BARRIER_USAGE, "doublebarrier", 4);
    const count = Number(words[3]);
    if (words[3] === undefined || !/^[0-9]+$/.test(words[3]) || !Number.isSafeInteger(count) || count < 1) throw new CliError(`doublebarrier ${DOUBLE_BARRIER_USAGE}`);
    const zk = await sh.zk();
    const b = zk.doubleBarrier(path, count);
    const entering = sh.waitSignal();
    try {
      await waitingFor(sh, `${count} participants to enter ${path}`, b.enter({ signal: entering }));
      sh.io.err(`Entered double barrier ${path} (${count} participants)\n`);
      await hold(sh, entering, undefined, `a place inside ${path}`);
    } finally {
      sh.doneWaiting();
    }
    // Leaving waits for the others: a wait of its own, Ctrl-C gives it up.
    const leaving = sh.waitSignal();
    try {
      await waitingFor(sh, `every participant to leave ${path}`, b.leave({ signal: leaving }));
      sh.io.err(`Left double barrier ${path}\n`);
    } finally {
      sh.doneWaiting();
    }
  },
};

/** The commands this module adds to the shell. */
export const JOB_RECIPE_COMMANDS: readonly ShellCommand[] = [doubleBarrier, jobQueue, semaphore];

/** Second words the completer offers after each of them. */
export const JOB_RECIPE_VERBS: Readonly<Record<string, readonly string[]>> = {
  jobqueue: ["offer", "take", "size"],
  semaphore: ["acquire"],
  doublebarrier: ["enter"],
};
