/**
 * The AdminServer (`/commands/<name>`, JSON shaped like ZooKeeper 3.8's) and the
 * Prometheus endpoint (`/metrics`), fetched over HTTP from an in-process server on
 * 127.0.0.1 and parsed: JSON.parse for the commands (plus exact text where the format
 * itself is the contract), a strict exposition-format parser for the metrics.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient, type LockHandle } from "../../src/client/index.js";
import { MNTR_KEYS } from "../../src/net/fourletter.js";
import { ADMIN_COMMANDS, JavaDouble, jacksonPretty, runAdminCommand } from "../../src/net/index.js";
import { adminSource, startEnsembleForTest, startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { checkHistograms, parsePrometheusText, sampleValue, type Family } from "../helpers/prometheus.js";

let t: TestServer;
const clients: CorralClient[] = [];

async function client(): Promise<CorralClient> {
  const c = await connect(t.connectString, { sessionTimeoutMs: 10_000 });
  clients.push(c);
  return c;
}

async function text(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
}

async function command(name: string): Promise<Record<string, unknown>> {
  const r = await text(`${t.adminUrl}/commands/${name}`);
  expect(r.status).toBe(200);
  expect(r.type).toBe("application/json");
  return JSON.parse(r.body) as Record<string, unknown>;
}

async function metrics(): Promise<Map<string, Family>> {
  const r = await text(`${t.metricsUrl}/metrics`);
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusText(r.body);
  checkHistograms(families);
  return families;
}

/** Polls `probe` until it holds (bounded: 100 x 20 ms); no fixed sleeps. */
async function eventually(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  t = await startStandaloneForTest({ adminServer: true, metrics: true });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await t.stop();
});

