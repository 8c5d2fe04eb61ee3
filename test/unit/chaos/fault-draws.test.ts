// The ZAB-level run's fault choices depend on the seed only: one seed replays the same
// stream of draws, another seed (or lane) gives another, and exclusions are honoured.

import { describe, expect, it } from "vitest";
import { faultDraws, type FaultDraw } from "../../chaos/lib/ensemble-run.js";

function take(seed: number, lane: number, n: number, exclude: readonly string[] = []): FaultDraw[] {
  const g = faultDraws(seed, lane, exclude);
  return Array.from({ length: n }, () => g.next().value);
}

describe("faultDraws", () => {
  it("replays the same draws for the same seed and lane", () => {
    expect(take(505979118, 0, 50)).toEqual(take(505979118, 0, 50));
  });
  it("differs between seeds and between lanes", () => {
    expect(take(1, 0, 20)).not.toEqual(take(2, 0, 20));
    expect(take(1, 0, 20)).not.toEqual(take(1, 1, 20));
  });
  it("draws every kind over a long stream, within the ranges, and none excluded", () => {
    const draws = take(7, 0, 2_000);
    expect(new Set(draws.map((d) => d.kind)).size).toBe(8);
    for (const d of draws) {
      expect(d.gapMs).toBeGreaterThanOrEqual(200);
      expect(d.gapMs).toBeLessThan(1_000);
      expect(d.frac).toBeGreaterThanOrEqual(0);
      expect(d.frac).toBeLessThan(1);
    }
    const narrowed = take(7, 0, 500, ["kill-leader", "kill-follower"]);
    expect(narrowed.some((d) => d.kind.startsWith("kill"))).toBe(false);
    expect(() => faultDraws(1, 0, ["kill-leader", "kill-follower", "pause-leader", "pause-follower", "cut-leader", "cut-follower", "blackhole-leader", "blackhole-follower"]).next()).toThrow(/excluded/);
  });
});
