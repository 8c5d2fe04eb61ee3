// The `corral` command. `corral server start-foreground [CONF]` runs a standalone server
// in the foreground from any zoo.cfg, logging to stdout, and shuts down cleanly on
// SIGINT/SIGTERM. `purge`, `log-dump` and `snapshot-dump` are the storage tools
// (ZooKeeper's PurgeTxnLog, LogFormatter, SnapshotFormatter). The operator-tools work
// grows this command; names stay.

import { mkdir } from "node:fs/promises";
import { pino } from "pino";
import { ConfigError, loadConfigFile, logLevelOf } from "../config/index.js";
import {
  EndpointError,
  SNAP_RETAIN_MIN,
  StandaloneServer,
  QuorumServer,
  StorageError,
  VERSION_STRING,
  dumpLogFile,
  dumpSnapshotFile,
  gcHook,
  importZooKeeperNow,
  purgeNow,
} from "../server/index.js";
import type { Logger } from "../util/index.js";
import { SERVER_SUBCOMMANDS, defaultConfNote, defaultConfPath, serverCommand } from "./server-cmd.js";
import { runShell } from "./shell/main.js";

const USAGE = `Usage: corral <command>

Commands:
  server start-foreground [CONF]   run a server in the foreground (default CONF: conf/zoo.cfg,
                                   else corral's own, with its data under ./data)
  server start|stop|restart|status|print-cmd [CONF]
                                   run a server in the background, as zkServer.sh does
  cli [-server host:port[,...]] [-timeout ms] [-r] [command args...]
                                   the ZooKeeper shell (zkCli's commands), or one command
  purge [CONF] [-n COUNT]          remove old snapshots and logs, keeping the newest COUNT
                                   snapshots (default autopurge.snapRetainCount, at least 3)
  log-dump LOGFILE                 print a transaction log file as text (Corral's or ZooKeeper's)
  snapshot-dump [-d] SNAPFILE      print a snapshot file as text (-d: with node data; Corral's
                                   or ZooKeeper's)
  import-zookeeper ZK_DATA_DIR [CONF] [-logdir ZK_DATA_LOG_DIR]
                                   turn a stopped ZooKeeper's data directory into CONF's empty
                                   dataDir (default CONF: conf/zoo.cfg)
  version                          print the version
`;

