// Client TLS keys, as ZooKeeper 3.8 spells them: secureClientPort, the ssl.* system
// properties (accepted with or without "zookeeper."), client.portUnification, the x509
// auth provider, and serverCnxnFactory (accepted, ignored: Corral has one network layer).
// tlsSettings() settles the store types and resolves paths after every line is read.
// Pure: no I/O (the stores are read by src/net/tls.ts when the server starts).

import { type Where } from "./errors.js";
import type { Draft, KeySpec } from "./keys.js";
import { type Parsed, ok, bad, parseBool, parseHost, parseNonEmpty, parsePort } from "./values.js";

/** The store formats Corral reads. JKS (Java's own) is refused with a config error. */
export type TlsStoreType = "PEM" | "PKCS12";

/** A key store or trust store: a file, its password, its format, and where it was configured. */
export type TlsStore = {
  readonly location: string;
  readonly password: string | undefined;
  readonly type: TlsStoreType;
  /** The `ssl.*.location` line, for errors found when the file is read. */
  readonly where: Where;
  /** The `ssl.*.password` line (the location's when no password was written). */
  readonly passwordWhere: Where;
};

/** `ssl.clientAuth`: whether the server asks for (want) or requires (need) a client certificate. */
export type ClientAuth = "none" | "want" | "need";

/** One side's TLS settings (the client port's ssl.*, or the quorum's ssl.quorum.*), settled. */
export type TlsSettings = {
  readonly keyStore: TlsStore | undefined;
  readonly trustStore: TlsStore | undefined;
  readonly clientAuth: ClientAuth;
  /** `ssl.protocol`, a Java name (TLSv1.2, TLSv1.3, TLS). */
  readonly protocol: string;
  /** `ssl.enabledProtocols`; undefined = just `protocol`. */
  readonly enabledProtocols: readonly string[] | undefined;
  /** `ssl.ciphersuites`, as written (IANA names); undefined = the TLS library's defaults. */
  readonly ciphersuites: readonly string[] | undefined;
  /** The lowest and highest TLS version the protocol keys allow (Node's names). */
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  readonly maxVersion: "TLSv1.2" | "TLSv1.3";
  /** `ciphersuites` as an OpenSSL cipher list. */
  readonly opensslCiphers: string | undefined;
  /** Kept for the quorum; ZooKeeper does not check client host names on the client port. */
  readonly hostnameVerification: boolean;
};

/** The ssl.* values as written (canonical key -> value); tlsSettings() settles them. */
export type TlsDraft = {
  sslRaw: Map<string, string>;
};

/** The class name `authProvider.x509` names in ZooKeeper; Corral's provider is built in. */
export const X509_PROVIDER_CLASS = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
/** ZooKeeper 3.8's default `ssl.protocol`. */
export const SSL_PROTOCOL_DEFAULT = "TLSv1.2";
/** The client port's keys start with this; the quorum's with QUORUM_PREFIX. */
export const CLIENT_PREFIX = "ssl.";
export const QUORUM_PREFIX = "ssl.quorum.";

/** The draft before any ssl.* line is read. */
export function baseTlsDraft(): TlsDraft {
  return { sslRaw: new Map() };
}

type Apply = KeySpec["apply"];
const DONE: Parsed<void> = ok(undefined);

/** Checks a value as written and keeps it under `name` for tlsSettings(). */
const raw = (name: string, check: (raw: string) => Parsed<unknown>): Apply => (draft, value) => {
  const p = check(value);
  if (!p.ok) return p;
  draft.sslRaw.set(name, value);
  return DONE;
};
const nonEmpty = (v: string): Parsed<unknown> => parseNonEmpty(v, "a value");
const anything = (): Parsed<unknown> => DONE;

