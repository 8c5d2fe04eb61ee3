// Transcript tests: each test/sim/transcripts/*.txt script runs against real QuorumServers
// (transcript.ts) and must print what its file says. UPDATE_TRANSCRIPTS=1 rewrites the
// files from this run; review the diff.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runTranscript } from "./transcript.js";

const DIR = join(fileURLToPath(new URL(".", import.meta.url)), "transcripts");
const UPDATE = process.env["UPDATE_TRANSCRIPTS"] === "1";

describe("ZAB sync transcripts", () => {
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".txt")).sort()) {
    it(name, async () => {
      const path = join(DIR, name);
      const text = readFileSync(path, "utf8");
      const actual = await runTranscript(text.replace(/\n$/, ""));
      if (UPDATE) writeFileSync(path, `${actual}\n`);
      else expect(actual).toBe(text.replace(/\n$/, ""));
    });
  }
});
