// Purge (ZOOKEEPER.md §1.11, ZooKeeper's PurgeTxnLog): keep the newest `retain` snapshots
// that verify, every log file with txns after the oldest of them, and the log file
// before those (it holds the txns right after that snapshot's zxid); remove older
// snapshots and log files. Files are only ever removed, oldest first, so a crash part
// way leaves a directory recovery still accepts.

import type { Logger } from "../util/index.js";
import type { Disk } from "./disk.js";
import { StorageError } from "./errors.js";
import { filesOf, type NamedFile } from "./files.js";
import { parseSnapshot } from "./snapshot.js";

export const SNAP_RETAIN_MIN = 3;

export interface PurgePlan {
  readonly keepSnapshots: NamedFile[];
  readonly removeSnapshots: NamedFile[];
  readonly removeLogs: NamedFile[];
}

/**
 * What to remove, given the snapshots that verify (`valid`, any order) among all the
 * snapshot files and the log files. Pure, for tests.
 */
export function planPurge(snapshots: readonly NamedFile[], valid: ReadonlySet<string>, logs: readonly NamedFile[], retain: number): PurgePlan {
  const sortedValid = snapshots.filter((s) => valid.has(s.path)).sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  const keep = sortedValid.slice(-retain);
  const oldest = keep[0];
  if (oldest === undefined) return { keepSnapshots: [], removeSnapshots: [], removeLogs: [] };
  const removeSnapshots = snapshots.filter((s) => s.zxid < oldest.zxid);
  const sortedLogs = [...logs].sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
  // The newest log starting at or before the oldest kept snapshot holds the txns after it.
  let keepFrom = 0;
  for (let i = 0; i < sortedLogs.length; i++) if (sortedLogs[i]!.zxid <= oldest.zxid) keepFrom = i;
  return { keepSnapshots: keep, removeSnapshots, removeLogs: sortedLogs.slice(0, keepFrom) };
}

export interface PurgeOptions {
  disk: Disk;
  snapDir: string;
  logDir: string;
  retain: number;
  log: Logger;
}

export interface PurgeResult extends PurgePlan {
  readonly bytesRemoved: number;
}

export async function purge(opts: PurgeOptions): Promise<PurgeResult> {
  const { disk, snapDir, logDir, retain, log } = opts;
  if (!(retain >= 1)) throw new RangeError(`snapshot retain count must be at least 1, got ${retain}`);
  const snaps = filesOf(snapDir, await disk.list(snapDir), "snapshot");
  const logs = filesOf(logDir, await disk.list(logDir), "log");
  // Verify newest first until `retain` snapshots are known good.
  const valid = new Set<string>();
  for (let i = snaps.length - 1; i >= 0 && valid.size < retain; i--) {
    const f = snaps[i]!;
    try {
      parseSnapshot(await disk.readFile(f.path), f.path);
      valid.add(f.path);
    } catch (e) {
      if (!(e instanceof StorageError)) throw e;
      log.warn({ file: f.path, reason: e.message }, "purge: snapshot does not verify, not counting it");
    }
  }
  const plan = planPurge(snaps, valid, logs, retain);
  let bytesRemoved = 0;
  for (const f of [...plan.removeSnapshots, ...plan.removeLogs].sort((a, b) => (a.zxid < b.zxid ? -1 : 1))) {
    bytesRemoved += (await disk.sizeOf(f.path)) ?? 0;
    await disk.remove(f.path);
    log.info({ file: f.path }, "purged");
  }
  if (plan.removeSnapshots.length > 0) await disk.syncDir(snapDir);
  if (plan.removeLogs.length > 0) await disk.syncDir(logDir);
  return { ...plan, bytesRemoved };
}
