// docs/getting-started.md is what a newcomer copies: its worker pool (pool.js, main.js) and
// its test (pool.test.js) are taken from the page as written, put in a fresh app directory
// whose `corral` package is this repository, and the page's test is run with `node --test`:
// a real server on a free port, two members, main.js stopped by SIGTERM.

import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { docApp, docFiles } from "../helpers/doc-apps.js";

const PAGE = "docs/getting-started.md";
const apps: { remove(): void }[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.remove();
});

describe("docs/getting-started.md", () => {
  it("has the pool, its main and its test as files to copy", () => {
    expect([...docFiles(PAGE).keys()].sort()).toEqual(["main.js", "pool.js", "pool.test.js"]);
  });

  it("its worker pool passes its own test against a real server", () => {
    const app = docApp(PAGE);
    apps.push(app);
    const r = spawnSync(process.execPath, ["--test", "pool.test.js"], { cwd: app.dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout + r.stderr).toMatch(/# pass 2\n# fail 0\n/);
    expect(r.status).toBe(0);
  });
});
