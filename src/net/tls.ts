// The client port's TLS: reads the key and trust stores the ssl.* keys name (PEM or
// PKCS#12), checks them by building a SecureContext (a missing file or a wrong password
// fails the server's start with the config line to blame), and rebuilds the context when
// a store file changes, as ZooKeeper 3.8's FileChangeWatcher does: connections made
// after the change use the new certificates, open ones keep theirs.

import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { X509Certificate } from "node:crypto";
import { lookupService } from "node:dns/promises";
import { isIP, isIPv4, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { createSecureContext, type SecureContext, type SecureContextOptions, type TLSSocket } from "node:tls";

/** Where a setting was written (file, line, key): src/config's Where, without importing it. */
export type ConfigPlace = { readonly sourceName: string; readonly line: number; readonly key: string };

/** A key or trust store as src/config settles it (TlsStore there). */
export type TlsStore = {
  readonly location: string;
  readonly password: string | undefined;
  readonly type: "PEM" | "PKCS12";
  readonly where: ConfigPlace;
  readonly passwordWhere: ConfigPlace;
};

/** One side's TLS settings as src/config settles them (TlsSettings there). */
export type TlsSettings = {
  readonly keyStore: TlsStore | undefined;
  readonly trustStore: TlsStore | undefined;
  readonly clientAuth: "none" | "want" | "need";
  readonly minVersion: "TLSv1.2" | "TLSv1.3";
  readonly maxVersion: "TLSv1.2" | "TLSv1.3";
  /** OpenSSL cipher list; undefined = the library's defaults. */
  readonly opensslCiphers: string | undefined;
};

/** A store that cannot be used, with the config line to blame (the server turns it into a ConfigError). */
export class TlsStoreError extends Error {
  override readonly name = "TlsStoreError";
  readonly where: ConfigPlace;
  readonly detail: string;

  constructor(where: ConfigPlace, detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.where = where;
    this.detail = detail;
  }
}
import type { Logger } from "../util/index.js";
import { pkcs12Certificates } from "./pkcs12.js";

/** Reads the stores and returns the options of a SecureContext; throws TlsStoreError naming the key. */
export async function serverTlsOptions(settings: TlsSettings): Promise<SecureContextOptions> {
  const opts: SecureContextOptions = { ...protocolOptions(settings) };
  if (settings.keyStore !== undefined) Object.assign(opts, await keyStoreOptions(settings.keyStore));
  if (settings.trustStore !== undefined) opts.ca = await trustStoreCertificates(settings.trustStore);
  try {
    createSecureContext(opts);
  } catch (e) {
    const store = settings.keyStore ?? settings.trustStore;
    const where = store === undefined ? { sourceName: "zoo.cfg", line: 0, key: "ssl.keyStore.location" } : store.passwordWhere;
    throw new TlsStoreError(where, `cannot use the TLS stores: ${(e as Error).message}`, { cause: e });
  }
  return opts;
}

/** ssl.protocol / ssl.enabledProtocols / ssl.ciphersuites as Node's TLS options. */
function protocolOptions(settings: TlsSettings): SecureContextOptions {
  return {
    minVersion: settings.minVersion,
    maxVersion: settings.maxVersion,
    ...(settings.opensslCiphers === undefined ? {} : { ciphers: settings.opensslCiphers }),
  };
}

async function readStore(store: TlsStore, what: string): Promise<Buffer> {
  try {
    return await readFile(store.location);
  } catch (e) {
    throw new TlsStoreError(store.where, `cannot read the ${what} ${store.location}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** A key store: PEM (private key and certificate chain in one file) or PKCS#12. */
export async function keyStoreOptions(store: TlsStore): Promise<SecureContextOptions> {
  const bytes = await readStore(store, "key store");
  let opts: SecureContextOptions;
  if (store.type === "PKCS12") {
    opts = { pfx: bytes, passphrase: store.password ?? "" };
  } else {
    const text = bytes.toString("utf8");
    if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(text)) throw new TlsStoreError(store.where, `no private key in ${store.location} (a PEM key store holds the key and its certificates)`);
    if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new TlsStoreError(store.where, `no certificate in ${store.location} (a PEM key store holds the key and its certificates)`);
    opts = { key: text, cert: text, ...(store.password === undefined ? {} : { passphrase: store.password }) };
  }
  try {
    createSecureContext(opts);
  } catch (e) {
    throw new TlsStoreError(store.passwordWhere, `cannot open the key store ${store.location}: ${explain(e)}`, { cause: e });
  }
  return opts;
}

/** A trust store's CA certificates (PEM), from a PEM file or a PKCS#12 file. */
export async function trustStoreCertificates(store: TlsStore): Promise<string[]> {
  const bytes = await readStore(store, "trust store");
  if (store.type === "PKCS12") {
    try {
      return pkcs12Certificates(bytes, store.password ?? "");
    } catch (e) {
      throw new TlsStoreError(store.passwordWhere, `cannot open the trust store ${store.location}: ${(e as Error).message}`, { cause: e });
    }
  }
  const certs = bytes.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) throw new TlsStoreError(store.where, `no certificate in the trust store ${store.location}`);
  return certs.map((c) => `${c}\n`);
}

function explain(e: unknown): string {
  const msg = (e as Error).message;
  if (/mac verify failure|bad decrypt|bad password/i.test(msg)) return `wrong password (${msg})`;
  return msg;
}

/** Files are re-read this long after the last change event, so one edit reloads once. */
export const TLS_RELOAD_SETTLE_MS = 100;

/**
 * The SecureContext new TLS connections use, rebuilt when a store file changes. A
 * reload that fails (a half-written file) is logged and the old context kept.
 */
export class TlsContextSource {
  #context: SecureContext;
  readonly #settings: TlsSettings;
  readonly #log: Logger;
  readonly #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** How many times the context was rebuilt from changed files (tests wait on it). */
  reloads = 0;
  readonly #onReload: (() => void)[] = [];

  private constructor(settings: TlsSettings, opts: SecureContextOptions, log: Logger) {
    this.#settings = settings;
    this.#log = log;
    this.#context = createSecureContext(opts);
  }

  /** Reads the stores (TlsStoreError on a bad one) and starts watching their files. */
  static async open(settings: TlsSettings, log: Logger): Promise<TlsContextSource> {
    const source = new TlsContextSource(settings, await serverTlsOptions(settings), log);
    source.#watch();
    return source;
  }

  get context(): SecureContext {
    return this.#context;
  }

  get settings(): TlsSettings {
    return this.#settings;
  }

  /** Calls `fn` after each successful reload. */
  onReload(fn: () => void): void {
    this.#onReload.push(fn);
  }

  #watch(): void {
    const stores = [this.#settings.keyStore, this.#settings.trustStore].filter((s): s is TlsStore => s !== undefined);
    const byDir = new Map<string, Set<string>>();
    for (const s of stores) {
      const names = byDir.get(dirname(s.location)) ?? new Set<string>();
      names.add(basename(s.location));
      byDir.set(dirname(s.location), names);
    }
    // Like FileChangeWatcher, watch the directory: editors and cert tools replace files.
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(name.toString())) this.#scheduleReload();
        });
        w.on("error", (e) => this.#log.warn({ dir, err: e.message }, "stopped watching TLS store files"));
        this.#watchers.push(w);
      } catch (e) {
        this.#log.warn({ dir, err: (e as Error).message }, "cannot watch TLS store files; certificates are not reloaded");
      }
    }
  }

  #scheduleReload(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reload();
    }, TLS_RELOAD_SETTLE_MS);
    this.#timer.unref();
  }

  async #reload(): Promise<void> {
    try {
      this.#context = createSecureContext(await serverTlsOptions(this.#settings));
      this.reloads++;
      this.#log.info({ keyStore: this.#settings.keyStore?.location, trustStore: this.#settings.trustStore?.location }, "TLS certificates reloaded; new connections use them");
      for (const fn of this.#onReload) fn();
    } catch (e) {
      this.#log.warn({ err: (e as Error).message }, "TLS store changed but cannot be loaded; keeping the previous certificates");
    }
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const w of this.#watchers) w.close();
    this.#watchers.length = 0;
  }
}

/**
 * The chain verdict OpenSSL kept for this socket (null = trusted). Node exposes it only
 * to its own tls.Server; a socket on the unified port cannot go through one (its first
 * bytes were already read), so both ports ask the handle. No handle to ask = refuse.
 */
export function verifyErrorOf(sock: TLSSocket): string | null {
  const handle = (sock as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  if (typeof handle?.verifyError !== "function") return "cannot read the verification result";
  const err = handle.verifyError();
  return err === null || err === undefined ? null : (err.code ?? err.message);
}

/** A Duplex over `socket` that first yields `first` (bytes already read): TLS reads from it. */
export function relay(socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _enc, cb) => void socket.write(chunk, (e) => cb(e ?? null)),
    final: (cb) => void socket.end(() => cb()),
    destroy: (err, cb) => {
      socket.destroy();
      cb(err);
    },
  });
  d.push(first);
  socket.on("data", (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on("end", () => d.push(null));
  socket.on("close", () => d.destroy());
  return d;
}

/** How long the reverse lookup of a peer's address may take before its certificate is judged on the address alone. */
export const REVERSE_LOOKUP_MS_MAX = 2_000;

/** The address as the certificate would name it: an IPv4 address mapped into IPv6 is written as IPv4. */
export function plainAddress(address: string): string {
  const mapped = /^::ffff:(.+)$/i.exec(address)?.[1];
  return mapped !== undefined && isIPv4(mapped) ? mapped : address;
}

/** The host name the address reverse-resolves to (the system resolver: /etc/hosts, then DNS), or undefined. */
async function reverseName(address: string): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), REVERSE_LOOKUP_MS_MAX);
    timer.unref();
  });
  try {
    return await Promise.race([lookupService(address, 0).then((r) => r.hostname, () => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether a connecting peer's certificate names the address it connects from, as
 * ZooKeeper's quorum trust manager checks it under ssl.quorum.hostnameVerification: an IP
 * subjectAltName equal to the address, or else the host name the address reverse-resolves
 * to, matched against the DNS subjectAltNames (the subject's CN when there are none).
 * Returns null when it does, or the reason it does not.
 */
export async function peerNameProblem(cert: X509Certificate, remoteAddress: string): Promise<string | null> {
  const ip = plainAddress(remoteAddress);
  if (isIP(ip) === 0) return "no peer address to check the peer certificate against";
  if (cert.checkIP(ip) !== undefined) return null;
  const name = await reverseName(ip);
  if (name !== undefined && name !== ip && cert.checkHost(name) !== undefined) return null;
  const via = name === undefined || name === ip ? "" : ` nor its host name ${name}`;
  return `peer certificate does not name the peer's address ${ip}${via} (ssl.quorum.hostnameVerification=true)`;
}
