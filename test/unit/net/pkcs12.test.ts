/** PKCS#12 trust stores as OpenSSL 3 and keytool write them, read without Node's `pfx`. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { children, readDer } from "../../../src/net/der.js";
import { pkcs12Certificates } from "../../../src/net/pkcs12.js";
import { makePki, STORE_PASSWORD, type Pki } from "../../helpers/tls-certs.js";

/** One DER TLV with a long-form length (valid DER for contents of 128 bytes or more). */
function der(tag: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

describe("pkcs12Certificates", () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => pki?.remove());

  it("returns the CA certificate of an OpenSSL 3 trust store and refuses a wrong password", () => {
    const file = readFileSync(pki.caP12);
    expect(pkcs12Certificates(file, STORE_PASSWORD)).toEqual([readFileSync(pki.caPem, "utf8")]);
    expect(() => pkcs12Certificates(file, "wrong")).toThrow(/MAC check failed: wrong password/);
  });

  it("reads a key store's certificate, an empty-password store, and a keytool trust store; refuses legacy RC2", () => {
    expect(pkcs12Certificates(readFileSync(pki.client1.storeP12), STORE_PASSWORD)).toEqual([readFileSync(pki.client1.certPem, "utf8")]);
    const empty = join(pki.dir, "empty.p12");
    execFileSync("openssl", ["pkcs12", "-export", "-nokeys", "-in", pki.caPem, "-out", empty, "-passout", "pass:"]);
    expect(pkcs12Certificates(readFileSync(empty), "")).toEqual([readFileSync(pki.caPem, "utf8")]);
    const kt = join(pki.dir, "keytool.p12");
    execFileSync("keytool", ["-importcert", "-noprompt", "-alias", "ca", "-file", pki.caPem, "-keystore", kt, "-storetype", "PKCS12", "-storepass", STORE_PASSWORD], { stdio: "ignore" });
    expect(pkcs12Certificates(readFileSync(kt), STORE_PASSWORD)).toEqual([readFileSync(pki.caPem, "utf8")]);
    const legacy = join(pki.dir, "legacy.p12");
    execFileSync("openssl", ["pkcs12", "-export", "-legacy", "-nokeys", "-in", pki.caPem, "-out", legacy, "-passout", `pass:${STORE_PASSWORD}`]);
    expect(() => pkcs12Certificates(readFileSync(legacy), STORE_PASSWORD)).toThrow(/unsupported legacy encryption 1\.2\.840\.113549\.1\.12\.1\.6/);
  });

  it("refuses a file that asks for more key-derivation rounds than PKCS12_ITERATIONS_MAX, before deriving", () => {
    // The same trust store with its MAC's iteration count rewritten to 2^31 - 1.
    const [version, authSafe, macData] = children(readDer(readFileSync(pki.caP12)).body);
    const [digestInfo, salt] = children(macData!.body);
    const many = der(0x30, [version!.whole, authSafe!.whole, der(0x30, [digestInfo!.whole, salt!.whole, Buffer.from([0x02, 0x04, 0x7f, 0xff, 0xff, 0xff])])]);
    expect(() => pkcs12Certificates(many, STORE_PASSWORD)).toThrow("MAC: 2147483647 iterations, outside 1..1000000");
  });
});
