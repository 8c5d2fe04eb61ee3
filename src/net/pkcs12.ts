// The certificates in a PKCS#12 file, for trust stores: Node's TLS reads a PKCS#12 key
// store natively (`pfx`) but refuses one that holds certificates only, which is what a
// trust store is. Reads what OpenSSL 3 and JDK 12+ keytool write by default: the MAC
// (HMAC with the PKCS#12 key derivation, SHA-1/SHA-256/SHA-384/SHA-512) checked against
// the password, certificate bags in plain data or PBES2-encrypted (PBKDF2 + AES-CBC).
// Legacy RC2/3DES encryption is refused with a message saying how to convert.
// Pure apart from node:crypto.

import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual, X509Certificate } from "node:crypto";
import { TAG, children, expectTag, intValue, oidText, readDer, type Der } from "./der.js";

const OID = {
  data: "1.2.840.113549.1.7.1",
  encryptedData: "1.2.840.113549.1.7.6",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
} as const;

const HASHES: ReadonlyMap<string, { name: string; u: number; v: number }> = new Map([
  ["1.3.14.3.2.26", { name: "sha1", u: 20, v: 64 }],
  ["2.16.840.1.101.3.4.2.1", { name: "sha256", u: 32, v: 64 }],
  ["2.16.840.1.101.3.4.2.2", { name: "sha384", u: 48, v: 128 }],
  ["2.16.840.1.101.3.4.2.3", { name: "sha512", u: 64, v: 128 }],
]);

const PRFS: ReadonlyMap<string, string> = new Map([
  ["1.2.840.113549.2.7", "sha1"],
  ["1.2.840.113549.2.9", "sha256"],
  ["1.2.840.113549.2.10", "sha384"],
  ["1.2.840.113549.2.11", "sha512"],
]);

const CIPHERS: ReadonlyMap<string, { name: string; keyBytes: number }> = new Map([
  ["2.16.840.1.101.3.4.1.2", { name: "aes-128-cbc", keyBytes: 16 }],
  ["2.16.840.1.101.3.4.1.22", { name: "aes-192-cbc", keyBytes: 24 }],
  ["2.16.840.1.101.3.4.1.42", { name: "aes-256-cbc", keyBytes: 32 }],
]);

/**
 * Key-derivation rounds accepted from a file (OpenSSL writes 2048, keytool 10000): a file
 * asking for more would hold the server's start for minutes.
 */
export const PKCS12_ITERATIONS_MAX = 1_000_000;

function iterationsOf(body: Buffer, what: string): number {
  const n = intValue(body);
  if (n < 1 || n > PKCS12_ITERATIONS_MAX) throw new Pkcs12Error(`${what}: ${n} iterations, outside 1..${PKCS12_ITERATIONS_MAX}`);
  return n;
}

/** A PKCS#12 file Corral cannot read, or a wrong password. */
export class Pkcs12Error extends Error {
  override readonly name = "Pkcs12Error";
}

/** The X.509 certificates (PEM) a PKCS#12 file holds, after checking its MAC against the password. */
export function pkcs12Certificates(file: Buffer, password: string): string[] {
  const pfx = children(expectTag(readDer(file), TAG.sequence, "PFX").body);
  const authSafe = contentInfo(pfx[1], "authSafe");
  if (authSafe.type !== OID.data) throw new Pkcs12Error("public-key-protected PKCS#12 files are not supported");
  const data = expectTag(authSafe.content, TAG.octetString, "authSafe data").body;
  if (pfx[2] !== undefined) checkMac(pfx[2], data, password);
  const pems: string[] = [];
  for (const info of children(expectTag(readDer(data), TAG.sequence, "AuthenticatedSafe").body)) {
    const ci = contentInfo(info, "ContentInfo");
    let safeContents: Buffer;
    if (ci.type === OID.data) safeContents = expectTag(ci.content, TAG.octetString, "SafeContents").body;
    else if (ci.type === OID.encryptedData) safeContents = decryptData(ci.content, password);
    else continue; // enveloped data: not written by keytool or openssl for stores
    for (const bag of children(expectTag(readDer(safeContents), TAG.sequence, "SafeContents").body)) {
      const pem = certificateOf(bag);
      if (pem !== undefined) pems.push(pem);
    }
  }
  return pems;
}

function contentInfo(d: Der | undefined, what: string): { type: string; content: Der | undefined } {
  const parts = children(expectTag(d, TAG.sequence, what).body);
  const type = oidText(expectTag(parts[0], TAG.oid, `${what} type`).body);
  const wrapped = parts[1];
  const content = wrapped === undefined ? undefined : children(expectTag(wrapped, TAG.context0, `${what} content`).body)[0];
  return { type, content };
}

function certificateOf(bag: Der): string | undefined {
  const parts = children(expectTag(bag, TAG.sequence, "SafeBag").body);
  if (oidText(expectTag(parts[0], TAG.oid, "bag type").body) !== OID.certBag) return undefined;
  const certBag = children(expectTag(children(expectTag(parts[1], TAG.context0, "bag value").body)[0], TAG.sequence, "CertBag").body);
  if (oidText(expectTag(certBag[0], TAG.oid, "cert type").body) !== OID.x509Certificate) return undefined;
  const der = expectTag(children(expectTag(certBag[1], TAG.context0, "cert value").body)[0], TAG.octetString, "certificate").body;
  return new X509Certificate(der).toString();
}

