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
import { buildHarness, root, soakLoop, soakSettings } from "./soak-harness.mjs";

const settings = soakSettings();
const topologies = (process.env.SOAK_TOPOLOGY ?? "both") === "both" ? ["standalone", "ensemble3"] : [process.env.SOAK_TOPOLOGY];
for (const t of topologies) if (t !== "standalone" && t !== "ensemble3") throw new Error(`SOAK_TOPOLOGY: ${t}?`);

const harness = buildHarness("run");
const { runRecipeFaults, describeResult, replayCommand } = await import(harness("run"));
const { killAllChildren } = await import(harness("cluster"));
const { faultMs } = settings;
const { failing, clean } = await soakLoop({
  settings,
  name: "topology",
  variants: topologies,
  killAllChildren,
  runOne: async (seed, topology) => {
    const r = await runRecipeFaults({ seed, topology, ...(faultMs === undefined ? {} : { faultMs }) });
    return { line: describeResult(r), violations: r.violations, errors: r.errors, replay: replayCommand(seed, topology), record: r.historyFile };
  },
});

if (process.env.SOAK_RECORD === "1" && failing.length > 0) {
  const file = join(root, "test", "chaos", "recipe-seeds.json");
  const list = JSON.parse(readFileSync(file, "utf8"));
  for (const f of failing) {
    if (!list.seeds.some((s) => s.seed === f.seed && s.topology === f.variant)) {
      list.seeds.push({ seed: f.seed, topology: f.variant, note: `soak ${new Date().toISOString().slice(0, 10)}: ${f.properties.join(", ")}` });
    }
  }
  writeFileSync(file, `${JSON.stringify(list, null, 2)}\n`);
  console.log(`soak: recorded ${failing.length} failing seed(s) in ${file}`);
}
process.exit(clean ? 0 : 1);
