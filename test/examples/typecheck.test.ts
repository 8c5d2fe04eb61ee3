// The examples are plain JavaScript that users copy, checked with `// @ts-check` against
// the package's published types (examples/tsconfig.json, resolving "corral" through
// package.json's "exports" to dist/): a change to the client API that would break them
// fails here, not in a user's copy.

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function examples(): string[] {
  const dir = `${ROOT}examples`;
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".mjs"))
    .map((e) => `${e.parentPath}/${e.name}`.slice(ROOT.length));
}

describe("examples/", () => {
  it("every example is checked: it starts with // @ts-check and imports the package by its name", () => {
    const files = examples();
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const text = readFileSync(`${ROOT}${f}`, "utf8");
      expect(text.startsWith("// @ts-check\n"), f).toBe(true);
      expect(text, f).toMatch(/^import \{[^}]*\} from "corral";$/m);
    }
  });

  it("they type-check against the package's types", async () => {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const p = spawn(process.execPath, [TSC, "-p", "examples/tsconfig.json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      p.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
      p.once("error", reject);
      p.once("close", (code) => resolve({ code, out }));
    });
    expect(out).toBe("");
    expect(code).toBe(0);
  });
});
