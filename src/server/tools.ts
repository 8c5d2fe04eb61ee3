// Offline storage tools behind `corral purge`, `corral log-dump`, `corral snapshot-dump`
// (ZooKeeper's PurgeTxnLog, LogFormatter and SnapshotFormatter) and
// `corral import-zookeeper` (storage/zookeeper/import.ts).
// They read and remove files with the real Disk; the CLI only parses arguments.

import type { CorralConfig } from "../config/index.js";
import {
  SNAP_RETAIN_MIN,
  formatLogFile,
  formatSnapshotFile,
  importZooKeeper,
  nodeDisk,
  purge,
  versionDir,
  type PurgeResult,
  type ZkImportResult,
} from "../storage/index.js";
import { silentLogger, type Logger } from "../util/index.js";

export { StorageError, SNAP_RETAIN_MIN } from "../storage/index.js";

/** Purges config's dataDir/dataLogDir now, keeping the newest `retain` snapshots (at least 3). */
export async function purgeNow(config: CorralConfig, retain: number, log: Logger = silentLogger): Promise<PurgeResult> {
  if (config.dataDir === undefined) throw new Error("the configuration has no dataDir");
  if (!Number.isInteger(retain) || retain < SNAP_RETAIN_MIN) throw new RangeError(`count must be an integer >= ${SNAP_RETAIN_MIN}, got ${retain}`);
  return purge({
    disk: nodeDisk,
    snapDir: versionDir(config.dataDir),
    logDir: versionDir(config.dataLogDir ?? config.dataDir),
    retain,
    log,
  });
}

export async function dumpLogFile(path: string): Promise<string[]> {
  return formatLogFile(await nodeDisk.readFile(path), path);
}

export async function dumpSnapshotFile(path: string, withData: boolean): Promise<string[]> {
  return formatSnapshotFile(await nodeDisk.readFile(path), path, withData);
}

/**
 * Imports Apache ZooKeeper's data directory (`zkDataDir`, and `zkDataLogDir` when its logs
 * live elsewhere) into config's empty dataDir/dataLogDir.
 */
export async function importZooKeeperNow(zkDataDir: string, zkDataLogDir: string | undefined, config: CorralConfig, log: Logger = silentLogger): Promise<ZkImportResult> {
  if (config.dataDir === undefined) throw new Error("the configuration has no dataDir");
  return importZooKeeper(nodeDisk, { dataDir: zkDataDir, dataLogDir: zkDataLogDir }, { dataDir: config.dataDir, dataLogDir: config.dataLogDir }, { log });
}
