// parseConfig: zoo.cfg text -> CorralConfig + warnings, in three phases:
//   1. read   — properties.ts turns the text into (key, value, line) entries;
//   2. select — each key is resolved (known key, server.N, or unknown/extra); for a key
//               set more than once the last line wins and the others are not checked,
//               as with java.util.Properties, but each repeat is warned about;
//   3. apply, then finish — values are checked and set on a draft in file order; values
//               that depend on other keys (session timeouts from tickTime, dataLogDir
//               from dataDir, the effective 4lw whitelist) and cross-key rules (quorum
//               shape, min <= max) are settled only after every line is read, because
//               ZooKeeper reads a Properties hash table with no order.
// A bad value throws ConfigError naming file, line and key. Pure: no I/O, except that
// node:path resolves relative paths when the caller passes baseDir.

import { isAbsolute, resolve } from "node:path";
import { ConfigError, type Where, makeWarning } from "./errors.js";
import { type Draft, type KeySpec, SYSPROP_PREFIX, findKeySpec } from "./keys.js";
import { readProperties, type PropertyEntry } from "./properties.js";
import { parseServerSpec } from "./servers.js";
import { type Parsed, INT32_MAX, parseServerId } from "./values.js";
import type { ConfigResult, ConfigWarning, CorralConfig, ParseOptions } from "./types.js";
import { baseTlsDraft, tlsSettings } from "./tls.js";

export const DEFAULT_SOURCE_NAME = "zoo.cfg";
/**
 * corral.clientHandshakeTimeoutMs's default: ZooKeeper's NIOServerCnxnFactory closes a
 * connection with no session after zookeeper.nio.sessionlessCnxnTimeout, 10 s.
 */
export const CLIENT_HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;
const CLIENT_SOFT_BYTES_MIN = 256 * 1024;
const CLIENT_HARD_PER_SOFT = 4;

/** The derived client output bounds for a jute.maxbuffer (see clientOutboundLimits below). */
export function clientOutboundLimitsFor(juteMaxBufferBytes: number): { softBytes: number; hardBytes: number } {
  const softBytes = Math.max(2 * juteMaxBufferBytes, CLIENT_SOFT_BYTES_MIN);
  return { softBytes, hardBytes: Math.max(32 * juteMaxBufferBytes, CLIENT_HARD_PER_SOFT * softBytes) };
}
export const DEFAULT_DATA_DIR = "./data";
/** EphemeralType.MAX_EXTENDED_SERVER_ID: TTL nodes claim the top byte of session ids. */
export const EXTENDED_TYPES_SERVER_ID_MAX = 254n;

export type DetailedResult = ConfigResult & {
  /** Canonical key ("clientPort", "server.3") -> where the value in force was written. */
  readonly located: ReadonlyMap<string, Where>;
};

export function parseConfig(text: string, opts: ParseOptions = {}): ConfigResult {
  const { config, warnings } = parseConfigDetailed(text, opts);
  return { config, warnings };
}

export function parseConfigDetailed(text: string, opts: ParseOptions = {}): DetailedResult {
  const state = newState(opts);
  const entries = readProperties(text, state.sourceName);
  const draft = baseDraft();
  for (const selected of selectLatest(entries, state)) applyEntry(draft, selected, state);
  const config = finish(draft, state);
  state.warnings.sort((a, b) => a.line - b.line);
  return { config, warnings: state.warnings, located: state.located };
}

/** ZooKeeper's defaults, with dataDir "./data" (parseConfig leaves dataDir unset). */
export function defaultConfig(): CorralConfig {
  const { config } = parseConfig("");
  return { ...config, dataDir: DEFAULT_DATA_DIR, dataLogDir: DEFAULT_DATA_DIR };
}

type ParseState = {
  readonly sourceName: string;
  readonly baseDir: string | undefined;
  readonly warnings: ConfigWarning[];
  readonly located: Map<string, Where>;
};

