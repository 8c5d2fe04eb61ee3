/**
 * Per-namespace quota lines in mntr (issue 17), as ZooKeeper prints its quota gauge sets:
 * `zk_<namespace>_quota_{count,bytes}_{limit,usage}_per_namespace` after the plain gauges,
 * and `zk_<namespace>_quota_exceeded_error_per_namespace` once a request was refused. The
 * four-letter word, the AdminServer's `monitor` and /metrics show the same numbers.
 * Quotas are set as zkCli's setquota does: by writing the zookeeper_limits and
 * zookeeper_stats nodes through a client.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { fourLetterWord } from "../helpers/net.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const METRICS = ["count_limit", "bytes_limit", "count_usage", "bytes_usage"].map((m) => `quota_${m}_per_namespace`);

/** What zkCli's `setquota` writes for a quota on `path`. */
async function setQuota(zk: CorralClient, path: string, limits: string): Promise<void> {
  let at = "/zookeeper/quota";
  for (const part of path.slice(1).split("/")) {
    at += `/${part}`;
    if ((await zk.exists(at)) === null) await zk.create(at, null);
  }
  await zk.create(`${at}/zookeeper_limits`, limits);
  await zk.create(`${at}/zookeeper_stats`, "count=0,bytes=0");
}

/** mntr's lines as key -> value, in order. */
function mntrLines(text: string): [string, string][] {
  return text.replace(/\n$/, "").split("\n").map((l) => l.split("\t") as [string, string]);
}

describe("mntr's per-namespace quota lines", () => {
  let t: TestServer;

  it("print each namespace's summed limits and usage after the gauges, and refusals once there are some; monitor and /metrics agree", async () => {
    t = await startStandaloneForTest({ enforceQuota: true, adminServer: true, metrics: true });
    cleanups.push(() => t.stop());
    const zk = await connect(t.connectString);
    cleanups.push(() => zk.close());
    const mntr = async (): Promise<[string, string][]> => mntrLines(await fourLetterWord(t.host, t.port, "mntr"));

    // No quota: no quota line at all, as ZooKeeper's empty gauge sets print nothing.
    expect((await mntr()).filter(([k]) => k.includes("quota"))).toEqual([]);

    for (const p of ["/app", "/app/a", "/app/b", "/solo"]) await zk.create(p, null);
    await setQuota(zk, "/app/a", "count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=3");
    await setQuota(zk, "/app/b", "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
    await setQuota(zk, "/solo", "count=-1,bytes=7=;byteHardLimit=-1;countHardLimit=-1");
    await zk.create("/app/a/x", "12345");
    await zk.create("/app/b/y", "abc");
    await expect(zk.create("/app/a/z", "1")).resolves.toBe("/app/a/z");
    // /app/a holds 3 nodes (its root counted): a fourth is over the hard count limit.
    await expect(zk.create("/app/a/w", null)).rejects.toMatchObject({ code: "QuotaExceeded" });

    const lines = await mntr();
    const keys = lines.map(([k]) => k);
    const quota = lines.filter(([k]) => k.includes("_quota_"));
    // Gauge sets print in ZooKeeper's gauge-set order, each set's namespaces sorted.
    expect(quota).toEqual([
      ["zk_app_quota_bytes_limit_per_namespace", "100"],
      ["zk_solo_quota_bytes_limit_per_namespace", "7"],
      ["zk_app_quota_count_usage_per_namespace", "5"],
      ["zk_solo_quota_count_usage_per_namespace", "1"],
      ["zk_app_quota_count_limit_per_namespace", "8"],
      ["zk_solo_quota_count_limit_per_namespace", "-1"],
      ["zk_app_quota_bytes_usage_per_namespace", "9"],
      ["zk_solo_quota_bytes_usage_per_namespace", "0"],
      ["zk_app_quota_exceeded_error_per_namespace", "1"],
    ]);
    // The gauge sets follow the plain gauges; the counter set follows the counters.
    const first = keys.indexOf("zk_app_quota_bytes_limit_per_namespace");
    expect(keys[first - 1]).toBe("zk_non_mtls_local_conn_count");
    expect(keys[first + 8]).toBe("zk_proposal_count");
    const exceeded = keys.indexOf("zk_app_quota_exceeded_error_per_namespace");
    expect(keys[exceeded - 1]).toBe("zk_revalidate_count");

    // The AdminServer's monitor: the same keys without zk_, the same numbers.
    const monitor = (await (await fetch(`${t.adminUrl}/commands/monitor`)).json()) as Record<string, unknown>;
    for (const [k, v] of quota) expect(monitor[k.replace(/^zk_/, "")], k).toBe(Number(v));

    // /metrics: ZooKeeper's Prometheus names with the namespace as the `key` label.
    const prom = await (await fetch(`${t.metricsUrl}/metrics`)).text();
    const sample = (name: string, ns: string): string | undefined => prom.split("\n").find((l) => l.startsWith(`${name}{key="${ns}"} `))?.split(" ")[1];
    for (const ns of ["app", "solo"]) {
      for (const m of METRICS) expect(sample(m, ns), `${m} ${ns}`).toBe(quota.find(([k]) => k === `zk_${ns}_${m}`)![1]);
    }
    expect(sample("quota_exceeded_error_per_namespace", "app")).toBe("1");

    // Usage follows writes and deletes at once; a deleted quota's lines go.
    await zk.delete("/app/a/z");
    await zk.setData("/app/b/y", "abcdefgh");
    const after = new Map(await mntr());
    expect([after.get("zk_app_quota_count_usage_per_namespace"), after.get("zk_app_quota_bytes_usage_per_namespace")]).toEqual(["4", "13"]);
    await zk.delete("/zookeeper/quota/solo/zookeeper_limits");
    await zk.delete("/zookeeper/quota/solo/zookeeper_stats");
    expect((await mntr()).filter(([k]) => k.startsWith("zk_solo_"))).toEqual([]);
  });
});
