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

/** The client port's TLS settings, settled from the ssl.* keys. */
export type ClientTlsSettings = {
  readonly keyStore: TlsStore | undefined;
  readonly trustStore: TlsStore | undefined;
  readonly clientAuth: ClientAuth;
  /** `ssl.protocol`, a Java name (TLSv1.2, TLSv1.3, TLS). */
  readonly protocol: string;
  /** `ssl.enabledProtocols`; undefined = just `protocol`. */
  readonly enabledProtocols: readonly string[] | undefined;
  /** `ssl.ciphersuites`, as written (IANA names); undefined = the TLS library's defaults. */
  readonly ciphersuites: readonly string[] | undefined;
  /** Kept for the quorum; ZooKeeper does not check client host names on the client port. */
  readonly hostnameVerification: boolean;
};

/** The ssl.* values as written; tlsSettings() turns them into ClientTlsSettings. */
export type TlsDraft = {
  sslKeyStoreLocation: string | undefined;
  sslKeyStorePassword: string | undefined;
  sslKeyStoreType: string | undefined;
  sslTrustStoreLocation: string | undefined;
  sslTrustStorePassword: string | undefined;
  sslTrustStoreType: string | undefined;
  sslClientAuth: ClientAuth;
  sslProtocol: string;
  sslEnabledProtocols: readonly string[] | undefined;
  sslCiphersuites: readonly string[] | undefined;
  sslHostnameVerification: boolean;
};

export const X509_PROVIDER_CLASS = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
/** ZooKeeper 3.8's default `ssl.protocol`. */
export const SSL_PROTOCOL_DEFAULT = "TLSv1.2";

export function baseTlsDraft(): TlsDraft {
  return {
    sslKeyStoreLocation: undefined,
    sslKeyStorePassword: undefined,
    sslKeyStoreType: undefined,
    sslTrustStoreLocation: undefined,
    sslTrustStorePassword: undefined,
    sslTrustStoreType: undefined,
    sslClientAuth: "need",
    sslProtocol: SSL_PROTOCOL_DEFAULT,
    sslEnabledProtocols: undefined,
    sslCiphersuites: undefined,
    sslHostnameVerification: true,
  };
}

type Apply = KeySpec["apply"];
const DONE: Parsed<void> = ok(undefined);

const textKey = (set: (d: Draft, v: string) => void): Apply => (draft, raw) => {
  const p = parseNonEmpty(raw, "a value");
  if (!p.ok) return p;
  set(draft, p.value);
  return DONE;
};
// A password may be empty (a PKCS12 store written with an empty password).
const passwordKey = (set: (d: Draft, v: string) => void): Apply => (draft, raw) => {
  set(draft, raw);
  return DONE;
};
const listKey = (set: (d: Draft, v: readonly string[]) => void): Apply => (draft, raw) => {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) return bad("a comma-separated list", raw);
  set(draft, items);
  return DONE;
};

/** Java protocol names Node's TLS accepts as minVersion/maxVersion. */
export const TLS_PROTOCOLS: ReadonlyMap<string, "TLSv1.2" | "TLSv1.3"> = new Map([
  ["TLSv1.2", "TLSv1.2"],
  ["TLSv1.3", "TLSv1.3"],
  ["TLS", "TLSv1.3"],
]);

const protocolName = (raw: string): Parsed<string> =>
  TLS_PROTOCOLS.has(raw) ? ok(raw) : bad(`one of ${[...TLS_PROTOCOLS.keys()].join(", ")} (older protocols are not served)`, raw);

const clientAuth: Apply = (draft, raw) => {
  const v = raw.trim().toLowerCase();
  if (v !== "none" && v !== "want" && v !== "need") return bad("none, want or need", raw);
  draft.sslClientAuth = v;
  return DONE;
};

const protocol: Apply = (draft, raw) => {
  const p = protocolName(raw.trim());
  if (!p.ok) return p;
  draft.sslProtocol = p.value;
  return DONE;
};

const enabledProtocols: Apply = (draft, raw, ctx) => {
  const r = listKey((d, v) => (d.sslEnabledProtocols = v))(draft, raw, ctx);
  if (!r.ok) return r;
  for (const name of draft.sslEnabledProtocols ?? []) {
    const p = protocolName(name);
    if (!p.ok) return p;
  }
  return DONE;
};

