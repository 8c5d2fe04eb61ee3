// Four-letter words on the client port (ZOOKEEPER.md §1.12): a connection whose first
// four bytes spell a known command gets a text reply and is closed. Commands must be in
// `4lw.commands.whitelist`. The replies copy ZooKeeper 3.8's standalone output line for
// line (checked against a real 3.8.0 server), because monitoring tools parse them: the
// values are Corral's, the keys, order, separators and trailing newlines are ZooKeeper's.

import { readFileSync, readdirSync } from "node:fs";
import { hex64, javaDate, javaDouble } from "../util/index.js";

export { javaDate, javaDouble };
import type { ClientConnection } from "./connection.js";
import type { ServerStats } from "./stats.js";
import { QUOTA_EXCEEDED_METRIC, QUOTA_METRIC_NAMES, quotaSums, type QuotaGauge, type QuotaMetricName } from "./quota-metrics.js";

export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr",
  "srst", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash",
]);

/** What the commands report on; the server implements it. */
export interface FourLetterSource {
  readonly whitelist: ReadonlySet<string> | "*";
  readonly versionString: string;
  /** `Zookeeper version: <version>, built on <date>`: srvr/stat's first line. */
  readonly versionLine: string;
  readonly mode: "standalone" | "leader" | "follower" | "observer" | "read-only";
  /** False while an ensemble member is not serving (ZooKeeper then answers most words
   * with "not currently serving requests"). */
  serving?(): boolean;
  /** On an ensemble leader: its learners, for mntr's leader-only keys. */
  quorumStats?(): QuorumStats | undefined;
  readonly readOnly: boolean;
  readonly stats: ServerStats;
  connections(): Iterable<ClientConnection>;
  outstandingRequests(): number;
  lastZxid(): bigint;
  nodeCount(): number;
  approximateDataBytes(): number;
  /** Every session's ephemeral paths: O(all ephemerals), for the dump views. */
  ephemeralsBySession(): Iterable<[bigint, ReadonlySet<string>]>;
  /** How many ephemeral nodes there are, without listing them (mntr, /metrics). */
  ephemeralCount(): number;
  /** Live sessions; expiresAtMs is wall-clock ms. */
  sessionList(): Iterable<{ id: bigint; timeoutMs: number; expiresAtMs: number }>;
  /**
   * ZooKeeper's data-watch table (what wchs/wchc/wchp report): getData/exists watches
   * plus persistent and persistent-recursive ones, one entry per connection and path.
   * One-shot child watches are not in it (ZooKeeper keeps them in a second table).
   */
  watchSummary(): { connections: number; paths: number; watches: number };
  watchesByConnection(): Map<bigint, string[]>;
  watchesByPath(): Map<string, bigint[]>;
  /** mntr's zk_watch_count: entries of the data-watch table plus the child-watch table. */
  watchCount(): number;
  /** `key=value` lines of the effective configuration, in ZooKeeper's `conf` order. */
  configLines(): string[];
  /** `key=value` lines describing the environment, ZooKeeper's `envi` keys in order. */
  environmentLines(): string[];
  dataDirs(): { dataDirBytes: number; dataLogDirBytes: number };
  resetConnectionStats(): void;
  /** Each quota's limits and usage (ZooKeeper 3.7+ quotas), for mntr and /metrics. */
  quotaGauges?(): Iterable<QuotaGauge>;
  /** Creates and setData refused for a hard quota limit, by namespace. */
  quotaExceeded?(): Iterable<[string, number]>;
}

/** Words that need a serving server, as ZooKeeper's commands check isZKServerRunning. */
const NEEDS_SERVING: ReadonlySet<string> = new Set(["srvr", "stat", "mntr", "cons", "wchs", "wchc", "wchp", "dump", "crst", "srst", "hash"]);

/**
 * The reply to `word`, or undefined when `word` is not a four-letter word. Like
 * ZooKeeper, every known word (whitelisted or not) counts as a received packet, and a
 * non-empty reply as a sent one.
 */
export function fourLetterWord(word: string, src: FourLetterSource): string | undefined {
  if (!FOUR_LETTER_WORDS.has(word)) return undefined;
  src.stats.packetsReceived++;
  const reply =
    src.whitelist !== "*" && !src.whitelist.has(word)
      ? `${word} is not executed because it is not in the whitelist.\n`
      : src.serving?.() === false && NEEDS_SERVING.has(word)
        ? "This ZooKeeper instance is not currently serving requests\n"
        : COMMANDS[word]!(src);
  if (reply.length > 0) src.stats.packetsSent++;
  return reply;
}

