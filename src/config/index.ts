// Public face of src/config: zoo.cfg parsing and validation, with errors and warnings
// that name the file, line and key. Owns the mapping from ZooKeeper's key spellings to
// Corral's typed, unit-suffixed names; the only place in Corral that reads config.
// Imports nothing of ours.

export { parseConfig, defaultConfig, DEFAULT_DATA_DIR, CLIENT_HANDSHAKE_TIMEOUT_MS_DEFAULT, clientOutboundLimitsFor } from "./parse.js";
export { loadConfigFile } from "./load.js";
export { ConfigError } from "./errors.js";
export {
  dynamicConfigText,
  duplicateAddress,
  parseDynamicConfig,
  parseServerEntry,
  serverSpecText,
  type DynamicConfig,
} from "./dynamic.js";
export { extraSetting } from "./extra.js";
export { readProperties, type PropertyEntry } from "./properties.js";
export { TLS_PROTOCOLS, opensslCipherName, type TlsSettings, type TlsStore, type TlsStoreType, type ClientAuth } from "./tls.js";
export { logLevelOf, logDirOf, LOG_LEVEL_ENV, LOG_DIR_ENV } from "./env.js";
export type {
  ConfigResult,
  ConfigWarning,
  CorralConfig,
  ParseOptions,
  LogLevel,
  ServerRole,
  ServerSpec,
} from "./types.js";
