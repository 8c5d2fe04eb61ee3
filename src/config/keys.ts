// The table of zoo.cfg keys Corral knows: ZooKeeper's spelling -> how the value is
// checked and which typed field it sets on the draft. Keys that ZooKeeper reads as
// system properties ("zookeeper.<key>", e.g. snapCount, forceSync, the superDigest) are
// marked `sysprop` and are accepted with or without the "zookeeper." prefix.
// server.N lines are handled in parse.ts (they need the id from the key).
// Pure: no I/O.

import { type IntRange, INT32_MAX, type Parsed, ok } from "./values.js";
import { parseBool, parseDigest, parseHost, parseIntIn, parseNonEmpty, parsePort } from "./values.js";
import { parseRole } from "./servers.js";
import { LOG_LEVELS, type CorralConfig, type ServerSpec } from "./types.js";
import { TLS_SPECS, type TlsDraft } from "./tls.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Fields settled in finish() from other keys when not written (undefined = not written). */
type Derived = "clientOutboundBytesSoftMax" | "clientOutboundBytesHardMax";
/** Settled by tls.ts's tlsSettings() in finish(). */
type TlsDerived = "clientTls" | "quorumTls" | "plainClientPortEnabled";

/** CorralConfig while lines are being read; finish() in parse.ts turns it into one. */
export type Draft = Mutable<Omit<CorralConfig, "servers" | "extra" | "fourLetterWordWhitelist" | Derived | TlsDerived>> & TlsDraft & {
  [K in Derived]: number | undefined;
} & {
  servers: ServerSpec[];
  extra: Map<string, string>;
  /** As written; finish() adds what ZooKeeper always adds. */
  fourLetterWords: readonly string[] | "*";
};

/** What a key's handler may do besides setting fields. */
export type KeyContext = {
  warn(detail: string): void;
};

export type KeySpec = {
  readonly name: string;
  readonly sysprop: boolean;
  readonly apply: (draft: Draft, raw: string, ctx: KeyContext) => Parsed<void>;
};

type FieldOf<V> = {
  [K in keyof Draft]-?: [Draft[K]] extends [V] ? ([V] extends [Draft[K]] ? K : never) : never;
}[keyof Draft];

type Apply = KeySpec["apply"];

const DONE: Parsed<void> = ok(undefined);

function setWith<V>(field: FieldOf<V>, parse: (raw: string) => Parsed<V>): Apply {
  return (draft, raw) => {
    const parsed = parse(raw);
    if (!parsed.ok) return parsed;
    // FieldOf<V> names exactly the fields of type V; TS cannot see that through generics.
    (draft as Record<FieldOf<V>, V>)[field] = parsed.value;
    return DONE;
  };
}

const int = (field: FieldOf<number>, range: IntRange): Apply =>
  setWith(field, (raw) => parseIntIn(raw, range));
const optionalInt = (field: FieldOf<number | undefined>, range: IntRange): Apply =>
  setWith<number | undefined>(field, (raw) => parseIntIn(raw, range));
const bool = (field: FieldOf<boolean>): Apply => setWith(field, parseBool);
const port = (field: FieldOf<number>): Apply => setWith(field, parsePort);
const host = (field: FieldOf<string>): Apply => setWith(field, parseHost);
const optionalHost = (field: FieldOf<string | undefined>): Apply =>
  setWith<string | undefined>(field, parseHost);
const text = (field: FieldOf<string | undefined>, what: string): Apply =>
  setWith<string | undefined>(field, (raw) => parseNonEmpty(raw, what));

const positive = (unit?: string, hex?: boolean): IntRange => ({ min: 1, max: INT32_MAX, unit, hex });
const nonNegative = (unit?: string, hex?: boolean): IntRange => ({ min: 0, max: INT32_MAX, unit, hex });
const SESSION_TIMEOUT: IntRange = { min: -1, max: INT32_MAX, unit: "milliseconds; -1 = derived from tickTime" };

// autopurge.snapRetainCount below 3 is raised to 3 with a warning (QuorumPeerConfig,
// MIN_SNAP_RETAIN_COUNT: PurgeTxnLog refuses to keep fewer).
const SNAP_RETAIN_MIN = 3;
const snapRetainCount: Apply = (draft, raw, ctx) => {
  const parsed = parseIntIn(raw, { min: -INT32_MAX - 1, max: INT32_MAX });
  if (!parsed.ok) return parsed;
  if (parsed.value < SNAP_RETAIN_MIN) ctx.warn(`${parsed.value} is below the minimum; using ${SNAP_RETAIN_MIN}`);
  draft.autopurgeSnapRetainCount = Math.max(parsed.value, SNAP_RETAIN_MIN);
  return DONE;
};

