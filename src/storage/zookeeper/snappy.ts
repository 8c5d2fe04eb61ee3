// The stream ZooKeeper writes with zookeeper.snapshot.compression.method=snappy
// (snapshot.<zxid>.snappy, snappy-java's SnappyOutputStream), unpacked. Pure.
//
//   header = 0x82 "SNAPPY" 0x00 | int version | int compatibleVersion   (16 bytes)
//   chunk* = int compressedLength | a raw Snappy block of that many bytes
//
// A raw Snappy block: the uncompressed length as a little-endian base-128 varint, then
// elements, each starting with a tag byte whose low two bits say what it is:
//   00 literal: length - 1 in the upper six bits (60..63: that length - 1 follows in
//      1..4 little-endian bytes), then the bytes
//   01 copy: length 4 + bits 2..4, offset bits 5..7 << 8 | the next byte
//   10 copy: length bits 2..7 + 1, offset in the next 2 bytes (little-endian)
//   11 copy: length bits 2..7 + 1, offset in the next 4 bytes (little-endian)
// A copy repeats `length` bytes from `offset` bytes back in the output (it may overlap).

const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const HEADER_BYTES = 16;
/** A chunk longer than this is damage (snappy-java writes 32 KiB chunks by default). */
const CHUNK_BYTES_MAX = 64 * 1024 * 1024;

export class SnappyError extends Error {
  override name = "SnappyError";
  readonly offset: number;
  constructor(offset: number, reason: string) {
    super(reason);
    this.offset = offset;
  }
}

/** Whether `buf` starts like a snappy-java stream. */
export function isSnappyStream(buf: Buffer): boolean {
  return buf.length >= MAGIC.length && buf.subarray(0, MAGIC.length).equals(MAGIC);
}

/** Unpacks a snappy-java stream; throws SnappyError (with the offset in `buf`) on damage. */
export function unsnappyStream(buf: Buffer): Buffer {
  if (!isSnappyStream(buf)) throw new SnappyError(0, "not a snappy-java stream (bad magic)");
  if (buf.length < HEADER_BYTES) throw new SnappyError(0, "the snappy stream header is cut short");
  const parts: Buffer[] = [];
  let at = HEADER_BYTES;
  while (at < buf.length) {
    if (buf.length - at < 4) throw new SnappyError(at, "the snappy stream is cut short (chunk length)");
    const n = buf.readInt32BE(at);
    if (n < 0 || n > CHUNK_BYTES_MAX) throw new SnappyError(at, `bad snappy chunk length ${n}`);
    if (at + 4 + n > buf.length) throw new SnappyError(at, `the snappy stream is cut short (a chunk of ${n} bytes, ${buf.length - at - 4} left)`);
    parts.push(unsnappyBlock(buf, at + 4, at + 4 + n));
    at += 4 + n;
  }
  return Buffer.concat(parts);
}

/** Decodes the raw Snappy block buf[from, to). */
export function unsnappyBlock(buf: Buffer, from: number, to: number): Buffer {
  let at = from;
  const fail = (reason: string): never => {
    throw new SnappyError(at, `bad snappy block: ${reason}`);
  };
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (at >= to || shift > 28) fail("bad uncompressed length");
    const b = buf[at++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length > CHUNK_BYTES_MAX) fail(`uncompressed length ${length}`);
  const out = Buffer.allocUnsafe(length);
  let o = 0;
  while (at < to) {
    const tag = buf[at++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        if (at + bytes > to) fail("literal length past the block");
        n = buf.readUIntLE(at, bytes);
        at += bytes;
      }
      n += 1;
      if (at + n > to || o + n > length) fail("literal past the block or the output");
      buf.copy(out, o, at, at + n);
      at += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (at + 1 > to) fail("copy past the block");
      n = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | buf[at++]!;
    } else if (kind === 2) {
      if (at + 2 > to) fail("copy past the block");
      n = (tag >>> 2) + 1;
      offset = buf.readUInt16LE(at);
      at += 2;
    } else {
      if (at + 4 > to) fail("copy past the block");
      n = (tag >>> 2) + 1;
      offset = buf.readUInt32LE(at);
      at += 4;
    }
    if (offset === 0 || offset > o || o + n > length) fail(`copy of ${n} bytes from ${offset} back at ${o}`);
    // Byte by byte: a copy may overlap what it writes (a run).
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) fail(`${o} bytes decoded, the block says ${length}`);
  return out;
}
