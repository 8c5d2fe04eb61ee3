// Streams on quorum connections (SNAP, issue 14 item 2), over real loopback sockets: a
// stream's frames are produced only as the socket drains, so an image far bigger than the
// output hard cap goes through to a peer that reads and never trips the cap; everything
// sent to that peer after the stream started arrives after its last frame, in order; a
// peer that stops reading stops the producer; a connection that goes aborts the stream
// and whatever was queued behind it.

import { afterEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { connect as tcpConnect, type Socket } from "node:net";
import { QuorumTransport, STREAM_WINDOW_BYTES } from "../../../src/net/index.js";
import { freePort } from "../../../src/net/ports.js";
import { silentLogger, type Logger } from "../../../src/util/index.js";
import type { ZabMsg } from "../../../src/zab/index.js";

const LOOPBACK = "127.0.0.1";
const HELLO_MAGIC = 0x434f5251;
const CHUNK_BYTES = 256 * 1024;
const HARD_BYTES = 1024 * 1024;
/** 160 x 256 KiB = 40 MiB: 40 times the hard cap. */
const CHUNKS = 160;
const TURNS_MAX = 100_000;

const nextTurn = (): Promise<void> => new Promise((ok) => setImmediate(ok));

async function turnsUntil(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < TURNS_MAX; i++) {
    if (probe()) return;
    await nextTurn();
  }
  throw new Error(`no ${what} after ${TURNS_MAX} turns`);
}

function warnings(into: string[]): Logger {
  const warn = (a: object | string, msg?: string): void => void into.push(typeof a === "string" ? a : (msg ?? ""));
  const log: Logger = { ...silentLogger, warn: warn as Logger["warn"], child: () => log };
  return log;
}

/** A stream of SNAP, CHUNKS chunks, SNAPEND that records the unsent bytes at each call. */
function imageSource(t: QuorumTransport, to: bigint) {
  let i = -1;
  const seen = { calls: 0, maxUnsentBytes: 0, aborted: 0, ended: false };
  const chunk = new Uint8Array(CHUNK_BYTES);
  return {
    seen,
    src: {
      next: (): ZabMsg | undefined => {
        seen.calls++;
        seen.maxUnsentBytes = Math.max(seen.maxUnsentBytes, t.outboundBytes(to));
        i++;
        if (i === 0) return { type: "SNAP", zxid: 7n };
        if (i <= CHUNKS) return { type: "SNAPCHUNK", data: chunk };
        if (i === CHUNKS + 1) {
          seen.ended = true;
          return { type: "SNAPEND", zxid: 9n };
        }
        return undefined;
      },
      abort: () => void seen.aborted++,
    },
  };
}

describe("quorum streams", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function transport(myId: bigint, port: number, peers: { id: bigint; host: string; port: number }[], onMessage: (from: bigint, m: ZabMsg) => void, warned: string[], down: bigint[] = []) {
    const t = new QuorumTransport({
      myId,
      listen: { host: LOOPBACK, port },
      peers,
      log: warnings(warned),
      frameBytesMax: 2 * CHUNK_BYTES,
      outboundBytesSoftMax: HARD_BYTES / 2,
      outboundBytesHardMax: HARD_BYTES,
      onMessage,
      onDown: (p) => down.push(p),
    });
    await t.start();
    cleanup.push(() => t.close());
    return t;
  }

  it("an image 40 times the hard cap reaches a reading peer, produced only as the socket drains, with later messages after its end in order", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const warned: string[] = [];
    const down: bigint[] = [];
    const got: string[] = [];
    const t1 = await transport(1n, p1, [], () => {}, warned, down);
    await transport(2n, p2, [{ id: 1n, host: LOOPBACK, port: p1 }], (_from, m) => got.push(m.type === "PROPOSAL" || m.type === "COMMIT" ? `${m.type}:${m.zxid}` : m.type), warned);
    await turnsUntil(() => t1.connected(2n), "connection");
    t1.send(2n, { type: "DIFF", zxid: 1n }); // before the stream: arrives first
    const { seen, src } = imageSource(t1, 2n);
    t1.stream(2n, src);
    t1.send(2n, { type: "PROPOSAL", zxid: 10n, data: new Uint8Array(100) });
    await nextTurn();
    t1.send(2n, { type: "COMMIT", zxid: 10n });
    await turnsUntil(() => got.includes("COMMIT:10"), "COMMIT after the stream");
    expect(got[0]).toBe("DIFF");
    expect(got[1]).toBe("SNAP");
    expect(got.filter((m) => m === "SNAPCHUNK")).toHaveLength(CHUNKS);
    expect(got.slice(-3)).toEqual(["SNAPEND", "PROPOSAL:10", "COMMIT:10"]);
    expect(seen.ended).toBe(true);
    expect(seen.aborted).toBe(0);
    // Never more than the window (plus the frames queued behind it) waited to be sent.
    expect(seen.maxUnsentBytes).toBeLessThan(STREAM_WINDOW_BYTES + CHUNK_BYTES + 4096);
    expect(down).toEqual([]);
    expect(warned.filter((w) => w.includes("dropping"))).toEqual([]);
  });

  it("a peer that stops reading stops the producer; when its connection goes the stream and what waits behind it are aborted", async () => {
    const p1 = await freePort();
    const warned: string[] = [];
    const down: bigint[] = [];
    const t1 = await transport(1n, p1, [], () => {}, warned, down);
    // A raw peer that says hello and then never reads.
    const s: Socket = tcpConnect({ host: LOOPBACK, port: p1 });
    s.on("error", () => {});
    await once(s, "connect");
    const hello = Buffer.alloc(12);
    hello.writeInt32BE(HELLO_MAGIC, 0);
    hello.writeBigInt64BE(2n, 4);
    s.write(hello);
    s.pause();
    await turnsUntil(() => t1.connected(2n), "connection");
    const first = imageSource(t1, 2n);
    const second = imageSource(t1, 2n);
    t1.stream(2n, first.src);
    t1.stream(2n, second.src); // queued behind the first
    // Give the producer many turns: it stalls once the window and the kernel buffers are full.
    let stalledAt = -1;
    for (let i = 0; i < 2000; i++) {
      await nextTurn();
      if (i === 1000) stalledAt = first.seen.calls;
    }
    expect(first.seen.calls).toBe(stalledAt);
    expect(first.seen.calls).toBeLessThan(CHUNKS);
    expect(second.seen.calls).toBe(0);
    s.destroy();
    await turnsUntil(() => down.includes(2n), "the peer down");
    expect(first.seen.aborted).toBe(1);
    expect(second.seen.aborted).toBe(1);
    expect(first.seen.ended).toBe(false);
  });
});