// ZooKeeper schedules no purge task when purgeInterval <= 0.
const purgeInterval: Apply = (draft, raw, ctx) => {
  const parsed = parseIntIn(raw, { min: -INT32_MAX - 1, max: INT32_MAX, unit: "hours; 0 = off" });
  if (!parsed.ok) return parsed;
  if (parsed.value < 0) ctx.warn(`${parsed.value} is negative; autopurge is off`);
  draft.autopurgePurgeIntervalHours = Math.max(parsed.value, 0);
  return DONE;
};

// ZooKeeperServer resets a snapCount below 2 to 2, with a warning.
const SNAP_COUNT_MIN = 2;
const snapCount: Apply = (draft, raw, ctx) => {
  const parsed = parseIntIn(raw, { min: -INT32_MAX - 1, max: INT32_MAX, hex: true });
  if (!parsed.ok) return parsed;
  if (parsed.value < SNAP_COUNT_MIN) ctx.warn(`${parsed.value} is below the minimum; using ${SNAP_COUNT_MIN}`);
  draft.snapCount = Math.max(parsed.value, SNAP_COUNT_MIN);
  return DONE;
};

const KB = 1024;
const KB_MAX = Math.floor(Number.MAX_SAFE_INTEGER / KB);

const preAllocSize: Apply = (draft, raw) => {
  const parsed = parseIntIn(raw, { min: 1, max: KB_MAX, unit: "KB" });
  if (!parsed.ok) return parsed;
  draft.preAllocSizeBytes = parsed.value * KB;
  return DONE;
};

// txnLogSizeLimitInKb <= 0 means no limit (FileTxnLog).
const txnLogSizeLimit: Apply = (draft, raw) => {
  const parsed = parseIntIn(raw, { min: -KB_MAX, max: KB_MAX, unit: "KB; -1 = no limit", hex: true });
  if (!parsed.ok) return parsed;
  draft.txnLogSizeLimitBytes = parsed.value > 0 ? parsed.value * KB : undefined;
  return DONE;
};

const peerType: Apply = setWith("peerType", parseRole);

const electionAlg: Apply = (_draft, raw) => {
  const parsed = parseIntIn(raw, { min: 3, max: 3 });
  return parsed.ok ? DONE : { ok: false, problem: `only 3 (fast leader election) is supported, got ${JSON.stringify(raw)}` };
};

// The commands ZooKeeper knows (FourLetterCommands.cmd2String); others only warn.
export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srst",
  "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "icfg", "sysp",
]);

// FourLetterCommands.isEnabled: comma list, blanks trimmed, empty items skipped,
// "*" anywhere enables every command.
const fourLetterWords: Apply = (draft, raw, ctx) => {
  const words = raw.split(",").map((w) => w.trim()).filter((w) => w !== "");
  if (words.includes("*")) {
    draft.fourLetterWords = "*";
    return DONE;
  }
  const unknown = words.filter((w) => !FOUR_LETTER_WORDS.has(w));
  if (unknown.length > 0) ctx.warn(`unknown four letter word(s): ${unknown.join(", ")}`);
  draft.fourLetterWords = words;
  return DONE;
};

// Setting either metrics key turns the Prometheus endpoint on.
const enablesMetrics = (apply: Apply): Apply => (draft, raw, ctx) => {
  const r = apply(draft, raw, ctx);
  if (r.ok) draft.metricsEnabled = true;
  return r;
};

const logLevel: Apply = (draft, raw) => {
  const level = LOG_LEVELS.find((l) => l === raw.trim().toLowerCase());
  if (level === undefined) return { ok: false, problem: `expected one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(raw)}` };
  draft.logLevel = level;
  return DONE;
};

const superDigest: Apply = setWith<string | undefined>("superDigest", parseDigest);

