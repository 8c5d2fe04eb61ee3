// Composition root: config -> storage -> recovery -> standalone or quorum peer -> net.
export { StandaloneServer, type StandaloneOptions } from "./standalone.js";
export { digestOf, makeAuthenticator } from "./auth.js";
export { openTlsContexts, readKeyStore, readTrustStore } from "./tls.js";
export { systemClock, cryptoPrng } from "./clock.js";
export { VERSION_STRING, VERSION_LINE, CORRAL_VERSION } from "./version.js";
export { startStandaloneForTest, type TestServerOptions, type TestServer } from "./testing.js";
export { purgeNow, dumpLogFile, dumpSnapshotFile, importZooKeeperNow, StorageError, SNAP_RETAIN_MIN } from "./tools.js";
export { Operations, EndpointError, adminSource, type OperatedServer } from "./operations.js";
export { RecipeViews } from "./recipe-views.js";
export { timedDisk } from "./timed-disk.js";
export { QuorumServer, type QuorumServerOptions } from "./quorum.js";
export { MemoryReclaimer, gcHook, RECLAIM_MIN_FREED_NODES } from "./reclaim.js";
export { askFourLetterWord, freePort } from "../net/index.js";
export { startEnsembleForTest, type EnsembleForTestOptions, type EnsembleTls, type TestEnsemble } from "./ensemble-testing.js";
