// loadConfigFile: the only I/O in src/config. Reads zoo.cfg, resolves relative paths
// against the process's working directory (as zkServer.sh's java process does), then
// reads <dataDir>/myid when it exists and lets it settle the server's own role and
// client port (myid.ts). A missing myid is not an error here: standalone servers and
// tools need none; the server decides whether its mode requires one.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, type Where } from "./errors.js";
import { MYID_FILE_NAME, applyMyid, parseMyid } from "./myid.js";
import { parseConfigDetailed } from "./parse.js";
import type { ConfigResult } from "./types.js";

export async function loadConfigFile(path: string): Promise<ConfigResult> {
  const text = await readText(path, { sourceName: path, line: 0, key: "" });
  if (text === undefined) throw new ConfigError({ sourceName: path, line: 0, key: "" }, "config file is missing or not a file");
  const parsed = parseConfigDetailed(text, { sourceName: path, baseDir: process.cwd() });
  const { config, warnings } = parsed;
  if (config.dataDir === undefined) return { config, warnings };
  const myidPath = join(config.dataDir, MYID_FILE_NAME);
  const myidWhere = { sourceName: myidPath, line: 1, key: MYID_FILE_NAME };
  const myidText = await readText(myidPath, myidWhere);
  if (myidText === undefined) return { config, warnings };
  const applied = applyMyid(config, parseMyid(myidText, myidWhere), myidWhere, parsed.located);
  return { config: applied.config, warnings: [...warnings, ...applied.warnings] };
}

// Like ZooKeeper's `myIdFile.isFile()` check: not there, or not a file, reads as absent.
const ABSENT = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

async function readText(path: string, where: Where): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && ABSENT.has(code)) return undefined;
    throw new ConfigError({ ...where, line: 0 }, `cannot read: ${(err as Error).message}`, { cause: err });
  }
}
