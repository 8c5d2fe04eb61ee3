// The docs' example programs as a newcomer copies them: the fenced `js` blocks of a docs
// page whose first line is `// <name>.js: ...`, written into a fresh app directory whose
// `corral` package is this repository (its built dist/, as `npm install corral` gives).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtClient } from "./built-client.js";

const REPO = join(import.meta.dirname, "../..");

/** The page's JavaScript files by name, as written on the page. */
export function docFiles(page: string): Map<string, string> {
  const markdown = readFileSync(join(REPO, page), "utf8");
  const files = new Map<string, string>();
  for (const m of markdown.matchAll(/^```js\n(\/\/ ([\w.-]+\.js):[^\n]*\n[\s\S]*?)^```$/gm)) files.set(m[2]!, m[1]!);
  return files;
}

/** A temporary app directory holding the page's files and `node_modules/corral`; `remove()` deletes it. */
export function docApp(page: string): { dir: string; remove(): void } {
  builtClient();
  const dir = mkdtempSync(join(tmpdir(), "corral-doc-app-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "doc-app", private: true, type: "module" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPO, join(dir, "node_modules", "corral"), "dir");
  for (const [name, text] of docFiles(page)) writeFileSync(join(dir, name), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
