// A certificate's subject DN as Java's X500Principal.getName() prints it (RFC 2253
// form), which is the id ZooKeeper's X509AuthenticationProvider gives a TLS client:
// RDNs last-to-first joined by ",", multi-valued RDNs joined by "+", the RFC 2253
// keywords (CN, C, L, ST, O, OU, STREET, DC, UID) by name and every other attribute as
// its dotted OID with the value's DER in hex ("#..."); special characters, and spaces
// at either end of a value, escaped with a backslash. Pure apart from node:crypto.

import type { X509Certificate } from "node:crypto";
import { TAG, children, expectTag, oidText, readDer } from "./der.js";

const KEYWORDS: ReadonlyMap<string, string> = new Map([
  ["2.5.4.3", "CN"],
  ["2.5.4.6", "C"],
  ["2.5.4.7", "L"],
  ["2.5.4.8", "ST"],
  ["2.5.4.10", "O"],
  ["2.5.4.11", "OU"],
  ["2.5.4.9", "STREET"],
  ["0.9.2342.19200300.100.1.25", "DC"],
  ["0.9.2342.19200300.100.1.1", "UID"],
]);

// DER string types Java prints as text.
const UTF8 = 0x0c;
const BMP = 0x1e;
const UNIVERSAL = 0x1c;
const LATIN1_TYPES: ReadonlySet<number> = new Set([0x13 /* Printable */, 0x14 /* T61 */, 0x16 /* IA5 */, 0x1b /* General */]);
const ESCAPED = new Set([",", "=", "+", "<", ">", "#", ";", '"', "\\"]);

/** The subject DN of a certificate, as Java prints it: the id of an x509 ACL. */
export function javaSubjectDn(cert: X509Certificate): string {
  const tbs = children(expectTag(children(expectTag(readDer(cert.raw), TAG.sequence, "certificate").body)[0], TAG.sequence, "tbsCertificate").body);
  const skip = tbs[0]?.tag === TAG.context0 ? 1 : 0;
  // [version], serialNumber, signature, issuer, validity, subject
  const subject = expectTag(tbs[skip + 4], TAG.sequence, "subject");
  return children(subject.body).reverse().map(rdnText).join(",");
}

function rdnText(rdn: { body: Buffer }): string {
  return children(rdn.body).map((ava) => {
    const [type, value] = children(expectTag(ava, TAG.sequence, "AttributeTypeAndValue").body);
    const oid = oidText(expectTag(type, TAG.oid, "attribute type").body);
    if (value === undefined) throw new Error("attribute without a value");
    const keyword = KEYWORDS.get(oid);
    const text = keyword === undefined ? undefined : stringOf(value.tag, value.body);
    if (keyword === undefined || text === undefined) return `${oid}=#${value.whole.toString("hex")}`;
    return `${keyword}=${escapeValue(text)}`;
  }).join("+");
}

function stringOf(tag: number, body: Buffer): string | undefined {
  if (tag === UTF8) return body.toString("utf8");
  if (LATIN1_TYPES.has(tag)) return body.toString("latin1");
  if (tag === BMP) return Buffer.from(body).swap16().toString("utf16le");
  if (tag === UNIVERSAL) {
    let s = "";
    for (let i = 0; i + 3 < body.length; i += 4) s += String.fromCodePoint(body.readUInt32BE(i));
    return s;
  }
  return undefined;
}

function escapeValue(value: string): string {
  // Spaces at either end are escaped, one backslash each.
  const lead = /^ */.exec(value)?.[0].length ?? 0;
  if (lead === value.length) return "\\ ".repeat(lead);
  const trail = / *$/.exec(value)?.[0].length ?? 0;
  let out = "";
  for (const c of value.slice(lead, value.length - trail)) {
    if (ESCAPED.has(c)) out += `\\${c}`;
    else if (c === "\u0000") out += "\\00";
    else out += c;
  }
  return "\\ ".repeat(lead) + out + "\\ ".repeat(trail);
}
