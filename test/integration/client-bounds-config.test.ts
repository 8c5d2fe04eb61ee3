// The client connection bounds written in zoo.cfg reach the server (issue 14, item 3):
// a server started from a parsed zoo.cfg with small corral.clientOutboundBytesSoftMax /
// HardMax and corral.clientHandshakeTimeoutMs pauses, closes and times out by those
// numbers, far below the defaults derived from jute.maxbuffer. Real loopback sockets; no
// sleeps: every wait is on a socket event, bounded by a timer that fails.

import { afterEach, describe, expect, it } from "vitest";
import { once } from "node:events";
import { connect as tcpConnect } from "node:net";
import { parseConfig } from "../../src/config/index.js";
import type { ClientConnection } from "../../src/net/index.js";
import { StandaloneServer } from "../../src/server/index.js";
import { silentLogger } from "../../src/util/index.js";
import { LOOPBACK } from "../helpers/net.js";
import { connect, within } from "../helpers/nzk.js";
import { getDataFrame, rawSession } from "../helpers/raw-zk.js";

const WAIT_MS = 10_000;
const NODE_BYTES = 200 * 1024;
const SOFT_BYTES = 64 * 1024;

let server: StandaloneServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A standalone server, in memory, from zoo.cfg text; on a free loopback port. */
async function startFrom(zooCfg: string): Promise<{ port: number; connectString: string; server: StandaloneServer }> {
  const { config } = parseConfig(zooCfg);
  server = new StandaloneServer({
    config: { ...config, clientPort: 0, clientPortAddress: LOOPBACK, dataDir: undefined, dataLogDir: undefined, adminServerEnabled: false },
    log: silentLogger,
  });
  const { port } = await server.start();
  return { port, connectString: `${LOOPBACK}:${port}`, server };
}

async function withBigNode(connectString: string): Promise<void> {
  const zk = await connect(connectString);
  try {
    await zk.create("/big", { data: Buffer.alloc(NODE_BYTES, 1) });
  } finally {
    await zk.close();
  }
}

function serverSide(s: StandaloneServer, localPort: number | undefined): ClientConnection {
  const c = [...s.listener.connections].find((x) => x.remotePort === localPort);
  expect(c, "server side of the raw client").toBeDefined();
  return c!;
}

describe("client connection bounds from zoo.cfg", () => {
  it("corral.clientOutboundBytesSoftMax: reading stops once that many reply bytes are unsent", async () => {
    const s = await startFrom(["tickTime=2000", `corral.clientOutboundBytesSoftMax=${SOFT_BYTES}`, "maxClientCnxns=0", ""].join("\n"));
    await withBigNode(s.connectString);
    const { sock } = await rawSession(s.port);
    const c = serverSide(s.server, sock.localPort);
    const paused: Promise<unknown> = c.readingPaused ? Promise.resolve() : once(c.socket, "pause");
    sock.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => getDataFrame(i + 1, "/big"))));
    await within(paused, "server pauses reading", WAIT_MS);
    expect(c.readingPaused).toBe(true);
    // The configured soft max plus the one reply that crossed it (the default would be 2 MiB).
    expect(c.outboundBytesPeak).toBeGreaterThan(SOFT_BYTES);
    expect(c.outboundBytesPeak).toBeLessThanOrEqual(SOFT_BYTES + NODE_BYTES + 64);
    expect(c.socket.destroyed).toBe(false);
    sock.destroy();
  });

  it("corral.clientOutboundBytesHardMax: past it the connection is closed", async () => {
    // Hard below soft + one reply: the reply taken at the soft max crosses it.
    const hard = SOFT_BYTES + NODE_BYTES / 2;
    const s = await startFrom(
      [`corral.clientOutboundBytesSoftMax=${SOFT_BYTES}`, `corral.clientOutboundBytesHardMax=${hard}`, "maxClientCnxns=0", ""].join("\n"),
    );
    await withBigNode(s.connectString);
    const { sock } = await rawSession(s.port);
    const closed = once(sock, "close");
    sock.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => getDataFrame(i + 1, "/big"))));
    await within(closed, "closed over the configured hard max", WAIT_MS);
    // Others are still served (small replies: one /big reply alone is over this hard max).
    const zk = await connect(s.connectString);
    try {
      expect(await zk.exists("/big")).not.toBeNull();
    } finally {
      await zk.close();
    }
  });

  it("corral.clientHandshakeTimeoutMs: a connection that sends nothing is closed after it", async () => {
    const handshakeMs = 300;
    const s = await startFrom(`corral.clientHandshakeTimeoutMs=${handshakeMs}\n`);
    const silent = tcpConnect({ host: LOOPBACK, port: s.port });
    silent.on("error", () => {});
    await within(once(silent, "connect"), "silent connect", WAIT_MS);
    const openedAt = performance.now();
    // Well before the 10 s default: the configured bound is the one in force.
    await within(once(silent, "close"), "silent connection closed", 5_000);
    expect(performance.now() - openedAt).toBeGreaterThanOrEqual(handshakeMs - 50);
  });
});
