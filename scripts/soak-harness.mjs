// Shared by the soak scripts (soak-recipes.mjs, soak-ensemble.mjs): builds the server
// (dist/) and compiles a fault-suite harness module from test/chaos/lib to dist/soak/ with
// tsc, so a soak imports it with no test runner.

import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Builds dist/ and the harness entry `test/chaos/lib/<entry>.ts`; returns a URL maker for its compiled modules. */
export function buildHarness(entry) {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  console.log("soak: building the server and the harness ...");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
  execFileSync(
    process.execPath,
    [
      tsc,
      "--outDir", join(root, "dist", "soak"),
      "--rootDir", root,
      "--module", "nodenext",
      "--moduleResolution", "nodenext",
      "--target", "ES2022",
      "--lib", "ES2023",
      "--types", "node",
      "--skipLibCheck",
      "--strict",
      join(root, "test", "helpers", "node-zookeeper-client.d.ts"), // types of the untyped CommonJS client
      join(root, "test", "chaos", "lib", `${entry}.ts`),
    ],
    { stdio: "inherit", cwd: root },
  );
  process.env.CORRAL_CLI_MAIN = join(root, "dist", "src", "cli", "main.js");
  const lib = join(root, "dist", "soak", "test", "chaos", "lib");
  return (module) => pathToFileURL(join(lib, `${module}.js`)).href;
}

/** SOAK_SEEDS, SOAK_MINUTES, SOAK_FROM (default: from the clock) and SOAK_FAULT_MS, checked. */
export function soakSettings(env = process.env) {
  const seedsMax = Number(env.SOAK_SEEDS ?? 10_000);
  const minutes = Number(env.SOAK_MINUTES ?? 60);
  const from = env.SOAK_FROM !== undefined ? Number(env.SOAK_FROM) : Date.now() % 1_000_000_007;
  const faultMs = env.SOAK_FAULT_MS !== undefined ? Number(env.SOAK_FAULT_MS) : undefined;
  for (const [name, v] of [["SOAK_SEEDS", seedsMax], ["SOAK_MINUTES", minutes], ["SOAK_FROM", from], ["SOAK_FAULT_MS", faultMs ?? 0]]) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  }
  return { seedsMax, minutes, from, faultMs };
}

/**
 * Runs seeds one after another, each on every variant (`name=value` in the output), until
 * `seedsMax` seeds or `minutes` minutes; prints one line per run (and the first violations,
 * the replay command and the record of a failing one) and a summary line. `runOne(seed,
 * variant)` returns { line, violations: [{property, detail}], errors: [string], replay,
 * record }; a throw counts as a harness error. Returns the failing runs and whether the
 * soak is clean; children are killed on SIGINT/SIGTERM and at the end.
 */
export async function soakLoop({ settings, name, variants, runOne, killAllChildren }) {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.once(sig, () => {
      killAllChildren();
      process.exit(130);
    });
  }
  const { seedsMax, minutes, from } = settings;
  const startedAt = performance.now();
  const deadline = startedAt + minutes * 60_000;
  const failing = [];
  const byProperty = {};
  let seedsRun = 0;
  let runs = 0;
  let violations = 0;
  let harnessErrors = 0;
  console.log(`soak: seeds from ${from}, at most ${seedsMax} seeds or ${minutes} minutes, ${name} ${variants.join(",")}`);
  for (let seed = from; seedsRun < seedsMax && performance.now() < deadline; seed++) {
    seedsRun++;
    for (const variant of variants) {
      if (performance.now() >= deadline) break;
      runs++;
      let r;
      try {
        r = await runOne(seed, variant);
      } catch (e) {
        harnessErrors++;
        console.log(`seed=${seed} ${name}=${variant} HARNESS ERROR ${e instanceof Error ? e.message : String(e)}`);
        killAllChildren();
        continue;
      }
      console.log(r.line);
      if (r.errors.length > 0) {
        harnessErrors++;
        for (const e of r.errors.slice(0, 3)) console.log(`  harness: ${e.slice(0, 300)}`);
      }
      if (r.violations.length > 0) {
        violations += r.violations.length;
        const properties = [...new Set(r.violations.map((v) => v.property))];
        for (const v of r.violations) byProperty[v.property] = (byProperty[v.property] ?? 0) + 1;
        failing.push({ seed, variant, properties });
        for (const v of r.violations.slice(0, 5)) console.log(`  ${v.property}: ${v.detail.slice(0, 600)}`);
      }
      if (r.violations.length > 0 || r.errors.length > 0) console.log(`  replay: ${r.replay}\n  record: ${r.record}`);
    }
  }
  const failingText = failing.map((f) => `${f.seed}/${f.variant}`).join(",");
  console.log(
    `soak: seeds=${seedsRun} runs=${runs} minutes=${((performance.now() - startedAt) / 60_000).toFixed(1)} ` +
      `violations=${violations} ${JSON.stringify(byProperty)} failing-runs=${failing.length}${failing.length > 0 ? ` [${failingText}]` : ""} harness-errors=${harnessErrors}`,
  );
  killAllChildren();
  return { failing, clean: violations === 0 && harnessErrors === 0 };
}
