/**
 * Quotas as ZooKeeper 3.7+ keeps them (issue 17): Apache zkCli's setquota, listquota and
 * delquota write /zookeeper/quota/<path>/zookeeper_limits and zookeeper_stats themselves;
 * the server keeps zookeeper_stats at `count=N,bytes=M` for the subtree and, with
 * `enforceQuota=true`, refuses creates and setData past a hard limit (QuotaExceeded).
 *
 * - The same zkCli 3.8 script runs against Apache ZooKeeper 3.8 and against Corral, and
 *   `corral cli` runs it against Corral: all three print the same (times and zxids masked).
 * - The stats are znodes changed on apply: a restart (snapshot + log replay) and a SNAP
 *   sync under writes end with the stats of the members that applied every txn.
 * - Soft limits are a logged warning; quota gauges and refusals are on /metrics.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { QuorumServer, startEnsembleForTest, startStandaloneForTest, type TestEnsemble, type TestServer } from "../../src/server/index.js";
import { silentLogger } from "../../src/util/index.js";
import { startApacheZooKeeper, type ApacheZooKeeper } from "../helpers/apache-zk.js";
import { zkCliSession } from "../helpers/zkcli.js";
import { findZooKeeperInstall, inCi, INSTALL_HINT } from "../helpers/zookeeper-install.js";
import { recordingLogger } from "../unit/storage/helpers.js";
import { runProcess } from "../helpers/run-process.js";

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));
const RUN_TIMEOUT_MS = 30_000;
/** Nodes under the quota before the SNAP test's follower is wiped. */
const NODES = 1000;

const install = findZooKeeperInstall();
const zkSkip =
  (install.zkCli === undefined || install.java === undefined || install.serverClasspath === undefined) && !inCi()
    ? `Apache ZooKeeper (zkCli.sh and the server) not found; ${INSTALL_HINT}`
    : undefined;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every quota command's paths and messages, and enforceQuota's refusals. */
const SCRIPT = [
  "create /q",
  "create /q/b hello",
  "create /q/b/c 12",
  "setquota -n 2 /q",
  "listquota /q",
  "get -s /zookeeper/quota/q/zookeeper_limits",
  "get -s /zookeeper/quota/q/zookeeper_stats",
  "setquota -b 3 /q",
  "setquota -N 5 /q",
  "setquota -B 20 /q",
  "listquota /q",
  "setquota -n 0 /q",
  "setquota -b -5 /q",
  "setquota -N abc /q",
  "setquota -n 3 -b 4 /q",
  "setquota -x 3 /q",
  "setquota",
  "setquota -n 5",
  "setquota -n 5 /nope",
  "setquota -n 5 /q/b",
  "create /r",
  "create /r/s",
  "setquota -B 5 /r/s",
  "setquota -n 5 /r",
  "setquota -n 5 /",
  "setquota -n 0 /zookeeper/quota/q",
  "setquota -n 5 /zookeeper/quotax",
  "setquota -n 3 noslash",
  "listquota noslash",
  "delquota noslash",
  "listquota /nope",
  "listquota",
  "delquota /nope",
  "delquota -N /q",
  "listquota /q",
  "delquota -n -b /q",
  "setquota -N 7 /q",
  "create /q/d 1234567890",
  "create /q/e",
  "create /q/f",
  "create /q/g",
  "create /q/h",
  "set /q/b 123456789012345678901",
  "set /q/b 1",
  "delete /q/g",
  "create /q/h",
  "listquota /q",
  "create /r/s/t 123456",
  "set /r/s 1",
  "listquota /r/s",
  "ls -R /zookeeper/quota",
  "delquota /q",
  "listquota /q",
  "ls /zookeeper/quota",
  "delquota -B /r/s",
  "create /r/s/t 123456",
  "delquota /r/s",
  "ls /zookeeper/quota",
];

const mask = (lines: readonly string[]): string[] =>
  lines.map((l) => l.replace(/0x[0-9a-f]+/g, "0xZ").replace(/\w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}/g, "DATE"));

