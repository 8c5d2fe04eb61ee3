// Corral's recipe commands, on top of zkCli's: `lock`, `queue`, `election`, `barrier`
// (and, in job-recipes.ts, `jobqueue`, `semaphore`, `doublebarrier`).
// They use the client's recipe API, so against Corral each is one round trip with a
// pushed grant, and against Apache ZooKeeper the classic client-side recipe runs.
// Results go to stdout (the fencing token, a queue item's data, the leader), notes to
// stderr as zkCli's confirmations do. A command that holds something (a lock, an
// election membership) keeps it until Enter (the next input line) or Ctrl-C; a command
// that waits (for a lock, an item, a barrier) says so on stderr after a second
// ("Waiting for ...") and gives up on Ctrl-C with "Interrupted".

import { errorMessage, javaList } from "./format.js";
import { pathProblem } from "./paths.js";
import { CliError, type Shell, type ShellCommand } from "./shell.js";

/** `p`, with a rejection turned into a CliError carrying zkCli's message for it. */
export async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(errorMessage(e));
  }
}

/** How long a blocking command waits before it says what it waits for. */
const WAIT_NOTE_MS = 1_000;

/**
 * `p`, as `call` answers it; if it takes longer than WAIT_NOTE_MS, a "Waiting for ..."
 * line on stderr first, so a command blocked behind a holder does not look hung.
 */
export async function waitingFor<T>(sh: Shell, what: string, p: Promise<T>): Promise<T> {
  const note = setTimeout(() => sh.io.err(`Waiting for ${what}; Ctrl-C to give up\n`), WAIT_NOTE_MS);
  try {
    return await call(p);
  } finally {
    clearTimeout(note);
  }
}

/** The verb and path of `<name> verb path ...`, checked (usage or path errors as CliError). */
export function target(words: string[], verbs: readonly string[], usage: string, name: string, maxWords: number): { verb: string; path: string } {
  const [, verb, path] = words;
  if (verb === undefined || path === undefined || !verbs.includes(verb) || words.length > maxWords) throw new CliError(`${name} ${usage}`);
  const problem = pathProblem(path);
  if (problem !== undefined) throw new CliError(problem);
  return { verb, path };
}

/** Waits for Enter (the next line; a non-empty one is put back to run next), end of input, Ctrl-C or `lost`. */
export async function hold(sh: Shell, signal: AbortSignal, lost: AbortSignal | undefined, what: string): Promise<"released" | "lost"> {
  if (sh.tty) sh.io.err(`Holding ${what}; press Enter or Ctrl-C to release\n`);
  const stop = new AbortController();
  const onLost = (): void => stop.abort();
  lost?.addEventListener("abort", onLost, { once: true });
  try {
    const line = await Promise.race([
      sh.lines.next(stop.signal),
      new Promise<undefined>((resolve) => {
        if (signal.aborted) resolve(undefined);
        signal.addEventListener("abort", () => resolve(undefined), { once: true });
      }),
      new Promise<"lost">((resolve) => stop.signal.addEventListener("abort", () => resolve("lost"), { once: true })),
    ]);
    stop.abort();
    if (line === "lost") return "lost";
    if (line !== undefined && line.trim() !== "") sh.lines.unread(line);
    return "released";
  } finally {
    lost?.removeEventListener("abort", onLost);
  }
}

const LOCK_USAGE = "read|write path";

const lock: ShellCommand = {
  name: "lock",
  usage: LOCK_USAGE,
  async run(sh, words) {
    const { verb, path } = target(words, ["read", "write"], LOCK_USAGE, "lock", 3);
    const zk = await sh.zk();
    const signal = sh.waitSignal();
    try {
      const h = await waitingFor(sh, `the ${verb} lock on ${path}`, verb === "read" ? zk.readLock(path, { signal }) : zk.writeLock(path, { signal }));
      sh.io.out(`Acquired ${verb} lock on ${path}: ${h.node}, fencing token ${h.token}\n`);
      if ((await hold(sh, signal, h.lost, `the ${verb} lock on ${path}`)) === "lost") {
        throw new CliError(`Lost the ${verb} lock on ${path}: the session ended`);
      }
      await call(h.release());
      sh.io.err(`Released ${h.node}\n`);
    } finally {
      sh.doneWaiting();
    }
  },
};

