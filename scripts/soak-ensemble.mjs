#!/usr/bin/env node
// Long runs of the ZAB-level fault suite (issue 14; test/chaos/lib/ensemble-run.ts): runs
// seeds one after another on 3- and 5-member ensembles of real processes until SOAK_SEEDS
// seeds or SOAK_MINUTES minutes, whichever comes first, and prints one line per run and a
// summary line with the runs and the violations found.
//
//   npm run soak:ensemble                                   # 60 minutes or 10000 seeds
//   SOAK_MINUTES=20 npm run soak:ensemble
//   SOAK_FROM=42 SOAK_SEEDS=1 SOAK_MEMBERS=5 npm run soak:ensemble   # replay one seed
//
// SOAK_FROM: first seed (default: from the clock, printed); SOAK_MEMBERS: 3, 5 or both
// (default both: every seed on each); SOAK_FAULT_MS: the fault phase of each run (default
// 10 s); SOAK_EXCLUDE: fault kinds left out (comma-separated). Exit code 1 when any run
// found a violation or could not be run.

import { buildHarness } from "./soak-harness.mjs";

const env = process.env;
const seedsMax = Number(env.SOAK_SEEDS ?? 10_000);
const minutes = Number(env.SOAK_MINUTES ?? 60);
const from = env.SOAK_FROM !== undefined ? Number(env.SOAK_FROM) : Date.now() % 1_000_000_007;
const sizes = (env.SOAK_MEMBERS ?? "both") === "both" ? [3, 5] : [Number(env.SOAK_MEMBERS)];
const faultMs = env.SOAK_FAULT_MS !== undefined ? Number(env.SOAK_FAULT_MS) : undefined;
const excludeFaults = env.SOAK_EXCLUDE?.split(",") ?? [];
for (const [name, v] of [["SOAK_SEEDS", seedsMax], ["SOAK_MINUTES", minutes], ["SOAK_FROM", from]]) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
}
for (const n of sizes) if (n !== 3 && n !== 5) throw new Error(`SOAK_MEMBERS: ${n}?`);

const harness = buildHarness("ensemble-run");
const { runEnsembleFaults, describeEnsembleResult, ensembleReplayCommand } = await import(harness("ensemble-run"));
const { killAllChildren } = await import(harness("cluster"));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    killAllChildren();
    process.exit(130);
  });
}

const startedAt = performance.now();
const deadline = startedAt + minutes * 60_000;
const failing = [];
const byProperty = {};
let seedsRun = 0;
let runs = 0;
let violations = 0;
let harnessErrors = 0;
console.log(`soak: seeds from ${from}, at most ${seedsMax} seeds or ${minutes} minutes, members ${sizes.join(",")}`);
for (let seed = from; seedsRun < seedsMax && performance.now() < deadline; seed++) {
  seedsRun++;
  for (const members of sizes) {
    if (performance.now() >= deadline) break;
    runs++;
    let r;
    try {
      r = await runEnsembleFaults({ seed, members, excludeFaults, ...(faultMs === undefined ? {} : { faultMs }) });
    } catch (e) {
      harnessErrors++;
      console.log(`seed=${seed} members=${members} HARNESS ERROR ${e instanceof Error ? e.message : String(e)}\n  replay: ${ensembleReplayCommand(seed, members)}`);
      killAllChildren();
      continue;
    }
    console.log(describeEnsembleResult(r));
    if (r.errors.length > 0) {
      harnessErrors++;
      for (const e of r.errors.slice(0, 3)) console.log(`  harness: ${e.slice(0, 300)}`);
    }
    if (r.violations.length > 0) {
      violations += r.violations.length;
      for (const [p, n] of Object.entries(r.byProperty)) byProperty[p] = (byProperty[p] ?? 0) + n;
      failing.push(`${seed}/${members}`);
      for (const v of r.violations.slice(0, 5)) console.log(`  ${v.property}: ${v.detail.slice(0, 600)}`);
    }
    if (r.violations.length > 0 || r.errors.length > 0) console.log(`  replay: ${ensembleReplayCommand(seed, members)}\n  record: ${r.recordFile}`);
  }
}

console.log(
  `soak: seeds=${seedsRun} runs=${runs} minutes=${((performance.now() - startedAt) / 60_000).toFixed(1)} ` +
    `violations=${violations} ${JSON.stringify(byProperty)} failing-runs=${failing.length}${failing.length > 0 ? ` [${failing.join(",")}]` : ""} harness-errors=${harnessErrors}`,
);
killAllChildren();
process.exit(violations > 0 || harnessErrors > 0 ? 1 : 0);
