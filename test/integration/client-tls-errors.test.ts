/**
 * Corral's client tells why a TLS connection fails: Node's error code and message reach
 * the caller as `lastConnectError` and "connectError" while the client keeps retrying, and
 * as the cause (and message) of connect()'s rejection when it gives up. Real servers on
 * 127.0.0.1 with certificates made by openssl (test/helpers/tls-certs.ts).
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectAttemptError, CorralClient, ZooKeeperError, type ClientTlsOptions } from "../../src/client/index.js";
import { StandaloneServer } from "../../src/server/index.js";
import { silentLogger } from "../../src/util/index.js";
import { issueFromCa, makePki, tlsConfig, type Identity, type Pki } from "../helpers/tls-certs.js";

async function startServer(lines: string[]): Promise<StandaloneServer> {
  const server = new StandaloneServer({ config: tlsConfig(lines), log: silentLogger });
  await server.start();
  return server;
}

/**
 * Starts a client that cannot connect and waits for connect() to give up (after
 * connectTimeoutMs): every failed attempt announced meanwhile, lastConnectError just before
 * the client was closed, and the rejection.
 */
async function failingConnect(port: number, tls: ClientTlsOptions): Promise<{ attempts: ConnectAttemptError[]; last: ConnectAttemptError | undefined; rejection: unknown }> {
  const client = new CorralClient(`127.0.0.1:${port}`, { sessionTimeoutMs: 4000, connectTimeoutMs: 1000, tls });
  const attempts: ConnectAttemptError[] = [];
  let last: ConnectAttemptError | undefined;
  client.on("connectError", (e) => {
    attempts.push(e);
    last = client.lastConnectError;
  });
  const rejection = await client.start().then(() => "connected", (e: unknown) => e);
  await client.close();
  return { attempts, last, rejection };
}

/** What the caller sees when connect() gives up: an OperationTimeout naming the reason, with the attempt as its cause. */
function expectGaveUpWith(rejection: unknown, code: string): void {
  expect(rejection).toBeInstanceOf(ZooKeeperError);
  const e = rejection as ZooKeeperError;
  expect(e.code).toBe("OperationTimeout");
  expect(e.message).toMatch(new RegExp(`^KeeperErrorCode = OperationTimeout: no server answered within 1000 ms; last attempt 127\\.0\\.0\\.1:\\d+ \\(TLS\\): ${code}: `));
  const attempt = (e.cause as Error).cause;
  expect(attempt).toBeInstanceOf(ConnectAttemptError);
  expect(attempt).toMatchObject({ code, tls: true, host: "127.0.0.1" });
  expect(((attempt as Error).cause as NodeJS.ErrnoException).code).toBe(code);
}

describe("the client says why a TLS connection fails, and keeps retrying", () => {
  let pki: Pki;
  let elsewhere: Identity;
  let server: StandaloneServer;
  let securePort: number;
  beforeAll(async () => {
    pki = makePki();
    elsewhere = issueFromCa(pki, "elsewhere.example", "DNS:elsewhere.example");
    server = await startServer([
      "secureClientPort=1",
      `ssl.keyStore.location=${pki.server.storePem}`,
      `ssl.trustStore.location=${pki.caPem}`,
      "ssl.clientAuth=need",
    ]);
    securePort = server.secureAddress!.port;
  });
  afterAll(async () => {
    await server?.stop();
    pki?.remove();
  });

  const clientCert = (): ClientTlsOptions => ({ cert: readFileSync(pki.client1.certPem), key: readFileSync(pki.client1.keyPem) });

  /** Every attempt failed the same way, more than once (the client retries), and lastConnectError is the newest. */
  const expectAttempts = (attempts: ConnectAttemptError[], last: ConnectAttemptError | undefined, code: string, detail: RegExp): void => {
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((a) => a.code))).toEqual(new Set([code]));
    expect(last).toBe(attempts.at(-1));
    expect(last!.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${last!.port} \\(TLS\\): ${code}: ${detail.source}$`));
  };

  it("a server certificate from a CA the client does not trust: SELF_SIGNED_CERT_IN_CHAIN", async () => {
    const { attempts, last, rejection } = await failingConnect(securePort, { ...clientCert(), ca: readFileSync(join(pki.dir, "rogue-ca.crt.pem")) });
    expectAttempts(attempts, last, "SELF_SIGNED_CERT_IN_CHAIN", /self-signed certificate in certificate chain/);
    expectGaveUpWith(rejection, "SELF_SIGNED_CERT_IN_CHAIN");
  });

  it("no client certificate under ssl.clientAuth=need: the server's alert, and what it usually means", async () => {
    const { attempts, last, rejection } = await failingConnect(securePort, { ca: readFileSync(pki.caPem) });
    expectAttempts(attempts, last, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE",
      /sslv3 alert handshake failure \(SSL alert number 40\): the server refused the handshake; does it require a client certificate \(ssl\.clientAuth=need\) from a CA it trusts\?/);
    expectGaveUpWith(rejection, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
  });

  it("a plain client port on a TLS connect", async () => {
    const plain = await startServer([]);
    try {
      const { attempts, last, rejection } = await failingConnect(plain.address.port, { ca: readFileSync(pki.caPem), ...clientCert() });
      expectAttempts(attempts, last, "ECONNRESET",
        /Client network socket disconnected before secure TLS connection was established: is the port a TLS port \(secureClientPort, or client\.portUnification\)\?/);
      expectGaveUpWith(rejection, "ECONNRESET");
    } finally {
      await plain.stop();
    }
  });

  it("a server certificate that does not name the host: ERR_TLS_CERT_ALTNAME_INVALID; once the server's certificate is fixed, the same client connects", async () => {
    const dir = join(pki.dir, "fixable");
    mkdirSync(dir);
    const store = join(dir, "server.pem");
    copyFileSync(elsewhere.storePem, store);
    const misnamed = await startServer(["secureClientPort=1", `ssl.keyStore.location=${store}`, `ssl.trustStore.location=${pki.caPem}`, "ssl.clientAuth=need"]);
    const client = new CorralClient(`127.0.0.1:${misnamed.secureAddress!.port}`, { sessionTimeoutMs: 4000, connectTimeoutMs: 20_000, tls: { ca: readFileSync(pki.caPem), ...clientCert() } });
    try {
      const failed = new Promise<ConnectAttemptError>((resolve) => client.once("connectError", resolve));
      const started = client.start();
      started.catch(() => undefined); // awaited below; a failed assertion before must not leave it unhandled
      const first = await failed;
      expect(first.code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      expect(first.message).toMatch(/^127\.0\.0\.1:\d+ \(TLS\): ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list:$/);
      copyFileSync(pki.server.storePem, store);
      await started;
      expect(client.lastConnectError).toBeUndefined();
      expect(await client.exists("/")).not.toBeNull();
    } finally {
      await client.close();
      await misnamed.stop();
    }
  });
});
