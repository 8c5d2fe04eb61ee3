// Length-prefixed framing (ZOOKEEPER.md §1.1): a 4-byte big-endian signed length, then
// that many bytes. A pure state machine over accumulated chunks: push bytes, get whole
// frames back. A length above the limit (or negative) is rejected as soon as the 4
// prefix bytes are seen, before any of the body is buffered.

export class FrameError extends Error {
  override name = "FrameError";
}

export class FrameParser {
  readonly frameBytesMax: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Body length of the frame being read, or -1 while its prefix is incomplete. */
  #need = -1;

  constructor(frameBytesMax: number) {
    this.frameBytesMax = frameBytesMax;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Feeds bytes in; returns every frame body now complete, in order. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (chunk.length === 0) return frames;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 4) break;
        this.#need = this.#checkLength(this.#take(4).readInt32BE(0));
      }
      if (this.#buffered < this.#need) break;
      frames.push(this.#take(this.#need));
      this.#need = -1;
    }
    return frames;
  }

  #checkLength(len: number): number {
    if (len < 0 || len > this.frameBytesMax) {
      throw new FrameError(`frame length ${len} is out of range (max ${this.frameBytesMax})`);
    }
    return len;
  }

  /** Removes exactly n buffered bytes from the front (n <= buffered). */
  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    let out: Buffer;
    if (first !== undefined && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#chunks, this.#buffered);
      out = all.subarray(0, n);
      this.#chunks = n < all.length ? [all.subarray(n)] : [];
    }
    this.#buffered -= n;
    return out;
  }
}
