// The `corral` command. `corral server start-foreground [CONF]` runs a standalone server
// in the foreground from any zoo.cfg, logging to stdout, and shuts down cleanly on
// SIGINT/SIGTERM. The operator-tools work grows this command; names stay.

import { mkdir } from "node:fs/promises";
import { pino } from "pino";
import { ConfigError, loadConfigFile } from "../config/index.js";
import { StandaloneServer, VERSION_STRING } from "../server/index.js";
import type { Logger } from "../util/index.js";

const USAGE = `Usage: corral <command>

Commands:
  server start-foreground [CONF]   run a server in the foreground (default CONF: conf/zoo.cfg)
  version                          print the version
`;

async function startForeground(confPath: string): Promise<number> {
  const log = pino({ level: process.env["CORRAL_LOG_LEVEL"] ?? "info", base: { pid: process.pid } }) as unknown as Logger;
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
  for (const w of loaded.warnings) log.warn({ file: w.sourceName, line: w.line, key: w.key }, w.message);
  const config = loaded.config;
  if (config.servers.filter((s) => s.role === "participant").length > 1) {
    log.warn("server.N lines found: ensemble mode is not available yet, starting standalone");
  }
  if (config.dataDir !== undefined) await mkdir(config.dataDir, { recursive: true });
  const server = new StandaloneServer({ config, log });
  try {
    await server.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`corral: cannot listen on ${config.clientPortAddress ?? "0.0.0.0"}:${config.clientPort}: ${err.message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await server.stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (cmd === "version" || cmd === "--version") {
    process.stdout.write(`corral ${VERSION_STRING}\n`);
    return 0;
  }
  if (cmd === "server" && sub === "start-foreground") return startForeground(rest[0] ?? "conf/zoo.cfg");
  process.stderr.write(USAGE);
  return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
}

process.exitCode = await main(process.argv.slice(2));
