// Apache ZooKeeper 3.8 as the reference: standalone (ZooKeeperServerMain) or a 3-node
// ensemble (QuorumPeerMain x3) on loopback ports, each node in its own temp dir under
// os.tmpdir() (the same disk Corral's dataDir is on), forceSync as asked.
//
// Where ZooKeeper lives: zookeeper-install.ts (env CORRAL_ZK_CLASSPATH / JAVA / JAVA_HOME,
// Debian's `zookeeper` package, which scripts/install-test-deps.sh installs, ZOOKEEPER_HOME),
// the same lookup the tests use.
//
// JVM settings are those of Debian's zkServer.sh (no heap flags: the JVM's own sizing),
// plus IPv4; `--zk-jvm-flags` replaces them. Logging goes to a file in the temp dir.

import { join } from "node:path";
import { spawnServer, type ServerProcess } from "./children.js";
import { fourLetterWord, LOOPBACK, waitForModes } from "./net.js";
import type { CommonServerSettings, StartOutcome, Topology } from "./types.js";
import { kill9AndRestart } from "./restart.js";
import { prepareNodes } from "./zoo-cfg.js";
import { findZooKeeperInstall } from "./zookeeper-install.js";

export const ZK_INSTALL_HINT =
  "run scripts/install-test-deps.sh (installs Debian's zookeeper package), " +
  "or point CORRAL_ZK_CLASSPATH / JAVA / ZOOKEEPER_HOME at an Apache ZooKeeper 3.8+";

export const DEFAULT_ZK_JVM_FLAGS: readonly string[] = ["-Djava.net.preferIPv4Stack=true"];

const STANDALONE_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain";
const QUORUM_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
const START_TIMEOUT_MS = 60_000;
const PORT_ATTEMPTS_MAX = 3;
const ENSEMBLE_SIZE = 3;

export async function startZooKeeper(topology: Topology, settings: CommonServerSettings, jvmFlags: readonly string[] = DEFAULT_ZK_JVM_FLAGS): Promise<StartOutcome> {
  const install = findZooKeeperInstall();
  if (install.java === undefined || install.serverClasspath === undefined) {
    return { ok: false, reason: `Apache ZooKeeper not found (java=${install.java ?? "none"}, classpath=${install.serverClasspath ?? "none"}); ${ZK_INSTALL_HINT}` };
  }
  const size = topology === "ensemble" ? ENSEMBLE_SIZE : 1;
  let lastFailure = "";
  for (let attempt = 1; attempt <= PORT_ATTEMPTS_MAX; attempt++) {
    const { nodes, cfgOf, removeDirs } = await prepareNodes("zk", size, topology, settings);
    const procs: ServerProcess[] = [];
    const java = install.java;
    const classpath = install.serverClasspath;
    const spawnAll = (): ServerProcess[] =>
      nodes.map((node) => {
        const main = topology === "ensemble" ? QUORUM_MAIN : STANDALONE_MAIN;
        const args = [...jvmFlags, `-Dzookeeper.log.dir=${node.dir}`, "-cp", classpath, main, cfgOf(node)];
        return spawnServer(java, args, { logFile: join(node.dir, "server.log") });
      });
    try {
      procs.push(...spawnAll());
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
          how: `${size} JVM${size > 1 ? "s" : ""} (${modes.join(", ")}): ${install.java} ${jvmFlags.join(" ")} -cp ${install.serverClasspath} ${topology === "ensemble" ? QUORUM_MAIN : STANDALONE_MAIN}`,
          get pids() {
            return procs.map((p) => p.pid);
          },
          inProcess: false,
          clientPorts: nodes.map((n) => n.clientPort),
          dataDirs: nodes.map((n) => join(n.dir, "data")),
          kill9AndRestart: ({ wipe }) => kill9AndRestart(procs, spawnAll, nodes.map((n) => n.clientPort), nodes.map((n) => join(n.dir, "data")), wipe),
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
