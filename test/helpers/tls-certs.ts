// A throwaway PKI made with the openssl command line, for the TLS tests: a CA, a server
// certificate for 127.0.0.1 (IP SAN), two client certificates from that CA, one from a
// second CA the server does not trust, and PKCS#12 / combined-PEM stores of each.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type CorralConfig } from "../../src/config/index.js";

export const STORE_PASSWORD = "s3cret";

export type Pki = {
  readonly dir: string;
  /** CA certificate (PEM), also the PEM trust store. */
  readonly caPem: string;
  /** CA certificate as a PKCS#12 trust store (password STORE_PASSWORD). */
  readonly caP12: string;
  /** Each identity: key.pem, cert.pem, combined PEM key store (key + cert), PKCS#12 store. */
  readonly server: Identity;
  readonly client1: Identity;
  readonly client2: Identity;
  /** Signed by a CA the server does not trust. */
  readonly rogue: Identity;
  /** Re-issues the server certificate (new serial, same name) into the same files. */
  reissueServer(): void;
  remove(): void;
};

export type Identity = {
  readonly keyPem: string;
  readonly certPem: string;
  /** Key and certificate in one PEM file: ZooKeeper's PEM key store. */
  readonly storePem: string;
  readonly storeP12: string;
};

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function issue(dir: string, name: string, subj: string, ca: string, ext: string): Identity {
  const keyPem = join(dir, `${name}.key`);
  const certPem = join(dir, `${name}.crt.pem`);
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPem, "-out", `${name}.csr`, "-subj", subj]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial",
    "-out", certPem, "-days", "2", "-extfile", `${name}.ext`]);
  const storePem = join(dir, `${name}.store.pem`);
  writeFileSync(storePem, readFileSync(keyPem, "utf8") + readFileSync(certPem, "utf8"));
  const storeP12 = join(dir, `${name}.p12`);
  openssl(dir, ["pkcs12", "-export", "-inkey", keyPem, "-in", certPem, "-out", storeP12, "-passout", `pass:${STORE_PASSWORD}`]);
  return { keyPem, certPem, storePem, storeP12 };
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt.pem`,
    "-days", "2", "-subj", `/CN=${cn}`]);
}

const SERVER_EXT = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n";
const CLIENT_EXT = "extendedKeyUsage=clientAuth\n";

/** Subject DNs of the client certificates, as Java's X500Principal.getName() prints them. */
export const CLIENT1_DN = "CN=client1,OU=test,O=corral";
export const CLIENT2_DN = "CN=client2\\, the second,OU=test,O=corral";

/**
 * One more identity from the PKI's CA (client and server usage), its subjectAltName as
 * written for openssl (e.g. "DNS:elsewhere.example"); made on demand, as RSA keys take time.
 */
export function issueFromCa(pki: Pki, name: string, subjectAltName: string): Identity {
  return issue(pki.dir, name, `/CN=${name}`, "ca", `subjectAltName=${subjectAltName}\nextendedKeyUsage=serverAuth,clientAuth\n`);
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "corral-tls-"));
  makeCa(dir, "ca", "corral-test-ca");
  makeCa(dir, "rogue-ca", "rogue-ca");
  const caPem = join(dir, "ca.crt.pem");
  const caP12 = join(dir, "ca.p12");
  openssl(dir, ["pkcs12", "-export", "-nokeys", "-in", caPem, "-out", caP12, "-passout", `pass:${STORE_PASSWORD}`]);
  const server = issue(dir, "server", "/CN=127.0.0.1", "ca", SERVER_EXT);
  return {
    dir,
    caPem,
    caP12,
    server,
    client1: issue(dir, "client1", "/O=corral/OU=test/CN=client1", "ca", CLIENT_EXT),
    client2: issue(dir, "client2", "/O=corral/OU=test/CN=client2, the second", "ca", CLIENT_EXT),
    rogue: issue(dir, "rogue", "/O=corral/OU=test/CN=client1", "rogue-ca", CLIENT_EXT),
    reissueServer: () => void issue(dir, "server", "/CN=127.0.0.1", "ca", SERVER_EXT),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A standalone server's configuration from zoo.cfg `lines` (ports written as 1, since
 * zoo.cfg refuses 0, and replaced by 0: any free port), in memory, no admin server.
 */
export function tlsConfig(lines: string[]): CorralConfig {
  const { config } = parseConfig(lines.join("\n"), { sourceName: "zoo.cfg" });
  return {
    ...config,
    clientPort: 0,
    clientPortAddress: "127.0.0.1",
    ...(config.secureClientPort === undefined ? {} : { secureClientPort: 0 }),
    dataDir: undefined,
    dataLogDir: undefined,
    adminServerEnabled: false,
  };
}
