// cons (four-letter word) and the AdminServer's connections/cons show each connection's
// unsent output and whether its requests are no longer read (issue 14, item 3): a raw
// client that pipelines large reads without reading replies shows a large unsent count
// and paused; a well-behaved client beside it shows 0 and not paused. Real loopback
// sockets; every wait is on an event, bounded.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { once } from "node:events";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { fourLetterWord, LOOPBACK } from "../helpers/net.js";
import { connect, within, type ZkSession } from "../helpers/nzk.js";
import { getDataFrame, rawSession, type RawSession } from "../helpers/raw-zk.js";

const WAIT_MS = 10_000;
const NODE_BYTES = 900 * 1024;

let t: TestServer;
let good: ZkSession;
let raw: RawSession;

beforeAll(async () => {
  t = await startStandaloneForTest({ adminServer: true });
  good = await connect(t.connectString);
  await good.create("/big", { data: Buffer.alloc(NODE_BYTES, 3) });
  raw = await rawSession(t.port);
  const c = [...t.server.listener.connections].find((x) => x.remotePort === raw.sock.localPort)!;
  const paused: Promise<unknown> = c.readingPaused ? Promise.resolve() : once(c.socket, "pause");
  raw.sock.write(Buffer.concat(Array.from({ length: 40 }, (_, i) => getDataFrame(i + 1, "/big"))));
  await within(paused, "server pauses the raw client", WAIT_MS);
});

afterAll(async () => {
  raw?.sock.destroy();
  await good?.close();
  await t?.stop();
});

const localPort = (): number => raw.sock.localPort!;

describe("cons shows unsent output and read pauses", () => {
  it("the four-letter word: unsent= and paused= per connection", async () => {
    const lines = (await fourLetterWord(LOOPBACK, t.port, "cons")).split("\n");
    const rawLine = lines.find((l) => l.startsWith(` /127.0.0.1:${localPort()}[`));
    expect(rawLine, lines.join("\n")).toBeDefined();
    const m = /,unsent=(\d+),paused=([01])\)$/.exec(rawLine!);
    expect(m, rawLine).not.toBeNull();
    // Past the soft limit (2 x jute.maxbuffer) and below the hard cap.
    expect(Number(m![1])).toBeGreaterThan(2 * t.server.config.juteMaxBufferBytes);
    expect(Number(m![1])).toBeLessThan(32 * t.server.config.juteMaxBufferBytes);
    expect(m![2]).toBe("1");
    const others = lines.filter((l) => l.includes(",sid=") && l !== rawLine);
    expect(others).toHaveLength(1);
    expect(others[0]).toMatch(/,unsent=0,paused=0\)$/);
  });

  it("the AdminServer: unsent_bytes and reading_paused per connection", async () => {
    const body = (await (await fetch(`${t.adminUrl}/commands/cons`)).json()) as { connections: Record<string, unknown>[] };
    const rawConn = body.connections.find((c) => c["remote_socket_address"] === `127.0.0.1:${localPort()}`);
    expect(rawConn).toBeDefined();
    expect(rawConn!["unsent_bytes"]).toBeGreaterThan(2 * t.server.config.juteMaxBufferBytes);
    expect(rawConn!["reading_paused"]).toBe(true);
    const others = body.connections.filter((c) => c !== rawConn && c["session_id"] !== 0);
    expect(others.map((c) => [c["unsent_bytes"], c["reading_paused"]])).toEqual([[0, false]]);
  });
});
