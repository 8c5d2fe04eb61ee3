import { describe, expect, it } from "vitest";
import { fsyncBetween, parseFsync } from "../../../bench/fsync-metrics.js";

const text = (b: Record<string, number>, sum: number, count: number): string =>
  [
    "# HELP corral_fsync_seconds Duration of the storage layer's fsyncs",
    "# TYPE corral_fsync_seconds histogram",
    ...Object.entries(b).map(([le, n]) => `corral_fsync_seconds_bucket{le="${le}"} ${n}`),
    `corral_fsync_seconds_sum ${sum}`,
    `corral_fsync_seconds_count ${count}`,
    'corral_requests_total{op="create"} 7',
  ].join("\n");

describe("server fsync histogram between two scrapes", () => {
  it("takes the difference and interpolates the p50 inside its bucket", () => {
    const start = parseFsync(text({ "0.0001": 10, "0.00025": 10, "0.0005": 10, "+Inf": 10 }, 0.001, 10));
    // 100 more fsyncs: 20 in (0.1, 0.25] ms, 80 in (0.25, 0.5] ms.
    const end = parseFsync(text({ "0.0001": 10, "0.00025": 30, "0.0005": 110, "+Inf": 110 }, 0.001 + 0.035, 110));
    const d = fsyncBetween(start, end)!;
    expect(d.fsyncs).toBe(100);
    expect(d.meanMs).toBeCloseTo(0.35, 6);
    // The 50th of 100 is the 30th of the 80 in (0.25, 0.5]: 0.25 + 0.25 * 30/80 ms.
    expect(d.p50Ms).toBeCloseTo(0.25 + (0.25 * 30) / 80, 6);
  });

  it("is null when nothing was fsynced in between", () => {
    const s = parseFsync(text({ "0.001": 5, "+Inf": 5 }, 0.002, 5));
    expect(fsyncBetween(s, s)).toBeNull();
  });
});