interface Run {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

/** `corral cli -server S` with the commands on stdin, then quit; its banner and connection events removed. */
async function corralCli(server: string, commands: readonly string[]): Promise<Run> {
  const r = await runProcess(process.execPath, [CORRAL, "cli", "-server", server], {
    env: { ...process.env, TZ: "UTC" },
    input: [...commands, "quit", ""].join("\n"),
    timeoutMs: RUN_TIMEOUT_MS,
  });
  const out = r.stdout
    .replace(/^Connecting to \S+\nWelcome to ZooKeeper!\nJLine support is disabled\n/, "")
    .replace(/\n?\nWATCHER::\n\nWatchedEvent state:(SyncConnected|Closed) type:None path:null\n/g, "");
  const lines = (t: string): string[] => (t === "" ? [] : t.replace(/\n$/, "").split("\n"));
  return { code: r.code, stdout: lines(out), stderr: lines(r.stderr) };
}

async function corral(opts: Parameters<typeof startStandaloneForTest>[0] = {}): Promise<TestServer> {
  const t = await startStandaloneForTest(opts);
  cleanups.push(() => t.stop());
  return t;
}

async function client(connectString: string): Promise<CorralClient> {
  const zk = await connect(connectString);
  cleanups.push(() => zk.close());
  return zk;
}

const text = async (zk: CorralClient, path: string): Promise<string | undefined> => (await zk.getData(path)).data?.toString();

describe.skipIf(zkSkip !== undefined)("zkCli's quota commands against Apache ZooKeeper 3.8 and Corral", () => {
  it("print the same, leave the same quota nodes, and refuse the same writes with enforceQuota=true", async () => {
    const apache: ApacheZooKeeper = await startApacheZooKeeper({ extraConfig: { enforceQuota: "true" } });
    cleanups.push(() => apache.stop());
    const ours = await corral({ enforceQuota: true });
    const ours2 = await corral({ enforceQuota: true });
    const [java, corralByZkCli, corralByCorralCli] = await Promise.all([
      zkCliSession(apache.connectString, SCRIPT),
      zkCliSession(ours.connectString, SCRIPT),
      corralCli(ours2.connectString, SCRIPT),
    ]);
    // What the script must show, so a change on both sides cannot pass unnoticed.
    expect(java.stdout).toContain("Output stat for /q count=7,bytes=13");
    expect(java.stderr.filter((l) => l.startsWith("Quota has exceeded"))).toEqual([
      "Quota has exceeded : /q/h",
      "Quota has exceeded : /q/b",
      "Quota has exceeded : /r/s/t",
    ]);
    expect(java.stdout).toContain("[Warning]: the count quota you create is less than the existing count:3");

    expect(mask(corralByZkCli.stdout)).toEqual(mask(java.stdout));
    expect(corralByZkCli.stderr).toEqual(java.stderr);
    expect(corralByZkCli.exitCode).toBe(java.exitCode);

    expect(mask(corralByCorralCli.stdout)).toEqual(mask(java.stdout));
    expect(corralByCorralCli.stderr).toEqual(java.stderr);
    expect(corralByCorralCli.code).toBe(java.exitCode);
  }, 120_000);

  it("each zkCli exit code matches (one command per run after a shared set-up)", async () => {
    const apache = await startApacheZooKeeper();
    cleanups.push(() => apache.stop());
    const ours = await corral();
    const setup = ["create /x", "create /x/y", "setquota -n 3 /x"];
    const cases = ["setquota -n 0 /x", "setquota -n 3 /nope", "setquota -n 3 /x/y", "setquota", "listquota /nope", "delquota /nope", "delquota -n /x", "delquota"];
    for (const server of [apache.connectString, ours.connectString]) await zkCliSession(server, setup);
    const codes = async (server: string): Promise<(number | null)[]> => {
      const out: (number | null)[] = [];
      for (const c of cases) out.push((await zkCliSession(server, [c])).exitCode);
      return out;
    };
    const [javaCodes, ourCodes] = await Promise.all([codes(apache.connectString), codes(ours.connectString)]);
    expect(javaCodes).toEqual([0, 1, 1, 1, 0, 0, 0, 1]);
    expect(ourCodes).toEqual(javaCodes);
    const cli = await Promise.all(cases.map((c) => corralCli(ours.connectString, [c])));
    expect(cli.map((r) => r.code)).toEqual(javaCodes);
  }, 180_000);
});

describe("quota stats across restarts, SNAP syncs and ensemble members", () => {
  it("a restart (snapshot plus log replay) keeps the stats, and they keep counting after it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "corral-quota-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // snapCount 20: snapshots are taken while the writes go on, so recovery loads one and replays the rest.
    let t = await startStandaloneForTest({ dataDir, snapCount: 20 });
    let zk = await connect(t.connectString);
    await zk.create("/app", "root");
    await zk.create("/zookeeper/quota/app", null);
    await zk.create("/zookeeper/quota/app/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=100");
    await zk.create("/zookeeper/quota/app/zookeeper_stats", "count=0,bytes=0");
    for (let i = 0; i < 60; i++) await zk.create(`/app/n${i}`, `${i}`.padStart(3, "0"));
    for (let i = 0; i < 60; i += 3) await zk.delete(`/app/n${i}`);
    await zk.setData("/app", "r");
    const before = await text(zk, "/zookeeper/quota/app/zookeeper_stats");
    expect(before).toBe("count=41,bytes=121");
    await zk.close();
    await t.stop();

    t = await startStandaloneForTest({ dataDir, snapCount: 20, enforceQuota: true });
    cleanups.push(() => t.stop());
    zk = await client(t.connectString);
    expect(await text(zk, "/zookeeper/quota/app/zookeeper_stats")).toBe(before);
    await zk.create("/app/after", "12");
    expect(await text(zk, "/zookeeper/quota/app/zookeeper_stats")).toBe("count=42,bytes=123");
    // The limits survived too: enforced after the restart.
    for (let i = 42; i < 100; i++) await zk.create(`/app/m${i}`);
    await expect(zk.create("/app/over")).rejects.toMatchObject({ code: "QuotaExceeded" });
  }, 60_000);

  it("a follower that SNAP-syncs while the leader takes writes under a quota ends with the leader's stats, as does one that applied every txn", async () => {
    const root = await mkdtemp(join(tmpdir(), "corral-quota-ens-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const ens: TestEnsemble = await startEnsembleForTest({ participants: 3, dataDirRoot: root, tickMs: 500 });
    let back: QuorumServer | undefined;
    cleanups.push(async () => {
      await back?.stop();
      await ens.stop();
    });
    const leader = ens.leader()!;
    const [wiped, steady] = ens.followers() as [QuorumServer, QuorumServer];
    const zk = await client(ens.connectStringOf(leader));
    await zk.create("/t", null);
    await zk.create("/zookeeper/quota/t", null);
    await zk.create("/zookeeper/quota/t/zookeeper_limits", "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
    await zk.create("/zookeeper/quota/t/zookeeper_stats", "count=0,bytes=0");
    // More txns than the leader keeps for DIFF (500, trimmed past 625): the wiped follower needs a SNAP.
    for (let i = 0; i < NODES; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => zk.create(`/t/n${i + k}`, "abcd")));

    const config = wiped.config;
    await ens.stopMember(wiped);
    for (const name of await readdir(config.dataDir!)) if (name !== "myid") await rm(join(config.dataDir!, name), { recursive: true, force: true });
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        await zk.create(`/t/w${writes}`, "xy");
        if (writes % 2 === 1 && writes < 50) await zk.delete(`/t/n${writes}`);
        writes++;
      }
    })();
    back = new QuorumServer({ config, log: silentLogger });
    await back.start();
    const synced = back;
    await until(() => synced.serving, "the wiped follower to sync and serve", 30_000);
    writing = false;
    await writer;
    expect(synced.syncsBySnapshot).toBe(1);
    expect(writes).toBeGreaterThan(0);
    const last = leader.server.tree.lastProcessedZxid;
    await until(() => synced.server.tree.lastProcessedZxid >= last && steady.server.tree.lastProcessedZxid >= last, "the followers to apply every txn", 30_000);
    const stats = (m: QuorumServer): string | undefined => m.server.tree.get("/zookeeper/quota/t/zookeeper_stats")?.data?.toString();
    const deletes = Math.floor(Math.min(writes, 50) / 2);
    expect(stats(leader)).toBe(`count=${1 + NODES + writes - deletes},bytes=${4 * (NODES - deletes) + 2 * writes}`);
    expect(stats(synced)).toBe(stats(leader));
    expect(stats(steady)).toBe(stats(leader));
    // And as a client of the synced follower reads it.
    const onFollower = await client(ens.connectStringOf(wiped)); // the same zoo.cfg: the same client port
    expect(await text(onFollower, "/zookeeper/quota/t/zookeeper_stats")).toBe(stats(leader));
  }, 90_000);
});

