// The zoo.cfg both servers under test get, so the comparison is like for like: the same
// keys, loopback ports, forceSync and (for an ensemble) the same server.N lines.

import { join } from "node:path";
import { LOOPBACK } from "./net.js";
import type { CommonServerSettings, Topology } from "./types.js";

/** One server of a topology: its id, temp dir and ports. */
export interface Node {
  id: number;
  dir: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
}

export function zooCfg(node: Node, nodes: readonly Node[], topology: Topology, s: CommonServerSettings): string {
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
  return lines.join("\n") + "\n";
}
