// `corral server start|stop|restart|status|print-cmd|version [CONF]`, behaving like
// ZooKeeper's zkServer.sh: the pid file is `corral_server.pid` in dataDir; `start` runs
// `node <dist>/src/cli/main.js server start-foreground CONF` as a detached child with its
// output appended to `corral-server.out` in CORRAL_LOG_DIR (default dataDir), and returns
// once the server answers `ruok` — or reports why it did not (the child's exit code and
// the last lines it logged), bounded by START_WAIT_MS; `stop` sends SIGTERM and waits
// (bounded) for the process to exit, then removes the pid file; `status` asks `srvr` and
// prints its Mode line (standalone, leader, follower, observer), exiting 1 when nothing
// answers. Messages follow zkServer.sh's ("Starting corral ... STARTED", "Client port
// found: ...", "Error contacting service. It is probably not running.").

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfigFile, logDirOf, type CorralConfig } from "../config/index.js";
import { VERSION_STRING } from "../server/index.js";
import { askFourLetterWord, isListening } from "./four-letter.js";

export const PID_FILE_NAME = "corral_server.pid";
export const LOG_FILE_NAME = "corral-server.out";
/** How long `start` waits for ruok, and `stop` for the process to exit. */
const START_WAIT_MS = 30_000;
const STOP_WAIT_MS = 30_000;
const POLL_MS = 50;
const PROBE_TIMEOUT_MS = 1_000;
const LOG_TAIL_LINES = 15;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

const USAGE = "Usage: corral server {start|start-foreground|stop|restart|status|print-cmd|version} [CONF]\n";

export const SERVER_SUBCOMMANDS: ReadonlySet<string> = new Set(["start", "stop", "restart", "status", "print-cmd", "version"]);

/** The config a command uses when none is named: conf/zoo.cfg of the working directory. */
export const DEFAULT_CONF = "conf/zoo.cfg";

/**
 * The config to use when the command names none: `conf/zoo.cfg` in the working directory if
 * there is one (the repository, `npm start`), else the package's own conf/zoo.cfg (an app
 * that installed corral: `npx corral server start`), whose `dataDir=./data` is relative to
 * the working directory. `packaged` says which, for the message that names it.
 */
export function defaultConfPath(cwd: string = process.cwd()): { path: string; packaged: boolean } {
  if (existsSync(resolve(cwd, DEFAULT_CONF))) return { path: DEFAULT_CONF, packaged: false };
  // dist/src/cli/ -> the package root (src/cli/ when run from the TypeScript sources).
  const root = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../../" : "../../../", import.meta.url));
  return { path: join(root, DEFAULT_CONF), packaged: true };
}

/** What a command says about a config it picked by itself (nothing when one was named). */
export function defaultConfNote(chosen: { path: string; packaged: boolean }, dataDir: string | undefined): string {
  if (!chosen.packaged) return "";
  const where = dataDir === undefined ? "memory only" : resolve(dataDir);
  return `No ${DEFAULT_CONF} in ${process.cwd()}: using corral's default config; data directory: ${where}\n`;
}

interface Target {
  confPath: string;
  config: CorralConfig;
  dataDir: string;
  pidFile: string;
  logFile: string;
}

export async function serverCommand(sub: string, args: string[], io: Io): Promise<number> {
  if (sub === "version") {
    io.out(`corral ${VERSION_STRING}\n`);
    return 0;
  }
  if (args.length > 1) {
    io.err(USAGE);
    return 2;
  }
  const chosen = args[0] === undefined ? defaultConfPath() : undefined;
  const target = await loadTarget(args[0] ?? chosen!.path, io);
  if (target === undefined) return 2;
  if (chosen !== undefined) io.err(defaultConfNote(chosen, target.dataDir));
  switch (sub) {
    case "start":
      return start(target, io);
    case "stop":
      return stop(target, io);
    case "restart": {
      const stopped = await stop(target, io);
      return stopped === 0 ? start(target, io) : stopped;
    }
    case "status":
      return status(target, io);
    case "print-cmd":
      io.out(`${printCmd(target)}\n`);
      return 0;
    default:
      io.err(USAGE);
      return 2;
  }
}

async function loadTarget(confArg: string, io: Io): Promise<Target | undefined> {
  const confPath = resolve(confArg);
  io.err(`Using config: ${confPath}\n`);
  let config: CorralConfig;
  try {
    config = (await loadConfigFile(confPath)).config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(`corral: invalid configuration: ${e.message}\n`);
    return undefined;
  }
  if (config.dataDir === undefined) {
    io.err(`corral: invalid configuration: ${confPath}: dataDir: not set; the server keeps its data and pid file there\n`);
    return undefined;
  }
  const dataDir = resolve(config.dataDir);
  return {
    confPath,
    config,
    dataDir,
    pidFile: join(dataDir, PID_FILE_NAME),
    logFile: join(resolve(logDirOf(io.env) ?? dataDir), LOG_FILE_NAME),
  };
}

function mainScript(): string {
  return fileURLToPath(new URL("./main.js", import.meta.url));
}

function printCmd(t: Target): string {
  return `"${process.execPath}" "${mainScript()}" server start-foreground "${t.confPath}" >> "${t.logFile}" 2>&1 < /dev/null`;
}