function newState(opts: ParseOptions): ParseState {
  return {
    sourceName: opts.sourceName ?? DEFAULT_SOURCE_NAME,
    baseDir: opts.baseDir,
    warnings: [],
    located: new Map(),
  };
}

function warn(state: ParseState, where: Where, detail: string): void {
  state.warnings.push(makeWarning(where, detail));
}

/** Where a key's value came from; line 0 (the file as a whole) when it was not written. */
function whereOf(state: ParseState, canonical: string): Where {
  return state.located.get(canonical) ?? { sourceName: state.sourceName, line: 0, key: canonical };
}

function throwIfBad<T>(where: Where, parsed: Parsed<T>): asserts parsed is { ok: true; value: T } {
  if (!parsed.ok) throw new ConfigError(where, parsed.problem);
}

function baseDraft(): Draft {
  return {
    tickMs: 2000,
    initLimitTicks: 10,
    syncLimitTicks: 5,
    sessionTimeoutMsMin: -1,
    sessionTimeoutMsMax: -1,
    dataDir: undefined,
    dataLogDir: undefined,
    snapCount: 100_000,
    forceSync: true,
    preAllocSizeBytes: 65_536 * 1024,
    txnLogSizeLimitBytes: undefined,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeIntervalHours: 0,
    clientPort: 2181,
    clientPortAddress: undefined,
    maxClientCnxns: 60,
    maxCnxns: 0,
    globalOutstandingLimit: 1000,
    juteMaxBufferBytes: 0xfffff,
    clientOutboundBytesSoftMax: undefined,
    clientOutboundBytesHardMax: undefined,
    clientHandshakeTimeoutMs: CLIENT_HANDSHAKE_TIMEOUT_MS_DEFAULT,
    localSessionsEnabled: false,
    localSessionsUpgradingEnabled: false,
    readOnlyModeEnabled: false,
    fourLetterWords: [],
    extendedTypesEnabled: false,
    enforceQuota: false,
    skipAcl: false,
    superDigest: undefined,
    containerCheckIntervalMs: 60_000,
    containerMaxPerMinute: 10_000,
    servers: [],
    peerType: "participant",
    reconfigEnabled: false,
    standaloneEnabled: true,
    quorumListenOnAllIPs: false,
    dynamicConfigFile: undefined,
    adminServerEnabled: true,
    adminServerPort: 8080,
    adminServerAddress: "0.0.0.0",
    metricsProviderClassName: undefined,
    metricsHttpPort: 7000,
    metricsHttpHost: "0.0.0.0",
    metricsEnabled: false,
    logLevel: undefined,
    secureClientPort: undefined,
    secureClientPortAddress: undefined,
    clientPortUnification: false,
    x509SuperUser: undefined,
    sslQuorum: false,
    quorumPortUnification: false,
    ...baseTlsDraft(),
    extra: new Map(),
  };
}

// ---- select ---------------------------------------------------------------------------

type Target =
  | { readonly kind: "known"; readonly canonical: string; readonly spec: KeySpec }
  | { readonly kind: "server"; readonly canonical: string; readonly id: bigint }
  | { readonly kind: "extra"; readonly canonical: string };

type Selected = { readonly entry: PropertyEntry; readonly target: Target; readonly where: Where };

const SERVER_PREFIX = "server.";

function targetOf(key: string, where: Where): Target {
  const spec = findKeySpec(key);
  if (spec !== undefined) return { kind: "known", canonical: spec.name, spec };
  if (key.startsWith(SERVER_PREFIX)) {
    const suffix = key.slice(SERVER_PREFIX.length);
    const id = parseServerId(suffix);
    if (id === undefined) {
      throw new ConfigError(where, `server id must be a non-negative integer, got ${JSON.stringify(suffix)}`);
    }
    return { kind: "server", canonical: `${SERVER_PREFIX}${id}`, id };
  }
  // "k" and "zookeeper.k" are the same system property to ZooKeeper.
  const bare = key.startsWith(SYSPROP_PREFIX) ? key.slice(SYSPROP_PREFIX.length) : key;
  return { kind: "extra", canonical: `${SYSPROP_PREFIX}${bare}` };
}