function listOf(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Java protocol names Node's TLS accepts as minVersion/maxVersion. */
export const TLS_PROTOCOLS: ReadonlyMap<string, "TLSv1.2" | "TLSv1.3"> = new Map([
  ["TLSv1.2", "TLSv1.2"],
  ["TLSv1.3", "TLSv1.3"],
  ["TLS", "TLSv1.3"],
]);

const protocolName = (raw: string): Parsed<string> =>
  TLS_PROTOCOLS.has(raw) ? ok(raw) : bad(`one of ${[...TLS_PROTOCOLS.keys()].join(", ")} (older protocols are not served)`, raw);

const clientAuthOf = (v: string): Parsed<ClientAuth> => {
  const w = v.trim().toLowerCase();
  return w === "none" || w === "want" || w === "need" ? ok(w) : bad("none, want or need", v);
};

const protocolsOf = (v: string): Parsed<unknown> => {
  const items = listOf(v);
  if (items.length === 0) return bad("a comma-separated list", v);
  for (const name of items) {
    const p = protocolName(name);
    if (!p.ok) return p;
  }
  return DONE;
};

const ciphersOf = (v: string): Parsed<unknown> => {
  const items = listOf(v);
  if (items.length === 0) return bad("a comma-separated list", v);
  const unknown = items.filter((c) => opensslCipherName(c) === undefined);
  if (unknown.length > 0) return { ok: false, problem: `unknown cipher suite(s) ${unknown.join(", ")}; known: ${[...IANA_TO_OPENSSL.keys()].join(", ")}` };
  return DONE;
};

const boolKey = (set: (d: Draft, v: boolean) => void): Apply => (draft, raw) => {
  const p = parseBool(raw);
  if (!p.ok) return p;
  set(draft, p.value);
  return DONE;
};

const ignored = (what: string): Apply => (_draft, _raw, ctx) => {
  ctx.warn(`accepted and ignored: ${what}`);
  return DONE;
};

const x509Provider: Apply = (_draft, raw, ctx) => {
  if (raw.trim() !== X509_PROVIDER_CLASS) ctx.warn(`Corral's x509 provider is built in; ${JSON.stringify(raw)} is not loaded`);
  return DONE;
};

// IANA (Java) cipher suite names -> OpenSSL names. TLS 1.3 suites share one name.
const IANA_TO_OPENSSL: ReadonlyMap<string, string> = new Map([
  ["TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"],
  ["TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"],
  ["TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"],
  ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"],
  ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"],
  ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"],
  ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"],
  ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"],
  ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"],
  ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256"],
  ["TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384"],
  ["TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256"],
  ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256"],
]);

/** The OpenSSL name of a Java (IANA) cipher suite name; undefined when Corral does not know it. */
export function opensslCipherName(iana: string): string | undefined {
  return IANA_TO_OPENSSL.get(iana);
}

/** The store, protocol and auth keys under one prefix ("ssl." or "ssl.quorum."). */
function storeSpecs(prefix: string): KeySpec[] {
  const k = (suffix: string, check: (raw: string) => Parsed<unknown>): KeySpec =>
    ({ name: `${prefix}${suffix}`, sysprop: true, apply: raw(`${prefix}${suffix}`, check) });
  return [
    k("keyStore.location", nonEmpty),
    // A password may be empty (a PKCS12 store written with an empty password).
    k("keyStore.password", anything),
    k("keyStore.type", nonEmpty),
    k("trustStore.location", nonEmpty),
    k("trustStore.password", anything),
    k("trustStore.type", nonEmpty),
    k("clientAuth", clientAuthOf),
    k("protocol", (v) => protocolName(v.trim())),
    k("enabledProtocols", protocolsOf),
    k("ciphersuites", ciphersOf),
    k("hostnameVerification", parseBool),
  ];
}

/** The TLS keys, appended to keys.ts's table. */
export const TLS_SPECS: readonly KeySpec[] = [
  { name: "secureClientPort", sysprop: false, apply: (d, raw) => set(parsePort(raw), (v) => (d.secureClientPort = v)) },
  { name: "secureClientPortAddress", sysprop: false, apply: (d, raw) => set(parseHost(raw), (v) => (d.secureClientPortAddress = v)) },
  { name: "client.portUnification", sysprop: true, apply: boolKey((d, v) => (d.clientPortUnification = v)) },
  { name: "serverCnxnFactory", sysprop: true, apply: ignored("Corral serves TLS and plain clients with one network layer") },
  ...storeSpecs(CLIENT_PREFIX),
  { name: "ssl.authProvider", sysprop: true, apply: (_d, raw) => (raw.trim() === "x509" ? DONE : bad("x509 (the built-in provider)", raw)) },
  { name: "authProvider.x509", sysprop: true, apply: x509Provider },
  { name: "X509AuthenticationProvider.superUser", sysprop: true, apply: (d, raw) => set(parseNonEmpty(raw, "a DN"), (v) => (d.x509SuperUser = v)) },
  // Quorum TLS (QuorumPeerConfig: sslQuorum, portUnification; X509Util's ssl.quorum.* keys).
  { name: "sslQuorum", sysprop: true, apply: boolKey((d, v) => (d.sslQuorum = v)) },
  { name: "portUnification", sysprop: true, apply: boolKey((d, v) => (d.quorumPortUnification = v)) },
  { name: "sslQuorumReloadCertFiles", sysprop: true, apply: ignored("quorum certificates are always reloaded when their files change") },
  ...storeSpecs(QUORUM_PREFIX),
];

function set<T>(p: Parsed<T>, assign: (v: T) => void): Parsed<void> {
  if (!p.ok) return p;
  assign(p.value);
  return DONE;
}

/** What tlsSettings needs from parse.ts's state. */
export type TlsContext = {
  /** Where a key was written; undefined when it was not. */
  located(canonical: string): Where | undefined;
  /** Where to blame a key that was not written (the file as a whole). */
  fileWhere(canonical: string): Where;
  /** Resolves a relative path as dataDir's is resolved. */
  resolvePath(path: string): string;
  error(where: Where, detail: string): Error;
};

/** The store format: `type` when written, else from the file name as ZooKeeper guesses it. */
function storeType(key: string, location: string, type: string | undefined, ctx: TlsContext): TlsStoreType {
  const typeKey = `${key}.type`;
  const where = ctx.located(typeKey) ?? ctx.located(`${key}.location`) ?? ctx.fileWhere(typeKey);
  const written = type?.trim().toUpperCase();
  const guessed = written ?? guessType(location);
  if (guessed === "PEM" || guessed === "PKCS12") return guessed;
  if (guessed === "JKS") {
    throw ctx.error(where, "JKS stores are not supported; convert it with `keytool -importkeystore -deststoretype PKCS12` and set type PKCS12, or use PEM");
  }
  if (guessed === undefined) throw ctx.error(where, `cannot tell the store type from ${JSON.stringify(location)}; set ${typeKey} to PEM or PKCS12`);
  throw ctx.error(where, `expected PEM or PKCS12, got ${JSON.stringify(type)}`);
}

function guessType(location: string): string | undefined {
  const lower = location.toLowerCase();
  if (lower.endsWith(".pem") || lower.endsWith(".crt")) return "PEM";
  if (lower.endsWith(".p12") || lower.endsWith(".pfx")) return "PKCS12";
  if (lower.endsWith(".jks")) return "JKS";
  return undefined;
}

function store(key: string, raws: ReadonlyMap<string, string>, ctx: TlsContext): TlsStore | undefined {
  const locKey = `${key}.location`;
  const location = raws.get(locKey);
  if (location === undefined) {
    const stray = ctx.located(`${key}.type`) ?? ctx.located(`${key}.password`);
    if (stray !== undefined) throw ctx.error(stray, `set without ${locKey}`);
    return undefined;
  }
  const where = ctx.located(locKey) ?? ctx.fileWhere(locKey);
  return {
    location: ctx.resolvePath(location),
    password: raws.get(`${key}.password`),
    type: storeType(key, location, raws.get(`${key}.type`), ctx),
    where,
    passwordWhere: ctx.located(`${key}.password`) ?? where,
  };
}

/** The settings under `prefix` ("ssl." or "ssl.quorum."), from the values as written. */
export function storeSettings(prefix: string, raws: ReadonlyMap<string, string>, ctx: TlsContext, used = true): TlsSettings {
  const get = (suffix: string): string | undefined => raws.get(`${prefix}${suffix}`);
  const auth = clientAuthOf(get("clientAuth") ?? "need");
  const hv = parseBool(get("hostnameVerification") ?? "true");
  const enabled = get("enabledProtocols");
  const ciphers = get("ciphersuites");
  const protocol = get("protocol")?.trim() ?? SSL_PROTOCOL_DEFAULT;
  const versions = (enabled === undefined ? [protocol] : listOf(enabled))
    .flatMap((n) => (n === "TLS" ? ["TLSv1.2", "TLSv1.3"] as const : [TLS_PROTOCOLS.get(n) ?? "TLSv1.2"]))
    .sort();
  const ciphersuites = ciphers === undefined ? undefined : listOf(ciphers);
  return {
    // Stores nobody uses are not checked (a zoo.cfg shared with ZooKeeper may name JKS ones).
    keyStore: used ? store(`${prefix}keyStore`, raws, ctx) : undefined,
    trustStore: used ? store(`${prefix}trustStore`, raws, ctx) : undefined,
    clientAuth: auth.ok ? auth.value : "need",
    protocol,
    enabledProtocols: enabled === undefined ? undefined : listOf(enabled),
    ciphersuites,
    minVersion: versions[0] ?? "TLSv1.2",
    maxVersion: versions[versions.length - 1] ?? "TLSv1.2",
    opensslCiphers: ciphersuites?.map((c) => opensslCipherName(c) ?? c).join(":"),
    hostnameVerification: hv.ok ? hv.value : true,
  };
}

/**
 * Settles the TLS settings after every line is read: store types (written or guessed
 * from the file name; JKS refused), paths resolved, and the rules that a secure client
 * port (or port unification) and sslQuorum need a key store.
 */
export function tlsSettings(
  d: TlsDraft & { secureClientPort?: number | undefined; clientPortUnification: boolean; sslQuorum: boolean; quorumPortUnification: boolean },
  ctx: TlsContext,
): { clientTls: TlsSettings; quorumTls: TlsSettings } {
  const servesTls = d.secureClientPort !== undefined || d.clientPortUnification;
  const clientTls = storeSettings(CLIENT_PREFIX, d.sslRaw, ctx, servesTls);
  const quorumTls = storeSettings(QUORUM_PREFIX, d.sslRaw, ctx, d.sslQuorum || d.quorumPortUnification);
  if (servesTls && clientTls.keyStore === undefined) {
    const key = d.secureClientPort !== undefined ? "secureClientPort" : "client.portUnification";
    throw ctx.error(ctx.located(key) ?? ctx.fileWhere(key), "serving TLS needs ssl.keyStore.location (the server's key and certificate)");
  }
  const quorumKey = d.sslQuorum ? "sslQuorum" : d.quorumPortUnification ? "portUnification" : undefined;
  if (quorumKey !== undefined && quorumTls.keyStore === undefined) {
    throw ctx.error(ctx.located(quorumKey) ?? ctx.fileWhere(quorumKey), "true needs ssl.quorum.keyStore.location (this server's key and certificate)");
  }
  return { clientTls, quorumTls };
}