describe("AdminServer", () => {
  it("is off by default in the test helper and on when asked, on 127.0.0.1", async () => {
    const plain = await startStandaloneForTest();
    try {
      expect(plain.adminUrl).toBeUndefined();
      expect(plain.metricsUrl).toBeUndefined();
      expect(plain.server.operations?.admin).toBeUndefined();
    } finally {
      await plain.stop();
    }
    expect(t.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("answers ruok in Jackson's pretty-printed JSON, byte for byte", async () => {
    const r = await text(`${t.adminUrl}/commands/ruok`);
    expect(r.body).toBe('{\n  "command" : "ruok",\n  "error" : null\n}');
  });

  it("prints JSON as ZooKeeper's Jackson does: nested objects, arrays, longs, doubles", () => {
    // Shape and spacing copied from a real ZooKeeper 3.8.0's /commands/connections and /commands/stat.
    const value = {
      connections: [{ remote_socket_address: "127.0.0.1:51188", session_id: 72057738670440454n, avg_latency: 4 }],
      secure_connections: [],
      paths: { "/a": [72057738670440454n], empty: {} },
      avg_latency: new JavaDouble(0),
      command: "connections",
      error: null,
    };
    expect(jacksonPretty(value)).toBe(
      [
        "{",
        '  "connections" : [ {',
        '    "remote_socket_address" : "127.0.0.1:51188",',
        '    "session_id" : 72057738670440454,',
        '    "avg_latency" : 4',
        "  } ],",
        '  "secure_connections" : [ ],',
        '  "paths" : {',
        '    "/a" : [ 72057738670440454 ],',
        '    "empty" : { }',
        "  },",
        '  "avg_latency" : 0.0,',
        '  "command" : "connections",',
        '  "error" : null',
        "}",
      ].join("\n"),
    );
  });

  it("answers every required command under its primary name and ZooKeeper's aliases", async () => {
    const names: [string, string][] = [
      ["ruok", "ruok"],
      ["stat", "stats"],
      ["stats", "stats"],
      ["srvr", "server_stats"],
      ["server_stats", "server_stats"],
      ["monitor", "monitor"],
      ["mntr", "monitor"],
      ["conf", "configuration"],
      ["config", "configuration"],
      ["configuration", "configuration"],
      ["connections", "connections"],
      ["cons", "connections"],
      ["watches", "watches"],
      ["wchc", "watches"],
      ["watch_summary", "watch_summary"],
      ["wchs", "watch_summary"],
      ["watches_by_path", "watches_by_path"],
      ["leader", "leader"],
      ["lead", "leader"],
      ["voting_view", "voting_view"],
      ["environment", "environment"],
      ["envi", "environment"],
      ["env", "environment"],
      ["dump", "dump"],
      ["is_read_only", "is_read_only"],
      ["isro", "is_read_only"],
      ["dirs", "dirs"],
      ["locks", "locks"],
      ["queues", "queues"],
      ["elections", "elections"],
    ];
    for (const [name, primary] of names) {
      const r = await command(name);
      expect(r["command"], name).toBe(primary);
      if (primary !== "leader") expect(r["error"], name).toBeNull();
    }
  });

  it("reports an unknown command in `error`, with HTTP 200 as ZooKeeper 3.8 does", async () => {
    const r = await text(`${t.adminUrl}/commands/nope`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ command: "nope", error: "Unknown command: nope" });
  });

  it("lists its commands at /commands and 404s elsewhere", async () => {
    const r = await text(`${t.adminUrl}/commands`);
    for (const name of ADMIN_COMMANDS) expect(r.body).toContain(`<a href="/commands/${name}">${name}</a>`);
    expect((await fetch(`${t.adminUrl}/elsewhere`)).status).toBe(404);
  });

  it("says leader is not initialized on a standalone server, error first as ZooKeeper orders it", async () => {
    const r = await text(`${t.adminUrl}/commands/leader`);
    expect(r.body).toBe('{\n  "error" : "server is not initialized",\n  "command" : "leader"\n}');
    expect(await command("voting_view")).toEqual({ current_config: {}, command: "voting_view", error: null });
    expect(await command("is_read_only")).toEqual({ read_only: false, command: "is_read_only", error: null });
  });

  it("monitor has mntr's keys in mntr's order, with the server's values", async () => {
    const m = await command("monitor");
    expect(Object.keys(m)).toEqual([...MNTR_KEYS.map((k) => k.replace(/^zk_/, "")), "command", "error"]);
    expect(m["server_state"]).toBe("standalone");
    expect(m["znode_count"]).toBe(t.server.nodeCount());
    expect(typeof m["version"]).toBe("string");
  });

  it("shows sessions, watches and ephemerals as the server holds them", async () => {
    const c = await client();
    const sid = BigInt.asIntN(64, c.sessionId).toString();
    await c.create("/adm", "x");
    await c.create("/adm/eph", null, { mode: "ephemeral" });
    await c.getData("/adm", { watch: () => {} });
    const cons = (await command("cons"))["connections"] as Record<string, unknown>[];
    // Session ids are Java longs (past 2^53): the raw JSON carries all their digits.
    expect((await text(`${t.adminUrl}/commands/cons`)).body).toContain(`"session_id" : ${sid},`);
    expect(Object.keys(cons[0]!)).toEqual([
      "remote_socket_address", "interest_ops", "outstanding_requests", "packets_received", "packets_sent", "session_id",
      "last_operation", "established", "session_timeout", "last_cxid", "last_zxid", "last_response_time", "last_latency",
      "min_latency", "avg_latency", "max_latency", "unsent_bytes", "reading_paused",
    ]);
    expect((await text(`${t.adminUrl}/commands/wchc`)).body).toContain(`"${sid}" : [ "/adm" ]`);
    expect(await command("wchp")).toMatchObject({ path_to_session_ids: { "/adm": [expect.any(Number)] } });
    expect(await command("wchs")).toMatchObject({ num_connections: 1, num_paths: 1, num_total_watches: 1 });
    const dump = await command("dump");
    expect((dump["session_id_to_ephemeral_paths"] as Record<string, string[]>)[sid]).toEqual(["/adm/eph"]);
    const stat = await command("stat");
    expect(stat).toMatchObject({ read_only: false, node_count: t.server.nodeCount(), server_stats: { server_state: "standalone" } });
    expect(Object.keys((stat["connections"] as object[])[0]!)).toEqual([
      "remote_socket_address", "interest_ops", "outstanding_requests", "packets_received", "packets_sent",
    ]);
    const conf = await command("conf");
    expect(Object.keys(conf)).toEqual([
      "client_port", "data_dir", "data_log_dir", "tick_time", "max_client_cnxns", "min_session_timeout",
      "max_session_timeout", "server_id", "client_port_listen_backlog", "command", "error",
    ]);
    expect(conf["client_port"]).toBe(t.port);
    await c.delete("/adm/eph");
  });

  it("shows lock holders and waiters in order, queue depth and waiters, election leader and members", async () => {
    const [a, b, cc] = [await client(), await client(), await client()];
    const held: LockHandle = await a.writeLock("/admin-locks/x");
    const waiting = b.writeLock("/admin-locks/x");
    const reader = cc.readLock("/admin-locks/x");
    await eventually(async () => ((await command("locks"))["locks"] as { waiters: unknown[] }[])[0]?.waiters.length === 2, "two lock waiters");
    const locks = (await command("locks"))["locks"] as Record<string, unknown>[];
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({
      path: "/admin-locks/x",
      kind: "read-write-lock",
      holders: [{ node: held.node, mode: "write", session_id: `0x${BigInt.asUintN(64, a.sessionId).toString(16)}`, token: held.token.toString() }],
      waiters: [{ mode: "write" }, { mode: "read" }],
    });
    const seqs = (locks[0]!["waiters"] as { node: string }[]).map((w) => Number(w.node.slice(-10)));
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs); // in sequence order

    await a.create("/admin-q");
    const take = b.queue("/admin-q").take();
    await eventually(async () => ((await command("queues"))["queues"] as { waiters: number }[]).some((q) => q.waiters === 1), "a queue waiter");
    await a.queue("/admin-q").offer("one");
    await a.queue("/admin-q").offer("two");
    expect((await take).toString()).toBe("one");
    await eventually(async () => ((await command("queues"))["queues"] as { depth: number }[])[0]?.depth === 1, "queue depth 1");
    expect((await command("queues"))["queues"]).toEqual([{ path: "/admin-q", depth: 1, waiters: 0, in_flight: 0, in_flight_items: [] }]);

    const e1 = a.election("/admin-e", "a");
    const e2 = b.election("/admin-e", "b");
    await e1.join();
    await e2.join();
    const elections = (await command("elections"))["elections"] as { leader: { node: string }; members: { node: string }[] }[];
    expect(elections).toHaveLength(1);
    expect(elections[0]!.members).toHaveLength(2);
    expect(elections[0]!.leader.node).toBe(elections[0]!.members[0]!.node);
    expect(elections[0]!.leader.node).toMatch(/^\/admin-e\/_c_[0-9a-f-]+-n_\d{10}$/);

    // The recipe gauges and grant counter say the same.
    const before = sampleValue(await metrics(), "corral_recipe_grants_total", { kind: "lock_granted" }) ?? 0;
    const m = await metrics();
    expect(sampleValue(m, "corral_lock_holders")).toBe(1);
    expect(sampleValue(m, "corral_lock_waiters")).toBe(2);
    expect(sampleValue(m, "corral_queue_depth")).toBe(1);
    expect(sampleValue(m, "corral_election_members")).toBe(2);
    await held.release();
    const next = await waiting;
    await next.release();
    await (await reader).release();
    await eventually(async () => (sampleValue(await metrics(), "corral_recipe_grants_total", { kind: "lock_granted" }) ?? 0) >= before + 2, "two grants counted");
  });
});

describe("AdminServer on an ensemble member", () => {
  it("leader and voting_view report the ensemble, as ZooKeeper's LeaderCommand and VotingViewCommand", async () => {
    const ens = await startEnsembleForTest({ participants: 3, observers: 1 });
    try {
      const leader = ens.leader()!;
      const follower = ens.followers()[0]!;
      const leaderOf = (m: typeof leader) => JSON.parse(runAdminCommand("lead", adminSource(m.server))) as Record<string, unknown>;
      expect(leaderOf(leader)).toEqual({ is_leader: true, leader_id: Number(leader.me.id), leader_ip: "127.0.0.1", command: "leader", error: null });
      expect(leaderOf(follower)).toMatchObject({ is_leader: false, leader_id: Number(leader.me.id), error: null });
      const view = JSON.parse(runAdminCommand("voting_view", adminSource(follower.server))) as { current_config: Record<string, Record<string, unknown>> };
      expect(Object.keys(view.current_config)).toEqual(["1", "2", "3"]); // voting members only: not the observer
      expect(view.current_config["1"]).toEqual({
        server_addresses: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)],
        election_addresses: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)],
        client_address: `127.0.0.1:${ens.clientPorts[0]}`,
        learner_type: "participant",
      });
      const monitor = JSON.parse(runAdminCommand("mntr", adminSource(leader.server))) as Record<string, unknown>;
      expect(monitor["server_state"]).toBe("leader");
    } finally {
      await ens.stop();
    }
  });
});

