#!/usr/bin/env node
// The `corral` command. The npm package ships the compiled dist/; a checkout of the
// repository compiles it with `npm run build` (`npm start` and `npm test` build first).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("corral: dist/ is missing; run `npm run build` first\n");
  process.exit(1);
}
await import(entry.href);
