// Server processes the harness started, and the one way it stops them. Every child is
// in one registry so that no exit path leaves one behind: a normal stop (SIGTERM, then
// SIGKILL after a bound), Ctrl-C/SIGTERM of the harness (main.ts stops them the normal
// way), and process exit for any other reason (SIGKILL, synchronously, as a last resort).

import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";

const live = new Set<ChildProcess>();
/** Temp dirs of servers not yet stopped: removed on exit if a stop never ran. */
const tempDirs = new Set<string>();
let exitHookInstalled = false;

const STOP_TERM_WAIT_MS = 5_000;
const STOP_KILL_WAIT_MS = 5_000;
const LOG_TAIL_BYTES = 4_096;

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** Why the process is no longer usable (exited or failed to spawn), or undefined. */
  exited(): string | undefined;
  /** The last few KiB of its output, for error messages. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after a bound. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now (a crash, for recovery timings); resolves once it has exited. */
  kill9(): Promise<void>;
}

/** Starts a server process with stdout and stderr going to `logFile` (not through us). */
export function spawnServer(command: string, args: readonly string[], opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): ServerProcess {
  installExitHook();
  const fd = openSync(opts.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ["ignore", fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
  } finally {
    closeSync(fd);
  }
  let spawnError: Error | undefined;
  child.once("error", (e) => {
    spawnError = e;
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let stopped: Promise<void> | undefined;
  return {
    child,
    pid: child.pid ?? -1,
    logFile: opts.logFile,
    exited: () => {
      if (spawnError !== undefined) return `could not start ${command}: ${spawnError.message}`;
      if (child.exitCode !== null || child.signalCode !== null) return `${command} exited (code ${child.exitCode}, signal ${child.signalCode})`;
      return undefined;
    },
    logTail: () => {
      try {
        return readFileSync(opts.logFile, "utf8").slice(-LOG_TAIL_BYTES);
      } catch {
        return "";
      }
    },
    stop: () => (stopped ??= stopChild(child)),
    kill9: () =>
      (stopped ??= (async () => {
        if (child.pid === undefined || hasExited(child)) return;
        child.kill("SIGKILL");
        if (!(await waitForExit(child, STOP_KILL_WAIT_MS))) throw new Error(`server pid ${child.pid} survived SIGKILL for ${STOP_KILL_WAIT_MS} ms`);
        live.delete(child);
      })()),
  };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once `child` has exited, false if it is still running after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(false);
    }, timeoutMs);
    function onExit(): void {
      clearTimeout(timer);
      resolve(true);
    }
    child.once("exit", onExit);
  });
}

/** SIGTERM, then SIGKILL if it does not go; throws if it survives even that. */
export async function terminate(child: ChildProcess, what = "server"): Promise<void> {
  if (child.pid === undefined || hasExited(child)) return;
  child.kill("SIGTERM");
  if (await waitForExit(child, STOP_TERM_WAIT_MS)) return;
  child.kill("SIGKILL");
  if (!(await waitForExit(child, STOP_KILL_WAIT_MS))) throw new Error(`${what} pid ${child.pid} survived SIGKILL for ${STOP_KILL_WAIT_MS} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  await terminate(child);
  live.delete(child);
}

/** How many server processes are still running. */
export function liveServerCount(): number {
  return live.size;
}

export function registerTempDir(dir: string): void {
  installExitHook();
  tempDirs.add(dir);
}

export function forgetTempDir(dir: string): void {
  tempDirs.delete(dir);
}

/** SIGKILLs every server still running and removes their temp dirs, synchronously (for exit paths that cannot wait). */
export function killAllServersNow(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort: a killed JVM may still hold files for a moment.
    }
  }
  tempDirs.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", killAllServersNow);
}
