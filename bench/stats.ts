// Latency histograms (HdrHistogram, microsecond resolution, 3 significant digits) and
// the median/min/max summary of repeated runs.

import * as hdr from "hdr-histogram-js";

/** Values are recorded in microseconds; one hour is the largest we keep exactly. */
const HIGHEST_US = 3_600_000_000;

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export class LatencyHistogram {
  readonly #h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: true });

  recordMs(ms: number): void {
    this.#h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
  }

  get count(): number {
    return this.#h.totalCount;
  }

  summary(): LatencySummary {
    const h = this.#h;
    if (h.totalCount === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };
    // A percentile is its bucket's highest equivalent value, which can exceed the exact
    // maximum by the bucket's width: never report a p99 above the max.
    const max = h.maxValue;
    const at = (p: number): number => Math.min(h.getValueAtPercentile(p), max) / 1000;
    return {
      count: h.totalCount,
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      maxMs: max / 1000,
      meanMs: h.mean / 1000,
    };
  }

  /** The value at percentile `p` (e.g. 99.9), ms; 0 when empty; never above the max. */
  percentileMs(p: number): number {
    const h = this.#h;
    if (h.totalCount === 0) return 0;
    return Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000;
  }

  destroy(): void {
    this.#h.destroy();
  }
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median (the mean of the middle two for an even count), min and max. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}
