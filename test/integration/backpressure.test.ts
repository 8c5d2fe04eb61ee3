// Output backpressure and the handshake timeout on the client port, over real loopback
// sockets (issue 14, item 3):
// - a client that pipelines getData of a large node and never reads its replies stops
//   being read from; the server's unsent output for it stays bounded; other clients are
//   answered meanwhile; once it reads, every reply arrives in order (resume on drain);
// - past the hard cap the connection is closed, with one warning naming the client;
// - connections that never send a ConnectRequest are closed after the handshake bound,
//   and many of them at once stop neither sessions nor four-letter words.
//
// No sleeps: every wait is on a socket event or a reply, bounded by a timer that fails.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { once } from "node:events";
import { connect as tcpConnect, type Socket } from "node:net";
import { JuteReader, readReplyHeader } from "../../src/jute/index.js";
import { ClientListener, type ClientConnection, type ConnectionHost } from "../../src/net/index.js";
import { fourLetterWord as answerFourLetterWord } from "../../src/net/fourletter.js";
import { makeAuthenticator, startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { silentLogger, type Logger } from "../../src/util/index.js";
import { connect, within, type ZkSession } from "../helpers/nzk.js";
import { frame, getDataFrame, rawSession } from "../helpers/raw-zk.js";
import { fourLetterWord, LOOPBACK } from "../helpers/net.js";

const WAIT_MS = 10_000;
const NODE_BYTES = 900 * 1024;
const PIPELINED_GETS = 400; // ~350 MiB of replies if nothing pushed back

/** Fails with `label` unless `p` settles within WAIT_MS. */
function bounded<T>(p: Promise<T>, label: string): Promise<T> {
  return within(p, label, WAIT_MS);
}

/** The server side of the raw client's socket. */
function serverSide(connections: ReadonlySet<ClientConnection>, sock: Socket): ClientConnection {
  const c = [...connections].find((x) => x.remotePort === sock.localPort);
  expect(c, "server-side connection of the raw client").toBeDefined();
  return c!;
}

async function untilReadingPaused(c: ClientConnection): Promise<void> {
  if (!c.readingPaused) await bounded(once(c.socket, "pause"), "server pauses reading");
  expect(c.readingPaused).toBe(true);
}

/** A second listener on the test server's pipeline, with limits a test chooses. */
async function extraListener(
  ts: TestServer,
  limits: Pick<ConnectionHost, "outboundBytesSoftMax" | "outboundBytesHardMax" | "handshakeTimeoutMs">,
  log: Logger = silentLogger,
): Promise<{ listener: ClientListener; port: number }> {
  const s = ts.server;
  const listener = new ClientListener(
    {
      pipeline: s.pipeline,
      log,
      frameBytesMax: s.config.juteMaxBufferBytes,
      sessionTimeoutMsMin: s.config.sessionTimeoutMsMin,
      sessionTimeoutMsMax: s.config.sessionTimeoutMsMax,
      authenticate: makeAuthenticator(undefined),
      fourLetterWord: (word) => answerFourLetterWord(word, s),
      counters: s.stats,
      ...limits,
    },
    { host: LOOPBACK, port: 0, maxClientCnxns: 0 },
  );
  const { port } = await listener.listen();
  return { listener, port };
}

describe("client output backpressure", () => {
  let ts: TestServer;
  let other: ZkSession;
  const big = Buffer.alloc(NODE_BYTES, 7);

  beforeAll(async () => {
    ts = await startStandaloneForTest();
    other = await connect(ts.connectString);
    await other.create("/big", { data: big });
  });

  afterAll(async () => {
    await other.close();
    await ts.stop();
  });

  it("a client that pipelines reads without reading replies is paused, bounded, and served in order once it reads", async () => {
    const { sock, parser } = await rawSession(ts.port);
    const reqs = Buffer.concat(Array.from({ length: PIPELINED_GETS }, (_, i) => getDataFrame(i + 1, "/big")));
    sock.write(reqs);
    const c = serverSide(ts.server.listener.connections, sock);
    await untilReadingPaused(c);

    // Another client is answered while the first is held back.
    const before = await bounded(other.getData("/big"), "other client's getData");
    expect(before.data?.length).toBe(NODE_BYTES);
    await bounded(other.create("/during-" + sock.localPort), "other client's create");

    // Bounded: the soft limit (2 x jute.maxbuffer) plus at most one reply, never the hard cap.
    const frameMax = ts.server.config.juteMaxBufferBytes;
    expect(c.outboundBytesPeak).toBeLessThanOrEqual(2 * frameMax + NODE_BYTES + 64);
    expect(c.socket.destroyed).toBe(false);

    // Resume on drain: the client reads, and every reply comes, in request order.
    let next = 1;
    const done = new Promise<void>((ok, fail) => {
      sock.on("data", (chunk: Buffer) => {
        for (const f of parser.push(chunk)) {
          const r = new JuteReader(Buffer.from(f));
          const h = readReplyHeader(r);
          if (h.xid !== next || h.err !== 0) fail(new Error(`reply xid ${h.xid} err ${h.err}, expected xid ${next}`));
          next++;
          if (next > PIPELINED_GETS) ok();
        }
      });
      sock.once("close", () => fail(new Error(`closed after ${next - 1} replies`)));
    });
    sock.resume();
    await bounded(done, "all pipelined replies").catch((e: Error) => {
      throw new Error(`${e.message}: ${next - 1} replies; server paused=${c.readingPaused} unsent=${c.outboundBytes} destroyed=${c.socket.destroyed}`);
    });
    expect(c.outboundBytesPeak).toBeLessThanOrEqual(2 * frameMax + NODE_BYTES + 64);
    sock.destroy();
  });

  it("a connection whose unsent output passes the hard cap is closed with one warning naming the client", async () => {
    const warnings: { obj: object; msg: string | undefined }[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: ((obj: object | string, msg?: string) => {
        if (typeof obj !== "string") warnings.push({ obj, msg });
      }) as Logger["warn"],
      child: () => log,
    };
    // Hard cap below soft + one reply: the reply taken at the soft limit crosses it.
    const soft = 256 * 1024;
    const hard = soft + NODE_BYTES / 2;
    const { listener, port } = await extraListener(ts, { outboundBytesSoftMax: soft, outboundBytesHardMax: hard }, log);
    try {
      const { sock } = await rawSession(port);
      const localPort = sock.localPort;
      const closed = once(sock, "close");
      sock.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => getDataFrame(i + 1, "/big"))));
      await bounded(closed, "connection closed over the hard cap");
      expect(warnings).toHaveLength(1);
      const w = warnings[0]!;
      expect(w.msg).toContain(`127.0.0.1:${localPort}`);
      expect(w.msg).toContain(`${hard}-byte cap`);
      expect(w.obj).toMatchObject({ outboundBytesHardMax: hard });
      // The server keeps serving others.
      expect((await bounded(other.getData("/big"), "getData after the close")).data?.length).toBe(NODE_BYTES);
    } finally {
      await listener.close();
    }
  });
});

