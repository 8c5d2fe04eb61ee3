// Reading Apache ZooKeeper's data directory: its snapshot and log formats, its txns, and
// the import into a Corral data directory.
export { adler32 } from "./adler32.js";
export { unsnappyStream, isSnappyStream, SnappyError } from "./snappy.js";
export { parseZkSnapshot, scanZkLog, zkMagicOf, zkSnapshotStream, ZK_LOG_MAGIC, ZK_SNAP_MAGIC, type ZkSnapshot, type ZkLogScan, type ZkLogRecord } from "./format.js";
export { decodeZkTxn, zkOpName, type ZkTxn } from "./txn.js";
export { importZooKeeper, loadZooKeeperData, zkFilesOf, type ZkImportResult, type ZkImportSource, type ZkImportTarget, type LoadedZk } from "./import.js";
export { zooKeeperPassword, loadZkSessionIds, formatZkSessions, ZK_SESSIONS_FILE } from "./sessions.js";
