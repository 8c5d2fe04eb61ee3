/**
 * Drives Apache ZooKeeper's `zkCli.sh` non-interactively, for integration tests
 * that assert on what zkCli prints against a target server.
 *
 * Three ways in:
 * - `zkCliCommand(server, ["get", "/x"])`: one command on the command line
 *   (`zkCli.sh -server S get /x`); zkCli connects, runs it, exits with the
 *   command's exit code.
 * - `zkCliSession(server, ["addauth digest u:p", "create /x d auth:u:p:cdwra"])`:
 *   several commands in ONE session (one JVM, one ZooKeeper session), written to
 *   zkCli's stdin followed by `quit`. With stdin not a terminal zkCli reads lines
 *   with a plain BufferedReader ("JLine support is disabled"), prints no prompt,
 *   runs each line to completion before reading the next, and keeps going after
 *   a failed command. The exit code is that of the LAST command before `quit`
 *   (0 ok, 1 failed, 127 unknown command).
 * - `ZkCliProcess.start(server)`: a live session for watches: send a line, wait
 *   (bounded) for output, trigger a change elsewhere, wait for the event line.
 *
 * Output: zkCli 3.8 prints command results (data, stat lines, ls lists, ACLs,
 * watch events) on stdout and confirmations/errors ("Created /x",
 * "Node does not exist: /x") on stderr; both are returned separately as lines,
 * cleaned of noise (SLF4J/log4j/logback lines, the "Connecting to"/"Welcome"/
 * "JLine" banner, and connection-state watch events `type:None`). Node watch
 * events stay in stdout as their `WatchedEvent ...` line (the "WATCHER::" header
 * and the blank lines zkCli prints before each are dropped); `raw*` keep everything.
 *
 * Environment: TZ=UTC so ctime/mtime print as "Sun Nov 22 03:08:35 UTC 2026";
 * logging turned down through CLIENT_JVMFLAGS (Debian's zkEnv.sh, which is
 * /etc/zookeeper/conf/environment, overwrites ZOO_LOG4J_PROP and ZOO_LOG_DIR but
 * passes CLIENT_JVMFLAGS/JVMFLAGS through; Debian's classpath has no SLF4J
 * binding, so only the 6 "SLF4J:" stderr lines remain, which we strip).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import type { Stat as ZkStat } from "./nzk.js";
import { findZooKeeperInstall, INSTALL_HINT } from "./zookeeper-install.js";

export const ZKCLI_TIMEOUT_MS = 30_000;
const QUIT_WAIT_MS = 10_000;

export interface ZkCliResult {
  exitCode: number | null;
  stdout: string[];
  stderr: string[];
  rawStdout: string;
  rawStderr: string;
}

export function zkCliPath(): string {
  const zkCli = findZooKeeperInstall().zkCli;
  if (zkCli === undefined) throw new Error(`zkCli.sh not found; ${INSTALL_HINT}`);
  return zkCli;
}

export function zkCliEnv(): NodeJS.ProcessEnv {
  const quiet = [
    "-Dzookeeper.root.logger=ERROR,CONSOLE", // log4j-era zkEnv / log4j.properties
    "-Dzookeeper.console.threshold=ERROR", // 3.8 upstream logback.xml
    "-Dzookeeper.sasl.client=false", // no JAAS probing or its warning
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1", // faster JVM start; zkCli does little work
    "-Xshare:auto",
  ].join(" ");
  return {
    ...process.env,
    TZ: "UTC",
    ZOO_LOG_DIR: tmpdir(),
    ZOO_LOG4J_PROP: "ERROR,CONSOLE",
    CLIENT_JVMFLAGS: `${process.env["CLIENT_JVMFLAGS"] ?? ""} ${quiet}`.trim(),
  };
}

const NOISE = [
  /^SLF4J: /,
  /^log4j:/,
  /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]\d{3} /, // log4j/logback pattern layouts
  /^\d\d:\d\d:\d\d[,.]\d{3} \[/, // logback default pattern
];
const BANNER = [/^Connecting to \S+$/, /^Welcome to ZooKeeper!$/, /^JLine support is (dis|en)abled$/];
const STATE_EVENT = /^WatchedEvent state:\S+ type:None path:null$/;

function lines(text: string): string[] {
  const all = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (all.at(-1) === "") all.pop();
  return all;
}

/** zkCli's stderr without logging noise. */
export function cleanStderr(text: string): string[] {
  return lines(text).filter((l) => !NOISE.some((re) => re.test(l)));
}

/**
 * zkCli's stdout without noise, banner and connection-state events. zkCli prints
 * each watcher message as println("\n" + msg), so one blank line precedes both
 * "WATCHER::" and "WatchedEvent ..."; those blanks are dropped with them.
 */
