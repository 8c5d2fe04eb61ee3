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
// 10 s); SOAK_EXCLUDE: fault kinds left out (comma-separated); SOAK_LANES: faults that may
// overlap (default 1 with 3 members, 2 with 5). Exit code 1 when any run
// found a violation or could not be run.

import { buildHarness, soakLoop, soakSettings } from "./soak-harness.mjs";

const settings = soakSettings();
const sizes = (process.env.SOAK_MEMBERS ?? "both") === "both" ? [3, 5] : [Number(process.env.SOAK_MEMBERS)];
const excludeFaults = process.env.SOAK_EXCLUDE?.split(",") ?? [];
const lanes = process.env.SOAK_LANES === undefined ? undefined : Number(process.env.SOAK_LANES);
if (lanes !== undefined && !(Number.isInteger(lanes) && lanes >= 1)) throw new Error(`SOAK_LANES: ${process.env.SOAK_LANES}?`);
for (const n of sizes) if (n !== 3 && n !== 5) throw new Error(`SOAK_MEMBERS: ${n}?`);

const harness = buildHarness("ensemble-run");
const { runEnsembleFaults, describeEnsembleResult, ensembleReplayCommand } = await import(harness("ensemble-run"));
const { killAllChildren } = await import(harness("cluster"));
const { faultMs } = settings;
const { clean } = await soakLoop({
  settings,
  name: "members",
  variants: sizes,
  killAllChildren,
  runOne: async (seed, members) => {
    const r = await runEnsembleFaults({ seed, members, excludeFaults, ...(faultMs === undefined ? {} : { faultMs }), ...(lanes === undefined ? {} : { lanes }) });
    return { line: describeEnsembleResult(r), violations: r.violations, errors: r.errors, replay: ensembleReplayCommand(seed, members, { lanes, exclude: excludeFaults, faultMs }), record: r.recordFile };
  },
});
process.exit(clean ? 0 : 1);
