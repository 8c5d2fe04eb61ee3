// The checksummed frame both the transaction log and snapshots are made of:
//
//   frame = u32 length | u32 crc | payload[length]        (big-endian, as jute)
//   crc   = CRC-32 of the 4 length bytes followed by the payload
//
// The length is covered by the checksum, so a corrupt length is caught like a corrupt
// payload; a length of 0 never occurs in a valid file (every payload has content), so
// a zero-filled tail reads as "not a frame". Pure functions over Buffer: no I/O.

import { crc32, crc32OfUint32 } from "./crc.js";

export const FRAME_HEADER_BYTES = 8;

export function frameCrc(payload: Uint8Array): number {
  return crc32(payload, crc32OfUint32(payload.length));
}

/** Writes the header of a frame whose payload already sits at `at + 8` in `buf`. */
export function sealFrame(buf: Buffer, at: number, length: number): void {
  buf.writeUInt32BE(length, at);
  buf.writeUInt32BE(frameCrc(buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length)), at + 4);
}

export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  sealFrame(out, 0, payload.length);
  return out;
}

export type FrameRead =
  | { readonly kind: "ok"; readonly payload: Buffer; readonly next: number }
  | { readonly kind: "end" }
  | { readonly kind: "bad"; readonly reason: string };

/** Reads the frame at `offset`; a frame longer than `lengthMax` is rejected before use. */
export function readFrame(buf: Buffer, offset: number, lengthMax: number): FrameRead {
  if (offset === buf.length) return { kind: "end" };
  if (offset + FRAME_HEADER_BYTES > buf.length) return { kind: "bad", reason: `partial frame header (${buf.length - offset} bytes)` };
  const length = buf.readUInt32BE(offset);
  if (length === 0) return { kind: "bad", reason: "zero length (unwritten or zeroed bytes)" };
  if (length > lengthMax) return { kind: "bad", reason: `length ${length} above the limit ${lengthMax}` };
  const start = offset + FRAME_HEADER_BYTES;
  if (start + length > buf.length) return { kind: "bad", reason: `frame of ${length} bytes runs past the end of the file` };
  const payload = buf.subarray(start, start + length);
  const want = buf.readUInt32BE(offset + 4);
  const have = frameCrc(payload);
  if (want !== have) return { kind: "bad", reason: `checksum mismatch (stored ${hex32(want)}, computed ${hex32(have)})` };
  return { kind: "ok", payload, next: start + length };
}

function hex32(v: number): string {
  return "0x" + v.toString(16).padStart(8, "0");
}
