// ZooKeeper's dynamic configuration: the text `/zookeeper/config` holds and reconfig
// carries. One `server.N=<spec>` line per server, then `version=<hex>`, the version
// being the zxid of the reconfig that made the configuration (0 for a static one):
//
//   server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181
//   server.2=10.0.0.2:2888:3888:observer;0.0.0.0:2181
//   version=100000003
//
// The role is always written, as QuorumServer.toString writes it; the client part only
// when the server has a client port. Pure: no I/O.

import { parseServerSpec } from "./servers.js";
import type { ServerSpec } from "./types.js";
import { type Parsed, ok, parseServerId } from "./values.js";

export interface DynamicConfig {
  readonly servers: readonly ServerSpec[];
  readonly version: bigint;
}

/** QuorumServer.toString: `host:quorumPort:electionPort:role[;clientHost:clientPort]`. */
export function serverSpecText(s: ServerSpec, defaultClientHost?: string): string {
  const host = (h: string): string => (h.includes(":") ? `[${h}]` : h);
  const client = s.clientPort === undefined ? "" : `;${host(s.clientHost ?? defaultClientHost ?? "0.0.0.0")}:${s.clientPort}`;
  return `${host(s.host)}:${s.quorumPort}:${s.electionPort}:${s.role}${client}`;
}

/** QuorumMaj.toString: the servers by id, then the version in hex. */
export function dynamicConfigText(servers: readonly ServerSpec[], version: bigint, defaultClientHost?: string): string {
  const lines = [...servers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((s) => `server.${s.id}=${serverSpecText(s, defaultClientHost)}`);
  return [...lines, `version=${version.toString(16)}`].join("\n");
}

/**
 * One server entry: `server.N=<spec>` or `N=<spec>` (reconfig -add accepts both). The
 * id is what follows the last '.' before '=', as ZooKeeper's PrepRequestProcessor reads it.
 */
export function parseServerEntry(entry: string): Parsed<ServerSpec> {
  const parts = entry.split("=");
  if (parts.length !== 2) return { ok: false, problem: `${JSON.stringify(entry)}: expected server.N=host:port:port[:role];[host:]port` };
  const key = parts[0]!.trim();
  const id = parseServerId(key.slice(key.lastIndexOf(".") + 1));
  if (id === undefined) return { ok: false, problem: `${JSON.stringify(key)}: not a server id` };
  return parseServerSpec(id, parts[1]!.trim());
}

/**
 * A whole configuration, as a dynamic config file or reconfig's newMembers gives it
 * (lines, or entries separated by commas): `server.N` keys and an optional `version`.
 * Anything else (group, weight: hierarchical quorums) is refused.
 */
export function parseDynamicConfig(text: string): Parsed<DynamicConfig> {
  const servers: ServerSpec[] = [];
  let version = 0n;
  for (const raw of text.replace(/,/g, "\n").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const eq = line.indexOf("=");
    const key = eq === -1 ? line : line.slice(0, eq).trim();
    if (key === "version") {
      const v = line.slice(eq + 1).trim();
      if (!/^[0-9a-fA-F]{1,16}$/.test(v)) return { ok: false, problem: `version: ${JSON.stringify(v)} is not a hex zxid` };
      version = BigInt(`0x${v}`);
      continue;
    }
    if (!key.startsWith("server.")) return { ok: false, problem: `${JSON.stringify(key)}: only server.N lines and version belong in a dynamic configuration` };
    const spec = parseServerEntry(line);
    if (!spec.ok) return spec;
    if (servers.some((s) => s.id === spec.value.id)) return { ok: false, problem: `duplicate server id ${spec.value.id}` };
    servers.push(spec.value);
  }
  if (servers.length === 0) return { ok: false, problem: "no servers" };
  return ok({ servers, version });
}

/**
 * Two servers that share a quorum or election address (QuorumServer.checkAddressDuplicate):
 * the first such pair's description, or undefined.
 */
export function duplicateAddress(servers: readonly ServerSpec[]): string | undefined {
  const seen = new Map<string, bigint>();
  for (const s of servers) {
    for (const port of new Set([s.quorumPort, s.electionPort])) {
      const key = `${s.host}:${port}`;
      const other = seen.get(key);
      if (other !== undefined && other !== s.id) return `servers ${other} and ${s.id} both use ${key}`;
      seen.set(key, s.id);
    }
  }
  return undefined;
}
