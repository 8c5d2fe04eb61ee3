// The server's own fsync histogram under a case's load (issue 15): Corral's /metrics
// `corral_fsync_seconds` read at the start and at the end of a run's window, summed over
// an ensemble's members, and the difference summarised (mean exactly; p50 interpolated
// within its bucket, as Prometheus's histogram_quantile does).

export interface FsyncCounts {
  /** Cumulative counts by upper bound (seconds), +Inf last. */
  buckets: Map<number, number>;
  sumS: number;
  count: number;
}

const LINE = /^corral_fsync_seconds_(bucket\{le="([^"]+)"\}|sum|count)\s+(\S+)/;

/** Parses one /metrics text's fsync histogram (cumulative, as Prometheus writes it). */
export function parseFsync(text: string): FsyncCounts {
  const out: FsyncCounts = { buckets: new Map(), sumS: 0, count: 0 };
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const v = Number(m[3]);
    if (m[1] === "sum") out.sumS = v;
    else if (m[1] === "count") out.count = v;
    else out.buckets.set(m[2] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[2]), v);
  }
  return out;
}

function add(a: FsyncCounts, b: FsyncCounts, sign: 1 | -1): FsyncCounts {
  const buckets = new Map(a.buckets);
  for (const [le, n] of b.buckets) buckets.set(le, (buckets.get(le) ?? 0) + sign * n);
  return { buckets, sumS: a.sumS + sign * b.sumS, count: a.count + sign * b.count };
}

/** Every member's histogram, summed; null if any cannot be read. */
export async function scrapeFsync(urls: readonly string[], timeoutMs = 2_000): Promise<FsyncCounts | null> {
  try {
    const all = await Promise.all(
      urls.map(async (u) => {
        const res = await fetch(u, { signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) throw new Error(`${u}: HTTP ${res.status}`);
        return parseFsync(await res.text());
      }),
    );
    return all.reduce((a, b) => add(a, b, 1), { buckets: new Map(), sumS: 0, count: 0 });
  } catch {
    return null;
  }
}

/** What happened between two scrapes: fsyncs, their mean and interpolated p50 (ms). */
export function fsyncBetween(start: FsyncCounts, end: FsyncCounts): { fsyncs: number; meanMs: number; p50Ms: number } | null {
  const d = add(end, start, -1);
  if (d.count <= 0) return null;
  const bounds = [...d.buckets.keys()].sort((x, y) => x - y);
  const half = d.count / 2;
  let lower = 0;
  let below = 0;
  let p50S = Number.NaN;
  for (const le of bounds) {
    const cum = d.buckets.get(le)!;
    if (cum >= half) {
      // Linear within (lower, le]; the +Inf bucket has no width: its lower bound.
      p50S = Number.isFinite(le) ? lower + ((le - lower) * (half - below)) / Math.max(1, cum - below) : lower;
      break;
    }
    lower = le;
    below = cum;
  }
  return { fsyncs: d.count, meanMs: (d.sumS / d.count) * 1000, p50Ms: p50S * 1000 };
}
