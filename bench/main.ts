// `npm run bench`: Corral vs Apache ZooKeeper, side by side (bench/results/README.md says
// how to run and read it). Exit status: 0 ok, 1 a correctness check failed, 2 bad usage
// or a server that could not be found or started, 130 interrupted.

import { setMaxListeners } from "node:events";
import { existsSync } from "node:fs";
import { relative } from "node:path";
import { exitCodeFor, planCases, runBench } from "./harness.js";
import { HELP, parseOptions, type BenchOptions } from "./options.js";
import { Progress } from "./progress.js";
import { renderTable } from "./report/table.js";
import { writeReport } from "./report/write.js";
import { killAllServersNow } from "./servers/children.js";
import { corralCliPath } from "./servers/corral.js";
import { ZK_INSTALL_HINT } from "./servers/zookeeper.js";
import { findZooKeeperInstall } from "./servers/zookeeper-install.js";

function preflight(opts: BenchOptions): string | undefined {
  if (opts.targets.includes("zookeeper")) {
    const zk = findZooKeeperInstall();
    if (zk.java === undefined || zk.serverClasspath === undefined) return `Apache ZooKeeper not found; ${ZK_INSTALL_HINT} (or run with --target corral)`;
  }
  if (opts.targets.includes("corral") && opts.corral === "process" && !existsSync(corralCliPath())) {
    return `${corralCliPath()} is missing: run \`npm run build\` (npm run bench does)`;
  }
  planCases(opts);
  return undefined;
}

async function main(argv: readonly string[]): Promise<number> {
  // The client's recipe waits each add an abort listener to the session's signal; a run
  // makes thousands. Not a leak of the harness: keep Node's warning off the terminal.
  setMaxListeners(0);
  let opts: BenchOptions | "help";
  try {
    opts = parseOptions(argv);
    if (opts !== "help") {
      const why = preflight(opts);
      if (why !== undefined) throw new Error(why);
    }
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return 2;
  }
  if (opts === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const progress = new Progress();
  const stop = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      // Second signal: do not wait for a clean stop.
      killAllServersNow();
      process.exit(130);
    }
    signalled = sig;
    progress.log(`bench: ${sig}, stopping the servers (again to kill them at once)`);
    stop.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const report = await runBench(opts, {
    signal: stop.signal,
    status: (s) => progress.update(s),
    warn: (line) => progress.log(`bench: ${line}`),
  });
  progress.done();
  process.stdout.write(renderTable(report));
  if (opts.resultsDir !== null) {
    const files = await writeReport(report, opts.resultsDir);
    process.stdout.write(`\nwrote ${relative(process.cwd(), files.json)}, ${relative(process.cwd(), files.markdown)} (+${files.charts.length} charts)\n`);
  }
  const code = exitCodeFor(report);
  if (signalled === "SIGTERM" && code === 130) return 143;
  return code;
}

process.exit(await main(process.argv.slice(2)));
