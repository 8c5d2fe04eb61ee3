// Tidy checks that fail CI (STYLE.md): imports point down DESIGN.md's layer table, and the
// deterministic core never reaches for the clock, timers, randomness or node: modules.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** What each src folder may import (DESIGN.md "Layers"); the folder itself is always allowed. */
const ALLOWED: Record<string, readonly string[]> = {
  util: [],
  jute: ["util"],
  txn: ["util", "jute"],
  tree: ["util", "jute", "txn"],
  watch: ["util", "jute", "tree"],
  session: ["util", "txn"],
  pipeline: ["util", "jute", "txn", "tree", "watch", "session", "storage"],
  // zab's message codec (codec.ts) uses jute's primitives; the state machine uses none.
  zab: ["util", "jute", "txn"],
  storage: ["util", "jute", "txn", "tree"],
  net: ["util", "jute", "pipeline", "zab"],
  config: [],
  server: ["util", "jute", "txn", "tree", "watch", "session", "pipeline", "zab", "storage", "net", "config", "recipe-engine", "../recipes"],
  client: ["util", "jute", "../recipes"],
  cli: ["util", "client", "server", "config"],
  "recipe-engine": ["util", "jute", "tree", "txn", "watch", "pipeline"],
  // corral/testing sits on top: it runs the CLI's entry (cli has no face: main.ts is it).
  testing: ["util", "client", "net", "cli"],
};

/** Imports allowed past a folder's face: the CLI's entry, which a testing server's child runs. */
const ENTRY_IMPORTS = new Set(["testing/child-main.ts -> ../cli/main.js"]);

const DETERMINISTIC = new Set(["jute", "txn", "tree", "session", "watch", "zab", "pipeline"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

const files = sourceFiles(join(ROOT, "src")).map((path) => {
  const rel = relative(join(ROOT, "src"), path);
  return { rel, layer: rel.split("/")[0]!, text: readFileSync(path, "utf8") };
});

describe("layering", () => {
  it("knows every src folder", () => {
    for (const f of files) expect(Object.keys(ALLOWED), f.rel).toContain(f.layer);
  });

  it("imports only point down the layer table, through each folder's index", () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(f.text)) {
        if (!spec.startsWith(".")) continue;
        const target = relative(join(ROOT, "src"), join(ROOT, "src", f.rel, "..", spec)).split("/");
        if (target[0] === "..") target.splice(0, 2, `../${target[1]}`);
        const layer = target[0]!;
        if (layer === f.layer) continue;
        if (!ALLOWED[f.layer]!.includes(layer)) bad.push(`${f.rel} imports ${layer} (${spec})`);
        else if (layer === "../recipes") {
          // The client may use the recipes' pure rules only; server registers the bindings.
          const rulesOnly = /\/(rules|common\/sequence)\.js$/.test(spec);
          if (f.layer === "client" && !rulesOnly) bad.push(`${f.rel} imports recipe code other than the pure rules (${spec})`);
        } else if ((target.length !== 2 || target[1] !== "index.js") && !ENTRY_IMPORTS.has(`${f.rel} -> ${spec}`)) bad.push(`${f.rel} reaches past ${layer}'s face (${spec})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("the deterministic core uses no clock, timers, randomness or node: modules", () => {
    const bad: string[] = [];
    const forbidden = /\b(Date\.now|new Date\(|setTimeout|setInterval|setImmediate|Math\.random|performance\.now|process\.)/;
    for (const f of files.filter((x) => DETERMINISTIC.has(x.layer))) {
      for (const spec of importsOf(f.text)) if (spec.startsWith("node:")) bad.push(`${f.rel} imports ${spec}`);
      const code = f.text.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
      const m = forbidden.exec(code);
      if (m !== null) bad.push(`${f.rel} uses ${m[1]}`);
    }
    expect(bad).toEqual([]);
  });
});

// recipes/ (DESIGN.md: "rules: util only; binding: src/recipe-engine face"): a recipe's
// rules are pure — they import only util and the common rules — so the client's fallback
// runs the very same statement of the protocol; a binding reaches the server only through
// the faces (index.ts) of recipe-engine, jute, tree, txn and pipeline types.
const RECIPES = join(ROOT, "recipes");
const recipeFiles = sourceFiles(RECIPES).map((path) => ({ rel: relative(RECIPES, path), text: readFileSync(path, "utf8") }));
const isRules = (rel: string): boolean => /(^|\/)rules\.ts$/.test(rel) || rel === "common/sequence.ts";
const BINDING_MAY = new Set(["recipe-engine", "jute", "tree", "txn", "pipeline", "util"]);

describe("layering of recipes/", () => {
  it("has rules and bindings", () => {
    expect(recipeFiles.filter((f) => isRules(f.rel)).length).toBeGreaterThan(5);
  });

  it("rules import only util and the common rules; bindings only the faces of the server layers they use", () => {
    const bad: string[] = [];
    for (const f of recipeFiles) {
      for (const spec of importsOf(f.text)) {
        if (spec.startsWith("node:")) {
          bad.push(`${f.rel} imports ${spec}`);
          continue;
        }
        if (!spec.startsWith(".")) continue;
        const target = relative(ROOT, join(RECIPES, f.rel, "..", spec)).split("/");
        if (target[0] === "recipes") {
          const file = target.slice(1).join("/").replace(/\.js$/, ".ts");
          if (isRules(f.rel) && !isRules(file)) bad.push(`rules ${f.rel} import non-rule ${spec}`);
          continue;
        }
        if (target[0] !== "src" || target.length !== 3 || target[2] !== "index.js") {
          bad.push(`${f.rel} reaches past a face (${spec})`);
          continue;
        }
        const layer = target[1]!;
        if (isRules(f.rel) ? layer !== "util" : !BINDING_MAY.has(layer)) bad.push(`${f.rel} imports src/${layer}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
