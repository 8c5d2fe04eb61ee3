// A minimal DER reader (definite lengths only) for the two places Corral reads ASN.1
// itself: PKCS#12 trust stores (pkcs12.ts) and certificate subject names (x509-name.ts).
// Pure: no I/O.

/** One TLV: tag byte, contents, and the whole encoding (tag and length included). */
export type Der = {
  readonly tag: number;
  readonly body: Buffer;
  readonly whole: Buffer;
};

/** The tag bytes Corral reads. */
export const TAG = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  sequence: 0x30,
  set: 0x31,
  context0: 0xa0,
  context0Primitive: 0x80,
} as const;

/** Bytes that are not the DER Corral expects (truncated, BER, a wrong tag). */
export class DerError extends Error {
  override readonly name = "DerError";
}

/** Reads the TLV at `offset`. */
export function readDer(buf: Buffer, offset = 0): Der & { readonly end: number } {
  if (offset + 2 > buf.length) throw new DerError(`truncated at byte ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at byte ${offset}`);
  let len = buf[offset + 1]!;
  let at = offset + 2;
  if (len === 0x80) throw new DerError(`indefinite length at byte ${offset} (BER, not DER)`);
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || at + n > buf.length) throw new DerError(`bad length at byte ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + i]!;
    at += n;
  }
  const end = at + len;
  if (end > buf.length) throw new DerError(`truncated value at byte ${offset}`);
  return { tag, body: buf.subarray(at, end), whole: buf.subarray(offset, end), end };
}

/** The TLVs inside a constructed value's body. */
export function children(body: Buffer): Der[] {
  const out: Der[] = [];
  let at = 0;
  while (at < body.length) {
    const d = readDer(body, at);
    out.push({ tag: d.tag, body: d.body, whole: d.whole });
    at = d.end;
  }
  return out;
}

/** Reads a TLV, checking its tag. */
export function expectTag(d: Der | undefined, tag: number, what: string): Der {
  if (d === undefined) throw new DerError(`${what}: missing`);
  if (d.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${d.tag.toString(16)}`);
  return d;
}

/** Dotted form of an OBJECT IDENTIFIER's body. */
export function oidText(body: Buffer): string {
  if (body.length === 0) throw new DerError("empty OID");
  const first = body[0]!;
  const parts: number[] = [Math.min(Math.floor(first / 40), 2), first - Math.min(Math.floor(first / 40), 2) * 40];
  let v = 0;
  for (let i = 1; i < body.length; i++) {
    const b = body[i]!;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

/** A non-negative INTEGER's value (small enough for a number). */
export function intValue(body: Buffer): number {
  let v = 0;
  for (const b of body) v = v * 256 + b;
  return v;
}
