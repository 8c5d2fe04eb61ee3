// Jute primitives: the binary encoding of ZooKeeper's wire records (ZOOKEEPER.md §1.1).
// int = 4 bytes BE, long = 8 bytes BE (always bigint), boolean = 1 byte, buffer and
// ustring = int length + bytes (-1 = null), vector = int count + elements (-1 = null).
// Pure functions over Buffer: no I/O.

export class JuteError extends Error {
  override name = "JuteError";
}

const EMPTY = Buffer.alloc(0);

/** Reads jute primitives from one frame. Any read past the end throws JuteError. */
export class JuteReader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;
  /** Made on the first long(): DataView's 64-bit accessors are several times faster than Buffer's. */
  #dv: DataView | undefined;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  #need(n: number): number {
    const at = this.offset;
    if (n < 0 || at + n > this.end) {
      throw new JuteError(`record truncated: need ${n} bytes at offset ${at}, have ${this.end - at}`);
    }
    this.offset = at + n;
    return at;
  }

  int(): number {
    return this.buf.readInt32BE(this.#need(4));
  }

  long(): bigint {
    const at = this.#need(8);
    const b = this.buf;
    return (this.#dv ??= new DataView(b.buffer, b.byteOffset, b.byteLength)).getBigInt64(at, false);
  }

  bool(): boolean {
    return this.buf[this.#need(1)] !== 0;
  }

  /** A buffer field; `null` for length -1. The result is a copy, safe to keep. */
  buffer(): Buffer | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteError(`negative buffer length ${len}`);
    if (len === 0) return EMPTY;
    const at = this.#need(len);
    return Buffer.from(this.buf.subarray(at, at + len));
  }

  /** A buffer field as a latin1 string, one char per byte (null for -1): a ZNode's form of data. */
  bufferLatin1(): string | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < -1) throw new JuteError(`negative buffer length ${len}`);
    if (len === 0) return "";
    const at = this.#need(len);
    return this.buf.toString("latin1", at, at + len);
  }

  /** A ustring field; null (-1) reads as "" since no record we accept gives null meaning. */
  ustring(): string {
    const len = this.int();
    if (len === -1) return "";
    if (len < -1) throw new JuteError(`negative string length ${len}`);
    const at = this.#need(len);
    return this.buf.toString("utf8", at, at + len);
  }

  /**
   * Whether the next ustring is exactly `bytes`; if so it is consumed, else nothing is.
   * Lets a hot decoder recognise a well-known string without making a string.
   */
  skipUstringEqualTo(bytes: Uint8Array): boolean {
    const at = this.offset;
    const n = bytes.length;
    if (at + 4 + n > this.end || this.buf.readInt32BE(at) !== n) return false;
    const b = this.buf;
    for (let i = 0; i < n; i++) if (b[at + 4 + i] !== bytes[i]) return false;
    this.offset = at + 4 + n;
    return true;
  }

  /** A vector's element count; -1 (null) reads as 0. Bounded by the bytes left. */
  count(minElementBytes: number): number {
    const n = this.int();
    if (n === -1) return 0;
    if (n < -1 || n * minElementBytes > this.remaining()) {
      throw new JuteError(`bad vector length ${n} with ${this.remaining()} bytes left`);
    }
    return n;
  }

  strings(): string[] {
    const n = this.count(4);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = this.ustring();
    return out;
  }
}

/** Appends jute primitives to a growable buffer that is reused between records. */
export class JuteWriter {
  #buf: Buffer;
  /** A view of #buf, for 64-bit writes (see JuteReader's). */
  #dv: DataView;
  #len = 0;

  constructor(initialBytes = 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
    this.#dv = viewOf(this.#buf);
  }

  get length(): number {
    return this.#len;
  }

  reset(): void {
    this.#len = 0;
  }

  #reserve(n: number): number {
    const at = this.#len;
    if (at + n > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, at + n));
      this.#buf.copy(next, 0, 0, at);
      this.#buf = next;
      this.#dv = viewOf(next);
    }
    this.#len = at + n;
    return at;
  }

  int(v: number): void {
    const at = this.#reserve(4); // before reading #buf: reserve may replace it
    this.#buf.writeInt32BE(v, at);
  }

  /** Writes `v` at an earlier position, e.g. a length prefix once the body is known. */
  intAt(at: number, v: number): void {
    this.#buf.writeInt32BE(v, at);
  }

  /** Writes `v` modulo 2^64 as a signed 64-bit integer. */
  long(v: bigint): void {
    const at = this.#reserve(8);
    this.#dv.setBigInt64(at, v, false);
  }

  /**
   * Writes a safe integer (a time in ms, say) as a signed 64-bit long, the bytes long()
   * writes for BigInt(v), without making that BigInt.
   */
  longOfNumber(v: number): void {
    const at = this.#reserve(8);
    this.#dv.setInt32(at, Math.floor(v / 0x1_0000_0000), false);
    this.#dv.setUint32(at + 4, v >>> 0, false);
  }

  bool(v: boolean): void {
    const at = this.#reserve(1);
    this.#buf[at] = v ? 1 : 0;
  }

  buffer(v: Uint8Array | null): void {
    if (v === null) {
      this.int(-1);
      return;
    }
    this.int(v.length);
    const at = this.#reserve(v.length);
    this.#buf.set(v, at);
  }

  /** A buffer field whose bytes are `v`'s chars (each < 256), as bufferLatin1 reads it. */
  bufferLatin1(v: string | null): void {
    if (v === null) {
      this.int(-1);
      return;
    }
    this.int(v.length);
    const at = this.#reserve(v.length);
    this.#buf.write(v, at, v.length, "latin1");
  }

  ustring(v: string | null): void {
    if (v === null) {
      this.int(-1);
      return;
    }
    // Room for the worst case (3 UTF-8 bytes per UTF-16 unit), then keep what was used:
    // one pass over the string instead of measuring it first.
    const at = this.#reserve(4 + 3 * v.length);
    const written = this.#buf.write(v, at + 4, "utf8");
    this.#len = at + 4 + written;
    this.#buf.writeInt32BE(written, at);
  }

  strings(v: readonly string[]): void {
    this.int(v.length);
    for (const s of v) this.ustring(s);
  }

  raw(v: Uint8Array): void {
    const at = this.#reserve(v.length);
    this.#buf.set(v, at);
  }

  /** A copy of what was written, safe to keep after the writer is reused. */
  toBuffer(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }

  /** A view of what was written: valid only until the next write or reset. */
  view(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
