/**
 * Starts a real Apache ZooKeeper (standalone, `ZooKeeperServerMain`) as a child
 * process on a free loopback port, for use as the reference server in
 * integration tests, and stops it again.
 *
 * Each server gets a fresh temp dir holding `zoo.cfg` and `dataDir`; `stop()`
 * removes it. Readiness is `ruok` -> `imok`, polled a bounded number of times;
 * no fixed sleeps. The process is killed on test-process exit as a last resort.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { terminate, waitForExit } from "../../bench/servers/children.js";
import { freePort, LOOPBACK, waitForImok } from "./net.js";
import { findZooKeeperInstall, INSTALL_HINT } from "./zookeeper-install.js";

export interface ApacheZooKeeperOptions {
  /** `DigestAuthenticationProvider.superDigest`, e.g. `super:<base64 sha1 of "super:pw">`. */
  superDigest?: string;
  /** `extendedTypesEnabled` (TTL nodes). */
  extendedTypesEnabled?: boolean;
  /** `skipACL=yes`. */
  skipAcl?: boolean;
  /** `tickTime` in ms; default 2000. */
  tickMs?: number;
  /** `4lw.commands.whitelist`; default "*". */
  fourLetterWordWhitelist?: "*" | string[];
  /** Extra `zoo.cfg` lines (key -> value), written last. */
  extraConfig?: Record<string, string>;
  /** Extra JVM flags, e.g. `-Dznode.container.checkIntervalMs=100`. */
  jvmFlags?: string[];
  /** Use this dataDir (kept by stop()) instead of one in the temp dir. */
  dataDir?: string;
  /** Listen on this port (default: a free one). */
  port?: number;
}

export interface ApacheZooKeeper {
  host: string;
  port: number;
  connectString: string;
  /** The temp dir holding zoo.cfg and data/ (removed by stop()). */
  dir: string;
  /** The server's dataDir. */
  dataDir: string;
  /** SIGTERM, then SIGKILL after a bound; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), waiting for the process to end; dataDir stays. stop() still cleans up. */
  kill(): Promise<void>;
}

const MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain";
/** Ports come from the OS; another process can grab one first. Retry that many times. */
const PORT_ATTEMPTS_MAX = 3;
/** ruok polls: 300 x 100 ms = 30 s, generous for a cold JVM on a loaded CI box. */
const READY_POLLS_MAX = 300;
const READY_POLL_INTERVAL_MS = 100;
/** Keep the tail of the server's output for error messages. */
const OUTPUT_TAIL_BYTES = 16_384;

const FAST_JVM_FLAGS = [
  "-Xmx256m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Djava.net.preferIPv4Stack=true",
];

function zooCfg(dataDir: string, port: number, opts: ApacheZooKeeperOptions): string {
  const whitelist = opts.fourLetterWordWhitelist ?? "*";
  const lines = [
    `tickTime=${opts.tickMs ?? 2000}`,
    `dataDir=${dataDir}`,
    `clientPort=${port}`,
    `clientPortAddress=${LOOPBACK}`,
    "admin.enableServer=false",
    `4lw.commands.whitelist=${whitelist === "*" ? "*" : whitelist.join(",")}`,
  ];
  if (opts.superDigest !== undefined) {
    lines.push(`DigestAuthenticationProvider.superDigest=${opts.superDigest}`);
  }
  if (opts.skipAcl === true) lines.push("skipACL=yes");
  if (opts.extendedTypesEnabled !== undefined) {
    lines.push(`extendedTypesEnabled=${String(opts.extendedTypesEnabled)}`);
  }
  for (const [key, value] of Object.entries(opts.extraConfig ?? {})) lines.push(`${key}=${value}`);
  return lines.join("\n") + "\n";
}

function stopChild(child: ChildProcess): Promise<void> {
  return terminate(child, "ZooKeeper");
}

interface Attempt {
  child: ChildProcess;
  output: () => string;
  exited: () => string | undefined;
}

function launch(java: string, classpath: string, cfgPath: string, opts: ApacheZooKeeperOptions): Attempt {
  const child = spawn(
    java,
    [...FAST_JVM_FLAGS, ...(opts.jvmFlags ?? []), "-cp", classpath, MAIN_CLASS, cfgPath],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  return {
    child,
    output: () => tail,
    exited: () => {
      if (spawnError !== undefined) return `could not start ${java}: ${spawnError.message}`;
      if (child.exitCode !== null || child.signalCode !== null) {
        return `ZooKeeper exited early (code ${child.exitCode}, signal ${child.signalCode})`;
      }
      return undefined;
    },
  };
}

export async function startApacheZooKeeper(opts: ApacheZooKeeperOptions = {}): Promise<ApacheZooKeeper> {
  const install = findZooKeeperInstall();
  if (install.java === undefined || install.serverClasspath === undefined) {
    throw new Error(`Apache ZooKeeper server not found (java=${install.java}); ${INSTALL_HINT}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "corral-apache-zk-"));
  const dataDir = opts.dataDir ?? join(dir, "data");
  const cfgPath = join(dir, "zoo.cfg");
  let lastFailure = "";
  for (let attempt = 1; attempt <= PORT_ATTEMPTS_MAX; attempt += 1) {
    const port = opts.port ?? (await freePort());
    await writeFile(cfgPath, zooCfg(dataDir, port, opts));
    const started = launch(install.java, install.serverClasspath, cfgPath, opts);
    const killOnExit = (): void => {
      started.child.kill("SIGKILL");
    };
    process.once("exit", killOnExit);
    try {
      await waitForImok(LOOPBACK, port, {
        attempts: READY_POLLS_MAX,
        intervalMs: READY_POLL_INTERVAL_MS,
        abortIf: started.exited,
      });
    } catch (error) {
      lastFailure = `${error instanceof Error ? error.message : String(error)}\n${started.output()}`;
      await stopChild(started.child);
      process.off("exit", killOnExit);
      continue;
    }
    let stopped: Promise<void> | undefined;
    return {
      host: LOOPBACK,
      port,
      connectString: `${LOOPBACK}:${port}`,
      dir,
      dataDir,
      kill: async () => {
        if (started.child.exitCode !== null || started.child.signalCode !== null) return;
        started.child.kill("SIGKILL");
        await waitForExit(started.child, 10_000);
      },
      stop: () => {
        stopped ??= (async () => {
          try {
            await stopChild(started.child);
          } finally {
            process.off("exit", killOnExit);
            await rm(dir, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`Apache ZooKeeper did not start after ${PORT_ATTEMPTS_MAX} attempts: ${lastFailure}`);
}
