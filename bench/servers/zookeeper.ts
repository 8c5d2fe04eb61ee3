// Apache ZooKeeper 3.8 as the reference: standalone (ZooKeeperServerMain) or a 3-node
// ensemble (QuorumPeerMain x3) on loopback ports, each node in its own temp dir under
// os.tmpdir() (the same disk Corral's dataDir is on), forceSync as asked.
//
// Where ZooKeeper lives is looked up as test/helpers/zookeeper-install.ts does (copied,
// since bench/ must not import from test/): env CORRAL_ZK_CLASSPATH / JAVA / JAVA_HOME,
// Debian's `zookeeper` package (scripts/install-test-deps.sh installs it), ZOOKEEPER_HOME.
//
// JVM settings are those of Debian's zkServer.sh (no heap flags: the JVM's own sizing),
// plus IPv4; `--zk-jvm-flags` replaces them. Logging goes to a file in the temp dir.

import { accessSync, constants, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { forgetTempDir, registerTempDir, spawnServer, type ServerProcess } from "./children.js";
import { fourLetterWord, freePorts, LOOPBACK, waitForModes } from "./net.js";
import type { CommonServerSettings, StartOutcome, Topology } from "./types.js";
import { zooCfg, type Node } from "./zoo-cfg.js";

export const ZK_INSTALL_HINT =
  "run scripts/install-test-deps.sh (installs Debian's zookeeper package), " +
  "or point CORRAL_ZK_CLASSPATH / JAVA / ZOOKEEPER_HOME at an Apache ZooKeeper 3.8+";

export const DEFAULT_ZK_JVM_FLAGS: readonly string[] = ["-Djava.net.preferIPv4Stack=true"];

const DEBIAN_JAR = "/usr/share/java/zookeeper.jar";
const STANDALONE_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain";
const QUORUM_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
const START_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS_MAX = 3;
const ENSEMBLE_SIZE = 3;

export interface ZooKeeperInstall {
  java: string | undefined;
  classpath: string | undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findJava(): string | undefined {
  const fromEnv = process.env["JAVA"];
  if (fromEnv !== undefined && fromEnv !== "") return isExecutable(fromEnv) ? fromEnv : undefined;
  const home = process.env["JAVA_HOME"];
  if (home !== undefined && isExecutable(join(home, "bin", "java"))) return join(home, "bin", "java");
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir !== "" && isExecutable(join(dir, "java"))) return join(dir, "java");
  }
  return undefined;
}

function findClasspath(): string | undefined {
  const fromEnv = process.env["CORRAL_ZK_CLASSPATH"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (existsSync(DEBIAN_JAR)) return DEBIAN_JAR;
  const home = process.env["ZOOKEEPER_HOME"];
  if (home !== undefined && existsSync(join(home, "lib"))) return [join(home, "lib", "*"), join(home, "conf")].join(delimiter);
  return undefined;
}

export function findZooKeeper(): ZooKeeperInstall {
  return { java: findJava(), classpath: findClasspath() };
}

export async function startZooKeeper(topology: Topology, settings: CommonServerSettings, jvmFlags: readonly string[] = DEFAULT_ZK_JVM_FLAGS): Promise<StartOutcome> {
  const install = findZooKeeper();
  if (install.java === undefined || install.classpath === undefined) {
    return { ok: false, reason: `Apache ZooKeeper not found (java=${install.java ?? "none"}, classpath=${install.classpath ?? "none"}); ${ZK_INSTALL_HINT}` };
  }
  const size = topology === "ensemble" ? ENSEMBLE_SIZE : 1;
  let lastFailure = "";
  for (let attempt = 1; attempt <= PORT_ATTEMPTS_MAX; attempt++) {
    const ports = await freePorts(size * 3);
    const nodes: Node[] = [];
    for (let i = 0; i < size; i++) {
      const dir = await mkdtemp(join(tmpdir(), `corral-bench-zk${i + 1}-`));
      registerTempDir(dir);
      nodes.push({ id: i + 1, dir, clientPort: ports[i]!, quorumPort: ports[size + i]!, electionPort: ports[2 * size + i]! });
    }
    const procs: ServerProcess[] = [];
    const removeDirs = (): Promise<void[]> =>
      Promise.all(
        nodes.map(async (n) => {
          await rm(n.dir, { recursive: true, force: true });
          forgetTempDir(n.dir);
        }),
      );
    try {
      for (const node of nodes) {
        const cfg = join(node.dir, "zoo.cfg");
        await mkdir(join(node.dir, "data"), { recursive: true });
        await writeFile(cfg, zooCfg(node, nodes, topology, settings));
        if (topology === "ensemble") await writeFile(join(node.dir, "data", "myid"), `${node.id}\n`);
        const main = topology === "ensemble" ? QUORUM_MAIN : STANDALONE_MAIN;
        const args = [...jvmFlags, `-Dzookeeper.log.dir=${node.dir}`, "-cp", install.classpath, main, cfg];
        procs.push(spawnServer(install.java, args, { logFile: join(node.dir, "server.log") }));
      }
      const modes = await waitForModes(
        nodes.map((n) => n.clientPort),
        START_TIMEOUT_MS,
        () => procs.map((p) => p.exited()).find((x) => x !== undefined),
      );
      const version = (await fourLetterWord(nodes[0]!.clientPort, "srvr")).split("\n")[0] ?? "";
      let stopped: Promise<void> | undefined;
      return {
        ok: true,
        server: {
          target: "zookeeper",
          topology,
          connectString: nodes.map((n) => `${LOOPBACK}:${n.clientPort}`).join(","),
          version: version.replace(/^Zookeeper version: /, "Apache ZooKeeper "),
          how: `${size} JVM${size > 1 ? "s" : ""} (${modes.join(", ")}): ${install.java} ${jvmFlags.join(" ")} -cp ${install.classpath} ${topology === "ensemble" ? QUORUM_MAIN : STANDALONE_MAIN}`,
          pids: procs.map((p) => p.pid),
          inProcess: false,
          notes: [],
          stop: () =>
            (stopped ??= (async () => {
              try {
                await Promise.all(procs.map((p) => p.stop()));
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
  throw new Error(`Apache ZooKeeper (${topology}) did not start after ${PORT_ATTEMPTS_MAX} attempts: ${lastFailure}`);
}
