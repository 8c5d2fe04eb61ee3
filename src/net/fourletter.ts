// Four-letter words on the client port (ZOOKEEPER.md §1.12): a connection whose first
// four bytes spell a known command gets a text reply and is closed. Commands must be in
// `4lw.commands.whitelist`. Output keeps ZooKeeper's line formats, which tools parse.

import { hex64 } from "../util/index.js";
import type { ClientConnection } from "./connection.js";
import type { ServerStats } from "./stats.js";

export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr",
  "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash",
]);

/** What the commands report on; the server implements it. */
export interface FourLetterSource {
  readonly whitelist: ReadonlySet<string> | "*";
  readonly versionString: string;
  readonly versionLine: string;
  readonly mode: "standalone" | "leader" | "follower" | "observer" | "read-only";
  readonly readOnly: boolean;
  readonly stats: ServerStats;
  connections(): Iterable<ClientConnection>;
  outstandingRequests(): number;
  lastZxid(): bigint;
  nodeCount(): number;
  approximateDataBytes(): number;
  ephemeralsBySession(): Iterable<[bigint, ReadonlySet<string>]>;
  sessionList(): Iterable<{ id: bigint; timeoutMs: number; expiresAtMs: number }>;
  watchSummary(): { connections: number; paths: number; watches: number };
  watchesByConnection(): Map<bigint, string[]>;
  watchesByPath(): Map<string, bigint[]>;
  /** `key=value` lines of the effective configuration. */
  configLines(): string[];
  /** `key=value` lines describing the environment. */
  environmentLines(): string[];
  dataDirs(): { dataDirBytes: number; dataLogDirBytes: number };
  resetConnectionStats(): void;
}

/** The reply to `word`, or undefined when `word` is not a four-letter word. */
export function fourLetterWord(word: string, src: FourLetterSource): string | undefined {
  if (!FOUR_LETTER_WORDS.has(word)) return undefined;
  if (src.whitelist !== "*" && !src.whitelist.has(word)) {
    return `${word} is not executed because it is not in the whitelist.\n`;
  }
  return COMMANDS[word]!(src);
}

const COMMANDS: Record<string, (src: FourLetterSource) => string> = {
  ruok: () => "imok",
  isro: (src) => (src.readOnly ? "ro" : "rw"),
  srvr: (src) => serverSummary(src, false),
  stat: (src) => serverSummary(src, true),
  cons: (src) => [...src.connections()].map((c) => connectionLine(c, true)).join("") + "\n",
  crst: (src) => {
    src.resetConnectionStats();
    return "Connection stats reset.\n";
  },
  srst: (src) => {
    src.stats.reset();
    return "Server stats reset.\n";
  },
  conf: (src) => src.configLines().map((l) => l + "\n").join(""),
  envi: (src) => "Environment:\n" + src.environmentLines().map((l) => l + "\n").join(""),
  mntr: (src) => monitor(src),
  wchs: (src) => {
    const w = src.watchSummary();
    return `${w.connections} connections watching ${w.paths} paths\nTotal watches:${w.watches}\n`;
  },
  wchc: (src) => {
    let out = "";
    for (const [sid, paths] of src.watchesByConnection()) {
      out += `${hex64(sid)}\n` + paths.map((p) => `\t${p}\n`).join("");
    }
    return out + "\n";
  },
  wchp: (src) => {
    let out = "";
    for (const [path, sids] of src.watchesByPath()) out += `${path}\n` + sids.map((s) => `\t${hex64(s)}\n`).join("");
    return out + "\n";
  },
  dump: (src) => dump(src),
  dirs: (src) => {
    const d = src.dataDirs();
    return `datadir_size: ${d.dataDirBytes}\nlogdir_size: ${d.dataLogDirBytes}\n`;
  },
  gtmk: () => "0\n",
  stmk: () => "0\n",
  hash: () => "Digest computation is disabled.\n",
};