/** Keeps the last line of each key; server lines are all kept (a repeated id is an error). */
function selectLatest(entries: readonly PropertyEntry[], state: ParseState): Selected[] {
  const resolved = entries.map((entry): Selected => {
    const where = { sourceName: state.sourceName, line: entry.line, key: entry.key };
    return { entry, where, target: targetOf(entry.key, where) };
  });
  const lastLine = new Map<string, number>();
  for (const { entry, target, where } of resolved) {
    if (target.kind === "server") continue;
    const earlier = lastLine.get(target.canonical);
    if (earlier !== undefined) warn(state, where, `duplicate key (also set on line ${earlier}); this later line wins`);
    lastLine.set(target.canonical, entry.line);
  }
  return resolved.filter(
    ({ entry, target }) => target.kind === "server" || lastLine.get(target.canonical) === entry.line,
  );
}

// ---- apply ----------------------------------------------------------------------------

function applyEntry(draft: Draft, selected: Selected, state: ParseState): void {
  const { entry, target, where } = selected;
  switch (target.kind) {
    case "known": {
      const ctx = { warn: (detail: string) => warn(state, where, detail) };
      throwIfBad(where, target.spec.apply(draft, entry.value, ctx));
      break;
    }
    case "server":
      addServer(draft, target.id, entry.value, where, state);
      break;
    case "extra":
      draft.extra.set(entry.key, entry.value);
      warn(state, where, unknownKeyDetail(entry.key));
      break;
  }
  state.located.set(target.canonical, where);
}

function addServer(draft: Draft, id: bigint, raw: string, where: Where, state: ParseState): void {
  const earlier = state.located.get(`${SERVER_PREFIX}${id}`);
  if (earlier !== undefined) {
    throw new ConfigError(where, `duplicate server id ${id} (already defined on line ${earlier.line})`);
  }
  const parsed = parseServerSpec(id, raw);
  throwIfBad(where, parsed);
  draft.servers.push(parsed.value);
}

function unknownKeyDetail(key: string): string {
  if (/^(group|weight)\./.test(key)) return "hierarchical quorums (group/weight) are not supported; kept but unused";
  const property = key.startsWith(SYSPROP_PREFIX) ? key : `${SYSPROP_PREFIX}${key}`;
  return `unknown key; kept as system property ${property} but unused by Corral`;
}

// ---- finish ---------------------------------------------------------------------------

