// One Corral server as a real child process, for corral/testing and the project's own
// fault tests: `node child-main.js server start-foreground CONF`, where child-main.js is
// corral's CLI plus a watch on stdin that kills the child when its parent dies. The parent
// side here launches it, waits (bounded) until it answers, asks its mode (`srvr`), kills it
// with SIGKILL (kill -9) or SIGTERM, and pauses it (SIGSTOP/SIGCONT).
//
// Every child of this process is in one module-level set; an "exit" hook SIGKILLs whatever
// is left and removes the temp dirs registered with it, so a test that forgets stop()
// leaves nothing behind either. A running child does not keep this process alive. Loopback
// only.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { askFourLetterWord } from "../net/index.js";

/** The address every testing server listens on. */
export const LOOPBACK = "127.0.0.1";
/** Bound of one four-letter-word probe. */
const PROBE_TIMEOUT_MS = 1_000;
/** Between two probes while waiting for a server. */
const POLL_MS = 25;
/** Bound of a SIGTERM stop before it becomes a SIGKILL. */
const TERM_WAIT_MS = 10_000;
/** What of a child's stderr is kept for error messages. */
const STDERR_TAIL_CHARS = 4_000;

/**
 * The child's entry: child-main.js next to this module once compiled (dist/src/testing/),
 * else (this module run from its TypeScript source, as vitest does) the compiled one in
 * dist/. `CORRAL_CLI_MAIN` (the project's soak scripts) names the CLI's main.js directly;
 * its child-main.js is the sibling in ../testing/.
 */
function childEntry(): string {
  const override = process.env["CORRAL_CLI_MAIN"];
  const candidates = [
    ...(override === undefined ? [] : [fileURLToPath(new URL("../testing/child-main.js", pathToFileURL(override)))]),
    fileURLToPath(new URL("./child-main.js", import.meta.url)),
    fileURLToPath(new URL("../../dist/src/testing/child-main.js", import.meta.url)),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`corral/testing: the server entry is missing (looked at ${candidates.join(", ")}); build with \`npm run build\``);
  return found;
}

const children = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", killAllServerProcesses);
}

/**
 * SIGKILLs every server process started through corral/testing in this process that is
 * still running, and removes the temporary directories of testing servers and clusters not
 * stopped yet. Runs by itself when the process exits; call it from a test runner's global
 * teardown if a test may have thrown before its stop().
 */
export function killAllServerProcesses(): void {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  ownedDirs.clear();
}

/** Registers a temp dir that the exit hook removes (and a child removes if its parent dies). */
export function ownTempDir(dir: string): void {
  installExitHook();
  ownedDirs.add(dir);
}

