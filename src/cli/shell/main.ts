// `corral cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [command args...]`:
// ZooKeeper's zkCli. With a command it connects, runs that one command and exits with
// its status (0 ok, 1 failed, 127 unknown command). Without one it reads commands from
// stdin: on a terminal with a prompt, line editing, history and tab completion of
// commands and znode paths (node:readline playing JLine's part); from a pipe silently,
// one line after another, as zkCli does without JLine. The session is closed on exit
// (zkCli leaves it to expire).

import { createInterface, type Interface } from "node:readline";
import { clientTlsFromFile } from "./client-config.js";
import { ZK_COMMANDS } from "./commands.js";
import { JOB_RECIPE_COMMANDS, JOB_RECIPE_VERBS } from "./job-recipes.js";
import { RECIPE_COMMANDS, RECIPE_VERBS as CLASSIC_RECIPE_VERBS } from "./recipes.js";

const RECIPE_VERBS: Readonly<Record<string, readonly string[]>> = { ...CLASSIC_RECIPE_VERBS, ...JOB_RECIPE_VERBS };
import { Shell, type LineSource, type ShellIo } from "./shell.js";

/** ZooKeeperMain.MyCommandOptions.parseOptions: options, then the command and its words. */
function parseArgs(argv: readonly string[], err: (t: string) => void): { options: Map<string, string>; command: string[] } {
  const options = new Map([
    ["server", "localhost:2181"],
    ["timeout", "30000"],
  ]);
  const withValue: Record<string, string> = { "-server": "server", "-timeout": "timeout", "-client-configuration": "client-configuration" };
  for (let i = 0; i < argv.length; i++) {
    const opt = argv[i]!;
    const key = withValue[opt];
    if (key !== undefined) {
      const v = argv[i + 1];
      if (v === undefined) {
        err(`Error: no argument found for option ${opt}\n`);
        break;
      }
      options.set(key, v);
      i++;
      continue;
    }
    if (opt === "-r") options.set("readonly", "true");
    else if (opt === "-waitforconnection") options.set("waitforconnection", "true");
    else if (!opt.startsWith("-")) return { options, command: argv.slice(i) };
  }
  return { options, command: [] };
}

/** Lines from a readline interface, queued until the shell asks for them. */
class LineQueue implements LineSource {
  readonly #lines: string[] = [];
  readonly #waiters: ((line: string | undefined) => void)[] = [];
  #ended = false;

  push(line: string): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w(line);
    else this.#lines.push(line);
  }

  end(): void {
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  next(signal?: AbortSignal): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended || signal?.aborted === true) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (l: string | undefined): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(l);
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  unread(line: string): void {
    this.#lines.unshift(line);
  }
}

function readLines(rl: Interface, queue: LineQueue): void {
  rl.on("line", (l) => queue.push(l));
  rl.on("close", () => queue.end());
}

/** Tab completion: command names first, then znode paths (children of the typed parent), then recipe verbs. */
export function completer(sh: Pick<Shell, "commands" | "alive" | "client">): (line: string, cb: (err: null, result: [string[], string]) => void) => void {
  const names = [...sh.commands.keys()].sort();
  return (line, cb) => {
    const words = line.split(/\s+/);
    const word = words.at(-1) ?? "";
    if (words.length === 1) {
      cb(null, [names.filter((n) => n.startsWith(word)), word]);
      return;
    }
    if (words.length === 2 && RECIPE_VERBS[words[0]!] !== undefined && !word.startsWith("/")) {
      cb(null, [RECIPE_VERBS[words[0]!]!.filter((v) => v.startsWith(word)), word]);
      return;
    }
    if (!word.startsWith("/") || !sh.alive || sh.client === undefined) {
      cb(null, [[], word]);
      return;
    }
    const slash = word.lastIndexOf("/");
    const parent = slash === 0 ? "/" : word.slice(0, slash);
    const prefix = word.slice(slash + 1);
    sh.client.getChildren(parent).then(
      (children) => {
        const base = parent === "/" ? "/" : `${parent}/`;
        cb(null, [children.filter((c) => c.startsWith(prefix)).sort().map((c) => base + c), word]);
      },
      () => cb(null, [[], word]),
    );
  };
}

