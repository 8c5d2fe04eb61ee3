// FrameParser is a pure state machine over chunks: however the bytes are split, the same
// frames come out; a bad length prefix is rejected as soon as its 4 bytes are in.

import { describe, it, expect } from "vitest";
import { FrameError, FrameParser } from "../../../src/jute/index.js";
import { findVector, thrown, vectors } from "./oracle.js";

const MAX = 4096;

function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

function prefixOf(len: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(len, 0);
  return b;
}

// Real request bodies, an empty frame, a one-byte frame, and an empty frame at the end.
const BODIES = [
  Buffer.from(findVector(vectors.connect, "ConnectRequest/readOnly-true").hex, "hex"),
  Buffer.alloc(0),
  Buffer.from([0x2a]),
  Buffer.from(findVector(vectors.records, "CreateRequest/two-acls").hex, "hex"),
  Buffer.from(findVector(vectors.records, "RequestHeader/setWatches").hex, "hex"),
  Buffer.alloc(0),
];
const STREAM = Buffer.concat(BODIES.map(frame));

function feed(chunks: Buffer[], max = MAX): { frames: Buffer[]; parser: FrameParser } {
  const parser = new FrameParser(max);
  const frames: Buffer[] = [];
  for (const c of chunks) frames.push(...parser.push(c));
  return { frames, parser };
}

describe("FrameParser", () => {
  it("returns several frames from one chunk, in order, and keeps nothing back", () => {
    const { frames, parser } = feed([STREAM]);
    expect(frames).toEqual(BODIES);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("gives the same frames when fed one byte at a time", () => {
    const parser = new FrameParser(MAX);
    const frames: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) {
      const out = parser.push(STREAM.subarray(i, i + 1));
      frames.push(...out);
      expect(parser.bufferedBytes).toBeLessThan(STREAM.length);
    }
    expect(frames).toEqual(BODIES);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("gives the same frames when the stream is split at any one point", () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(feed([STREAM.subarray(0, i), STREAM.subarray(i)]).frames, `split at ${i}`).toEqual(BODIES);
    }
  });

  it("gives the same frames when the stream is split at any two points", () => {
    const expected = BODIES.map((b) => b.toString("hex")).join("|");
    const wrong: string[] = [];
    for (let i = 0; i <= STREAM.length; i++) {
      for (let j = i; j <= STREAM.length; j++) {
        const chunks = [STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)];
        const got = feed(chunks).frames.map((b) => b.toString("hex")).join("|");
        if (got !== expected) wrong.push(`${i},${j}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("returns a frame as soon as its last byte arrives, not later", () => {
    const parser = new FrameParser(MAX);
    const f = frame(Buffer.from("hello"));
    for (let i = 0; i < f.length - 1; i++) expect(parser.push(f.subarray(i, i + 1))).toEqual([]);
    expect(parser.push(f.subarray(f.length - 1))).toEqual([Buffer.from("hello")]);
  });

  it("returns a zero-length frame as an empty buffer, and several in a row", () => {
    expect(feed([prefixOf(0)]).frames).toEqual([Buffer.alloc(0)]);
    expect(feed([Buffer.concat([prefixOf(0), prefixOf(0), prefixOf(0)])]).frames).toEqual([
      Buffer.alloc(0),
      Buffer.alloc(0),
      Buffer.alloc(0),
    ]);
  });

  it("ignores an empty chunk", () => {
    const parser = new FrameParser(MAX);
    expect(parser.push(Buffer.alloc(0))).toEqual([]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("accepts a frame of exactly frameBytesMax bytes", () => {
    const body = Buffer.alloc(MAX, 7);
    expect(feed([frame(body)]).frames).toEqual([body]);
  });

  it.each([
    ["one above the limit", MAX + 1],
    ["the largest int", 0x7fff_ffff],
    ["-1", -1],
    ["the smallest int", -0x8000_0000],
    ["four-letter word 'ruok'", Buffer.from("ruok").readInt32BE(0)],
  ])("rejects a length prefix of %s on its fourth byte, before any body arrives", (_name, len) => {
    const parser = new FrameParser(MAX);
    const prefix = prefixOf(len);
    for (let i = 0; i < 3; i++) expect(parser.push(prefix.subarray(i, i + 1))).toEqual([]);
    expect(thrown(() => parser.push(prefix.subarray(3, 4)))).toBeInstanceOf(FrameError);
  });

  it("rejects a bad length prefix that follows good frames in the same chunk", () => {
    const parser = new FrameParser(MAX);
    const e = thrown(() => parser.push(Buffer.concat([frame(Buffer.from("ok")), prefixOf(MAX + 1)])));
    expect(e).toBeInstanceOf(FrameError);
  });

  it("does not buffer the body of an oversized frame: the prefix alone is enough to reject it", () => {
    const parser = new FrameParser(MAX);
    const e = thrown(() => parser.push(Buffer.concat([prefixOf(MAX * 1000), Buffer.alloc(MAX * 2)])));
    expect(e).toBeInstanceOf(FrameError);
    expect((e as Error).message).toMatch(/out of range/);
  });
});
