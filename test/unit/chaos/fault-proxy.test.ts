// The fault proxy against a plain echo server on loopback: each fault does what it says,
// and close() leaves no connection or timer behind.

import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FaultProxy } from "../../helpers/fault-proxy.js";

const HOST = "127.0.0.1";

interface Echo {
  server: Server;
  port: number;
  sockets: Set<Socket>;
}

async function startEcho(): Promise<Echo> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return { server, port: address.port, sockets };
}

/** A client that records what it receives and whether it was closed. */
class Peer {
  received = Buffer.alloc(0);
  closed = false;
  readonly socket: Socket;
  readonly #waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = createConnection({ host: HOST, port });
    this.socket.on("data", (b: Buffer) => {
      this.received = Buffer.concat([this.received, b]);
      this.#wake();
    });
    this.socket.on("error", () => {});
    this.socket.on("close", () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Waits until `cond` holds (checked on every event), at most `ms`. */
  async until(cond: () => boolean, ms = 2_000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!cond()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error("condition not met in time");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  text(): string {
    return this.received.toString("utf8");
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function timersActive(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("FaultProxy", () => {
  let echo: Echo;
  let proxy: FaultProxy;
  const peers: Peer[] = [];

  function peer(): Peer {
    const p = new Peer(proxy.port);
    peers.push(p);
    return p;
  }

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await FaultProxy.start({ host: HOST, port: echo.port });
  });

  afterEach(async () => {
    for (const p of peers.splice(0)) p.socket.destroy();
    await proxy.close();
    for (const s of echo.sockets) s.destroy();
    await new Promise<void>((r) => echo.server.close(() => r()));
  });

  it("forwards both ways and counts connections", async () => {
    expect(proxy.host).toBe(HOST);
    const a = peer();
    a.socket.write("hello");
    await a.until(() => a.text() === "hello");
    expect(proxy.connections).toBe(1);
    a.socket.destroy();
    await a.until(() => a.closed);
    // The upstream close is asynchronous: poll for it, bounded.
    for (let i = 0; i < 100 && (proxy.connections > 0 || echo.sockets.size > 0); i++) await sleep(10);
    expect(proxy.connections).toBe(0);
    expect(echo.sockets.size).toBe(0);
  });

  it("cut destroys every open connection on both sides; new ones still pass", async () => {
    const a = peer();
    const b = peer();
    a.socket.write("a");
    b.socket.write("b");
    await a.until(() => a.text() === "a");
    await b.until(() => b.text() === "b");
    expect(echo.sockets.size).toBe(2);
    proxy.cut();
    await a.until(() => a.closed);
    await b.until(() => b.closed);
    expect(proxy.connections).toBe(0);
    for (let i = 0; i < 100 && echo.sockets.size > 0; i++) await sleep(10);
    expect(echo.sockets.size).toBe(0);
    const c = peer();
    c.socket.write("c");
    await c.until(() => c.text() === "c");
  });

  it("blackhole holds bytes both ways with connections open, then delivers them in order on heal", async () => {
    const a = peer();
    a.socket.write("x");
    await a.until(() => a.text() === "x");
    proxy.blackhole();
    a.socket.write("1");
    a.socket.write("2");
    const late = peer(); // accepted during the hole: silent, no upstream yet
    late.socket.write("L");
    await sleep(150);
    expect(a.text()).toBe("x");
    expect(a.closed).toBe(false);
    expect(late.text()).toBe("");
    expect(late.closed).toBe(false);
    expect(proxy.connections).toBe(2);
    expect(echo.sockets.size).toBe(1);
    proxy.heal();
    await a.until(() => a.text() === "x12");
    await late.until(() => late.text() === "L");
  });

  it("blackhole(ms) heals by itself; a side's close is held too", async () => {
    const a = peer();
    a.socket.write("x");
    await a.until(() => a.text() === "x");
    proxy.blackhole(200);
    const t0 = performance.now();
    a.socket.write("y");
    await a.until(() => a.text() === "xy", 3_000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180);

    proxy.blackhole();
    a.socket.destroy();
    await sleep(100);
    expect(echo.sockets.size).toBe(1); // the server has not heard of the close yet
    proxy.heal();
    for (let i = 0; i < 100 && echo.sockets.size > 0; i++) await sleep(10);
    expect(echo.sockets.size).toBe(0);
  });

  it("a black-holed connection holding more than the bound is cut", async () => {
    await proxy.close();
    proxy = await FaultProxy.start({ host: HOST, port: echo.port }, { heldBytesMax: 4096 });
    const a = peer();
    a.socket.write("x");
    await a.until(() => a.text() === "x");
    proxy.blackhole();
    a.socket.write(Buffer.alloc(8192, 1));
    await a.until(() => a.closed);
    expect(proxy.connections).toBe(0);
  });

  it("refuse accepts and closes new connections at once; open ones keep working", async () => {
    const a = peer();
    a.socket.write("a");
    await a.until(() => a.text() === "a");
    proxy.refuse(true);
    const b = peer();
    await b.until(() => b.closed);
    expect(b.text()).toBe("");
    a.socket.write("b");
    await a.until(() => a.text() === "ab");
    proxy.refuse(false);
    const c = peer();
    c.socket.write("c");
    await c.until(() => c.text() === "c");
  });

  it("delay adds latency both ways and keeps order, even when the delay shrinks", async () => {
    const a = peer();
    a.socket.write("0");
    await a.until(() => a.text() === "0");
    proxy.delay(100);
    const t0 = performance.now();
    a.socket.write("1");
    await a.until(() => a.text() === "01");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190); // 100 ms each way
    a.socket.write("2");
    proxy.delay(0);
    a.socket.write("3"); // must not overtake "2"
    for (let i = 4; i < 10; i++) a.socket.write(String(i));
    await a.until(() => a.received.length === 10);
    expect(a.text()).toBe("0123456789");
    proxy.heal();
    const t1 = performance.now();
    a.socket.write("z");
    await a.until(() => a.text().endsWith("z"));
    expect(performance.now() - t1).toBeLessThan(150);
  });

  it("heal undoes refuse and delay together", async () => {
    proxy.refuse(true);
    proxy.delay(500);
    proxy.heal();
    const a = peer();
    const t0 = performance.now();
    a.socket.write("q");
    await a.until(() => a.text() === "q");
    expect(performance.now() - t0).toBeLessThan(400);
  });

  it("close destroys connections and leaves no timer behind", async () => {
    const before = timersActive();
    const a = peer();
    a.socket.write("a");
    await a.until(() => a.text() === "a");
    proxy.delay(10_000);
    a.socket.write("b"); // a 10 s timer is now armed in the proxy
    proxy.blackhole(10_000);
    expect(timersActive()).toBeGreaterThan(before);
    await proxy.close();
    await a.until(() => a.closed);
    expect(proxy.connections).toBe(0);
    expect(timersActive()).toBe(before);
    expect(() => proxy.blackhole()).toThrow(/closed/);
    await proxy.close(); // idempotent
  });
});
