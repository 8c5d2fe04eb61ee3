// The TLS stores as the server and the CLI read them: src/net's loaders, with a store
// that cannot be used (missing, wrong password, not a key) turned into a ConfigError
// naming the file, line and key, as every other config error is.

import type { SecureContextOptions } from "node:tls";
import { ConfigError, type TlsSettings, type TlsStore } from "../config/index.js";
import { TlsContextSource, TlsStoreError, keyStoreOptions, trustStoreCertificates } from "../net/index.js";
import type { Logger } from "../util/index.js";

async function asConfigError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof TlsStoreError) throw new ConfigError(e.where, e.detail, { cause: e });
    throw e;
  }
}

/** The certificates for one side (client port or quorum), watched for changes; ConfigError on a bad store. */
export function openTlsContexts(settings: TlsSettings, log: Logger): Promise<TlsContextSource> {
  return asConfigError(() => TlsContextSource.open(settings, log));
}

/** A key store's SecureContext options (key and certificate, or PKCS#12); ConfigError on a bad one. */
export function readKeyStore(store: TlsStore): Promise<SecureContextOptions> {
  return asConfigError(() => keyStoreOptions(store));
}

/** A trust store's CA certificates (PEM); ConfigError on a bad one. */
export function readTrustStore(store: TlsStore): Promise<string[]> {
  return asConfigError(() => trustStoreCertificates(store));
}