describe("quota warnings and metrics", () => {
  it("a soft limit passed is logged; /metrics shows limits, usage and refusals per namespace", async () => {
    const log = recordingLogger();
    const t = await corral({ enforceQuota: true, metrics: true, log });
    const zk = await client(t.connectString);
    await zk.create("/ns", null);
    await zk.create("/ns/a", null);
    await zk.create("/zookeeper/quota/ns", null);
    await zk.create("/zookeeper/quota/ns/a", null);
    await zk.create("/zookeeper/quota/ns/a/zookeeper_limits", "count=1,bytes=-1=;byteHardLimit=10;countHardLimit=-1");
    await zk.create("/zookeeper/quota/ns/a/zookeeper_stats", "count=0,bytes=0");
    expect(log.lines.filter((l) => l.level === "warn")).toEqual([]);
    await zk.create("/ns/a/1", "12345");
    expect(log.lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual(["Quota exceeded: /ns/a count=2 soft limit=1"]);
    await expect(zk.create("/ns/a/2", "123456")).rejects.toMatchObject({ code: "QuotaExceeded" });
    await expect(zk.setData("/ns/a/1", "12345678901")).rejects.toMatchObject({ code: "QuotaExceeded" });
    const res = await fetch(`${t.metricsUrl}/metrics`);
    const body = await res.text();
    const sample = (name: string): string | undefined => body.split("\n").find((l) => l.startsWith(`${name}{key="ns"} `))?.split(" ")[1];
    expect(sample("quota_count_limit_per_namespace")).toBe("1");
    expect(sample("quota_bytes_limit_per_namespace")).toBe("10");
    expect(sample("quota_count_usage_per_namespace")).toBe("2");
    expect(sample("quota_bytes_usage_per_namespace")).toBe("5");
    expect(sample("quota_exceeded_error_per_namespace")).toBe("2");
    // A second quota in the namespace adds to it; one without a count limit shows -1 alone.
    await zk.create("/ns/b", "xyz");
    await zk.create("/zookeeper/quota/ns/b", null);
    await zk.create("/zookeeper/quota/ns/b/zookeeper_limits", "count=-1,bytes=-1=;byteHardLimit=4;countHardLimit=-1");
    await zk.create("/zookeeper/quota/ns/b/zookeeper_stats", "count=0,bytes=0");
    await zk.create("/solo", null);
    await zk.create("/zookeeper/quota/solo", null);
    await zk.create("/zookeeper/quota/solo/zookeeper_limits", "count=-1,bytes=7=;byteHardLimit=-1;countHardLimit=-1");
    await zk.create("/zookeeper/quota/solo/zookeeper_stats", "count=0,bytes=0");
    const again = await (await fetch(`${t.metricsUrl}/metrics`)).text();
    const samples = (ns: string) => (name: string): string | undefined => again.split("\n").find((l) => l.startsWith(`${name}{key="${ns}"} `))?.split(" ")[1];
    const [ns, solo] = [samples("ns"), samples("solo")];
    expect(["count_limit", "bytes_limit", "count_usage", "bytes_usage"].map((m) => ns(`quota_${m}_per_namespace`))).toEqual(["1", "14", "3", "8"]);
    expect(["count_limit", "bytes_limit", "count_usage", "bytes_usage"].map((m) => solo(`quota_${m}_per_namespace`))).toEqual(["-1", "7", "1", "0"]);
  });
});

async function until(probe: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
