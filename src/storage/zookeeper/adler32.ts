// Adler-32 (RFC 1950), the checksum ZooKeeper puts on each log record and seals its
// snapshots with (java.util.zip.Adler32). node:zlib does not export it.

const MOD = 65521;
/** Bytes that can be summed before `b` must be reduced (zlib's NMAX). */
const NMAX = 5552;

/** Adler-32 of buf[from, to), as an unsigned 32-bit number. */
export function adler32(buf: Uint8Array, from = 0, to = buf.length): number {
  let a = 1;
  let b = 0;
  let i = from;
  while (i < to) {
    const stop = Math.min(to, i + NMAX);
    for (; i < stop; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
