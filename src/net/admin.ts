// The AdminServer (ZOOKEEPER.md §1.12): HTTP on admin.serverAddress:admin.serverPort,
// `GET /commands/<name>` answers JSON shaped like ZooKeeper 3.8's (org.apache.zookeeper
// .server.admin.Commands, checked against a real 3.8.0): the command's fields first, then
// "command" (its primary name) and "error" (null, or a message); a name ZooKeeper also
// knows answers with ZooKeeper's keys; aliases are ZooKeeper's (`mntr` = `monitor`, ...).
// `GET /commands` lists the primary names as links, as Jetty's servlet does. As in 3.8,
// every answer is HTTP 200, an unknown command included (its "error" says so).
//
// The values come from the same FourLetterSource as the four-letter words, so the two
// never disagree. Corral adds `locks`, `queues` and `elections` (the recipe engine's view
// of its waiters), which the composition root supplies, `learners` (each ensemble
// member's zxid and lag, as the leader sees them) and `znode` (one node's data, Stat, ACL
// and children, read-only, for the web console).
//
// `/console/` serves the web console (console/ at the repository root: static HTML, CSS
// and one ES module), which polls these commands.

import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { JavaDouble, jacksonPretty, type JsonObject, type JsonValue } from "./json.js";
import { ZK_OP_NAMES, monitorEntries, type FourLetterSource } from "./fourletter.js";
import { listenHttp, type HttpEndpoint } from "./metrics.js";
import type { ClientConnection } from "./connection.js";

export type RecipeViewName = "locks" | "queues" | "elections";

export interface AdminSource {
  readonly server: FourLetterSource;
  /** The fields of Corral's `locks`, `queues` or `elections` command. */
  recipeView(name: RecipeViewName): JsonObject;
  /** The ensemble as this server sees it; undefined when it runs standalone. */
  quorum?(): QuorumView | undefined;
  /** The fields of Corral's `learners` command: each member's zxid and lag as this server knows them. */
  learners?(): JsonObject;
  /**
   * The fields of Corral's `znode` command: one node as `credentials` (HTTP basic auth's
   * "user:password", if sent) may read it. Absent: the command answers an error.
   */
  znode?(path: string, credentials: string | undefined): JsonObject;
}

/** What a command may read from its HTTP request. */
export interface AdminRequest {
  readonly query: URLSearchParams;
  /** "user:password" from an `Authorization: Basic` header, when one was sent. */
  readonly credentials: string | undefined;
}

const NO_REQUEST: AdminRequest = { query: new URLSearchParams(), credentials: undefined };

export interface QuorumView {
  isLeader: boolean;
  leaderId: bigint;
  leaderIp: string;
  /** Voting members by server id (ZooKeeper's QuorumServerView). */
  voting: Map<bigint, { serverAddresses: string[]; electionAddresses: string[]; clientAddress: string; learnerType: string }>;
}

interface AdminCommand {
  readonly names: readonly string[];
  run(src: AdminSource, req: AdminRequest): JsonObject;
}

const command = (names: string[], run: (src: AdminSource, req: AdminRequest) => JsonObject): AdminCommand => ({ names, run });

