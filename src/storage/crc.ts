// CRC-32 (IEEE 802.3, the zlib/gzip polynomial) for log records and snapshot blocks.
// Uses node:zlib's native crc32 where the running Node has it (20.15+, 22.2+) and a
// table-driven fallback otherwise; both give the same values. Pure: no I/O.

import * as zlib from "node:zlib";

type Crc32 = (data: Uint8Array, value?: number) => number;

const native = (zlib as unknown as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table !== undefined) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function crc32Js(data: Uint8Array, value = 0): number {
  const t = crcTable();
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `data`, continuing from `value` (the CRC of the bytes before it). */
export function crc32(data: Uint8Array, value = 0): number {
  return native !== undefined ? native(data, value) >>> 0 : crc32Js(data, value);
}

/** CRC-32 of the 4 big-endian bytes of `v`, without allocating (frame length words). */
export function crc32OfUint32(v: number): number {
  const t = crcTable();
  let c = 0xffffffff;
  c = t[(c ^ (v >>> 24)) & 0xff]! ^ (c >>> 8);
  c = t[(c ^ (v >>> 16)) & 0xff]! ^ (c >>> 8);
  c = t[(c ^ (v >>> 8)) & 0xff]! ^ (c >>> 8);
  c = t[(c ^ v) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** The fallback, exported so a test can hold it to the native one. */
export { crc32Js };