const COMMANDS: Record<string, (src: FourLetterSource) => string> = {
  // ruok, isro, gtmk and stmk print without a newline; the others end every line.
  ruok: () => "imok",
  isro: (src) => (src.readOnly ? "ro" : "rw"),
  srvr: (src) => serverSummary(src, false),
  stat: (src) => serverSummary(src, true),
  cons: (src) => [...src.connections()].map((c) => connectionInfo(c, false) + "\n").join("") + "\n",
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
    for (const [sid, paths] of src.watchesByConnection()) out += `${hex64(sid)}\n` + paths.map((p) => `\t${p}\n`).join("");
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
  // Corral has no trace log: the mask is 0. ZooKeeper's stmk reads an 8-byte mask after
  // the word and echoes it; Corral only sees the word, so it echoes its (unchanged) mask.
  gtmk: () => "0",
  stmk: () => "0",
  // ZooKeeper prints one `<zxid hex>: <digest>` line per logged digest; Corral keeps no
  // digest log, which prints as ZooKeeper's empty log does: nothing.
  hash: () => "",
};

/** ZooKeeper's StatCommand: srvr, and stat with its Clients section. */
function serverSummary(src: FourLetterSource, withClients: boolean): string {
  const s = src.stats;
  const conns = [...src.connections()];
  let out = `${src.versionLine}\n`;
  if (src.readOnly) out += "READ-ONLY mode; serving only read-only clients\n";
  if (withClients) {
    out += "Clients:\n" + conns.map((c) => connectionInfo(c, true) + "\n").join("") + "\n";
  }
  out +=
    `Latency min/avg/max: ${s.latencyMinMs}/${javaDouble(s.latencyAvgRoundedMs)}/${s.latencyMaxMs}\n` +
    `Received: ${s.packetsReceived}\n` +
    `Sent: ${s.packetsSent}\n` +
    `Connections: ${conns.length}\n` +
    `Outstanding: ${src.outstandingRequests()}\n` +
    `Zxid: ${hex64(src.lastZxid())}\n` +
    `Mode: ${src.mode}\n` +
    `Node count: ${src.nodeCount()}\n`;
  // Corral keeps no proposal size statistics: -1 is ZooKeeper's "no sample yet".
  if (src.mode === "leader") out += "Proposal sizes last/min/max: -1/-1/-1\n";
  return out;
}

/** The `lastOp` names ZooKeeper's FinalRequestProcessor reports, by Corral's op name. */
export const ZK_OP_NAMES: Readonly<Record<string, string>> = {
  ping: "PING",
  createSession: "SESS",
  multi: "MULT",
  multiRead: "MLTR",
  create: "CREA",
  create2: "CREA",
  createTTL: "CREA",
  createContainer: "CREA",
  delete: "DELE",
  deleteContainer: "DELE",
  setData: "SETD",
  reconfig: "RECO",
  setACL: "SETA",
  closeSession: "CLOS",
  sync: "SYNC",
  check: "CHEC",
  exists: "EXIS",
  getData: "GETD",
  setWatches: "SETW",
  setWatches2: "STW2",
  addWatch: "ADDW",
  getACL: "GETA",
  getChildren: "GETC",
  getChildren2: "GETC",
  getAllChildrenNumber: "GETACN",
  checkWatches: "CHKW",
  removeWatches: "REMW",
  whoAmI: "HOMI",
  getEphemerals: "GETE",
};

/**
 * ZooKeeper's ServerCnxn.dumpConnectionInfo, without the line end: brief for stat, full for
 * cons (plus Corral's unsent output and read pause).
 */