/** Where `status` and `start` reach the client port (zkServer.sh: clientPortAddress, else localhost). */
function clientAddress(c: CorralConfig): { host: string; port: number } {
  const a = c.clientPortAddress;
  const host = a === undefined || a === "0.0.0.0" || a === "::" ? "127.0.0.1" : a;
  return { host, port: c.clientPort };
}

async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A server that exited but whose parent (init, once `start` has returned) has not
  // reaped it yet still takes signals: on Linux, its state in /proc says it is dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true;
  }
}

async function start(t: Target, io: Io): Promise<number> {
  io.out("Starting corral ... ");
  const running = await readPid(t.pidFile);
  if (running !== undefined && alive(running)) {
    io.out(`already running as process ${running}.\n`);
    return 1;
  }
  const { host, port } = clientAddress(t.config);
  if (await isListening(host, port, PROBE_TIMEOUT_MS)) {
    io.out("FAILED TO START\n");
    io.err(`corral: cannot listen on ${host}:${port}: the port is already in use by another process (clientPort in ${t.confPath})\n`);
    return 1;
  }
  await mkdir(t.dataDir, { recursive: true });
  await mkdir(resolve(t.logFile, ".."), { recursive: true });
  const logFd = openSync(t.logFile, "a");
  const logOffset = statSync(t.logFile).size;
  const child = spawn(process.execPath, [mainScript(), "server", "start-foreground", t.confPath], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
    env: { ...process.env },
  });
  closeSync(logFd);
  const exited = new Promise<string>((done) => {
    child.once("exit", (code, signal) => done(signal === null ? `exit code ${code}` : `signal ${signal}`));
    child.once("error", (e) => done(e.message));
  });
  child.unref();
  if (child.pid === undefined) {
    io.out("SERVER DID NOT START\n");
    io.err(`corral: ${await exited}\n`);
    return 1;
  }
  await writeFile(t.pidFile, String(child.pid));
  const gaveUp = new AbortController();
  const outcome = await Promise.race([waitForRuok(host, port, START_WAIT_MS, gaveUp.signal), exited.then((why) => ({ exited: why }))]);
  gaveUp.abort();
  if (outcome === true) {
    io.out("STARTED\n");
    return 0;
  }
  io.out("FAILED TO START\n");
  if (outcome === false) {
    child.kill("SIGKILL");
    io.err(`corral: the server did not answer ruok on ${host}:${port} within ${START_WAIT_MS / 1000} s; killed process ${child.pid}\n`);
  } else {
    io.err(`corral: the server process ${child.pid} ended (${outcome.exited})\n`);
  }
  await rm(t.pidFile, { force: true });
  const tail = logTail(t.logFile, logOffset);
  if (tail.length > 0) io.err(`Last lines of ${t.logFile}:\n${tail.map((l) => `  ${l}\n`).join("")}`);
  return 1;
}

/** True once host:port answers ruok (any answer: a word off the whitelist is refused, but answered). */
async function waitForRuok(host: string, port: number, withinMs: number, stop: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline && !stop.aborted) {
    if ((await askFourLetterWord(host, port, "ruok", PROBE_TIMEOUT_MS)) !== undefined) return true;
    await sleep(POLL_MS);
  }
  return false;
}

function logTail(logFile: string, fromOffset: number): string[] {
  try {
    const text = readFileSync(logFile).subarray(fromOffset).toString("utf8");
    return text.split("\n").filter((l) => l.trim() !== "").slice(-LOG_TAIL_LINES);
  } catch {
    return [];
  }
}

async function stop(t: Target, io: Io): Promise<number> {
  io.out("Stopping corral ... ");
  const pid = await readPid(t.pidFile);
  if (pid === undefined) {
    io.out(`no corral to stop (could not find file ${t.pidFile})\n`);
    return 0;
  }
  if (!alive(pid)) {
    await rm(t.pidFile, { force: true });
    io.out(`STOPPED (process ${pid} was not running)\n`);
    return 0;
  }
  process.kill(pid, "SIGTERM");
  const deadline = performance.now() + STOP_WAIT_MS;
  while (alive(pid) && performance.now() < deadline) await sleep(POLL_MS);
  if (alive(pid)) {
    io.out("FAILED TO STOP\n");
    io.err(`corral: process ${pid} is still running ${STOP_WAIT_MS / 1000} s after SIGTERM; ${t.pidFile} is kept\n`);
    return 1;
  }
  await rm(t.pidFile, { force: true });
  io.out("STOPPED\n");
  return 0;
}

async function status(t: Target, io: Io): Promise<number> {
  const { host, port } = clientAddress(t.config);
  io.out(`Client port found: ${port}. Client address: ${t.config.clientPortAddress ?? "localhost"}. Client SSL: false.\n`);
  const answer = await askFourLetterWord(host, port, "srvr", PROBE_TIMEOUT_MS * 5);
  const mode = answer?.split("\n").find((l) => l.startsWith("Mode: "));
  if (mode === undefined) {
    io.out("Error contacting service. It is probably not running.\n");
    return 1;
  }
  io.out(`${mode}\n`);
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
