// A case against the durable hand-off floor (issue 15): chains as a share of the floor's
// rate, latencies as a multiple of its p50, an ensemble's floor one round trip longer.

import { describe, expect, it } from "vitest";
import { ofFloor } from "../../../bench/harness.js";
import type { CaseReport, FloorProbe } from "../../../bench/report/types.js";

const probe = (perSec: number, p50: number, rtt: number): FloorProbe => ({ dir: "/tmp", samples: 100, rttP50Ms: rtt, durableRoundTripP50Ms: p50, durableRoundTripsPerSec: perSec });
const spread = (median: number) => ({ median, min: median, max: median });

function caseOf(topology: "standalone" | "ensemble", opsPerSec: number, p50Ms: number): CaseReport {
  return { topology, summary: { opsPerSec: spread(opsPerSec), p50Ms: spread(p50Ms) } } as unknown as CaseReport;
}

describe("ofFloor", () => {
  it("holds a chain's ops/s against the probe's rate, averaged over the probes before and after", () => {
    // 2,000/s and 4,000/s: mean step (0.5 + 0.25) / 2 = 0.375 ms, floor rate 2,666.7/s.
    const f = ofFloor(caseOf("standalone", 2000, 1), "chain", probe(2000, 0.4, 0.1), probe(4000, 0.2, 0.1))!;
    expect(f.kind).toBe("chain");
    expect(f.floorMs).toBeCloseTo(0.375, 6);
    expect(f.value).toBeCloseTo(0.75, 6);
  });

  it("adds one round trip for an ensemble (client to leader, leader to follower and back)", () => {
    const f = ofFloor(caseOf("ensemble", 1000, 1), "chain", probe(2000, 0.4, 0.25), null)!;
    expect(f.floorMs).toBeCloseTo(0.75, 6);
    expect(f.value).toBeCloseTo(0.75, 6);
  });

  it("holds a latency's p50 against the probe's p50", () => {
    const f = ofFloor(caseOf("standalone", 10, 0.6), "latency", null, probe(2000, 0.4, 0.1))!;
    expect(f.kind).toBe("latency");
    expect(f.floorMs).toBeCloseTo(0.4, 6);
    expect(f.value).toBeCloseTo(1.5, 6);
  });

  it("is null for a case that is not fsync-bound, or without a probe", () => {
    expect(ofFloor(caseOf("standalone", 10, 1), undefined, probe(2000, 0.4, 0.1), null)).toBeNull();
    expect(ofFloor(caseOf("standalone", 10, 1), "chain", null, null)).toBeNull();
  });
});