/** RFC 7292 appendix B: the PKCS#12 key derivation, from a BMPString password. */
function pkcs12Kdf(pw: Buffer, salt: Buffer, iterations: number, id: number, bytes: number, hash: { name: string; u: number; v: number }): Buffer {
  const { u, v } = hash;
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return src;
    const n = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  let I = Buffer.concat([fill(salt), fill(pw)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < bytes; produced += u) {
    let A = createHash(hash.name).update(D).update(I).digest();
    for (let i = 1; i < iterations; i++) A = createHash(hash.name).update(A).digest();
    out.push(A);
    const B = fill(A).subarray(0, v);
    const next = Buffer.alloc(I.length);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        next[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
    I = next;
  }
  return Buffer.concat(out).subarray(0, bytes);
}

function checkMac(macData: Der, data: Buffer, password: string): void {
  const parts = children(expectTag(macData, TAG.sequence, "MacData").body);
  const digestInfo = children(expectTag(parts[0], TAG.sequence, "DigestInfo").body);
  const algOid = oidText(expectTag(children(expectTag(digestInfo[0], TAG.sequence, "digest algorithm").body)[0], TAG.oid, "digest OID").body);
  const hash = HASHES.get(algOid);
  if (hash === undefined) throw new Pkcs12Error(`unsupported MAC digest ${algOid}`);
  const expected = expectTag(digestInfo[1], TAG.octetString, "MAC").body;
  const salt = expectTag(parts[1], TAG.octetString, "MAC salt").body;
  const iterations = parts[2] === undefined ? 1 : iterationsOf(expectTag(parts[2], TAG.integer, "MAC iterations").body, "MAC");
  // The password as a NUL-terminated BMPString; an empty one may also have been used
  // as no password at all (no bytes), as some writers do.
  const bmp = Buffer.concat([Buffer.from(password, "utf16le").swap16(), Buffer.alloc(2)]);
  const candidates = password === "" ? [bmp, Buffer.alloc(0)] : [bmp];
  const matches = (pw: Buffer): boolean => {
    const actual = createHmac(hash.name, pkcs12Kdf(pw, salt, iterations, 3, hash.u, hash)).update(data).digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
  if (!candidates.some(matches)) throw new Pkcs12Error("MAC check failed: wrong password, or the file is damaged");
}

function decryptData(content: Der | undefined, password: string): Buffer {
  const encryptedData = children(expectTag(content, TAG.sequence, "EncryptedData").body);
  const eci = children(expectTag(encryptedData[1], TAG.sequence, "EncryptedContentInfo").body);
  const alg = children(expectTag(eci[1], TAG.sequence, "encryption algorithm").body);
  const algOid = oidText(expectTag(alg[0], TAG.oid, "encryption OID").body);
  if (algOid !== OID.pbes2) {
    throw new Pkcs12Error(`unsupported legacy encryption ${algOid}; re-export the store with OpenSSL 3 or keytool (JDK 12+) defaults (AES-256)`);
  }
  const encrypted = eci[2];
  if (encrypted === undefined || (encrypted.tag !== TAG.context0Primitive && encrypted.tag !== TAG.context0)) throw new Pkcs12Error("EncryptedContentInfo has no content");
  const ciphertext = encrypted.tag === TAG.context0Primitive ? encrypted.body : Buffer.concat(children(encrypted.body).map((c) => c.body));
  const [kdf, scheme] = children(expectTag(alg[1], TAG.sequence, "PBES2 parameters").body);
  const kdfParts = children(expectTag(kdf, TAG.sequence, "key derivation").body);
  if (oidText(expectTag(kdfParts[0], TAG.oid, "KDF OID").body) !== OID.pbkdf2) throw new Pkcs12Error("PBES2 without PBKDF2 is not supported");
  const params = children(expectTag(kdfParts[1], TAG.sequence, "PBKDF2 parameters").body);
  const salt = expectTag(params[0], TAG.octetString, "PBKDF2 salt").body;
  const iterations = iterationsOf(expectTag(params[1], TAG.integer, "PBKDF2 iterations").body, "PBKDF2");
  let prf = "sha1";
  for (const p of params.slice(2)) {
    if (p.tag !== TAG.sequence) continue;
    const prfOid = oidText(expectTag(children(p.body)[0], TAG.oid, "PRF OID").body);
    const name = PRFS.get(prfOid);
    if (name === undefined) throw new Pkcs12Error(`unsupported PBKDF2 PRF ${prfOid}`);
    prf = name;
  }
  const schemeParts = children(expectTag(scheme, TAG.sequence, "encryption scheme").body);
  const cipherOid = oidText(expectTag(schemeParts[0], TAG.oid, "cipher OID").body);
  const cipher = CIPHERS.get(cipherOid);
  if (cipher === undefined) throw new Pkcs12Error(`unsupported cipher ${cipherOid}`);
  const iv = expectTag(schemeParts[1], TAG.octetString, "IV").body;
  const key = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, cipher.keyBytes, prf);
  try {
    const d = createDecipheriv(cipher.name, key, iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    throw new Pkcs12Error("cannot decrypt the certificates: wrong password");
  }
}