const SPECS: readonly KeySpec[] = [
  // QuorumPeerConfig.parseProperties keys.
  { name: "tickTime", sysprop: false, apply: int("tickMs", positive("milliseconds")) },
  { name: "initLimit", sysprop: false, apply: int("initLimitTicks", positive("ticks")) },
  { name: "syncLimit", sysprop: false, apply: int("syncLimitTicks", positive("ticks")) },
  { name: "dataDir", sysprop: false, apply: text("dataDir", "a directory path") },
  { name: "dataLogDir", sysprop: false, apply: text("dataLogDir", "a directory path") },
  { name: "clientPort", sysprop: false, apply: port("clientPort") },
  { name: "clientPortAddress", sysprop: false, apply: optionalHost("clientPortAddress") },
  { name: "maxClientCnxns", sysprop: false, apply: int("maxClientCnxns", nonNegative("0 = unlimited")) },
  { name: "minSessionTimeout", sysprop: false, apply: int("sessionTimeoutMsMin", SESSION_TIMEOUT) },
  { name: "maxSessionTimeout", sysprop: false, apply: int("sessionTimeoutMsMax", SESSION_TIMEOUT) },
  { name: "autopurge.snapRetainCount", sysprop: false, apply: snapRetainCount },
  { name: "autopurge.purgeInterval", sysprop: false, apply: purgeInterval },
  { name: "peerType", sysprop: false, apply: peerType },
  { name: "electionAlg", sysprop: false, apply: electionAlg },
  { name: "quorumListenOnAllIPs", sysprop: false, apply: bool("quorumListenOnAllIPs") },
  { name: "dynamicConfigFile", sysprop: false, apply: text("dynamicConfigFile", "a file path") },
  { name: "standaloneEnabled", sysprop: false, apply: bool("standaloneEnabled") },
  { name: "reconfigEnabled", sysprop: false, apply: bool("reconfigEnabled") },
  { name: "localSessionsEnabled", sysprop: false, apply: bool("localSessionsEnabled") },
  { name: "localSessionsUpgradingEnabled", sysprop: false, apply: bool("localSessionsUpgradingEnabled") },
  { name: "metricsProvider.className", sysprop: false, apply: enablesMetrics(text("metricsProviderClassName", "a class name")) },
  { name: "metricsProvider.httpPort", sysprop: false, apply: enablesMetrics(port("metricsHttpPort")) },
  { name: "metricsProvider.httpHost", sysprop: false, apply: host("metricsHttpHost") },
  // Keys ZooKeeper reads as system properties.
  { name: "4lw.commands.whitelist", sysprop: true, apply: fourLetterWords },
  { name: "admin.enableServer", sysprop: true, apply: bool("adminServerEnabled") },
  { name: "admin.serverPort", sysprop: true, apply: port("adminServerPort") },
  { name: "admin.serverAddress", sysprop: true, apply: host("adminServerAddress") },
  { name: "extendedTypesEnabled", sysprop: true, apply: bool("extendedTypesEnabled") },
  { name: "enforceQuota", sysprop: true, apply: bool("enforceQuota") },
  { name: "snapCount", sysprop: true, apply: snapCount },
  { name: "forceSync", sysprop: true, apply: bool("forceSync") },
  { name: "jute.maxbuffer", sysprop: true, apply: int("juteMaxBufferBytes", positive("bytes", true)) },
  { name: "DigestAuthenticationProvider.superDigest", sysprop: true, apply: superDigest },
  { name: "readonlymode.enabled", sysprop: true, apply: bool("readOnlyModeEnabled") },
  { name: "skipACL", sysprop: true, apply: bool("skipAcl") },
  { name: "globalOutstandingLimit", sysprop: true, apply: int("globalOutstandingLimit", positive(undefined, true)) },
  { name: "preAllocSize", sysprop: true, apply: preAllocSize },
  { name: "txnLogSizeLimitInKb", sysprop: true, apply: txnLogSizeLimit },
  { name: "znode.container.checkIntervalMs", sysprop: true, apply: int("containerCheckIntervalMs", positive("milliseconds", true)) },
  { name: "znode.container.maxPerMinute", sysprop: true, apply: int("containerMaxPerMinute", positive(undefined, true)) },
  { name: "maxCnxns", sysprop: true, apply: int("maxCnxns", nonNegative("0 = unlimited", true)) },
  // Corral's own.
  { name: "corral.logLevel", sysprop: false, apply: logLevel },
  // Client connection bounds (src/net/connection.ts). ZooKeeper has no such keys: its NIO
  // server stops reading only on globalOutstandingLimit, and its handshake bound is the
  // system property zookeeper.nio.sessionlessCnxnTimeout, which Corral does not read.
  { name: "corral.clientOutboundBytesSoftMax", sysprop: false, apply: optionalInt("clientOutboundBytesSoftMax", positive("bytes")) },
  { name: "corral.clientOutboundBytesHardMax", sysprop: false, apply: optionalInt("clientOutboundBytesHardMax", positive("bytes")) },
  { name: "corral.clientHandshakeTimeoutMs", sysprop: false, apply: int("clientHandshakeTimeoutMs", positive("milliseconds")) },
  // Client TLS and x509 auth (tls.ts).
  ...TLS_SPECS,
];

const BY_NAME: ReadonlyMap<string, KeySpec> = new Map(SPECS.map((s) => [s.name, s]));

export const SYSPROP_PREFIX = "zookeeper.";

/** The spec for a key as written, honouring the "zookeeper." prefix on sysprop keys. */
export function findKeySpec(key: string): KeySpec | undefined {
  const direct = BY_NAME.get(key);
  if (direct !== undefined) return direct;
  if (!key.startsWith(SYSPROP_PREFIX)) return undefined;
  const bare = BY_NAME.get(key.slice(SYSPROP_PREFIX.length));
  return bare?.sysprop === true ? bare : undefined;
}
