// docs/getting-started.md is what a newcomer copies: its worker pool (pool.js, main.js) and
// its test (pool.test.js) are taken from the page as written, put in a fresh app directory
// whose `corral` package is this repository (the built dist/, as `npm install corral`
// gives), and the page's test is run with `node --test`: a real server on a free port,
// two members, main.js stopped by SIGTERM.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { builtClient } from "../helpers/built-client.js";

const REPO = join(import.meta.dirname, "../..");
const GUIDE = join(REPO, "docs/getting-started.md");

/** The page's JavaScript files: fenced `js` blocks whose first line is `// <name>.js: ...`. */
function filesOf(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of markdown.matchAll(/^```js\n(\/\/ ([\w.-]+\.js):[^\n]*\n[\s\S]*?)^```$/gm)) files.set(m[2]!, m[1]!);
  return files;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("docs/getting-started.md", () => {
  it("has the pool, its main and its test as files to copy", () => {
    expect([...filesOf(readFileSync(GUIDE, "utf8")).keys()].sort()).toEqual(["main.js", "pool.js", "pool.test.js"]);
  });

  it("its worker pool passes its own test against a real server", () => {
    builtClient();
    const app = mkdtempSync(join(tmpdir(), "corral-guide-"));
    dirs.push(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "pool", private: true, type: "module" }));
    mkdirSync(join(app, "node_modules"));
    symlinkSync(REPO, join(app, "node_modules", "corral"), "dir");
    for (const [name, text] of filesOf(readFileSync(GUIDE, "utf8"))) writeFileSync(join(app, name), text);
    const r = spawnSync(process.execPath, ["--test", "pool.test.js"], { cwd: app, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout + r.stderr).toMatch(/# pass 2\n# fail 0\n/);
    expect(r.status).toBe(0);
  });
});
