// Raw-socket tools for the frame fuzzer: a loopback client that keeps every byte and frame
// the server sends and knows when the server closed, a recording JuteWriter that remembers
// where the length and count fields of an encoded request sit (so mutations can aim at
// them), and the client-side model of the server's framing that decides what a byte
// stream obliges the server to do. Only 127.0.0.1 is dialled.

import { connect, type Socket } from "node:net";
import {
  FrameParser,
  JuteReader,
  JuteWriter,
  OpCode,
  readConnectResponse,
  writeConnectRequest,
  type ConnectResponse,
} from "../../src/jute/index.js";

export const LOOPBACK = "127.0.0.1";
/** Replies are small here; this only bounds what the test client buffers. */
const REPLY_FRAME_BYTES_MAX = 16 * 1024 * 1024;

/** A JuteWriter that records the offset of every 4-byte int it writes: lengths, counts, fields. */
export class RecordingWriter extends JuteWriter {
  readonly intOffsets: number[] = [];

  override int(v: number): void {
    this.intOffsets.push(this.length);
    super.int(v);
  }

  override ustring(v: string | null): void {
    // JuteWriter.ustring writes its length without going through int().
    if (v !== null) this.intOffsets.push(this.length);
    super.ustring(v);
  }
}

/** One encoded request frame with the int offsets (from the frame start) mutations may aim at. */
export interface EncodedFrame {
  readonly bytes: Buffer;
  /** Offsets of ints after the length prefix and request header. */
  readonly intOffsets: readonly number[];
}

/** Encodes `xid`, `op` and a body as one length-prefixed frame. */
export function encodeRequest(xid: number, op: number, body: (w: JuteWriter) => void): EncodedFrame {
  const w = new RecordingWriter(256);
  w.int(0);
  w.int(xid);
  w.int(op);
  const bodyStart = w.intOffsets.length;
  body(w);
  w.intAt(0, w.length - 4);
  return { bytes: w.toBuffer(), intOffsets: w.intOffsets.slice(bodyStart) };
}

export function frameOf(body: Uint8Array): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

export function connectRequestFrame(): Buffer {
  const w = new JuteWriter(64);
  w.int(0);
  writeConnectRequest(w, {
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 30_000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    readOnly: false,
  });
  w.intAt(0, w.length - 4);
  return w.toBuffer();
}

/** What the server must do with a byte stream, judged by its framing rules alone. */
export type StreamVerdict =
  /** A four-letter word: the server answers in text and closes. */
  | { kind: "fourLetterWord" }
  /** A length prefix out of range: the server must close, before any body arrives. */
  | { kind: "badLength"; length: number }
  /** Every frame is whole: the server must answer what follows, or close. */
  | { kind: "complete"; frames: number }
  /** The stream stops inside a frame: `missing` more bytes would complete it. */
  | { kind: "incomplete"; missing: number };

/**
 * Mirrors ClientConnection + FrameParser: the first four bytes of a fresh connection
 * may be a four-letter word; then 4-byte signed big-endian lengths in [0, max].
 */
export function judgeStream(
  stream: Buffer,
  frameBytesMax: number,
  words: ReadonlySet<string> | undefined,
): StreamVerdict {
  if (words !== undefined && stream.length >= 4 && words.has(stream.toString("latin1", 0, 4))) {
    return { kind: "fourLetterWord" };
  }
  let at = 0;
  let frames = 0;
  while (at + 4 <= stream.length) {
    const length = stream.readInt32BE(at);
    if (length < 0 || length > frameBytesMax) return { kind: "badLength", length };
    if (at + 4 + length > stream.length) return { kind: "incomplete", missing: at + 4 + length - stream.length };
    at += 4 + length;
    frames++;
  }
  if (at < stream.length) return { kind: "incomplete", missing: at + 4 - stream.length };
  return { kind: "complete", frames };
}

/** A raw client connection: all bytes in, frames parsed, close observed. */
export class RawClient {
  readonly socket: Socket;
  readonly frames: Buffer[] = [];
  /** Everything received, for text replies (four-letter words) and failure messages. */
  readonly received: Buffer[] = [];
  /** Set when the server's bytes do not parse as frames (e.g. a four-letter-word reply). */
  unframed: string | undefined;
  /** The server has ended its side (FIN), or the socket is gone. */
  ended = false;
  closed = false;
  socketErrors: string[] = [];
  readonly #parser = new FrameParser(REPLY_FRAME_BYTES_MAX);
  readonly #wake = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.received.push(chunk);
      if (this.unframed === undefined) {
        try {
          this.frames.push(...this.#parser.push(chunk));
        } catch (e) {
          this.unframed = (e as Error).message;
        }
      }
      this.#notify();
    });
    // The server may reset a connection it rejected while we still write: expected.
    socket.on("error", (e) => this.socketErrors.push(e.message));
    socket.on("end", () => {
      this.ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.ended = true;
      this.closed = true;
      this.#notify();
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      // Half-open allowed: our side stays open after the server's FIN, so whether the
      // server really closed (rather than only ended its side) is its doing, not ours.
      const socket = connect({ host: LOOPBACK, port, allowHalfOpen: true });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawClient(socket));
      });
    });
  }

  #notify(): void {
    for (const wake of [...this.#wake]) wake();
  }

  /** Writes one chunk; resolves once it is handed to the kernel or the socket is gone. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.ended || this.socket.destroyed || this.socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.write(chunk, () => resolve());
    });
  }

  /** Resolves true as soon as `cond()` holds, false after `ms` without it. Never sleeps. */
  until(cond: () => boolean, ms: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#wake.delete(check);
        resolve(ok);
      };
      const check = (): void => {
        if (cond()) done(true);
      };
      const timer = setTimeout(() => done(cond()), ms);
      this.#wake.add(check);
    });
  }

  /** Sends a valid ConnectRequest and waits for the ConnectResponse. */
  async handshake(ms: number): Promise<ConnectResponse> {
    await this.write(connectRequestFrame());
    if (!(await this.until(() => this.frames.length > 0 || this.ended, ms)) || this.frames.length === 0) {
      throw new Error(`no ConnectResponse within ${ms} ms (ended=${this.ended})`);
    }
    const r = new JuteReader(this.frames[0]!);
    const resp = readConnectResponse(r);
    if (resp.sessionId === 0n || r.remaining() !== 0) throw new Error("malformed ConnectResponse");
    return resp;
  }

  /** The index of the first reply frame at or after `from` with this xid, or -1. */
  replyIndex(xid: number, from = 0): number {
    for (let i = from; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.length >= 4 && f.readInt32BE(0) === xid) return i;
    }
    return -1;
  }

  text(): string {
    return Buffer.concat(this.received).toString("latin1");
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** `exists("/")` with a given xid: the probe that shows a connection still answers. */
export function existsRootFrame(xid: number): Buffer {
  return encodeRequest(xid, OpCode.exists, (w) => {
    w.ustring("/");
    w.bool(false);
  }).bytes;
}