export async function runShell(argv: readonly string[]): Promise<number> {
  // On a terminal, output that arrives while the prompt waits (a watch event) is followed
  // by a redraw of the prompt and the line being typed.
  const hooks: { afterOut?: (() => void) | undefined } = {};
  const io: ShellIo = {
    out: (t) => {
      process.stdout.write(t);
      hooks.afterOut?.();
    },
    err: (t) => void process.stderr.write(t),
  };
  const { options, command } = parseArgs(argv, io.err);
  const timeoutMs = Number(options.get("timeout"));
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    io.err(`corral cli: -timeout must be a positive number of milliseconds, got ${options.get("timeout")}\n`);
    return 2;
  }
  const configFile = options.get("client-configuration");
  let tls;
  try {
    tls = configFile === undefined ? undefined : await clientTlsFromFile(configFile);
  } catch (e) {
    io.err(`corral cli: -client-configuration: ${(e as Error).message}\n`);
    return 2;
  }
  const sh = new Shell({ sessionTimeoutMs: timeoutMs, readOnly: options.has("readonly"), io, commands: [...ZK_COMMANDS, ...RECIPE_COMMANDS, ...JOB_RECIPE_COMMANDS], tls });
  const server = options.get("server")!;
  io.out(`Connecting to ${server}\n`);
  try {
    await sh.connect(server);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return 1;
  }
  return command.length > 0 ? runOne(sh, command) : runInteractive(sh, hooks);
}

/** Command-line mode: one command, its exit status. Enter on stdin (or Ctrl-C) releases what it holds. */
async function runOne(sh: Shell, command: string[]): Promise<number> {
  const queue = new LineQueue();
  let rl: Interface | undefined;
  sh.lines = {
    next: (signal) => {
      if (rl === undefined) {
        rl = createInterface({ input: process.stdin, terminal: false });
        readLines(rl, queue);
      }
      return queue.next(signal);
    },
    unread: (l) => queue.unread(l),
  };
  sh.tty = process.stdin.isTTY === true;
  const onSigint = (): void => {
    if (!sh.interrupt()) process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    await sh.settled();
    await sh.run(command);
  } finally {
    process.off("SIGINT", onSigint);
    rl?.close();
    process.stdin.pause();
  }
  await sh.closeSession(true);
  return sh.exitCode;
}

async function runInteractive(sh: Shell, hooks: { afterOut?: (() => void) | undefined }): Promise<number> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  sh.tty = tty;
  sh.io.out("Welcome to ZooKeeper!\n");
  sh.io.out(`JLine support is ${tty ? "enabled" : "disabled"}\n`);
  const queue = new LineQueue();
  const rl = tty
    ? createInterface({ input: process.stdin, output: process.stdout, terminal: true, historySize: 1000, completer: completer(sh) })
    : createInterface({ input: process.stdin, terminal: false });
  readLines(rl, queue);
  sh.lines = queue;
  let idle = false;
  if (tty) {
    hooks.afterOut = () => {
      if (idle) rl.prompt(true);
    };
  }
  const onInterrupt = (): void => {
    if (!sh.interrupt()) queue.end();
  };
  rl.on("SIGINT", onInterrupt);
  if (!tty) process.on("SIGINT", onInterrupt);
  let quit = false;
  try {
    await sh.settled();
    for (;;) {
      if (tty) {
        rl.setPrompt(sh.prompt());
        rl.prompt();
      }
      idle = true;
      const line = await queue.next();
      idle = false;
      if (line === undefined) break;
      if ((await sh.executeLine(line)) === "quit") {
        quit = true;
        break;
      }
    }
  } finally {
    process.off("SIGINT", onInterrupt);
    rl.close();
    process.stdin.pause();
  }
  // zkCli leaves the session open at end of input (it expires); Corral closes it, quietly.
  if (!quit) await sh.closeSession(true);
  return sh.exitCode;
}