/** ServerCnxn.getConnectionInfo(brief); the full form adds Corral's unsent output and read pause. */
function connectionInfo(c: ClientConnection, brief: boolean): JsonObject {
  const info: Record<string, JsonValue> = {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: 1,
    outstanding_requests: c.outstanding,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
  if (brief) return info;
  return {
    ...info,
    session_id: c.sessionId,
    last_operation: ZK_OP_NAMES[c.lastOp] ?? c.lastOp,
    established: c.establishedAtMs,
    session_timeout: c.sessionTimeoutMs,
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    last_response_time: c.lastResponseAtMs,
    last_latency: c.lastLatencyMs,
    min_latency: c.stats.latencyMinMs,
    // ServerCnxn averages with integer division.
    avg_latency: Math.floor(c.stats.latencyAvgMs),
    max_latency: c.stats.latencyMaxMs,
    // Corral's own: reply bytes not yet handed to the kernel, and whether requests from
    // this connection are no longer read because of them (output backpressure).
    unsent_bytes: c.outboundBytes,
    reading_paused: c.readingPaused,
  };
}

const NO_RESPONSE_SIZES: JsonObject = { last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 };

/** SrvrCommand's fields (ZooKeeperServer.serverStats() as Jackson maps it). */
function serverStats(src: FourLetterSource): Record<string, JsonValue> {
  const s = src.stats;
  const dirs = src.dataDirs();
  return {
    version: src.versionLine.replace(/^Zookeeper version: /, ""),
    read_only: src.readOnly,
    server_stats: {
      packets_sent: s.packetsSent,
      packets_received: s.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: NO_RESPONSE_SIZES,
      data_dir_size: dirs.dataDirBytes,
      log_dir_size: dirs.dataLogDirBytes,
      provider_null: false,
      server_state: src.mode,
      last_processed_zxid: src.lastZxid(),
      outstanding_requests: src.outstandingRequests(),
      avg_latency: new JavaDouble(s.latencyAvgRoundedMs),
      max_latency: s.latencyMaxMs,
      min_latency: s.latencyMinMs,
      num_alive_client_connections: [...src.connections()].length,
      uptime: s.uptimeMs,
      auth_failed_count: 0,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: NO_RESPONSE_SIZES,
  };
}

/** `conf`'s `key=value` lines, as ZooKeeperServerConf.toMap names and types them. */
const CONF_KEYS: Readonly<Record<string, string>> = {
  clientPort: "client_port",
  dataDir: "data_dir",
  dataLogDir: "data_log_dir",
  tickTime: "tick_time",
  maxClientCnxns: "max_client_cnxns",
  minSessionTimeout: "min_session_timeout",
  maxSessionTimeout: "max_session_timeout",
  serverId: "server_id",
  clientPortListenBacklog: "client_port_listen_backlog",
};

function configuration(src: FourLetterSource): JsonObject {
  const lines = new Map<string, string>();
  for (const line of src.configLines()) {
    const eq = line.indexOf("=");
    lines.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const out: Record<string, JsonValue> = {};
  for (const [name, key] of Object.entries(CONF_KEYS)) {
    const raw = lines.get(name);
    if (raw === undefined) continue;
    out[key] = key === "data_dir" || key === "data_log_dir" || !/^-?\d+$/.test(raw) ? raw : BigInt(raw);
  }
  return out;
}

/** A client connected with TLS (secureClientPort, or a unified port's TLS client). */
function isTls(c: { socket: unknown }): boolean {
  return (c.socket as { encrypted?: boolean }).encrypted === true;
}

function bySession<V>(m: Iterable<[bigint, V]>, f: (v: V) => JsonValue): JsonObject {
  const out: Record<string, JsonValue> = {};
  for (const [sid, v] of m) out[BigInt.asIntN(64, sid).toString()] = f(v);
  return out;
}

const COMMANDS: readonly AdminCommand[] = [
  command(["connection_stat_reset", "crst"], ({ server }) => {
    server.resetConnectionStats();
    return {};
  }),
  command(["configuration", "conf", "config"], ({ server }) => configuration(server)),
  command(["connections", "cons"], ({ server }) => ({
    connections: [...server.connections()].filter((c) => !isTls(c)).map((c) => connectionInfo(c, false)),
    secure_connections: [...server.connections()].filter(isTls).map((c) => connectionInfo(c, false)),
  })),
  command(["dirs"], ({ server }) => {
    const d = server.dataDirs();
    return { datadir_size: d.dataDirBytes, logdir_size: d.dataLogDirBytes };
  }),
  command(["dump"], ({ server }) => {
    const expiry = new Map<number, bigint[]>();
    for (const s of server.sessionList()) {
      const at = Math.floor(s.expiresAtMs);
      expiry.set(at, [...(expiry.get(at) ?? []), s.id]);
    }
    const times: Record<string, JsonValue> = {};
    for (const [at, ids] of [...expiry].sort(([a], [b]) => a - b)) times[String(at)] = ids.map((id) => BigInt.asIntN(64, id));
    return {
      expiry_time_to_session_ids: times,
      session_id_to_ephemeral_paths: bySession(server.ephemeralsBySession(), (paths) => [...paths]),
    };
  }),
  command(["environment", "env", "envi"], ({ server }) => {
    const out: Record<string, JsonValue> = {};
    for (const line of server.environmentLines()) {
      const eq = line.indexOf("=");
      out[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return out;
  }),
  command(["get_trace_mask", "gtmk"], () => ({ tracemask: 0 })),
  // ZooKeeper lists its logged tree digests; Corral keeps none.
  command(["hash"], () => ({ digests: [] })),
  command(["is_read_only", "isro"], ({ server }) => ({ read_only: server.readOnly })),
  command(["leader", "lead"], (src) => {
    const q = src.quorum?.();
    if (q === undefined) return { error: "server is not initialized" };
    return { is_leader: q.isLeader, leader_id: q.leaderId, leader_ip: q.leaderIp };
  }),
  command(["monitor", "mntr"], ({ server }) => {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of monitorEntries(server)) out[k] = typeof v === "object" ? new JavaDouble(v.double) : v;
    return out;
  }),
  command(["observers", "obsr"], () => ({ synced_observers: 0, observers: [] })),
  command(["ruok"], () => ({})),
  command(["server_stats", "srvr"], ({ server }) => ({ ...serverStats(server), node_count: server.nodeCount() })),
  command(["stats", "stat"], ({ server }) => ({
    ...serverStats(server),
    node_count: server.nodeCount(),
    connections: [...server.connections()].filter((c) => !isTls(c)).map((c) => connectionInfo(c, true)),
    secure_connections: [...server.connections()].filter(isTls).map((c) => connectionInfo(c, true)),
  })),
  command(["stat_reset", "srst"], ({ server }) => {
    server.stats.reset();
    return {};
  }),
  command(["voting_view"], (src) => {
    const q = src.quorum?.();
    const view: Record<string, JsonValue> = {};
    for (const [id, v] of q?.voting ?? []) {
      view[id.toString()] = {
        server_addresses: v.serverAddresses,
        election_addresses: v.electionAddresses,
        client_address: v.clientAddress,
        learner_type: v.learnerType,
      };
    }
    return { current_config: view };
  }),
  command(["watches", "wchc"], ({ server }) => ({ session_id_to_watched_paths: bySession(server.watchesByConnection(), (p) => p) })),
  command(["watches_by_path", "wchp"], ({ server }) => {
    const out: Record<string, JsonValue> = {};
    for (const [path, ids] of server.watchesByPath()) out[path] = ids.map((id) => BigInt.asIntN(64, id));
    return { path_to_session_ids: out };
  }),
  command(["watch_summary", "wchs"], ({ server }) => {
    const w = server.watchSummary();
    return { num_connections: w.connections, num_paths: w.paths, num_total_watches: w.watches };
  }),
  command(["learners"], (src) => src.learners?.() ?? { error: "learners is not available on this server" }),
  command(["locks"], (src) => src.recipeView("locks")),
  command(["queues"], (src) => src.recipeView("queues")),
  command(["elections"], (src) => src.recipeView("elections")),
  command(["znode"], (src, req) => {
    if (src.znode === undefined) return { error: "znode is not available on this server" };
    return src.znode(req.query.get("path") ?? "/", req.credentials);
  }),
];

const BY_NAME = new Map<string, AdminCommand>(COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

/** Every command's primary name, sorted (the `/commands` listing). */
export const ADMIN_COMMANDS: readonly string[] = COMMANDS.map((c) => c.names[0]!).sort();

/** The JSON answer to `name`, exactly as served. */
export function runAdminCommand(name: string, src: AdminSource, req: AdminRequest = NO_REQUEST): string {
  const cmd = BY_NAME.get(name);
  if (cmd === undefined) return jacksonPretty({ command: name, error: `Unknown command: ${name}` });
  let fields: JsonObject;
  try {
    fields = cmd.run(src, req);
  } catch (e) {
    return jacksonPretty({ command: cmd.names[0]!, error: (e as Error).message });
  }
  // CommandResponse.toMap: the fields, then command and error; a field named "error"
  // keeps its place and its value.
  return jacksonPretty({ ...fields, command: cmd.names[0]!, error: fields["error"] ?? null });
}

function listing(): string {
  return ADMIN_COMMANDS.map((n) => `<a href="/commands/${n}">${n}</a>\n<br/>\n`).join("");
}

/** The console's files: fixed names only, so no request path reaches the file system. */
const CONSOLE_FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "console.css": "text/css; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
};

/** console/ at the package root: two levels above src/net, three above dist/src/net. */
const CONSOLE_DIRS = [new URL("../../console/", import.meta.url), new URL("../../../console/", import.meta.url)];

const consoleCache = new Map<string, string>();

function consoleFile(name: string): string | undefined {
  const cached = consoleCache.get(name);
  if (cached !== undefined) return cached;
  for (const dir of CONSOLE_DIRS) {
    try {
      const text = readFileSync(new URL(name, dir), "utf8");
      consoleCache.set(name, text);
      return text;
    } catch {
      // not in this layout; try the next
    }
  }
  return undefined;
}

function basicCredentials(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined || !/^basic /i.test(h)) return undefined;
  return Buffer.from(h.slice(6).trim(), "base64").toString("utf8");
}

function handle(src: AdminSource, req: IncomingMessage, res: ServerResponse): void {
  const [path = "/", queryText = ""] = (req.url ?? "/").split("?", 2);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  const send = (type: string, body: string): void => {
    res.writeHead(200, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) }).end(req.method === "HEAD" ? undefined : body);
  };
  if (path === "/commands" || path === "/commands/") {
    send("text/html; charset=utf-8", listing());
    return;
  }
  if (path.startsWith("/commands/")) {
    const areq: AdminRequest = { query: new URLSearchParams(queryText), credentials: basicCredentials(req) };
    send("application/json", runAdminCommand(decodeURIComponent(path.slice("/commands/".length)), src, areq));
    return;
  }
  if (path === "/console") {
    res.writeHead(301, { Location: "/console/" }).end();
    return;
  }
  if (path.startsWith("/console/")) {
    const name = path === "/console/" ? "index.html" : path.slice("/console/".length);
    const type = CONSOLE_FILES[name];
    const body = type === undefined ? undefined : consoleFile(name);
    if (type !== undefined && body !== undefined) {
      send(type, body);
      return;
    }
  }
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found; commands are at /commands\n");
}

/** Starts the AdminServer on host:port (port 0: any free port). */
export function startAdminServer(src: AdminSource, host: string, port: number): Promise<HttpEndpoint> {
  return listenHttp(host, port, (req, res) => handle(src, req, res));
}
