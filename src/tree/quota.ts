// Quotas as ZooKeeper 3.7+ keeps them: a quota on `/a/b` is the node
// `/zookeeper/quota/a/b/zookeeper_limits` (written by clients: zkCli's setquota) and the
// node `/zookeeper/quota/a/b/zookeeper_stats` (created by clients, then kept by the
// server at `count=N,bytes=M` for the subtree at `/a/b`, the root counted, bytes being
// the data lengths). Both hold ZooKeeper's StatsTrack text: `key=value` pairs, `count`
// and `bytes` first, then the other keys sorted, set off by `=;` and joined by `;`
// (the extra `=` makes pre-3.7 parsers stop after `bytes`), e.g.
// `count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=4`. A missing key reads as -1 (no
// limit). Pure text and path rules here; the tree keeps the stats (tree.ts).

export const QUOTA_PREFIX = "/zookeeper/quota";
export const QUOTA_LIMITS_NODE = "zookeeper_limits";
export const QUOTA_STATS_NODE = "zookeeper_stats";
/** The prefix of every quota node's path (checked on each create and delete). */
const QUOTA_DIR = QUOTA_PREFIX + "/";

/** The limits of one quota; -1 where none is set. */
export interface QuotaLimits {
  count: number;
  bytes: number;
  countHardLimit: number;
  byteHardLimit: number;
}

/** Usage of a quota's subtree, as its zookeeper_stats node holds it. */
export interface QuotaUsage {
  count: number;
  bytes: number;
}

/** Keys whose value is not a whole number are left out (they read as -1). */
export function parseStatsTrack(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pair of text.split(/[,;]+/)) {
    const [key, value] = pair.split("=");
    if (key === undefined || key === "" || value === undefined || !/^[+-]?\d{1,18}$/.test(value.trim())) continue;
    out.set(key.trim(), Number(value.trim()));
  }
  return out;
}

export function formatStatsTrack(stats: ReadonlyMap<string, number>): string {
  const head = `count=${stats.get("count") ?? -1},bytes=${stats.get("bytes") ?? -1}`;
  const rest = [...stats.keys()].filter((k) => k !== "count" && k !== "bytes").sort();
  return rest.length === 0 ? head : `${head}=;${rest.map((k) => `${k}=${stats.get(k)}`).join(";")}`;
}

export function parseLimits(data: Buffer | null): QuotaLimits {
  const m = parseStatsTrack(data === null ? "" : data.toString("utf8"));
  return {
    count: m.get("count") ?? -1,
    bytes: m.get("bytes") ?? -1,
    countHardLimit: m.get("countHardLimit") ?? -1,
    byteHardLimit: m.get("byteHardLimit") ?? -1,
  };
}

export function parseUsage(data: Buffer | null): QuotaUsage {
  const m = parseStatsTrack(data === null ? "" : data.toString("utf8"));
  return { count: m.get("count") ?? -1, bytes: m.get("bytes") ?? -1 };
}

export function formatUsage(u: QuotaUsage): string {
  return `count=${u.count},bytes=${u.bytes}`;
}

export function limitsPathOf(root: string): string {
  return `${QUOTA_PREFIX}${root}/${QUOTA_LIMITS_NODE}`;
}

export function statsPathOf(root: string): string {
  return `${QUOTA_PREFIX}${root}/${QUOTA_STATS_NODE}`;
}

/**
 * The quota root a limits or stats node stands for (`/zookeeper/quota/a/zookeeper_stats`
 * -> `/a`), or undefined for any other path and for roots the server does not track:
 * `/` and the `/zookeeper` subtree (as ZooKeeper's getMaxPrefixWithQuota ignores them;
 * counting /zookeeper would count the stats nodes themselves).
 */
export function quotaNodeOf(path: string): { root: string; kind: "limits" | "stats" } | undefined {
  if (!path.startsWith(QUOTA_DIR)) return undefined;
  const slash = path.lastIndexOf("/");
  const name = path.slice(slash + 1);
  const kind = name === QUOTA_LIMITS_NODE ? "limits" : name === QUOTA_STATS_NODE ? "stats" : undefined;
  if (kind === undefined) return undefined;
  const root = path.slice(QUOTA_PREFIX.length, slash);
  if (root === "" || root === "/zookeeper" || root.startsWith("/zookeeper/")) return undefined;
  return { root, kind };
}
