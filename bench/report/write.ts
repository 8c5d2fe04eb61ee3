// Writes one run's files: <dir>/<stem>.json, <dir>/<stem>.md and the charts in <dir>/<stem>/.

import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderMarkdown } from "./markdown.js";
import type { BenchReport } from "./types.js";

/** "2026-01-31T12-34-56Z" from the report's start time; "-2", "-3"... if taken. */
function stemFor(dir: string, startedAt: string): string {
  const base = startedAt.replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  let stem = base;
  for (let i = 2; existsSync(join(dir, `${stem}.json`)) || existsSync(join(dir, `${stem}.md`)); i++) stem = `${base}-${i}`;
  return stem;
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  charts: string[];
}

export function reportJson(report: BenchReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}

export async function writeReport(report: BenchReport, dir: string): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const stem = stemFor(dir, report.startedAt);
  const json = join(dir, `${stem}.json`);
  const markdown = join(dir, `${stem}.md`);
  const { markdown: text, charts } = renderMarkdown(report, stem);
  await writeFile(json, reportJson(report));
  await writeFile(markdown, text);
  const chartFiles: string[] = [];
  if (charts.length > 0) {
    await mkdir(join(dir, stem), { recursive: true });
    for (const c of charts) {
      const p = join(dir, stem, c.file);
      await writeFile(p, c.svg);
      chartFiles.push(p);
    }
  }
  return { json, markdown, charts: chartFiles };
}
