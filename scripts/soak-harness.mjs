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
