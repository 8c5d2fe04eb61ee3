// The client as a plain `node` child process imports it: the build in dist/ (`npm test`
// builds it before vitest runs; on its own, `npx tsc -p tsconfig.build.json`).

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUILT_CLIENT = fileURLToPath(new URL("../../dist/src/client/index.js", import.meta.url));

/** The path of the built client's index (the package's main export); throws, saying how to build it, if it is not there. */
export function builtClient(): string {
  if (!existsSync(BUILT_CLIENT)) throw new Error(`${BUILT_CLIENT} is missing: a child process runs the built client; build it first (npx tsc -p tsconfig.build.json, as npm test does)`);
  return BUILT_CLIENT;
}
