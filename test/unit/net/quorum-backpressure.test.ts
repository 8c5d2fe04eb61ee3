// Output limits on quorum connections (issue 14, item 3), over real loopback sockets: a
// peer that stops reading (a stuck learner) must not grow this server's memory without
// bound. Past the hard cap its connection is dropped, with one warning naming it, and ZAB
// hears it is down (the learner re-dials and resyncs). A peer that reads keeps its
// connection however much is sent to it.
//
// The "peers" here are raw sockets that speak only the transport's hello, so nothing
// answers on their behalf. No sleeps: each send waits one turn of the event loop.

import { afterEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { connect as tcpConnect, type Socket } from "node:net";
import { QuorumTransport } from "../../../src/net/index.js";
import { freePort } from "../../../src/net/ports.js";
import { silentLogger, type Logger } from "../../../src/util/index.js";
import type { ZabMsg } from "../../../src/zab/index.js";

const LOOPBACK = "127.0.0.1";
const HELLO_MAGIC = 0x434f5251;
const SOFT_BYTES = 256 * 1024;
const HARD_BYTES = 1024 * 1024;
const PROPOSAL_BYTES = 64 * 1024;
/** 4,000 x 64 KiB = 250 MiB: far past any loopback socket buffer, so the cap must bite. */
const SENDS_MAX = 4_000;
const WAIT_MS = 10_000;

interface Warning {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function capturingLog(into: Warning[]): Logger {
  const log: Logger = {
    ...silentLogger,
    warn: ((obj: object | string, msg?: string) => {
      if (typeof obj !== "string") into.push({ obj: obj as Record<string, unknown>, msg });
    }) as Logger["warn"],
    child: () => log,
  };
  return log;
}

/** Connects to `port` as server `id` (a higher id than the transport's, so it is accepted). */
async function rawPeer(port: number, id: bigint): Promise<Socket> {
  const s = tcpConnect({ host: LOOPBACK, port });
  s.on("error", () => {});
  await once(s, "connect");
  const hello = Buffer.alloc(12);
  hello.writeInt32BE(HELLO_MAGIC, 0);
  hello.writeBigInt64BE(id, 4);
  s.write(hello);
  return s;
}

const nextTurn = (): Promise<void> => new Promise((ok) => setImmediate(ok));

describe("quorum connection output limits", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function start(warnings: Warning[], down: bigint[]): Promise<{ t: QuorumTransport; port: number }> {
    const port = await freePort();
    const t = new QuorumTransport({
      myId: 1n,
      listen: { host: LOOPBACK, port },
      peers: [],
      log: capturingLog(warnings),
      frameBytesMax: 4 * PROPOSAL_BYTES,
      outboundBytesSoftMax: SOFT_BYTES,
      outboundBytesHardMax: HARD_BYTES,
      onMessage: () => {},
      onDown: (peer) => down.push(peer),
    });
    await t.start();
    cleanup.push(() => t.close());
    return { t, port };
  }

  /** Waits (bounded) until the transport has accepted peer `id`'s hello. */
  async function untilConnected(t: QuorumTransport, id: bigint): Promise<void> {
    for (let i = 0; i < 1_000 && !t.connected(id); i++) await nextTurn();
    expect(t.connected(id)).toBe(true);
  }

  const proposal = (n: number): ZabMsg => ({ type: "PROPOSAL", zxid: BigInt(n), data: new Uint8Array(PROPOSAL_BYTES) });

  it("drops a peer that does not read once its unsent output passes the hard cap, with one warning naming it", async () => {
    const warnings: Warning[] = [];
    const down: bigint[] = [];
    const { t, port } = await start(warnings, down);
    const stuck = await rawPeer(port, 2n);
    stuck.pause(); // never reads
    cleanup.push(() => void stuck.destroy());
    await untilConnected(t, 2n);
    const closed = once(stuck, "close");

    let peakBytes = 0;
    let sent = 0;
    for (; sent < SENDS_MAX && t.connected(2n); sent++) {
      t.send(2n, proposal(sent));
      peakBytes = Math.max(peakBytes, t.outboundBytes(2n));
      await nextTurn();
    }
    expect(sent, "the cap bit before the send budget ran out").toBeLessThan(SENDS_MAX);
    // A paused socket does not notice the server's reset; read to see it.
    stuck.on("data", () => {});
    stuck.resume();
    await Promise.race([closed, new Promise((_, fail) => setTimeout(() => fail(new Error("stuck peer not closed")), WAIT_MS))]);
    expect(down).toEqual([2n]);
    // Bounded: never more than the hard cap held for it (the send that would pass it is dropped).
    expect(peakBytes).toBeLessThanOrEqual(HARD_BYTES);

    const drop = warnings.filter((w) => w.obj.outboundBytesHardMax !== undefined);
    expect(drop).toHaveLength(1);
    expect(drop[0]!.msg).toContain("server 2");
    expect(drop[0]!.obj).toMatchObject({ peer: "2", outboundBytesHardMax: HARD_BYTES });
    expect(drop[0]!.obj.unsentBytes as number).toBeGreaterThan(HARD_BYTES);
    // The soft limit was reported once on the way there.
    expect(warnings.filter((w) => w.obj.outboundBytesSoftMax !== undefined)).toHaveLength(1);
  });

  it("keeps a peer that reads, however much is sent to it", async () => {
    const warnings: Warning[] = [];
    const down: bigint[] = [];
    const { t, port } = await start(warnings, down);
    const reader = await rawPeer(port, 3n);
    let received = 0;
    reader.on("data", (c: Buffer) => (received += c.length));
    cleanup.push(() => void reader.destroy());
    await untilConnected(t, 3n);

    // 500 x 64 KiB = 31 MiB, 31 times the hard cap.
    for (let i = 0; i < 500; i++) {
      t.send(3n, proposal(i));
      await nextTurn();
      // Wait for the reader to catch up whenever the queue nears the soft limit.
      for (let j = 0; j < 1_000 && t.outboundBytes(3n) > SOFT_BYTES / 2; j++) await nextTurn();
    }
    expect(t.connected(3n)).toBe(true);
    expect(down).toEqual([]);
    expect(warnings.filter((w) => w.obj.outboundBytesHardMax !== undefined)).toEqual([]);
    for (let j = 0; j < 10_000 && received < 500 * PROPOSAL_BYTES; j++) await nextTurn();
    expect(received).toBeGreaterThan(500 * PROPOSAL_BYTES);
  });
});
