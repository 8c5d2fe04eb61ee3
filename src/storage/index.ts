// Storage: transaction log (group fsync, checksums, tail truncation), fuzzy snapshots,
// recovery and purge, behind the Disk interface so tests can crash it.
export type { Disk, DiskFile } from "./disk.js";
export { nodeDisk } from "./node-disk.js";
export { FakeDisk, type FakeDiskOptions } from "./fake-disk.js";
export { StorageError } from "./errors.js";
export { crc32 } from "./crc.js";
export {
  VERSION_DIR,
  SECRET_FILE,
  versionDir,
  logFileName,
  snapshotFileName,
  zxidOfName,
  filesOf,
  zxidGap,
  zxidHex,
  type NamedFile,
} from "./files.js";
export { TxnLog, scanLog, LOG_HEADER_BYTES, type TxnLogOptions, type TxnLogStats, type LogScan, type LogRecord } from "./txnlog.js";
export {
  FuzzySnapshot,
  parseSnapshot,
  restoreSnapshot,
  type SnapshotOptions,
  type SnapshotResult,
  type SnapshotSession,
  type ParsedSnapshot,
} from "./snapshot.js";
export { recover, type Recovered, type RecoverOptions } from "./recovery.js";
export { purge, planPurge, SNAP_RETAIN_MIN, type PurgePlan, type PurgeResult } from "./purge.js";
export { loadOrCreateSecret } from "./secret.js";
export { Storage, type StorageOptions } from "./storage.js";
export { formatLogFile, formatSnapshotFile } from "./dump.js";
export { ImageDecoder, ImageEncoder, IMAGE_CHUNK_BYTES_DEFAULT, encodeImageChunks, installImage, type DecodedImage, type ImageSession } from "./image.js";
export { readEpochs, writeEpochs, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, type Epochs } from "./epochs.js";
export { readCommittedConfig, writeCommittedConfig, COMMITTED_CONFIG_FILE } from "./committed-config.js";
export {
  importZooKeeper,
  loadZooKeeperData,
  loadZkSessionIds,
  zooKeeperPassword,
  ZK_SESSIONS_FILE,
  type ZkImportResult,
  type ZkImportSource,
  type ZkImportTarget,
} from "./zookeeper/index.js";
