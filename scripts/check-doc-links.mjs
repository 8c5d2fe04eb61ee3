#!/usr/bin/env node
// Checks the links of README.md and docs/*.md: every relative link must name a file or
// directory inside the repository that exists, and every anchor (`#heading`, alone or after
// a .md file) must name a heading of that file, slugged as GitHub does. Links that leave the
// repository (`../shared/...`) are errors: the docs ship in the npm package and are read on
// GitHub, where nothing outside the repository exists. External links (http:, https:,
// mailto:) are not fetched. Every docs/*.md must be linked from the README.
//
//   node scripts/check-doc-links.mjs [ROOT]   # exit 0 when every link resolves, else 1
//
// Used by `npm run docs:check` and by test/unit/docs/doc-links.test.ts.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The markdown files checked, relative to the root: README.md and docs/*.md. */
export function docFiles(root) {
  const out = [];
  if (existsSync(join(root, "README.md"))) out.push("README.md");
  const docs = join(root, "docs");
  if (existsSync(docs)) {
    for (const name of readdirSync(docs).sort()) {
      if (name.endsWith(".md") && statSync(join(docs, name)).isFile()) out.push(`docs/${name}`);
    }
  }
  return out;
}

/** The text with fenced code blocks and inline code spans blanked (links in code are not links). */
export function stripCode(text) {
  const lines = text.split("\n");
  let fence;
  const kept = lines.map((line) => {
    const m = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (m !== null && m[1][0] === fence[0] && m[1].length >= fence.length) fence = undefined;
      return "";
    }
    if (m !== null) {
      fence = m[1];
      return "";
    }
    return line.replace(/(`+)[^`]*?\1/g, (s) => " ".repeat(s.length));
  });
  return kept.join("\n");
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a markdown file defines: its headings' slugs (duplicates numbered) and explicit `<a id>`s. */
export function anchorsOf(text) {
  const anchors = new Set();
  const counts = new Map();
  for (const line of stripCode(text).split("\n")) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (h !== null) {
      // Link text stays, the link target goes: "[a](b)" is "a" in the slug.
      const base = slug(h[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1"));
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
  }
  return anchors;
}

/** Every link target in a markdown text, with its line: inline links, images and reference definitions. */
export function linksOf(text) {
  const out = [];
  stripCode(text)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
      const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
      if (def !== null) out.push({ target: def[1], line: i + 1 });
    });
  return out;
}

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** Checks every link of every doc file under `root`; returns the problems, `file:line: message`. */
export function checkDocLinks(root) {
  const absRoot = resolve(root);
  const problems = [];
  const anchorCache = new Map();
  const anchorsAt = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, "utf8")));
    return anchorCache.get(file);
  };
  for (const doc of docFiles(absRoot)) {
    const docPath = join(absRoot, doc);
    for (const { target, line } of linksOf(readFileSync(docPath, "utf8"))) {
      const where = `${doc}:${line}`;
      if (target === "") {
        problems.push(`${where}: empty link`);
        continue;
      }
      if (EXTERNAL.test(target)) continue;
      const hash = target.indexOf("#");
      const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      if (isAbsolute(pathPart)) {
        problems.push(`${where}: ${target}: absolute path (use a path relative to ${doc})`);
        continue;
      }
      const file = pathPart === "" ? docPath : resolve(dirname(docPath), pathPart);
      const rel = relative(absRoot, file);
      if (rel.startsWith("..") || isAbsolute(rel)) {
        problems.push(`${where}: ${target}: outside the repository`);
        continue;
      }
      if (!existsSync(file)) {
        problems.push(`${where}: ${target}: ${rel.split(sep).join("/")} does not exist`);
        continue;
      }
      if (anchor === undefined || anchor === "") continue;
      if (!file.endsWith(".md") || !statSync(file).isFile()) {
        problems.push(`${where}: ${target}: an anchor into a file that is not markdown`);
        continue;
      }
      if (!anchorsAt(file).has(anchor)) problems.push(`${where}: ${target}: no heading #${anchor} in ${rel.split(sep).join("/")}`);
    }
  }
  // Every page of docs/ is reachable from the README, where a newcomer starts.
  if (existsSync(join(absRoot, "README.md"))) {
    const fromReadme = new Set(
      linksOf(readFileSync(join(absRoot, "README.md"), "utf8"))
        .filter(({ target }) => !EXTERNAL.test(target))
        .map(({ target }) => relative(absRoot, resolve(absRoot, decodeURIComponent(target.split("#")[0]))).split(sep).join("/")),
    );
    for (const doc of docFiles(absRoot)) {
      if (doc !== "README.md" && !fromReadme.has(doc)) problems.push(`README.md: ${doc} is not linked from the README`);
    }
  }
  return problems;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = checkDocLinks(root);
  for (const p of problems) console.error(p);
  const files = docFiles(resolve(root));
  if (problems.length > 0) {
    console.error(`check-doc-links: ${problems.length} broken link(s) in ${files.length} file(s)`);
    process.exit(1);
  }
  console.log(`check-doc-links: every link in ${files.join(", ")} resolves`);
}