/** Removes a temp dir registered with ownTempDir, now. */
export function releaseTempDir(dir: string): void {
  ownedDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** How a server child process is started. */
export interface ServerProcessOptions {
  /** The zoo.cfg the server runs. */
  confPath: string;
  /** The client port it listens on (from its zoo.cfg), on 127.0.0.1. */
  clientPort: number;
  /** A temporary directory the child removes if its parent dies first. */
  ownedDir?: string;
  /** The server's log level (CORRAL_LOG_LEVEL; default "warn"). */
  logLevel?: string;
  /** "inherit": the server's log goes to this process's stdout/stderr (default: kept quiet). */
  output?: "inherit" | "quiet";
  /** Called when the process exits without having been told to stop (a crash). */
  onUnexpectedExit?: (why: string) => void;
}

/** One server child process; launch() starts it again after a kill or stop. */
export class ServerProcess {
  readonly #opts: ServerProcessOptions;
  #proc: ChildProcess | undefined;
  #paused = false;
  #stderrTail = "";

  constructor(opts: ServerProcessOptions) {
    this.#opts = opts;
  }

  /** The port clients connect to. */
  get clientPort(): number {
    return this.#opts.clientPort;
  }

  /** The zoo.cfg the server runs. */
  get confPath(): string {
    return this.#opts.confPath;
  }

  /** Whether the process runs (launched, not killed, stopped or crashed). */
  get running(): boolean {
    return this.#proc !== undefined;
  }

  /** Whether it was SIGSTOPped and not continued since. */
  get paused(): boolean {
    return this.#paused;
  }

  /** The OS process id, while running. */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** The last characters the server wrote on stderr, for error reports. */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  /** Starts the process (it must not be running); does not wait for it to serve. */
  launch(): void {
    if (this.#proc !== undefined) throw new Error(`server on port ${this.clientPort} is already running`);
    installExitHook();
    const o = this.#opts;
    const p = spawn(process.execPath, [childEntry(), "server", "start-foreground", o.confPath], {
      stdio: ["pipe", o.output === "inherit" ? "inherit" : "ignore", "pipe"],
      env: {
        ...process.env,
        CORRAL_LOG_LEVEL: o.logLevel ?? "warn",
        CORRAL_TESTING_OWNED_DIR: o.ownedDir ?? "",
      },
    });
    p.stdin?.on("error", () => {}); // the child died first: nothing to tell it
    // Not started at all (spawn failed): "exit" may not follow, so end it here.
    p.once("error", (e) => {
      this.#stderrTail += `\ncould not start the server process: ${e.message}`;
      children.delete(p);
      if (this.#proc !== p) return;
      this.#proc = undefined;
      o.onUnexpectedExit?.(`could not start: ${e.message}`);
    });
    p.stderr?.on("data", (b: Buffer) => {
      this.#stderrTail = (this.#stderrTail + b.toString("utf8")).slice(-STDERR_TAIL_CHARS);
      if (o.output === "inherit") process.stderr.write(b);
    });
    // A running server does not keep this process alive: a test that forgot stop() still
    // ends, and the exit hook then kills the server and removes its temp dir. (#end holds a
    // reference while it waits for an exit.)
    p.unref();
    for (const pipe of [p.stdin, p.stderr]) (pipe as unknown as { unref?: () => void } | null)?.unref?.();
    children.add(p);
    p.once("exit", (code, signal) => {
      children.delete(p);
      p.stdin?.destroy();
      if (this.#proc !== p) return; // told to go: kill() and stop() forget it first
      this.#proc = undefined;
      this.#paused = false;
      o.onUnexpectedExit?.(`exited by itself (code ${code}, signal ${signal}): ${this.#stderrTail.slice(-1500)}`);
    });
    this.#proc = p;
    this.#paused = false;
  }

  /** SIGKILL (kill -9), and resolves once the process is gone. */
  async kill(): Promise<void> {
    await this.#end("SIGKILL");
  }

  /** SIGTERM (a clean shutdown), SIGKILL if it has not exited within 10 s; resolves once gone. */
  async stop(): Promise<void> {
    await this.#end("SIGTERM");
  }

  async #end(signal: "SIGKILL" | "SIGTERM"): Promise<void> {
    const p = this.#proc;
    if (p === undefined) return;
    this.#proc = undefined;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const wasPaused = this.#paused;
    this.#paused = false;
    p.ref(); // the caller awaits the exit: keep the process alive until it is seen
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      p.once("exit", () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      });
      p.kill(signal);
      if (signal === "SIGTERM") {
        if (wasPaused) p.kill("SIGCONT");
        timer = setTimeout(() => p.kill("SIGKILL"), TERM_WAIT_MS);
      }
    });
  }

  /** SIGSTOP: the process freezes, its sockets stay open. */
  pause(): void {
    if (this.#proc === undefined || this.#paused) return;
    this.#proc.kill("SIGSTOP");
    this.#paused = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (this.#proc === undefined || !this.#paused) return;
    this.#proc.kill("SIGCONT");
    this.#paused = false;
  }

  /** The Mode line of `srvr` (standalone, leader, follower, observer), or undefined when it does not serve. */
  async mode(): Promise<string | undefined> {
    if (this.#proc === undefined || this.#paused) return undefined;
    const answer = await askFourLetterWord(LOOPBACK, this.clientPort, "srvr", PROBE_TIMEOUT_MS).catch(() => "");
    return /Mode: (\w+)/.exec(answer)?.[1];
  }

  /** Resolves once the server serves (answers srvr with a mode); rejects if it exits or after timeoutMs. */
  async waitServing(timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.#proc === undefined) throw new Error(`the server on port ${this.clientPort} exited while starting: ${this.#stderrTail.slice(-800)}`);
      const mode = await this.mode();
      if (mode !== undefined) return mode;
      await sleep(POLL_MS);
    }
    throw new Error(`the server on port ${this.clientPort} did not serve within ${timeoutMs} ms: ${this.#stderrTail.slice(-800)}`);
  }
}

/** A pause between two probes of a condition in another process (there is no event to await). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
