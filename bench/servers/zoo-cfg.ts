// The zoo.cfg both servers under test get, so the comparison is like for like: the same
// keys, loopback ports, forceSync and (for an ensemble) the same server.N lines; and the
// temp dirs that hold them.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forgetTempDir, registerTempDir } from "./children.js";
import { LOOPBACK, freePorts } from "./net.js";
import type { CommonServerSettings, Topology } from "./types.js";

/** One server of a topology: its id, temp dir and ports. */
export interface Node {
  id: number;
  dir: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  /** Corral's /metrics port (its fsync histogram is read per run); unused for ZooKeeper. */
  metricsPort: number;
}

export function zooCfg(node: Node, nodes: readonly Node[], topology: Topology, s: CommonServerSettings, metrics = false): string {
  const lines = [
    `tickTime=${s.tickMs}`,
    "initLimit=10",
    "syncLimit=5",
    `dataDir=${join(node.dir, "data")}`,
    `clientPort=${node.clientPort}`,
    `clientPortAddress=${LOOPBACK}`,
    "maxClientCnxns=0",
    "admin.enableServer=false",
    "4lw.commands.whitelist=*",
    `forceSync=${s.forceSync ? "yes" : "no"}`,
  ];
  if (topology === "ensemble") {
    for (const n of nodes) lines.push(`server.${n.id}=${LOOPBACK}:${n.quorumPort}:${n.electionPort}`);
  }
  if (metrics) lines.push(`metricsProvider.httpHost=${LOOPBACK}`, `metricsProvider.httpPort=${node.metricsPort}`);
  return lines.join("\n") + "\n";
}

/** The servers of one start attempt, their configs written. */
export interface NodeSet {
  nodes: Node[];
  /** <dir>/zoo.cfg of a node (dataDir is <dir>/data, with myid in an ensemble). */
  cfgOf(node: Node): string;
  removeDirs(): Promise<void>;
}

/**
 * `size` servers on fresh loopback ports, each in its own temp dir under os.tmpdir()
 * (named corral-bench-<label><id>-), with zoo.cfg, data/ and, for an ensemble, myid.
 */
export async function prepareNodes(label: string, size: number, topology: Topology, settings: CommonServerSettings): Promise<NodeSet> {
  const ports = await freePorts(size * 4);
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const dir = await mkdtemp(join(tmpdir(), `corral-bench-${label}${i + 1}-`));
    registerTempDir(dir);
    nodes.push({ id: i + 1, dir, clientPort: ports[i]!, quorumPort: ports[size + i]!, electionPort: ports[2 * size + i]!, metricsPort: ports[3 * size + i]! });
  }
  const cfgOf = (node: Node): string => join(node.dir, "zoo.cfg");
  const removeDirs = async (): Promise<void> => {
    await Promise.all(
      nodes.map(async (n) => {
        await rm(n.dir, { recursive: true, force: true });
        forgetTempDir(n.dir);
      }),
    );
  };
  try {
    for (const node of nodes) {
      await mkdir(join(node.dir, "data"), { recursive: true });
      // Corral serves /metrics (its own fsync histogram); ZooKeeper's needs a provider jar.
      await writeFile(cfgOf(node), zooCfg(node, nodes, topology, settings, label === "corral"));
      if (topology === "ensemble") await writeFile(join(node.dir, "data", "myid"), `${node.id}\n`);
    }
  } catch (e) {
    await removeDirs();
    throw e;
  }
  return { nodes, cfgOf, removeDirs };
}
