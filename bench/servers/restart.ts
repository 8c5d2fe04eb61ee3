// kill -9 and restart of a server under test, for the scale workloads: recovery time of a
// big tree (same dataDirs), or a fresh server after a case that filled it (wiped
// dataDirs, so the next case does not pay for deleting a million znodes).

import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ServerProcess } from "./children.js";
import { waitForModes } from "./net.js";

/** A restarted member may replay a large snapshot and log: this long to serve again. */
export const RESTART_SERVE_MS_MAX = 300_000;

/** Empties a dataDir, keeping `myid` (an ensemble member's identity). */
async function wipeDataDir(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n !== "myid").map((n) => rm(join(dir, n), { recursive: true, force: true })));
}

/**
 * SIGKILLs every process of `procs`, optionally wipes `dataDirs`, spawns the members again
 * (`spawnAll`, replacing the entries of `procs` in place) and waits until every client port
 * answers `srvr` with a mode.
 */
export async function kill9AndRestart(
  procs: ServerProcess[],
  spawnAll: () => ServerProcess[],
  clientPorts: readonly number[],
  dataDirs: readonly string[],
  wipe: boolean,
): Promise<{ spawnedAt: number }> {
  await Promise.all(procs.map((p) => p.kill9()));
  if (wipe) await Promise.all(dataDirs.map(wipeDataDir));
  const spawnedAt = performance.now();
  procs.splice(0, procs.length, ...spawnAll());
  await waitForModes(clientPorts, RESTART_SERVE_MS_MAX, () => procs.map((p) => p.exited()).find((x) => x !== undefined));
  return { spawnedAt };
}