function serverSummary(src: FourLetterSource, withClients: boolean): string {
  const s = src.stats;
  let out = `${src.versionLine}\n`;
  if (withClients) {
    out += "Clients:\n";
    for (const c of src.connections()) out += connectionLine(c, false);
    out += "\n";
  }
  const conns = [...src.connections()].length;
  out +=
    `Latency min/avg/max: ${s.latencyMinMs}/${s.latencyAvgMs.toFixed(4)}/${s.latencyMaxMs}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${conns}\n` +
    `Outstanding: ${src.outstandingRequests()}\n` +
    `Zxid: ${hex64(src.lastZxid())}\n` +
    `Mode: ${src.mode}\n` +
    `Node count: ${src.nodeCount()}\n`;
  return out;
}

/** ZooKeeper's ServerCnxn.dumpConnectionInfo: the brief form for stat, the full for cons. */
function connectionLine(c: ClientConnection, full: boolean): string {
  let line = ` /${c.remoteAddress}:${c.remotePort}[${c.sessionId === 0n ? 0 : 1}](queued=${c.outstanding},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (full && c.sessionId !== 0n) {
    const st = c.stats;
    line +=
      `,sid=${hex64(c.sessionId)},lop=${c.lastOp},est=${c.establishedAtMs},to=${c.sessionTimeoutMs}` +
      `,lcxid=${hex64(BigInt(c.lastCxid))},lzxid=${hex64(c.lastZxid)},lresp=${c.lastResponseAtMs}` +
      `,llat=${c.lastLatencyMs},minlat=${st.latencyMinMs},avglat=${st.latencyAvgMs.toFixed(4)},maxlat=${st.latencyMaxMs}`;
  }
  return line + ")\n";
}

function monitor(src: FourLetterSource): string {
  const s = src.stats;
  const w = src.watchSummary();
  let ephemerals = 0;
  for (const [, paths] of src.ephemeralsBySession()) ephemerals += paths.size;
  const mem = process.memoryUsage();
  const lines: [string, string | number][] = [
    ["zk_version", src.versionLine.replace(/^Zookeeper version: /, "")],
    ["zk_server_state", src.mode],
    ["zk_avg_latency", s.latencyAvgMs.toFixed(4)],
    ["zk_max_latency", s.latencyMaxMs],
    ["zk_min_latency", s.latencyMinMs],
    ["zk_packets_received", s.packetsReceived],
    ["zk_packets_sent", s.packetsSent],
    ["zk_num_alive_connections", [...src.connections()].length],
    ["zk_outstanding_requests", src.outstandingRequests()],
    ["zk_znode_count", src.nodeCount()],
    ["zk_watch_count", w.watches],
    ["zk_ephemerals_count", ephemerals],
    ["zk_approximate_data_size", src.approximateDataBytes()],
    ["zk_open_file_descriptor_count", -1],
    ["zk_max_file_descriptor_count", -1],
    ["zk_last_zxid", hex64(src.lastZxid())],
    ["zk_global_sessions", [...src.sessionList()].length],
    ["zk_local_sessions", 0],
    ["zk_uptime", Math.round(process.uptime() * 1000)],
    ["zk_heap_used_bytes", mem.heapUsed],
    ["zk_rss_bytes", mem.rss],
  ];
  return lines.map(([k, v]) => `${k}\t${v}\n`).join("");
}

function dump(src: FourLetterSource): string {
  const byDeadline = new Map<number, bigint[]>();
  for (const s of src.sessionList()) {
    const list = byDeadline.get(s.expiresAtMs) ?? [];
    list.push(s.id);
    byDeadline.set(s.expiresAtMs, list);
  }
  const sessions = [...src.sessionList()].length;
  let out = `SessionTracker dump:\nSession Sets (${byDeadline.size})/(${sessions}):\n`;
  for (const [at, ids] of [...byDeadline].sort(([a], [b]) => a - b)) {
    out += `${ids.length} expire at ${new Date(at).toUTCString()}:\n` + ids.map((id) => `\t${hex64(id)}\n`).join("");
  }
  const eph = [...src.ephemeralsBySession()];
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${eph.length}):\n`;
  for (const [sid, paths] of eph) out += `${hex64(sid)}:\n` + [...paths].sort().map((p) => `\t${p}\n`).join("");
  const conns = [...src.connections()];
  out += `Connections dump:\nConnections Sets (1)/(${conns.length})\n`;
  out += conns.map((c) => `\t${hex64(c.sessionId)}\n`).join("");
  return out;
}
