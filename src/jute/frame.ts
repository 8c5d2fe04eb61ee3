// Length-prefixed framing (ZOOKEEPER.md §1.1): a 4-byte big-endian signed length, then
// that many bytes. A pure state machine over accumulated chunks: push bytes, get whole
// frames back. A length above the limit (or negative) is rejected as soon as the 4
// prefix bytes are seen, before any of the body is buffered.

export class FrameError extends Error {
  override name = "FrameError";
}

export class FrameParser {
  readonly frameBytesMax: number;
  /** Bytes of an incomplete frame, kept as they came (joined once the frame is whole). */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Body length of the frame in #chunks, or -1 while its prefix is incomplete. */
  #need = -1;

  constructor(frameBytesMax: number) {
    this.frameBytesMax = frameBytesMax;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Feeds bytes in; returns every frame body now complete, in order. Frames are views of
   * the chunk they came in (no copy), and when nothing is left over from the previous
   * chunk, as under pipelined load almost always, the chunk is cut with no other object
   * made per frame. A frame spread over chunks is joined once, when its last byte comes.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (chunk.length === 0) return frames;
    let buf = chunk;
    if (this.#buffered > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#need < 0) {
        if (this.#buffered < 4) return frames;
        const head = this.#chunks[0]!.length >= 4 ? this.#chunks[0]! : Buffer.concat(this.#chunks, 4);
        this.#need = this.#checkLength(head.readInt32BE(0));
      }
      if (this.#buffered < 4 + this.#need) return frames;
      buf = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [];
      this.#buffered = 0;
      this.#need = -1;
    }
    let at = 0;
    const end = buf.length;
    while (end - at >= 4) {
      const len = this.#checkLength(buf.readInt32BE(at));
      if (end - at - 4 < len) {
        this.#need = len;
        break;
      }
      frames.push(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (at < end) {
      this.#chunks.push(at === 0 ? buf : buf.subarray(at));
      this.#buffered = end - at;
    }
    return frames;
  }

  #checkLength(len: number): number {
    if (len < 0 || len > this.frameBytesMax) {
      throw new FrameError(`frame length ${len} is out of range (max ${this.frameBytesMax})`);
    }
    return len;
  }
}