const ciphersuites: Apply = (draft, raw, ctx) => {
  const r = listKey((d, v) => (d.sslCiphersuites = v))(draft, raw, ctx);
  if (!r.ok) return r;
  const unknown = (draft.sslCiphersuites ?? []).filter((c) => opensslCipherName(c) === undefined);
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

/** The TLS keys, appended to keys.ts's table. */
export const TLS_SPECS: readonly KeySpec[] = [
  { name: "secureClientPort", sysprop: false, apply: (d, raw) => set(parsePort(raw), (v) => (d.secureClientPort = v)) },
  { name: "secureClientPortAddress", sysprop: false, apply: (d, raw) => set(parseHost(raw), (v) => (d.secureClientPortAddress = v)) },
  { name: "client.portUnification", sysprop: true, apply: boolKey((d, v) => (d.clientPortUnification = v)) },
  { name: "serverCnxnFactory", sysprop: true, apply: ignored("Corral serves TLS and plain clients with one network layer") },
  { name: "ssl.keyStore.location", sysprop: true, apply: textKey((d, v) => (d.sslKeyStoreLocation = v)) },
  { name: "ssl.keyStore.password", sysprop: true, apply: passwordKey((d, v) => (d.sslKeyStorePassword = v)) },
  { name: "ssl.keyStore.type", sysprop: true, apply: textKey((d, v) => (d.sslKeyStoreType = v)) },
  { name: "ssl.trustStore.location", sysprop: true, apply: textKey((d, v) => (d.sslTrustStoreLocation = v)) },
  { name: "ssl.trustStore.password", sysprop: true, apply: passwordKey((d, v) => (d.sslTrustStorePassword = v)) },
  { name: "ssl.trustStore.type", sysprop: true, apply: textKey((d, v) => (d.sslTrustStoreType = v)) },
  { name: "ssl.clientAuth", sysprop: true, apply: clientAuth },
  { name: "ssl.protocol", sysprop: true, apply: protocol },
  { name: "ssl.enabledProtocols", sysprop: true, apply: enabledProtocols },
  { name: "ssl.ciphersuites", sysprop: true, apply: ciphersuites },
  { name: "ssl.hostnameVerification", sysprop: true, apply: boolKey((d, v) => (d.sslHostnameVerification = v)) },
  { name: "ssl.authProvider", sysprop: true, apply: (_d, raw) => (raw.trim() === "x509" ? DONE : bad("x509 (the built-in provider)", raw)) },
  { name: "authProvider.x509", sysprop: true, apply: x509Provider },
  { name: "X509AuthenticationProvider.superUser", sysprop: true, apply: textKey((d, v) => (d.x509SuperUser = v)) },
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
function storeType(which: "keyStore" | "trustStore", location: string, type: string | undefined, ctx: TlsContext): TlsStoreType {
  const typeKey = `ssl.${which}.type`;
  const where = ctx.located(typeKey) ?? ctx.located(`ssl.${which}.location`) ?? ctx.fileWhere(typeKey);
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

function store(which: "keyStore" | "trustStore", location: string | undefined, password: string | undefined, type: string | undefined, ctx: TlsContext): TlsStore | undefined {
  const locKey = `ssl.${which}.location`;
  if (location === undefined) {
    const stray = ctx.located(`ssl.${which}.type`) ?? ctx.located(`ssl.${which}.password`);
    if (stray !== undefined) throw ctx.error(stray, `set without ${locKey}`);
    return undefined;
  }
  const where = ctx.located(locKey) ?? ctx.fileWhere(locKey);
  return {
    location: ctx.resolvePath(location),
    password,
    type: storeType(which, location, type, ctx),
    where,
    passwordWhere: ctx.located(`ssl.${which}.password`) ?? where,
  };
}

/**
 * Settles the TLS settings after every line is read: store types (written or guessed
 * from the file name; JKS refused), paths resolved, and the rule that a secure port
 * (or port unification) needs a key store.
 */
export function tlsSettings(d: TlsDraft & { secureClientPort?: number | undefined; clientPortUnification: boolean }, ctx: TlsContext): ClientTlsSettings {
  const keyStore = store("keyStore", d.sslKeyStoreLocation, d.sslKeyStorePassword, d.sslKeyStoreType, ctx);
  const trustStore = store("trustStore", d.sslTrustStoreLocation, d.sslTrustStorePassword, d.sslTrustStoreType, ctx);
  const servesTls = d.secureClientPort !== undefined || d.clientPortUnification;
  if (servesTls && keyStore === undefined) {
    const key = d.secureClientPort !== undefined ? "secureClientPort" : "client.portUnification";
    throw ctx.error(ctx.located(key) ?? ctx.fileWhere(key), "serving TLS needs ssl.keyStore.location (the server's key and certificate)");
  }
  return {
    keyStore,
    trustStore,
    clientAuth: d.sslClientAuth,
    protocol: d.sslProtocol,
    enabledProtocols: d.sslEnabledProtocols,
    ciphersuites: d.sslCiphersuites,
    hostnameVerification: d.sslHostnameVerification,
  };
}
