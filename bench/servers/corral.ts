// Corral under test: a separate child process (`node dist/src/cli/main.js server
// start-foreground <cfg>`) in a temp dir under os.tmpdir(), the way an operator runs it;
// or, for the smoke test only, an in-process server (`startStandaloneForTest`).
//
// The 3-node ensemble is started with server.N lines and myid files like ZooKeeper's;
// until ZAB exists Corral starts each node standalone, which `srvr` reports as
// "Mode: standalone": the harness then stops the three and says "not available yet".

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnServer, type ServerProcess } from "./children.js";
import { fourLetterWord, LOOPBACK, waitForModes } from "./net.js";
import type { CommonServerSettings, StartOutcome, Topology } from "./types.js";
import { kill9AndRestart } from "./restart.js";
import { prepareNodes } from "./zoo-cfg.js";

const START_TIMEOUT_MS = 30_000;
const ENSEMBLE_SIZE = 3;
const PORT_ATTEMPTS_MAX = 3;

/** The repository root: the nearest ancestor with corral's package.json (works from bench/ and dist/bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "corral") return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find corral's package.json above " + fileURLToPath(import.meta.url));
}

export function corralCliPath(): string {
  return join(repoRoot(), "dist", "src", "cli", "main.js");
}

/** Bytes of files under `dir`, except the ones we wrote (myid). */
function bytesWritten(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name !== "myid") total += st.size;
    }
  };
  try {
    walk(dir);
  } catch {
    // Gone already.
  }
  return total;
}

/** Extra node flags for the server processes, e.g. CORRAL_BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
function nodeFlags(): string[] {
  return (process.env.CORRAL_BENCH_NODE_FLAGS ?? "").split(/\s+/).filter((f) => f !== "");
}

export async function startCorralProcess(topology: Topology, settings: CommonServerSettings): Promise<StartOutcome> {
  const cli = corralCliPath();
  if (!existsSync(cli)) return { ok: false, reason: `${cli} is missing: run \`npm run build\` first` };
  const size = topology === "ensemble" ? ENSEMBLE_SIZE : 1;
  let lastFailure = "";
  for (let attempt = 1; attempt <= PORT_ATTEMPTS_MAX; attempt++) {
    const { nodes, cfgOf, removeDirs } = await prepareNodes("corral", size, topology, settings);
    const procs: ServerProcess[] = [];
    const spawnAll = (): ServerProcess[] =>
      nodes.map((node) =>
        spawnServer(process.execPath, [...nodeFlags(), cli, "server", "start-foreground", cfgOf(node)], {
          logFile: join(node.dir, "server.log"),
          env: { ...process.env, CORRAL_LOG_LEVEL: "warn" },
          cwd: repoRoot(),
        }),
      );
    try {
      procs.push(...spawnAll());
      const modes = await waitForModes(
        nodes.map((n) => n.clientPort),
        START_TIMEOUT_MS,
        () => procs.map((p) => p.exited()).find((x) => x !== undefined),
      );
      if (topology === "ensemble" && modes.some((m) => m !== "leader" && m !== "follower")) {
        await Promise.allSettled(procs.map((p) => p.stop()));
        await removeDirs();
        return { ok: false, reason: `Corral 3-node ensemble: not available yet (nodes report Mode: ${modes.join(", ")}; needs ZAB)` };
      }
      const version = (await fourLetterWord(nodes[0]!.clientPort, "srvr")).split("\n")[0] ?? "";
      const notes: string[] = [];
      let stopped: Promise<void> | undefined;
      return {
        ok: true,
        server: {
          target: "corral",
          topology,
          connectString: nodes.map((n) => `${LOOPBACK}:${n.clientPort}`).join(","),
          version: version.replace(/^Zookeeper version: /, "Corral "),
          how: `${size} child process${size > 1 ? "es" : ""} (${modes.join(", ")}): ${process.execPath} dist/src/cli/main.js server start-foreground zoo.cfg (node ${process.version})`,
          get pids() {
            return procs.map((p) => p.pid);
          },
          inProcess: false,
          clientPorts: nodes.map((n) => n.clientPort),
          dataDirs: nodes.map((n) => join(n.dir, "data")),
          kill9AndRestart: ({ wipe }) => kill9AndRestart(procs, spawnAll, nodes.map((n) => n.clientPort), nodes.map((n) => join(n.dir, "data")), wipe),
          metricsUrls: nodes.map((n) => `http://${LOOPBACK}:${n.metricsPort}/metrics`),
          notes,
          stop: () =>
            (stopped ??= (async () => {
              try {
                await Promise.all(procs.map((p) => p.stop()));
                const written = nodes.reduce((sum, n) => sum + bytesWritten(join(n.dir, "data")), 0);
                if (written === 0) {
                  notes.push(
                    "Corral wrote nothing to its dataDir during the run: its transaction log is not wired in yet (durability issue), " +
                      "so forceSync=yes had no effect and Corral's writes were in memory only. Write numbers are not like for like until then.",
                  );
                }
              } finally {
                await removeDirs();
              }
            })()),
        },
      };
    } catch (e) {
      lastFailure = `${e instanceof Error ? e.message : String(e)}\n${procs.map((p) => p.logTail()).join("\n")}`;
      await Promise.allSettled(procs.map((p) => p.stop()));
      await removeDirs();
    }
  }
  throw new Error(`Corral (${topology}) did not start after ${PORT_ATTEMPTS_MAX} attempts: ${lastFailure}`);
}

/** An in-process standalone Corral (smoke test): no files, CPU and RSS include the driver. */
export async function startCorralInProcess(settings: CommonServerSettings): Promise<StartOutcome> {
  // Loaded only here, so the harness itself does not load the server's modules.
  const mod = await import("../../src/server/index.js");
  const s = await mod.startStandaloneForTest({ host: LOOPBACK, clientPort: 0, maxClientCnxns: 0, tickMs: settings.tickMs });
  let stopped: Promise<void> | undefined;
  return {
    ok: true,
    server: {
      target: "corral",
      topology: "standalone",
      connectString: s.connectString,
      version: mod.VERSION_LINE.replace(/^Zookeeper version: /, "Corral "),
      how: "in-process (startStandaloneForTest): server CPU and RSS include the driver",
      pids: [process.pid],
      inProcess: true,
      notes: ["in-process server: no dataDir, no fsync; CPU and RSS are the whole harness process"],
      stop: () => (stopped ??= s.stop()),
    },
  };
}
