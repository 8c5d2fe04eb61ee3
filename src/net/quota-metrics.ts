// Per-namespace quota metrics (ZooKeeper's quota gauges, ZOOKEEPER-4211), shared by
// /metrics and mntr so the two never disagree. A namespace is a quota root's first path
// component (`/a/b` -> `a`); the quotas of one namespace are summed. A limit is the hard
// one where set, else the soft one. Pure arithmetic: the server hands in its quotas.

/** One quota as the metrics see it. */
export interface QuotaGauge {
  /** The quota root's first path component. */
  namespace: string;
  /** The hard limit where one is set, else the soft one; -1: none. */
  countLimit: number;
  bytesLimit: number;
  countUsage: number;
  bytesUsage: number;
}

export type QuotaMetricName = "countLimit" | "bytesLimit" | "countUsage" | "bytesUsage";

/** The metric names ZooKeeper exports, by field. */
export const QUOTA_METRIC_NAMES: Readonly<Record<QuotaMetricName, string>> = {
  countLimit: "quota_count_limit_per_namespace",
  bytesLimit: "quota_bytes_limit_per_namespace",
  countUsage: "quota_count_usage_per_namespace",
  bytesUsage: "quota_bytes_usage_per_namespace",
};

/** The counter of requests refused for a hard limit (enforceQuota), by namespace. */
export const QUOTA_EXCEEDED_METRIC = "quota_exceeded_error_per_namespace";

/**
 * `field` summed per namespace, namespaces sorted. A limit of -1 (none) counts only while
 * no quota of the namespace has one, so a lone quota without a byte limit shows -1 (as
 * ZooKeeper's mntr does) and a namespace with limits on some quotas shows their sum.
 */
export function quotaSums(quotas: Iterable<QuotaGauge>, field: QuotaMetricName): Map<string, number> {
  const limit = field === "countLimit" || field === "bytesLimit";
  const sums = new Map<string, number>();
  for (const q of quotas) {
    const v = q[field];
    const sum = sums.get(q.namespace);
    if (limit && v < 0) sums.set(q.namespace, sum ?? -1);
    else sums.set(q.namespace, (sum === undefined || (limit && sum < 0) ? 0 : sum) + v);
  }
  return new Map([...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