describe("/metrics", () => {
  it("is valid Prometheus text with the gauges, counters and histograms ZooKeeper users expect", async () => {
    const c = await client();
    for (let i = 0; i < 5; i++) await c.create(`/m${i}`, "data");
    await c.getData("/m0");
    const m = await metrics();
    const types = Object.fromEntries([...m.values()].map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      corral_request_latency_seconds: "histogram",
      corral_fsync_seconds: "histogram",
      outstanding_requests: "gauge",
      znode_count: "gauge",
      watch_count: "gauge",
      global_sessions: "gauge",
      num_alive_connections: "gauge",
      corral_bytes_received_total: "counter",
      corral_bytes_sent_total: "counter",
      corral_lock_waiters: "gauge",
      corral_queue_depth: "gauge",
      corral_recipe_grants_total: "counter",
    });
    for (const f of m.values()) expect(f.help, f.name).toBeTruthy();
    expect(sampleValue(m, "znode_count")).toBe(t.server.nodeCount());
    expect(sampleValue(m, "global_sessions")).toBe([...t.server.sessionList()].length);
    expect(sampleValue(m, "corral_request_latency_seconds_count", { op: "create" })).toBeGreaterThanOrEqual(5);
    expect(sampleValue(m, "corral_request_latency_seconds_count", { op: "getData" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(m, "corral_request_latency_seconds_bucket", { op: "create", le: "+Inf" })).toBe(
      sampleValue(m, "corral_request_latency_seconds_count", { op: "create" }),
    );
    expect(sampleValue(m, "corral_bytes_received_total")).toBeGreaterThan(0);
    expect(sampleValue(m, "corral_bytes_sent_total")).toBeGreaterThan(0);
    // Counters only grow.
    const sent = sampleValue(m, "corral_bytes_sent_total")!;
    await c.getData("/m1");
    expect(sampleValue(await metrics(), "corral_bytes_sent_total")!).toBeGreaterThan(sent);
  });

  it("times the storage layer's fsyncs on a durable server", async () => {
    const dir = await mkdtemp(join(tmpdir(), "corral-metrics-"));
    const d = await startStandaloneForTest({ dataDir: dir, metrics: true });
    try {
      const c = await connect(d.connectString);
      await c.create("/durable", "x");
      await c.close();
      const r = await fetch(`${d.metricsUrl}/metrics`);
      const m = parsePrometheusText(await r.text());
      checkHistograms(m);
      expect(sampleValue(m, "corral_fsync_seconds_count")).toBeGreaterThan(0);
    } finally {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers only /metrics", async () => {
    expect((await fetch(`${t.metricsUrl}/other`)).status).toBe(404);
  });
});