function connectionInfo(c: ClientConnection, brief: boolean): string {
  let line = ` /${c.remoteAddress}:${c.remotePort}[${c.sessionId === 0n ? 0 : 1}](queued=${c.outstanding},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    const st = c.stats;
    line +=
      `,sid=${hex64(c.sessionId)},lop=${ZK_OP_NAMES[c.lastOp] ?? c.lastOp},est=${c.establishedAtMs},to=${c.sessionTimeoutMs}` +
      (c.lastCxid >= 0 ? `,lcxid=${hex64(BigInt(c.lastCxid))}` : "") +
      `,lzxid=${hex64(c.lastZxid)},lresp=${c.lastResponseAtMs}` +
      // Per connection ZooKeeper averages with integer division.
      `,llat=${c.lastLatencyMs},minlat=${st.latencyMinMs},avglat=${Math.floor(st.latencyAvgMs)},maxlat=${st.latencyMaxMs}` +
      // Corral's own, last so ZooKeeper's fields keep their places: reply bytes not yet
      // handed to the kernel, and whether requests are no longer read (backpressure).
      `,unsent=${c.outboundBytes},paused=${c.readingPaused ? 1 : 0}`;
  }
  return line + ")";
}

// mntr. ZooKeeper prints version and state, then its metrics provider's gauges and
// counters, then its summaries (avg/min/max/cnt/sum, some also p50/p95/p99/p999). The
// order is that of the provider's hash maps, fixed for a fixed key set, so it is copied
// here from ZooKeeper 3.8.0 standalone. Keys that only appear once data exists: the
// `zk_<namespace>_{read,write}_per_namespace` summaries are not printed (Corral keeps
// no such metrics); the quota gauge sets are, as `zk_<namespace>_<metric>` lines (a
// gauge set prints `<key>_<name>`) after the plain gauges, and the refusal counter set
// after the counters (see monitorEntries). Metrics Corral has no equivalent for print 0
// (and -1 for the response sizes, ZooKeeper's "no sample yet").

const MNTR_SCALARS = [
  "ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests", "znode_count",
  "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent",
  "packets_received", "max_client_response_size", "connection_drop_probability", "watch_count",
  "auth_failed_count", "min_latency", "max_file_descriptor_count", "approximate_data_size",
  "open_file_descriptor_count", "local_sessions", "uptime", "max_latency", "outstanding_tls_handshake",
  "min_client_response_size", "non_mtls_local_conn_count", "proposal_count", "watch_bytes",
  "outstanding_changes_removed", "throttled_ops", "stale_requests_dropped", "large_requests_rejected",
  "insecure_admin_count", "connection_rejected", "cnxn_closed_without_zk_server_running",
  "sessionless_connections_expired", "looking_count", "dead_watchers_queued", "stale_requests",
  "connection_drop_count", "learner_proposal_received_count", "digest_mismatches_count",
  "dead_watchers_cleared", "response_packet_cache_hits", "bytes_received_count",
  "add_dead_watcher_stall_time", "request_throttle_wait_count", "requests_not_forwarded_to_commit_processor",
  "response_packet_cache_misses", "ensemble_auth_success", "prep_processor_request_queued",
  "learner_commit_received_count", "stale_replies", "connection_request_count", "response_bytes",
  "ensemble_auth_fail", "diff_count", "response_packet_get_children_cache_misses",
  "connection_revalidate_count", "quit_leading_due_to_disloyal_voter", "snap_count",
  "unrecoverable_error_count", "unsuccessful_handshake", "commit_count", "stale_sessions_expired",
  "response_packet_get_children_cache_hits", "sync_processor_request_queued", "outstanding_changes_queued",
  "request_commit_queued", "ensemble_auth_skip", "skip_learner_request_to_next_processor_count",
  "tls_handshake_exceeded", "revalidate_count",
] as const;

/** Summaries printed as avg/min/max/cnt/sum. */
const MNTR_SUMMARIES = [
  "socket_closing_time", "proposal_process_time", "leader_unavailable_time", "node_created_watch_count",
  "session_queues_drained", "write_commit_proc_req_queued", "connection_token_deficit",
  "read_commit_proc_req_queued", "node_deleted_watch_count", "startup_txns_load_time",
  "sync_processor_queue_size", "follower_sync_time", "prep_processor_queue_size", "fsynctime",
  "inflight_snap_count", "reads_issued_from_session_queue", "learner_request_processor_queue_size",
  "snapshottime", "unavailable_time", "startup_txns_loaded", "reads_after_write_in_session_queue",
  "requests_in_session_queue", "write_commit_proc_issued", "prep_process_time", "pending_session_queue_size",
  "time_waiting_empty_pool_in_commit_processor_read_ms", "commit_process_time", "dbinittime",
  "inflight_diff_count", "netty_queued_buffer_capacity", "election_time", "commit_commit_proc_req_queued",
  "sync_processor_batch_size", "node_children_watch_count", "write_batch_time_in_commit_processor",
  "read_commit_proc_issued", "concurrent_request_processing_in_commit_processor", "observer_sync_time",
  "node_changed_watch_count", "sync_process_time", "startup_snap_load_time",
] as const;

/** Summaries printed as avg/min/max/cnt/sum/p50/p95/p99/p999. */
const MNTR_PERCENTILE_SUMMARIES = [
  "prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time", "read_commitproc_time_ms",
  "updatelatency", "local_write_committed_time_ms", "request_throttle_queue_time_ms", "readlatency",
  "quorum_ack_latency", "om_commit_process_time_ms", "read_final_proc_time_ms", "commit_propagation_latency",
  "dead_watchers_cleaner_latency", "write_final_proc_time_ms", "proposal_ack_creation_latency",
  "proposal_latency", "om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms",
  "propagation_latency", "server_write_committed_time_ms", "sync_processor_queue_time_ms",
  "sync_processor_queue_flush_time_ms", "write_commitproc_time_ms",
] as const;

/** Every key `mntr` prints, in order (tests check against it). */
export const MNTR_KEYS: readonly string[] = [
  "zk_version",
  "zk_server_state",
  ...MNTR_SCALARS.map((k) => `zk_${k}`),
  ...MNTR_SUMMARIES.flatMap((k) => ["avg", "min", "max", "cnt", "sum"].map((p) => `zk_${p}_${k}`)),
  ...MNTR_PERCENTILE_SUMMARIES.flatMap((k) =>
    ["avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999"].map((p) => `zk_${p}_${k}`),
  ),
];

export interface QuorumStats {
  learners: number;
  syncedFollowers: number;
  syncedObservers: number;
  pendingSyncs: number;
}

/** The last plain gauge of MNTR_SCALARS (the rest are counters); gauge sets print after it. */
const MNTR_LAST_GAUGE: (typeof MNTR_SCALARS)[number] = "non_mtls_local_conn_count";

/**
 * The quota gauge sets, one line per namespace with a quota: the sets in the order of
 * ZooKeeper's gauge-set hash map (String.hashCode bins of a 16-bin table, ties in
 * registration order), each set's namespaces sorted (ZooKeeper's are in its own hash
 * order; tools read them by name).
 */
const QUOTA_GAUGE_ORDER: readonly QuotaMetricName[] = ["bytesLimit", "countUsage", "countLimit", "bytesUsage"];

function quotaGaugeEntries(src: FourLetterSource): [string, MonitorValue][] {
  const quotas = [...(src.quotaGauges?.() ?? [])];
  if (quotas.length === 0) return [];
  return QUOTA_GAUGE_ORDER.flatMap((field) => [...quotaSums(quotas, field)].map(([ns, v]): [string, MonitorValue] => [`${ns}_${QUOTA_METRIC_NAMES[field]}`, v]));
}

/** A mntr value as ZooKeeper types it: a Java int/long, a Java double, or text. */
export type MonitorValue = number | { readonly double: number } | string;

/** mntr's keys (without the `zk_` prefix) and typed values, in mntr's order; AdminServer's `monitor` prints the same. */
export function monitorEntries(src: FourLetterSource): [string, MonitorValue][] {
  const s = src.stats;
  const ephemerals = src.ephemeralCount();
  const known: Partial<Record<(typeof MNTR_SCALARS)[number], MonitorValue>> = {
    ephemerals_count: ephemerals,
    num_alive_connections: [...src.connections()].length,
    avg_latency: { double: s.latencyAvgRoundedMs },
    outstanding_requests: src.outstandingRequests(),
    znode_count: src.nodeCount(),
    global_sessions: [...src.sessionList()].length,
    last_client_response_size: -1,
    packets_sent: s.packetsSent,
    packets_received: s.packetsReceived,
    max_client_response_size: -1,
    connection_drop_probability: { double: 0 },
    watch_count: src.watchCount(),
    min_latency: s.latencyMinMs,
    max_file_descriptor_count: maxFileDescriptors(),
    approximate_data_size: src.approximateDataBytes(),
    open_file_descriptor_count: openFileDescriptors(),
    uptime: s.uptimeMs,
    max_latency: s.latencyMaxMs,
    min_client_response_size: -1,
  };
  const out: [string, MonitorValue][] = [
    ["version", src.versionLine.replace(/^Zookeeper version: /, "")],
    ["server_state", src.mode],
  ];
  for (const k of MNTR_SCALARS) {
    out.push([k, known[k] ?? 0]);
    if (k === MNTR_LAST_GAUGE) out.push(...quotaGaugeEntries(src));
  }
  // The refusal counter set prints once a namespace has a refusal, after the counters.
  for (const [ns, n] of [...(src.quotaExceeded?.() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.push([`${ns}_${QUOTA_EXCEEDED_METRIC}`, n]);
  }
  // A leader adds its learners (LeaderZooKeeperServer.dumpMonitorValues).
  const q = src.quorumStats?.();
  if (q !== undefined) {
    out.push(
      ["learners", q.learners],
      ["synced_followers", q.syncedFollowers],
      ["synced_non_voting_followers", q.syncedObservers],
      ["synced_observers", q.syncedObservers],
      ["pending_syncs", q.pendingSyncs],
    );
  }
  const zero = { double: 0 };
  for (const k of MNTR_SUMMARIES) out.push([`avg_${k}`, zero], [`min_${k}`, 0], [`max_${k}`, 0], [`cnt_${k}`, 0], [`sum_${k}`, 0]);
  for (const k of MNTR_PERCENTILE_SUMMARIES) {
    out.push([`avg_${k}`, zero]);
    for (const p of ["min", "max", "cnt", "sum", "p50", "p95", "p99", "p999"]) out.push([`${p}_${k}`, 0]);
  }
  return out;
}

function monitor(src: FourLetterSource): string {
  let out = "";
  for (const [k, v] of monitorEntries(src)) out += `zk_${k}\t${typeof v === "object" ? javaDouble(v.double) : v}\n`;
  return out;
}

/** Open descriptors of this process, or -1 where /proc is missing (ZooKeeper's OSMXBean gives -1 off Unix). */
function openFileDescriptors(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return -1;
  }
}

function maxFileDescriptors(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m === null ? -1 : Number(m[1]);
  } catch {
    return -1;
  }
}

// dump. ZooKeeper prints its expiry queues: sessions in tickTime buckets, connections in
// buckets of the sessionless-connection timeout (10 s), each bucket as
// `<n> expire at <java.util.Date>:` followed by its members.

const CNXN_EXPIRY_INTERVAL_MS = 10_000;

function dump(src: FourLetterSource): string {
  const sessions = [...src.sessionList()];
  const sessionBuckets = new Map<number, string[]>();
  for (const s of sessions) bucket(sessionBuckets, s.expiresAtMs, hex64(s.id));
  let out = "SessionTracker dump:\n" + expiryQueue("Session", sessionBuckets, sessions.length);
  const eph = [...src.ephemeralsBySession()];
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${eph.length}):\n`;
  for (const [sid, paths] of eph) out += `${hex64(sid)}:\n` + [...paths].map((p) => `\t${p}\n`).join("");
  const conns = [...src.connections()];
  const cnxnBuckets = new Map<number, string[]>();
  for (const c of conns) {
    const lastSeenMs = Math.max(c.establishedAtMs, c.lastResponseAtMs);
    const timeoutMs = c.sessionId === 0n ? CNXN_EXPIRY_INTERVAL_MS : c.sessionTimeoutMs;
    const at = (Math.floor((lastSeenMs + timeoutMs) / CNXN_EXPIRY_INTERVAL_MS) + 1) * CNXN_EXPIRY_INTERVAL_MS;
    bucket(cnxnBuckets, at, `ip: /${c.remoteAddress}:${c.remotePort} sessionId: ${hex64(c.sessionId)}`);
  }
  out += "Connections dump:\n" + expiryQueue("Connections", cnxnBuckets, conns.length);
  return out;
}

function bucket(buckets: Map<number, string[]>, at: number, member: string): void {
  const list = buckets.get(at);
  if (list === undefined) buckets.set(at, [member]);
  else list.push(member);
}

/** ZooKeeper's ExpiryQueue.dump, prefixed with `Session ` or `Connections `. */
function expiryQueue(prefix: string, buckets: Map<number, string[]>, members: number): string {
  let out = `${prefix} Sets (${buckets.size})/(${members}):\n`;
  for (const [at, list] of [...buckets].sort(([a], [b]) => a - b)) {
    out += `${list.length} expire at ${javaDate(at)}:\n` + list.map((m) => `\t${m}\n`).join("");
  }
  return out;
}