export function cleanStdout(text: string): string[] {
  const out: string[] = [];
  for (const line of lines(text)) {
    if (NOISE.some((re) => re.test(line)) || BANNER.some((re) => re.test(line))) continue;
    if (line === "WATCHER::" || line.startsWith("WatchedEvent ")) {
      if (out.at(-1) === "") out.pop();
      if (line === "WATCHER::" || STATE_EVENT.test(line)) continue;
    }
    out.push(line);
  }
  return out;
}

function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<ZkCliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what}: no exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        stdout: cleanStdout(stdout),
        stderr: cleanStderr(stderr),
        rawStdout: stdout,
        rawStderr: stderr,
      });
    });
  });
}

/** `zkCli.sh -server S <args...>`: one command, command-line mode. */
export function zkCliCommand(server: string, args: string[], timeoutMs = ZKCLI_TIMEOUT_MS): Promise<ZkCliResult> {
  const child = spawn(zkCliPath(), ["-server", server, ...args], {
    env: zkCliEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  return collect(child, timeoutMs, `zkCli ${args.join(" ")}`);
}

/** Several commands in one zkCli session, fed through stdin, then `quit`. */
export function zkCliSession(server: string, commands: string[], timeoutMs = ZKCLI_TIMEOUT_MS): Promise<ZkCliResult> {
  for (const c of commands) if (c.includes("\n")) throw new Error(`command must be one line: ${JSON.stringify(c)}`);
  const child = spawn(zkCliPath(), ["-server", server], { env: zkCliEnv(), stdio: ["pipe", "pipe", "pipe"] });
  child.stdin?.on("error", () => undefined); // zkCli may exit before reading all input
  const result = collect(child, timeoutMs, `zkCli session [${commands.join("; ")}]`);
  child.stdin?.end([...commands, "quit", ""].join("\n"));
  return result;
}

interface Waiter {
  test: () => boolean;
  resolve: () => void;
}

/** A live zkCli session driven line by line; every wait is bounded. */
export class ZkCliProcess {
  readonly #child: ChildProcess;
  readonly #result: Promise<ZkCliResult>;
  #stdout = "";
  #stderr = "";
  #waiters: Waiter[] = [];

  private constructor(server: string) {
    this.#child = spawn(zkCliPath(), ["-server", server], { env: zkCliEnv(), stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stdin?.on("error", () => undefined);
    this.#child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      this.#stdout += c;
      this.#wake();
    });
    this.#child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      this.#stderr += c;
      this.#wake();
    });
    this.#result = collect(this.#child, ZKCLI_TIMEOUT_MS * 2, "interactive zkCli");
    this.#result.catch(() => undefined); // surfaced by quit()
  }

  static start(server: string): ZkCliProcess {
    return new ZkCliProcess(server);
  }

  #wake(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test()) return true;
      w.resolve();
      return false;
    });
  }

  /** Cleaned stdout so far. */
  get stdout(): string[] {
    return cleanStdout(this.#stdout);
  }

  /** Cleaned stderr so far. */
  get stderr(): string[] {
    return cleanStderr(this.#stderr);
  }

  send(command: string): void {
    if (command.includes("\n")) throw new Error(`command must be one line: ${JSON.stringify(command)}`);
    this.#child.stdin?.write(command + "\n");
  }

  /** Waits until cleaned stdout/stderr satisfy `predicate`; fails after `timeoutMs`. */
  waitFor(
    predicate: (stdout: string[], stderr: string[]) => boolean,
    label: string,
    timeoutMs = 10_000,
  ): Promise<void> {
    const test = (): boolean => predicate(this.stdout, this.stderr);
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `zkCli: timed out after ${timeoutMs} ms waiting for ${label}\n` +
              `stdout so far:\n${this.#stdout}\nstderr so far:\n${this.#stderr}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Sends `quit` and waits for the process to exit (killed if it does not). */
  async quit(): Promise<ZkCliResult> {
    this.send("quit");
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), QUIT_WAIT_MS);
    try {
      return await this.#result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Last-resort cleanup for a failed test. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }
}

/** "Sun Nov 22 03:08:35 UTC 2026": java.util.Date#toString in UTC. */
export function javaDateUtc(epochMs: bigint | number): string {
  const d = new Date(Number(epochMs));
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n: number): string => String(n).padStart(2, "0");
  return (
    `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/** A jute long as zkCli prints it: "0x" + lowercase hex, no padding (Long.toHexString). */
export function hexLong(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

/** The 11 lines zkCli's StatPrinter prints for a Stat (get -s, stat, ls -s, getAcl -s, set -s). */
export function statLines(s: ZkStat): string[] {
  return [
    `cZxid = ${hexLong(s.czxid)}`,
    `ctime = ${javaDateUtc(s.ctime)}`,
    `mZxid = ${hexLong(s.mzxid)}`,
    `mtime = ${javaDateUtc(s.mtime)}`,
    `pZxid = ${hexLong(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${hexLong(s.ephemeralOwner)}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ];
}
