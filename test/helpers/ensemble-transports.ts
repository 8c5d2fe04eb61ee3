// The two ways an ensemble test runs (issue 17: "a 3-member ensemble with sslQuorum=true
// passes the ensemble tests"): plain, and TLS everywhere: sslQuorum=true between members,
// clients on each member's secureClientPort under ssl.clientAuth=need with a certificate
// from the test CA. The certificates are made once per test file, on first use.

import { readFileSync } from "node:fs";
import type { ClientOptions } from "../../src/client/index.js";
import type { EnsembleForTestOptions } from "../../src/server/index.js";
import { makePki, type Pki } from "./tls-certs.js";

export type EnsembleTransport = {
  readonly name: string;
  readonly tls: boolean;
  /** Options for startEnsembleForTest. */
  ensemble(): Pick<EnsembleForTestOptions, "tls">;
  /** Options for the clients' connect(). */
  client(): ClientOptions;
};

let pki: Pki | undefined;
const pkiOnce = (): Pki => (pki ??= makePki());

export const PLAIN: EnsembleTransport = { name: "plain", tls: false, ensemble: () => ({}), client: () => ({}) };

export const TLS_EVERYWHERE: EnsembleTransport = {
  name: "over TLS (sslQuorum=true, secureClientPort, ssl.clientAuth=need)",
  tls: true,
  ensemble: () => ({ tls: { keyStore: pkiOnce().server.storePem, trustStore: pkiOnce().caPem } }),
  client: () => {
    const p = pkiOnce();
    return { tls: { ca: readFileSync(p.caPem), cert: readFileSync(p.client1.certPem), key: readFileSync(p.client1.keyPem) } };
  },
};

export const ENSEMBLE_TRANSPORTS: readonly EnsembleTransport[] = [PLAIN, TLS_EVERYWHERE];

/** Removes the certificates if any were made (call from afterAll). */
export function removeTransportCerts(): void {
  pki?.remove();
  pki = undefined;
}
