#!/usr/bin/env node
// The `corral` command. The TypeScript sources are compiled to dist/ by `npm install`
// (the package's `prepare` script) or `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("corral: dist/ is missing; run `npm install` or `npm run build` first\n");
  process.exit(1);
}
await import(entry.href);