async function startForeground(confPath: string, announce?: (dataDir: string | undefined) => void): Promise<number> {
  const logger = pino({ level: logLevelOf(undefined, process.env).level, base: { pid: process.pid } });
  const log = logger as unknown as Logger;
  let loaded;
  try {
    loaded = await loadConfigFile(confPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`corral: invalid configuration: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const level = logLevelOf(loaded.config, process.env);
  logger.level = level.level;
  if (level.warning !== undefined) log.warn(level.warning);
  for (const w of loaded.warnings) log.warn({ file: w.sourceName, line: w.line, key: w.key }, w.message);
  const config = loaded.config;
  announce?.(config.dataDir);
  if (config.dataDir !== undefined) await mkdir(config.dataDir, { recursive: true });
  // Where the data goes, resolved (the stock config's ./data is relative to the working
  // directory the server was started from).
  log.info({ dataDir: config.dataDir ?? null, dataLogDir: config.dataLogDir ?? config.dataDir ?? null }, config.dataDir === undefined ? "no dataDir: in memory only" : `data directory ${config.dataDir}`);
  // As ZooKeeper: server.N lines make an ensemble member, unless a lone participant may
  // run standalone (standaloneEnabled, the default).
  const ensemble = config.servers.length > 1 || (config.servers.length === 1 && !config.standaloneEnabled);
  let server: { start(): Promise<unknown>; stop(): Promise<void>; readonly failure: Promise<Error> };
  try {
    const gc = gcHook();
    const reclaimMemory = gc === undefined ? undefined : { reclaim: gc };
    server = ensemble ? new QuorumServer({ config, log, reclaimMemory }) : new StandaloneServer({ config, log, reclaimMemory });
  } catch (e) {
    process.stderr.write(`corral: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    await server.start();
  } catch (e) {
    if (e instanceof ConfigError) {
      // Found only when a file the config names is read (a TLS store: missing, wrong password).
      process.stderr.write(`corral: invalid configuration: ${e.message}\n`);
      return 2;
    }
    if (e instanceof EndpointError) {
      process.stderr.write(`corral: ${e.message}\n`);
      return 1;
    }
    if (e instanceof StorageError) {
      process.stderr.write(`corral: cannot recover the data directory: ${e.message}\n`);
      await server.stop().catch(() => undefined);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`corral: cannot listen on ${config.clientPortAddress ?? "0.0.0.0"}:${config.clientPort}: ${err.message}\n`);
    return 1;
  }
  const failed = server.failure;
  const ended = await Promise.race([
    new Promise<undefined>((resolve) => {
      const stop = (signal: string): void => {
        log.info({ signal }, "shutting down");
        resolve(undefined);
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    }),
    failed,
  ]);
  await server.stop();
  if (ended !== undefined) {
    // A server whose driver or timers failed (a broken invariant) exits, so a supervisor restarts it.
    process.stderr.write(`corral: the server stopped: ${ended.message}\n`);
    return 1;
  }
  return 0;
}

async function loadForTool(confPath: string): Promise<Awaited<ReturnType<typeof loadConfigFile>>["config"] | undefined> {
  try {
    return (await loadConfigFile(confPath)).config;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`corral: invalid configuration: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
}

async function purgeCommand(args: string[]): Promise<number> {
  let confPath = defaultConfPath().path;
  let count: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-n") {
      count = Number(args[++i]);
      if (!Number.isInteger(count) || count < SNAP_RETAIN_MIN) {
        process.stderr.write(`corral purge: -n needs an integer >= ${SNAP_RETAIN_MIN}\n`);
        return 2;
      }
    } else confPath = a;
  }
  const config = await loadForTool(confPath);
  if (config === undefined) return 2;
  if (config.dataDir === undefined) {
    process.stderr.write(`corral purge: ${confPath} has no dataDir\n`);
    return 2;
  }
  const r = await purgeNow(config, count ?? config.autopurgeSnapRetainCount);
  for (const f of r.removeSnapshots) process.stdout.write(`removed ${f.path}\n`);
  for (const f of r.removeLogs) process.stdout.write(`removed ${f.path}\n`);
  process.stdout.write(
    `kept ${r.keepSnapshots.length} snapshot(s); removed ${r.removeSnapshots.length} snapshot(s) and ${r.removeLogs.length} log file(s), ${r.bytesRemoved} bytes\n`,
  );
  return 0;
}

async function dumpCommand(kind: "log" | "snapshot", args: string[]): Promise<number> {
  const withData = args.includes("-d");
  const file = args.find((a) => a !== "-d");
  if (file === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const lines = kind === "log" ? await dumpLogFile(file) : await dumpSnapshotFile(file, withData);
    process.stdout.write(lines.join("\n") + "\n");
    return 0;
  } catch (e) {
    if (e instanceof StorageError || (e as NodeJS.ErrnoException).code !== undefined) {
      process.stderr.write(`corral ${kind}-dump: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

async function importCommand(args: string[]): Promise<number> {
  const positional: string[] = [];
  let logDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-logdir" || a === "--logdir") {
      logDir = args[++i];
      if (logDir === undefined) {
        process.stderr.write("corral import-zookeeper: -logdir needs a directory\n");
        return 2;
      }
    } else positional.push(a);
  }
  const [zkDataDir, confPath = "conf/zoo.cfg", ...extra] = positional;
  if (zkDataDir === undefined || extra.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = await loadForTool(confPath);
  if (config === undefined) return 2;
  if (config.dataDir === undefined) {
    process.stderr.write(`corral import-zookeeper: ${confPath} has no dataDir\n`);
    return 2;
  }
  try {
    const r = await importZooKeeperNow(zkDataDir, logDir, config);
    for (const w of r.warnings) process.stderr.write(`corral import-zookeeper: warning: ${w}\n`);
    const hex = (z: bigint): string => "0x" + BigInt.asUintN(64, z).toString(16);
    process.stdout.write(
      [
        `snapshot ${r.snapshot ?? "(none)"} at zxid ${hex(r.snapshotZxid)}`,
        `replayed ${r.txnsReplayed} txn(s) from ${r.logFiles.length} log file(s)`,
        `imported ${r.nodes} znodes and ${r.sessions.size} live session(s); last zxid ${hex(r.lastZxid)}`,
        ...(r.orphanEphemerals > 0 ? [`dropped ${r.orphanEphemerals} ephemeral(s) of sessions that had ended, as ZooKeeper does at start-up`] : []),
        `wrote ${config.dataDir}`,
      ].join("\n") + "\n",
    );
    return 0;
  } catch (e) {
    if (e instanceof StorageError || (e as NodeJS.ErrnoException).code !== undefined) {
      process.stderr.write(`corral import-zookeeper: ${(e as Error).message}; nothing was written\n`);
      return 1;
    }
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (cmd === "version" || cmd === "--version") {
    process.stdout.write(`corral ${VERSION_STRING}\n`);
    return 0;
  }
  if (cmd === "server" && sub === "start-foreground") {
    if (rest[0] !== undefined) return startForeground(rest[0]);
    const chosen = defaultConfPath();
    return startForeground(chosen.path, (dataDir) => process.stderr.write(defaultConfNote(chosen, dataDir)));
  }
  if (cmd === "server" && sub !== undefined && SERVER_SUBCOMMANDS.has(sub)) {
    const io = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stderr.write(t), env: process.env };
    return serverCommand(sub, rest, io);
  }
  if (cmd === "cli") return runShell(argv.slice(1));
  if (cmd === "purge") return purgeCommand(argv.slice(1));
  if (cmd === "log-dump") return dumpCommand("log", argv.slice(1));
  if (cmd === "snapshot-dump") return dumpCommand("snapshot", argv.slice(1));
  if (cmd === "import-zookeeper") return importCommand(argv.slice(1));
  // Asked for: the usage on stdout, success. No command or an unknown one: a usage error.
  if (cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(cmd === undefined ? USAGE : `corral: unknown command ${JSON.stringify(argv.join(" "))}\n\n${USAGE}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
