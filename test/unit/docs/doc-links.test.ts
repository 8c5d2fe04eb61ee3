// The docs' link check (scripts/check-doc-links.mjs, part of `npm run docs:check`): the
// repository's README.md and docs/*.md have no broken relative link or anchor and none that
// leaves the repository, and the checker catches each kind of break.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const CHECKER = join(import.meta.dirname, "../../../scripts/check-doc-links.mjs");
const REPO = join(import.meta.dirname, "../../..");

function check(root: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CHECKER, root], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dirs: string[] = [];
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "corral-doc-links-"));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("check-doc-links", () => {
  it("finds no broken link in the repository's README.md and docs/*.md", () => {
    const r = check(REPO);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/README\.md, docs\/architecture\.md, .*docs\/recipes\.md/);
  });

  it("accepts links to files, directories and headings (GitHub's slugs, duplicates numbered), and ignores code and external links", () => {
    const root = fixture({
      "README.md": [
        "# Corral",
        "See [start](docs/getting-started.md#1-install-it), [the locks](docs/recipes.md#locks-and-semaphores),",
        "[again](docs/recipes.md#locks-and-semaphores-1), [src](src/) and [top](#corral).",
        "[web](https://example.com/x#y) <mailto:a@b.c>",
        "`[not a link](nowhere.md)`",
        "```",
        "[not a link either](nowhere.md)",
        "```",
        "[ref]: docs/recipes.md#whats-here",
        "[gs]: docs/getting-started.md",
      ].join("\n"),
      "docs/getting-started.md": "## 1. Install it\n",
      "docs/recipes.md": "## What's here\n## Locks and semaphores\n## Locks and semaphores\n",
      "src/a.ts": "",
    });
    const r = check(root);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("reports a missing file, a missing anchor, a link out of the repository, an absolute path and a page the README does not link, with file and line", () => {
    const root = fixture({
      "README.md": "# Corral\n[design](../shared/DESIGN.md)\n[gone](docs/gone.md)\n[client](docs/client.md)\n",
      "docs/client.md": "# Client\n[states](#connection-states)\n[abs](/etc/passwd)\n[ok](../README.md#corral)\n",
      "docs/orphan.md": "# Not linked from the README\n",
    });
    const r = check(root);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toEqual([
      "README.md:2: ../shared/DESIGN.md: outside the repository",
      "README.md:3: docs/gone.md: docs/gone.md does not exist",
      "docs/client.md:2: #connection-states: no heading #connection-states in docs/client.md",
      "docs/client.md:3: /etc/passwd: absolute path (use a path relative to docs/client.md)",
      "README.md: docs/orphan.md is not linked from the README",
      "check-doc-links: 5 broken link(s) in 3 file(s)",
    ]);
  });
});
