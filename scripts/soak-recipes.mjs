#!/usr/bin/env node
// Long runs of the recipe fault suite (issue 13): runs seeds one after another until
// SOAK_SEEDS seeds or SOAK_MINUTES minutes, whichever comes first, and prints one line per
// run and a summary line with the seeds run and the violations found.
//
//   npm run soak:recipes                                   # 60 minutes or 10000 seeds
//   SOAK_MINUTES=10 npm run soak:recipes
//   SOAK_FROM=42 SOAK_SEEDS=1 SOAK_TOPOLOGY=ensemble3 npm run soak:recipes   # replay one seed
//
// SOAK_FROM: first seed (default: from the clock, printed); SOAK_TOPOLOGY: standalone,
// ensemble3 or both (default both: every seed on each); SOAK_FAULT_MS: the fault phase of
// each run; SOAK_RECORD=1 appends every failing seed to test/chaos/recipe-seeds.json (the
// short suite re-runs them). Exit code 1 when any run found a violation.
//
// It builds the server (dist/) and compiles the suite's harness (test/chaos/lib) to
// dist/soak/ with tsc, then imports it: no test runner, one process, children killed on exit.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildHarness, root } from "./soak-harness.mjs";

const env = process.env;

const seedsMax = Number(env.SOAK_SEEDS ?? 10_000);
const minutes = Number(env.SOAK_MINUTES ?? 60);
const from = env.SOAK_FROM !== undefined ? Number(env.SOAK_FROM) : Date.now() % 1_000_000_007;
const topologies = (env.SOAK_TOPOLOGY ?? "both") === "both" ? ["standalone", "ensemble3"] : [env.SOAK_TOPOLOGY];
const faultMs = env.SOAK_FAULT_MS !== undefined ? Number(env.SOAK_FAULT_MS) : undefined;
for (const [name, v] of [["SOAK_SEEDS", seedsMax], ["SOAK_MINUTES", minutes], ["SOAK_FROM", from]]) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
}
for (const t of topologies) if (t !== "standalone" && t !== "ensemble3") throw new Error(`SOAK_TOPOLOGY: ${t}?`);

const harness = buildHarness("run");
const { runRecipeFaults, describeResult, replayCommand } = await import(harness("run"));
const { killAllChildren } = await import(harness("cluster"));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    killAllChildren();
    process.exit(130);
  });
}

const deadline = performance.now() + minutes * 60_000;
const failing = [];
const byProperty = {};
let seedsRun = 0;
let runs = 0;
let violations = 0;
let harnessErrors = 0;
console.log(`soak: seeds from ${from}, at most ${seedsMax} seeds or ${minutes} minutes, topologies ${topologies.join(",")}`);
for (let seed = from; seedsRun < seedsMax && performance.now() < deadline; seed++) {
  seedsRun++;
  for (const topology of topologies) {
    if (performance.now() >= deadline) break;
    runs++;
    let r;
    try {
      r = await runRecipeFaults({ seed, topology, ...(faultMs === undefined ? {} : { faultMs }) });
    } catch (e) {
      harnessErrors++;
      console.log(`seed=${seed} topology=${topology} HARNESS ERROR ${e instanceof Error ? e.message : String(e)}`);
      killAllChildren();
      continue;
    }
    console.log(describeResult(r));
    harnessErrors += r.errors.length > 0 ? 1 : 0;
    if (r.violations.length > 0) {
      violations += r.violations.length;
      for (const [p, n] of Object.entries(r.byProperty)) byProperty[p] = (byProperty[p] ?? 0) + n;
      failing.push({ seed, topology, properties: Object.keys(r.byProperty) });
      for (const v of r.violations.slice(0, 5)) console.log(`  ${v.property}: ${v.detail}`);
      console.log(`  replay: ${replayCommand(seed, topology)}\n  history: ${r.historyFile}`);
    }
  }
}

if (env.SOAK_RECORD === "1" && failing.length > 0) {
  const file = join(root, "test", "chaos", "recipe-seeds.json");
  const list = JSON.parse(readFileSync(file, "utf8"));
  for (const f of failing) {
    if (!list.seeds.some((s) => s.seed === f.seed && s.topology === f.topology)) {
      list.seeds.push({ seed: f.seed, topology: f.topology, note: `soak ${new Date().toISOString().slice(0, 10)}: ${f.properties.join(", ")}` });
    }
  }
  writeFileSync(file, `${JSON.stringify(list, null, 2)}\n`);
  console.log(`soak: recorded ${failing.length} failing seed(s) in ${file}`);
}
const failingText = failing.map((f) => `${f.seed}/${f.topology}`).join(",");
console.log(
  `soak: seeds=${seedsRun} runs=${runs} minutes=${((minutes * 60_000 - Math.max(0, deadline - performance.now())) / 60_000).toFixed(1)} ` +
    `violations=${violations} ${JSON.stringify(byProperty)} failing-runs=${failing.length}${failing.length > 0 ? ` [${failingText}]` : ""} harness-errors=${harnessErrors}`,
);
killAllChildren();
process.exit(violations > 0 || harnessErrors > 0 ? 1 : 0);
