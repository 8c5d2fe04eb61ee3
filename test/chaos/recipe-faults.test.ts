// The recipe fault suite (issue 13), short run: a few seeds against a standalone server and
// a 3-member ensemble of real processes, plus every seed in recipe-seeds.json (seeds that
// once found a violation). Each run injects faults chosen by its seed (client connections
// cut, black-holed, delayed; servers killed -9 and restarted; the leader SIGSTOPped past
// syncLimit; a follower forced to resync by SNAP), then heals, stops and drains, and checks
// the history (test/chaos/lib/checkers.ts). Long runs: `npm run soak:recipes`.
//
// Environment: CHAOS_SEEDS=1,2,3 and CHAOS_TOPOLOGY=standalone|ensemble3 run exactly those
// (the replay command printed with a failure); CHAOS_FAULT_MS overrides the fault phase;
// CHAOS_REGRESSIONS=all re-runs every seed of recipe-seeds.json, not only those marked short.
// Needs the build (dist/src/cli/main.js): `npx tsc -p tsconfig.build.json`.

import { existsSync, readFileSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killAllChildren } from "./lib/cluster.js";
import { describeResult, replayCommand, runRecipeFaults, type Topology } from "./lib/run.js";

interface Regression {
  seed: number;
  topology: Topology;
  /** Re-run by the short suite (npm test); the others with CHAOS_REGRESSIONS=all. */
  short?: boolean;
  note?: string;
}

const regressions = JSON.parse(readFileSync(new URL("./recipe-seeds.json", import.meta.url), "utf8")) as { seeds: Regression[] };

function plan(): { seed: number; topology: Topology; why: string }[] {
  const seedsEnv = process.env["CHAOS_SEEDS"];
  const topoEnv = process.env["CHAOS_TOPOLOGY"] as Topology | undefined;
  if (seedsEnv !== undefined) {
    const topologies: Topology[] = topoEnv !== undefined ? [topoEnv] : ["standalone", "ensemble3"];
    return seedsEnv
      .split(",")
      .map(Number)
      .flatMap((seed) => topologies.map((topology) => ({ seed, topology, why: "CHAOS_SEEDS" })));
  }
  const out = [
    { seed: 1, topology: "standalone" as const, why: "short run" },
    { seed: 1, topology: "ensemble3" as const, why: "short run" },
  ];
  const all = process.env["CHAOS_REGRESSIONS"] === "all";
  const left = regressions.seeds.filter((r) => !all && r.short !== true);
  if (left.length > 0) {
    // Not silent: say what the short run leaves out and how to run it.
    console.log(`recipe faults: ${left.length} more regression seed(s) in recipe-seeds.json run with CHAOS_REGRESSIONS=all: ${left.map((r) => `${r.seed}/${r.topology}`).join(", ")}`);
  }
  for (const r of regressions.seeds) {
    if (!all && r.short !== true) continue;
    if (!out.some((x) => x.seed === r.seed && x.topology === r.topology)) out.push({ seed: r.seed, topology: r.topology, why: `regression${r.note === undefined ? "" : `: ${r.note}`}` });
  }
  return out;
}

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

const CLI = new URL("../../dist/src/cli/main.js", import.meta.url).pathname;

describe("recipes through faults (real processes, seeded)", () => {
  it("has the built server to run", () => {
    expect(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.build.json)`).toBe(true);
  });
  for (const p of plan()) {
    it(`seed=${p.seed} ${p.topology} (${p.why})`, async () => {
      const faultMs = process.env["CHAOS_FAULT_MS"] === undefined ? undefined : Number(process.env["CHAOS_FAULT_MS"]);
      const r = await runRecipeFaults({ seed: p.seed, topology: p.topology, ...(faultMs === undefined ? {} : { faultMs }) });
      const line = describeResult(r);
      console.log(line);
      if (r.violations.length > 0 || r.errors.length > 0) {
        console.log(`seed=${p.seed} failed; replay: ${replayCommand(p.seed, p.topology)}\nhistory: ${r.historyFile ?? "-"}`);
      }
      expect(r.errors, `harness errors, seed=${p.seed}`).toEqual([]);
      expect(
        r.violations.slice(0, 20).map((v) => `${v.property}: ${v.detail}`),
        `seed=${p.seed} ${p.topology}: replay with ${replayCommand(p.seed, p.topology)}`,
      ).toEqual([]);
    }, 90_000);
  }
});