function finish(draft: Draft, state: ParseState): CorralConfig {
  const { fourLetterWords, servers, extra, sslRaw: _sslRaw, ...scalars } = draft;
  checkQuorumShape(draft, state);
  return {
    ...scalars,
    ...clientTls(draft, state),
    ...sessionTimeouts(draft, state),
    ...clientOutboundLimits(draft, state),
    ...paths(draft, state),
    fourLetterWordWhitelist: effectiveWhitelist(fourLetterWords, draft.readOnlyModeEnabled),
    servers: [...servers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    extra,
  };
}

// ZooKeeper opens no plain client port when only secureClientPort is configured.
function clientTls(draft: Draft, state: ParseState): Pick<CorralConfig, "clientTls" | "quorumTls" | "plainClientPortEnabled"> {
  const { clientTls, quorumTls } = tlsSettings(draft, {
    located: (key) => state.located.get(key),
    fileWhere: (key) => ({ sourceName: state.sourceName, line: 0, key }),
    resolvePath: (path) => resolvePath(path, "", state) ?? path,
    error: (where, detail) => new ConfigError(where, detail),
  });
  const plainWritten = state.located.has("clientPort") || draft.servers.some((s) => s.clientPort !== undefined);
  return { clientTls, quorumTls, plainClientPortEnabled: plainWritten || draft.secureClientPort === undefined };
}

// QuorumPeerConfig: -1 (or absent) means 2 x tickTime and 20 x tickTime; then min <= max.
// Derived values are capped at the int32 the wire's negotiated timeout can carry.
type SessionTimeouts = Pick<CorralConfig, "sessionTimeoutMsMin" | "sessionTimeoutMsMax">;

function sessionTimeouts(draft: Draft, state: ParseState): SessionTimeouts {
  const derive = (value: number, ticks: number) =>
    value === -1 ? Math.min(ticks * draft.tickMs, INT32_MAX) : value;
  const min = derive(draft.sessionTimeoutMsMin, 2);
  const max = derive(draft.sessionTimeoutMsMax, 20);
  if (min > max) throw sessionTimeoutError(draft, state, min, max);
  return { sessionTimeoutMsMin: min, sessionTimeoutMsMax: max };
}

/** Blames the key that was written (the later one when both were). */
function sessionTimeoutError(draft: Draft, state: ParseState, min: number, max: number): ConfigError {
  const minWhere = state.located.get("minSessionTimeout");
  const maxWhere = state.located.get("maxSessionTimeout");
  if (maxWhere !== undefined && (minWhere === undefined || maxWhere.line > minWhere.line)) {
    const how = draft.sessionTimeoutMsMin === -1 ? " (2 x tickTime)" : "";
    return new ConfigError(maxWhere, `${max} ms is below minSessionTimeout, ${min} ms${how}`);
  }
  const how = draft.sessionTimeoutMsMax === -1 ? " (20 x tickTime)" : "";
  const where = whereOf(state, "minSessionTimeout");
  return new ConfigError(where, `${min} ms is above maxSessionTimeout, ${max} ms${how}`);
}

// The client output bounds. The defaults are derived from jute.maxbuffer (the largest
// reply) by the rule src/net/connection.ts (outboundLimitsFor) uses for a host that gives
// none; config may not import net, so a unit test checks that the two agree. A written
// soft max with no hard max moves the derived hard max up with it.
type ClientOutboundLimits = Pick<CorralConfig, "clientOutboundBytesSoftMax" | "clientOutboundBytesHardMax">;
const SOFT_KEY = "corral.clientOutboundBytesSoftMax";
const HARD_KEY = "corral.clientOutboundBytesHardMax";

function clientOutboundLimits(draft: Draft, state: ParseState): ClientOutboundLimits {
  const derived = clientOutboundLimitsFor(draft.juteMaxBufferBytes);
  const soft = draft.clientOutboundBytesSoftMax ?? derived.softBytes;
  const hard = draft.clientOutboundBytesHardMax ?? Math.max(derived.hardBytes, CLIENT_HARD_PER_SOFT * soft);
  if (soft <= hard) {
    if (hard < draft.juteMaxBufferBytes) {
      warn(state, whereOf(state, HARD_KEY), `${hard} bytes is below jute.maxbuffer, ${draft.juteMaxBufferBytes} bytes: a client reading one reply that large is disconnected`);
    }
    return { clientOutboundBytesSoftMax: soft, clientOutboundBytesHardMax: hard };
  }
  // Only possible when the hard max is written: blame the later written line.
  const softWhere = state.located.get(SOFT_KEY);
  const hardWhere = whereOf(state, HARD_KEY);
  if (softWhere !== undefined && softWhere.line > hardWhere.line) {
    throw new ConfigError(softWhere, `${soft} bytes is above ${HARD_KEY}, ${hard} bytes`);
  }
  const how = softWhere === undefined ? " (derived from jute.maxbuffer)" : "";
  throw new ConfigError(hardWhere, `${hard} bytes is below ${SOFT_KEY}, ${soft} bytes${how}`);
}

type Paths = Pick<CorralConfig, "dataDir" | "dataLogDir" | "dynamicConfigFile">;

function paths(draft: Draft, state: ParseState): Paths {
  const dataDir = resolvePath(draft.dataDir, "dataDir", state);
  const dataLogDir =
    draft.dataLogDir === undefined ? dataDir : resolvePath(draft.dataLogDir, "dataLogDir", state);
  const dynamicConfigFile = resolvePath(draft.dynamicConfigFile, "dynamicConfigFile", state);
  return { dataDir, dataLogDir, dynamicConfigFile };
}

/**
 * A relative path is relative to the directory the server was started from, as Java's
 * File resolves it for ZooKeeper. Not a warning: the stock zoo.cfg's `dataDir=./data`
 * is one; the server logs the resolved directory when it starts.
 */
function resolvePath(path: string | undefined, _key: string, state: ParseState): string | undefined {
  if (path === undefined || state.baseDir === undefined || isAbsolute(path)) return path;
  return resolve(state.baseDir, path);
}

// FourLetterCommands.isEnabled always adds "srvr" (zkServer.sh needs it) and, in
// read-only mode, "isro".
function effectiveWhitelist(words: readonly string[] | "*", readOnly: boolean): ReadonlySet<string> | "*" {
  if (words === "*") return "*";
  const set = new Set(words);
  set.add("srvr");
  if (readOnly) set.add("isro");
  return set;
}

// QuorumPeerConfig.parseDynamicConfig's rules on the shape of the ensemble. With a
// dynamicConfigFile the servers live there (not read yet), so only its exclusivity is checked.
function checkQuorumShape(draft: Draft, state: ParseState): void {
  checkServerIdsForExtendedTypes(draft, state);
  if (draft.dynamicConfigFile !== undefined) {
    checkNoStaticServers(draft, state);
    return;
  }
  const participants = draft.servers.filter((s) => s.role === "participant").length;
  const observers = draft.servers.length - participants;
  checkHasQuorum(draft, state, participants, observers);
  const fileWhere = { sourceName: state.sourceName, line: 0, key: "" };
  if (participants === 0 || (participants === 1 && draft.standaloneEnabled)) return;
  if (participants <= 2) {
    warn(state, fileWhere, `${participants} participant(s): no server failure will be tolerated; you need at least 3 servers`);
  } else if (participants % 2 === 0) {
    warn(state, fileWhere, `${participants} participants: non-optimal configuration, consider an odd number of servers`);
  }
}

function checkNoStaticServers(draft: Draft, state: ParseState): void {
  const first = draft.servers[0];
  if (first === undefined) return;
  const where = whereOf(state, `${SERVER_PREFIX}${first.id}`);
  throw new ConfigError(where, "must be in the dynamic config file when dynamicConfigFile is set");
}

function checkHasQuorum(draft: Draft, state: ParseState, participants: number, observers: number): void {
  const fileWhere = { sourceName: state.sourceName, line: 0, key: "" };
  if (participants === 0 && !draft.standaloneEnabled) {
    throw new ConfigError(whereOf(state, "standaloneEnabled"), "false needs at least one participant server.N line");
  }
  if (participants === 0 && observers > 0) {
    throw new ConfigError(fileWhere, "observers without participants is an invalid configuration");
  }
  if (participants === 1 && draft.standaloneEnabled && observers > 0) {
    const detail = "observers without a quorum (one participant, standaloneEnabled=true) is an invalid configuration";
    throw new ConfigError(fileWhere, detail);
  }
}

function checkServerIdsForExtendedTypes(draft: Draft, state: ParseState): void {
  if (!draft.extendedTypesEnabled) return;
  const tooBig = draft.servers.find((s) => s.id > EXTENDED_TYPES_SERVER_ID_MAX);
  if (tooBig === undefined) return;
  throw new ConfigError(
    whereOf(state, `${SERVER_PREFIX}${tooBig.id}`),
    extendedTypesIdDetail(tooBig.id),
  );
}

export function extendedTypesIdDetail(id: bigint): string {
  const max = EXTENDED_TYPES_SERVER_ID_MAX;
  return `server id ${id} is above ${max}, the largest allowed when extendedTypesEnabled is true`;
}
