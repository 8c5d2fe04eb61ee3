// Four-letter words on Corral's client port, over real loopback sockets. The expected
// formats are ZooKeeper 3.8.0's standalone output (captured from a real server): every
// line of srvr/stat/mntr/conf/envi/wchs/cons is checked against a pattern, values are
// free. Also: the whitelist gate and a word split across two TCP writes.
//
// Deterministic: no sleeps. A reply is complete when the server closes the socket.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as tcpConnect, type Socket } from "node:net";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { connect, CreateMode, type ZkSession } from "../helpers/nzk.js";

const LOOPBACK = "127.0.0.1";
const REPLY_WAIT_MS = 5_000;

/** Sends `word` on a fresh connection; resolves with everything written before the server closed. */
function send(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tcpConnect({ host: LOOPBACK, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete reply to ${word} within ${REPLY_WAIT_MS} ms`));
    }, REPLY_WAIT_MS);
    socket.once("connect", () => socket.write(word));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/** The reply's lines; every reply of these commands ends with a newline. */
function linesOf(reply: string): string[] {
  expect(reply.endsWith("\n"), `reply ends with a newline: ${JSON.stringify(reply.slice(-40))}`).toBe(true);
  return reply.slice(0, -1).split("\n");
}

function expectLines(lines: readonly string[], patterns: readonly RegExp[]): void {
  expect(lines.length, `line count of\n${lines.join("\n")}`).toBe(patterns.length);
  patterns.forEach((re, i) => expect(lines[i], `line ${i + 1}`).toMatch(re));
}

const hex = (v: bigint): string => "0x" + BigInt.asUintN(64, v).toString(16);

const VERSION_LINE = /^Zookeeper version: 3\.8\.0-corral-[0-9A-Za-z.+-]+, built on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/;
/** Java's Double.toString, as ZooKeeper prints averages: 0.0, 2.375, 10.0909. */
const JAVA_DOUBLE = String.raw`\d+\.\d+(?:E-?\d+)?`;
const STATS_LINES = [
  new RegExp(String.raw`^Latency min/avg/max: \d+/${JAVA_DOUBLE}/\d+$`),
  /^Received: \d+$/,
  /^Sent: \d+$/,
  /^Connections: \d+$/,
  /^Outstanding: \d+$/,
  /^Zxid: 0x[0-9a-f]+$/,
  /^Mode: standalone$/,
  /^Node count: \d+$/,
];
/** ServerCnxn.dumpConnectionInfo, brief (stat) form. */
const BRIEF_CNXN = /^ \/127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+\)$/;
/** ...and the full (cons) form of a connection with a session, with Corral's unsent= and paused= last. */
const FULL_CNXN =
  /^ \/127\.0\.0\.1:\d+\[[0-9a-f]+\]\(queued=\d+,recved=\d+,sent=\d+,sid=(0x[0-9a-f]+),lop=([A-Z0-9]+),est=\d+,to=\d+(?:,lcxid=0x[0-9a-f]+)?,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+,unsent=\d+,paused=[01]\)$/;
const EXPIRY_LINE = /^\d+ expire at (?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}:$/;

// mntr's keys in ZooKeeper 3.8.0 standalone order: version and state, the gauges and
// counters, then summaries (avg/min/max/cnt/sum, the last group also p50/p95/p99/p999).
const MNTR_SCALARS = `ephemerals_count num_alive_connections avg_latency outstanding_requests znode_count
  global_sessions non_mtls_remote_conn_count last_client_response_size packets_sent packets_received
  max_client_response_size connection_drop_probability watch_count auth_failed_count min_latency
  max_file_descriptor_count approximate_data_size open_file_descriptor_count local_sessions uptime max_latency
  outstanding_tls_handshake min_client_response_size non_mtls_local_conn_count proposal_count watch_bytes
  outstanding_changes_removed throttled_ops stale_requests_dropped large_requests_rejected insecure_admin_count
  connection_rejected cnxn_closed_without_zk_server_running sessionless_connections_expired looking_count
  dead_watchers_queued stale_requests connection_drop_count learner_proposal_received_count
  digest_mismatches_count dead_watchers_cleared response_packet_cache_hits bytes_received_count
  add_dead_watcher_stall_time request_throttle_wait_count requests_not_forwarded_to_commit_processor
  response_packet_cache_misses ensemble_auth_success prep_processor_request_queued learner_commit_received_count
  stale_replies connection_request_count response_bytes ensemble_auth_fail diff_count
  response_packet_get_children_cache_misses connection_revalidate_count quit_leading_due_to_disloyal_voter
  snap_count unrecoverable_error_count unsuccessful_handshake commit_count stale_sessions_expired
  response_packet_get_children_cache_hits sync_processor_request_queued outstanding_changes_queued
  request_commit_queued ensemble_auth_skip skip_learner_request_to_next_processor_count tls_handshake_exceeded
  revalidate_count`.split(/\s+/);
const MNTR_SUMMARIES = `socket_closing_time proposal_process_time leader_unavailable_time node_created_watch_count
  session_queues_drained write_commit_proc_req_queued connection_token_deficit read_commit_proc_req_queued
  node_deleted_watch_count startup_txns_load_time sync_processor_queue_size follower_sync_time
  prep_processor_queue_size fsynctime inflight_snap_count reads_issued_from_session_queue
  learner_request_processor_queue_size snapshottime unavailable_time startup_txns_loaded
  reads_after_write_in_session_queue requests_in_session_queue write_commit_proc_issued prep_process_time
  pending_session_queue_size time_waiting_empty_pool_in_commit_processor_read_ms commit_process_time dbinittime
  inflight_diff_count netty_queued_buffer_capacity election_time commit_commit_proc_req_queued
  sync_processor_batch_size node_children_watch_count write_batch_time_in_commit_processor
  read_commit_proc_issued concurrent_request_processing_in_commit_processor observer_sync_time
  node_changed_watch_count sync_process_time startup_snap_load_time`.split(/\s+/);
const MNTR_PERCENTILE_SUMMARIES = `prep_processor_queue_time_ms jvm_pause_time_ms close_session_prep_time
  read_commitproc_time_ms updatelatency local_write_committed_time_ms request_throttle_queue_time_ms readlatency
  quorum_ack_latency om_commit_process_time_ms read_final_proc_time_ms commit_propagation_latency
  dead_watchers_cleaner_latency write_final_proc_time_ms proposal_ack_creation_latency proposal_latency
  om_proposal_process_time_ms sync_processor_queue_and_flush_time_ms propagation_latency
  server_write_committed_time_ms sync_processor_queue_time_ms sync_processor_queue_flush_time_ms
  write_commitproc_time_ms`.split(/\s+/);
const MNTR_KEYS = [
  "zk_version",
  "zk_server_state",
  ...MNTR_SCALARS.map((k) => `zk_${k}`),
  ...MNTR_SUMMARIES.flatMap((k) => ["avg", "min", "max", "cnt", "sum"].map((p) => `zk_${p}_${k}`)),
  ...MNTR_PERCENTILE_SUMMARIES.flatMap((k) =>
    ["avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999"].map((p) => `zk_${p}_${k}`),
  ),
];

function mntrValuePattern(key: string): RegExp {
  if (key === "zk_version") return /^3\.8\.0-corral-\S+, built on .+$/;
  if (key === "zk_server_state") return /^standalone$/;
  if (key.startsWith("zk_avg_") || key === "zk_connection_drop_probability") return new RegExp(`^${JAVA_DOUBLE}$`);
  return /^-?\d+$/;
}

/** Parses mntr, checking every line's shape and the key order; returns key -> value. */
function parseMntr(reply: string): Map<string, string> {
  const lines = linesOf(reply);
  const keys = lines.map((l) => l.split("\t")[0]);
  expect(keys).toEqual(MNTR_KEYS);
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^(zk_[a-z0-9_]+)\t(.*)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [, key, value] = m!;
    expect(value, key).toMatch(mntrValuePattern(key!));
    out.set(key!, value!);
  }
  return out;
}

const CONF_LINES = [
  /^clientPort=\d+$/,
  /^secureClientPort=-1$/,
  /^dataDir=.*$/,
  /^dataDirSize=\d+$/,
  /^dataLogDir=.*$/,
  /^dataLogSize=\d+$/,
  /^tickTime=\d+$/,
  /^maxClientCnxns=\d+$/,
  /^minSessionTimeout=\d+$/,
  /^maxSessionTimeout=\d+$/,
  /^clientPortListenBacklog=-?\d+$/,
  /^serverId=\d+$/,
];

const ENVI_LINES = [
  /^Environment:$/,
  /^zookeeper\.version=3\.8\.0-corral-[0-9A-Za-z.+-]+, built on .+$/,
  /^host\.name=.+$/,
  /^java\.version=.+$/,
  /^java\.vendor=.+$/,
  /^java\.home=.+$/,
  /^java\.class\.path=.+$/,
  /^java\.library\.path=.+$/,
  /^java\.io\.tmpdir=.+$/,
  /^java\.compiler=.+$/,
  /^os\.name=.+$/,
  /^os\.arch=.+$/,
  /^os\.version=.+$/,
  /^user\.name=.+$/,
  /^user\.home=.*$/,
  /^user\.dir=.+$/,
  /^os\.memory\.free=\d+MB$/,
  /^os\.memory\.max=\d+MB$/,
  /^os\.memory\.total=\d+MB$/,
];

const WCHS_LINES = [/^\d+ connections watching \d+ paths$/, /^Total watches:\d+$/];

/** wchc (`0x<sid>` then tab-indented paths) or wchp (path then tab-indented `0x<sid>`), then a blank line. */
function parseWatchDump(reply: string): Map<string, Set<string>> {
  const lines = linesOf(reply);
  expect(lines.at(-1)).toBe("");
  const out = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of lines.slice(0, -1)) {
    if (line.startsWith("\t")) {
      expect(current, `member line before a head line: ${line}`).toBeDefined();
      current!.add(line.slice(1));
    } else {
      current = new Set();
      out.set(line, current);
    }
  }
  return out;
}

describe("four-letter words, idle server", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startStandaloneForTest();
  });

  afterAll(async () => {
    await server.stop();
  });

  it("ruok and isro answer without a trailing newline", async () => {
    expect(await send(server.port, "ruok")).toBe("imok");
    expect(await send(server.port, "isro")).toBe("rw");
  });

  it("srvr prints the version line and the server stats", async () => {
    const lines = linesOf(await send(server.port, "srvr"));
    expectLines(lines, [VERSION_LINE, ...STATS_LINES]);
    // ZooKeeper counts each four-letter word as a received packet, this one included.
    expect(Number(/^Received: (\d+)$/.exec(lines[2]!)![1])).toBeGreaterThanOrEqual(1);
    expect(lines[1]).toBe("Latency min/avg/max: 0/0.0/0");
    expect(lines[8]).toBe("Node count: 4");
  });

  it("stat lists the asking connection under Clients", async () => {
    const lines = linesOf(await send(server.port, "stat"));
    expect(lines[0]).toMatch(VERSION_LINE);
    expect(lines[1]).toBe("Clients:");
    const blank = lines.indexOf("", 2);
    expect(blank).toBeGreaterThan(2);
    for (const l of lines.slice(2, blank)) expect(l).toMatch(BRIEF_CNXN);
    expectLines(lines.slice(blank + 1), STATS_LINES);
  });

  it("cons lists sessionless connections in brief form, then a blank line", async () => {
    const lines = linesOf(await send(server.port, "cons"));
    expect(lines.at(-1)).toBe("");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(BRIEF_CNXN);
  });

  it("mntr prints ZooKeeper's standalone keys in ZooKeeper's order", async () => {
    const m = parseMntr(await send(server.port, "mntr"));
    expect(m.get("zk_server_state")).toBe("standalone");
    expect(m.get("zk_avg_latency")).toBe("0.0");
    expect(m.get("zk_znode_count")).toBe("4");
    expect(m.get("zk_watch_count")).toBe("0");
    expect(m.get("zk_ephemerals_count")).toBe("0");
    expect(m.get("zk_global_sessions")).toBe("0");
  });

  it("conf prints ZooKeeper's keys in order", async () => {
    const lines = linesOf(await send(server.port, "conf"));
    expectLines(lines, CONF_LINES);
    expect(lines[0]).toBe(`clientPort=${server.port}`);
  });

  it("envi prints ZooKeeper's keys in order, with zookeeper.version first", async () => {
    expectLines(linesOf(await send(server.port, "envi")), ENVI_LINES);
  });

  it("wchs, wchc, wchp and dump on an empty server", async () => {
    expect(await send(server.port, "wchs")).toBe("0 connections watching 0 paths\nTotal watches:0\n");
    expect(await send(server.port, "wchc")).toBe("\n");
    expect(await send(server.port, "wchp")).toBe("\n");
    const lines = linesOf(await send(server.port, "dump"));
    expect(lines.slice(0, 5)).toEqual([
      "SessionTracker dump:",
      "Session Sets (0)/(0):",
      "ephemeral nodes dump:",
      "Sessions with Ephemerals (0):",
      "Connections dump:",
    ]);
    expect(lines[5]).toMatch(/^Connections Sets \(\d+\)\/\(\d+\):$/);
    for (const l of lines.slice(6)) expect(l).toMatch(l.startsWith("\t") ? /^\tip: \/127\.0\.0\.1:\d+ sessionId: 0x0$/ : EXPIRY_LINE);
  });

  it("the remaining words", async () => {
    expect(await send(server.port, "dirs")).toMatch(/^datadir_size: \d+\nlogdir_size: \d+\n$/);
    expect(await send(server.port, "gtmk")).toMatch(/^\d+$/);
    expect(await send(server.port, "stmk")).toMatch(/^\d+$/);
    expect(await send(server.port, "hash")).toBe("");
    expect(await send(server.port, "crst")).toBe("Connection stats reset.\n");
    expect(await send(server.port, "srst")).toBe("Server stats reset.\n");
    // As in ZooKeeper: srst zeroes the counters before its own reply is counted as sent,
    // and this srvr is the one packet received since.
    const lines = linesOf(await send(server.port, "srvr"));
    expect(lines[2]).toBe("Received: 1");
    expect(lines[3]).toBe("Sent: 1");
  });

  it("a word split across two TCP writes still works", async () => {
    const socket: Socket = tcpConnect({ host: LOOPBACK, port: server.port });
    socket.setNoDelay(true);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve, reject) => {
      socket.once("close", () => resolve());
      socket.once("error", reject);
    });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    await new Promise<void>((resolve, reject) => socket.write("ru", (e) => (e ? reject(e) : resolve())));
    // A whole round trip on another connection: the server (same event loop) has read
    // "ru" by the time it answers, and must still be waiting for the rest.
    expect(await send(server.port, "ruok")).toBe("imok");
    expect(chunks).toHaveLength(0);
    expect(socket.destroyed).toBe(false);
    socket.write("ok");
    await closed;
    expect(Buffer.concat(chunks).toString("utf8")).toBe("imok");
  });
});

describe("four-letter words with two clients holding watches and ephemerals", () => {
  let server: TestServer;
  let a: ZkSession;
  let b: ZkSession;

  beforeAll(async () => {
    server = await startStandaloneForTest();
    a = await connect(server.connectString);
    b = await connect(server.connectString);
    await a.create("/app", { data: Buffer.from("hello") });
    await a.create("/app/ea", { mode: CreateMode.EPHEMERAL });
    await b.create("/app/eb", { data: Buffer.from("x"), mode: CreateMode.EPHEMERAL });
    await b.create("/eb2", { mode: CreateMode.EPHEMERAL });
    // Data-table watches: a on /app and /missing, b on /app. Child watches: a on /app, b on /.
    await a.getDataW("/app");
    await a.existsW("/missing");
    await a.getChildrenW("/app");
    await b.getDataW("/app");
    await b.getChildrenW("/");
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it("srvr and stat", async () => {
    const srvr = linesOf(await send(server.port, "srvr"));
    expectLines(srvr, [VERSION_LINE, ...STATS_LINES]);
    expect(srvr[8]).toBe("Node count: 8");
    const stat = linesOf(await send(server.port, "stat"));
    expect(stat.slice(0, 2)).toEqual([srvr[0], "Clients:"]);
    const blank = stat.indexOf("", 2);
    const clients = stat.slice(2, blank);
    for (const l of clients) expect(l).toMatch(BRIEF_CNXN);
    expect(clients.filter((l) => l.includes("[1]"))).toHaveLength(2);
    expectLines(stat.slice(blank + 1), STATS_LINES);
  });

  it("cons shows both sessions in full form", async () => {
    const lines = linesOf(await send(server.port, "cons"));
    expect(lines.at(-1)).toBe("");
    const sids: string[] = [];
    for (const l of lines.slice(0, -1)) {
      const full = FULL_CNXN.exec(l);
      if (full === null) {
        expect(l).toMatch(BRIEF_CNXN);
        continue;
      }
      sids.push(full[1]!);
      // ZooKeeper's FinalRequestProcessor names: the last op was getChildren2.
      expect(full[2]).toBe("GETC");
    }
    expect(sids.sort()).toEqual([hex(a.sessionId), hex(b.sessionId)].sort());
  });

  it("mntr counts ephemerals, sessions and both watch tables", async () => {
    const m = parseMntr(await send(server.port, "mntr"));
    expect(m.get("zk_znode_count")).toBe("8");
    expect(m.get("zk_ephemerals_count")).toBe("3");
    expect(m.get("zk_global_sessions")).toBe("2");
    // 3 data watches + 2 child watches.
    expect(m.get("zk_watch_count")).toBe("5");
    expect(Number(m.get("zk_num_alive_connections"))).toBeGreaterThanOrEqual(3);
  });

  it("wchs, wchc and wchp report the data watches only, as ZooKeeper does", async () => {
    const wchs = linesOf(await send(server.port, "wchs"));
    expectLines(wchs, WCHS_LINES);
    expect(wchs).toEqual(["2 connections watching 2 paths", "Total watches:3"]);
    const byConnection = parseWatchDump(await send(server.port, "wchc"));
    expect(byConnection).toEqual(
      new Map([
        [hex(a.sessionId), new Set(["/app", "/missing"])],
        [hex(b.sessionId), new Set(["/app"])],
      ]),
    );
    const byPath = parseWatchDump(await send(server.port, "wchp"));
    expect(byPath).toEqual(
      new Map([
        ["/app", new Set([hex(a.sessionId), hex(b.sessionId)])],
        ["/missing", new Set([hex(a.sessionId)])],
      ]),
    );
  });

  it("dump lists sessions, ephemerals and connections as ZooKeeper's expiry queues", async () => {
    const lines = linesOf(await send(server.port, "dump"));
    expect(lines[0]).toBe("SessionTracker dump:");
    expect(lines[1]).toMatch(/^Session Sets \(\d+\)\/\(2\):$/);
    let i = 2;
    const sessions = new Set<string>();
    for (; lines[i] !== "ephemeral nodes dump:"; i++) {
      if (lines[i]!.startsWith("\t")) sessions.add(lines[i]!.slice(1));
      else expect(lines[i]).toMatch(EXPIRY_LINE);
    }
    expect(sessions).toEqual(new Set([hex(a.sessionId), hex(b.sessionId)]));
    expect(lines[++i]).toBe("Sessions with Ephemerals (2):");
    const ephemerals = new Map<string, Set<string>>();
    let owner: Set<string> | undefined;
    for (i++; lines[i] !== "Connections dump:"; i++) {
      const line = lines[i]!;
      if (line.startsWith("\t")) owner!.add(line.slice(1));
      else {
        expect(line).toMatch(/^0x[0-9a-f]+:$/);
        ephemerals.set(line.slice(0, -1), (owner = new Set()));
      }
    }
    expect(ephemerals).toEqual(
      new Map([
        [hex(a.sessionId), new Set(["/app/ea"])],
        [hex(b.sessionId), new Set(["/app/eb", "/eb2"])],
      ]),
    );
    expect(lines[++i]).toMatch(/^Connections Sets \(\d+\)\/\(\d+\):$/);
    const cnxnSessions: string[] = [];
    for (i++; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.startsWith("\t")) {
        expect(line).toMatch(EXPIRY_LINE);
        continue;
      }
      const m = /^\tip: \/127\.0\.0\.1:\d+ sessionId: (0x[0-9a-f]+)$/.exec(line);
      expect(m, line).not.toBeNull();
      if (m![1] !== "0x0") cnxnSessions.push(m![1]!);
    }
    expect(cnxnSessions.sort()).toEqual([hex(a.sessionId), hex(b.sessionId)].sort());
  });

  it("crst resets the connections' stats and cons keeps its format", async () => {
    expect(await send(server.port, "crst")).toBe("Connection stats reset.\n");
    const lines = linesOf(await send(server.port, "cons"));
    for (const l of lines.slice(0, -1)) expect(l).toMatch(l.includes(",sid=") ? FULL_CNXN : BRIEF_CNXN);
  });
});

describe("four-letter word whitelist", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startStandaloneForTest({ fourLetterWordWhitelist: ["srvr"] });
  });

  afterAll(async () => {
    await server.stop();
  });

  it("refuses a word that is not whitelisted with ZooKeeper's message", async () => {
    expect(await send(server.port, "stat")).toBe("stat is not executed because it is not in the whitelist.\n");
    expect(await send(server.port, "ruok")).toBe("ruok is not executed because it is not in the whitelist.\n");
  });

  it("still answers a whitelisted word", async () => {
    expectLines(linesOf(await send(server.port, "srvr")), [VERSION_LINE, ...STATS_LINES]);
  });
});