const QUEUE_USAGE = "offer|take|peek|size path [data]";

const queue: ShellCommand = {
  name: "queue",
  usage: QUEUE_USAGE,
  async run(sh, words) {
    const { verb, path } = target(words, ["offer", "take", "peek", "size"], QUEUE_USAGE, "queue", 4);
    if (verb !== "offer" && words.length > 3) throw new CliError(`queue ${QUEUE_USAGE}`);
    const zk = await sh.zk();
    const q = zk.queue(path);
    switch (verb) {
      case "offer": {
        const name = await call(q.offer(words[3] ?? null));
        sh.io.err(`Offered ${path}/${name}\n`);
        return;
      }
      case "take": {
        const signal = sh.waitSignal();
        try {
          sh.io.out(`${(await waitingFor(sh, `an item of ${path}`, q.take({ signal }))).toString("utf8")}\n`);
        } finally {
          sh.doneWaiting();
        }
        return;
      }
      case "peek": {
        const data = await call(q.peek());
        if (data === null) throw new CliError(`Queue is empty: ${path}`);
        sh.io.out(`${data.toString("utf8")}\n`);
        return;
      }
      default:
        sh.io.out(`${await call(q.size())}\n`);
    }
  },
};

const ELECTION_USAGE = "join|leader|members path [data]";

const election: ShellCommand = {
  name: "election",
  usage: ELECTION_USAGE,
  async run(sh, words) {
    const { verb, path } = target(words, ["join", "leader", "members"], ELECTION_USAGE, "election", 4);
    if (verb !== "join" && words.length > 3) throw new CliError(`election ${ELECTION_USAGE}`);
    const zk = await sh.zk();
    const e = zk.election(path, words[3] ?? null);
    if (verb === "leader") {
      const leader = await call(e.leader());
      if (leader === null) throw new CliError(`No leader: ${path}`);
      sh.io.out(`${leader.id}\n`);
      return;
    }
    if (verb === "members") {
      sh.io.out(`${javaList(await call(e.members()))}\n`);
      return;
    }
    const signal = sh.waitSignal();
    try {
      let announced = false;
      const announce = (leading: boolean): void => {
        if (leading && !announced) sh.io.out(`Leading ${path}\n`);
        announced ||= leading;
      };
      e.onLeadershipChange(announce);
      await call(e.join());
      sh.io.err(`Joined election ${path}\n`);
      announce(e.isLeader());
      const outcome = await hold(sh, signal, undefined, `membership of ${path}`);
      await call(e.leave());
      if (outcome === "released") sh.io.err(`Left election ${path}\n`);
    } finally {
      sh.doneWaiting();
    }
  },
};

const BARRIER_USAGE = "set|remove|wait path";

const barrier: ShellCommand = {
  name: "barrier",
  usage: BARRIER_USAGE,
  async run(sh, words) {
    const { verb, path } = target(words, ["set", "remove", "wait"], BARRIER_USAGE, "barrier", 3);
    const zk = await sh.zk();
    const b = zk.barrier(path);
    if (verb === "set") {
      await call(b.set());
      sh.io.err(`Barrier set: ${path}\n`);
    } else if (verb === "remove") {
      await call(b.remove());
      sh.io.err(`Barrier removed: ${path}\n`);
    } else {
      const signal = sh.waitSignal();
      try {
        await waitingFor(sh, `the barrier ${path} to be removed`, b.wait({ signal }));
        sh.io.err(`Barrier passed: ${path}\n`);
      } finally {
        sh.doneWaiting();
      }
    }
  },
};

export const RECIPE_COMMANDS: readonly ShellCommand[] = [barrier, election, lock, queue];

/** Second words the completer offers after each recipe command. */
export const RECIPE_VERBS: Readonly<Record<string, readonly string[]>> = {
  lock: ["read", "write"],
  queue: ["offer", "take", "peek", "size"],
  election: ["join", "leader", "members"],
  barrier: ["set", "remove", "wait"],
};