describe("handshake timeout", () => {
  const SILENT = 200;
  const HANDSHAKE_MS = 400;
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startStandaloneForTest();
  });

  afterAll(async () => {
    await ts.stop();
  });

  it(`${SILENT} connections that never send a ConnectRequest are closed, and stop neither sessions nor four-letter words`, async () => {
    const { listener, port } = await extraListener(ts, { handshakeTimeoutMs: HANDSHAKE_MS });
    try {
      const silent: Socket[] = [];
      for (let i = 0; i < SILENT; i++) {
        const s = tcpConnect({ host: LOOPBACK, port });
        s.on("error", () => {});
        silent.push(s);
      }
      const closedAll = Promise.all(silent.map((s) => once(s, "close")));
      await bounded(Promise.all(silent.map((s) => (s.connecting ? once(s, "connect") : Promise.resolve()))), "silent connects");
      // One that sends half a word and stops (a slow four-letter word) is closed too.
      const partial = tcpConnect({ host: LOOPBACK, port });
      partial.on("error", () => {});
      partial.write("ru");
      const partialClosed = once(partial, "close");

      // Meanwhile: a session on the same port works, and so does a four-letter word.
      const zk = await bounded(connect(`${LOOPBACK}:${port}`), "session beside silent connections");
      try {
        await bounded(zk.create("/beside-silent"), "create beside silent connections");
        expect(await fourLetterWord(LOOPBACK, port, "ruok")).toBe("imok");
        await bounded(closedAll, `${SILENT} silent connections closed`);
        await bounded(partialClosed, "partial four-letter word closed");
        // The session outlives the handshake bound: it completed its handshake.
        expect(await bounded(zk.exists("/beside-silent"), "exists after the bound")).not.toBeNull();
        expect(listener.connections.size).toBe(1);
      } finally {
        await zk.close();
      }
    } finally {
      await listener.close();
    }
  });
});
