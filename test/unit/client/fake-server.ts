// A scripted ZooKeeper server for the client's unit tests: real loopback sockets, but the
// test decides what it answers (handshakes, pings, requests) and sees what it was sent.
// Paired with a FakeClock the client's timeouts become deterministic.

import { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import {
  Err,
  FrameParser,
  JuteReader,
  JuteWriter,
  OpCode,
  Xid,
  readConnectRequest,
  readRequestHeader,
  writeConnectResponse,
  writeReplyHeader,
  type ConnectRequest,
} from "../../../src/jute/index.js";
import type { Clock, ClockTimer } from "../../../src/client/index.js";

/**
 * How a new connection is served: "live" answers, "silent" reads and never writes (a
 * black hole), "refuse" closes it at once. A connection keeps the mode it was accepted in.
 */
export type FakeMode = "live" | "silent" | "refuse";

export class FakeZkServer extends EventEmitter {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #muted = new WeakSet<Socket>();
  port = 0;
  mode: FakeMode = "live";
  timeOutMs = 3000;
  /** Answer requests other than pings (with NoNode); false lets them hang. */
  answerRequests = true;
  /** Sessions the server knows; a re-attach to any other is answered "expired". */
  readonly sessions = new Set<bigint>();
  /** Every handshake seen, in order. */
  readonly connects: ConnectRequest[] = [];
  /** Sessions closed by a closeSession request. */
  readonly closed: bigint[] = [];
  #nextSessionId = 0x100n;

  private constructor() {
    super();
    this.#server = createServer((s) => this.#accept(s));
  }

  static async start(): Promise<FakeZkServer> {
    const f = new FakeZkServer();
    await new Promise<void>((resolve) => f.#server.listen(0, "127.0.0.1", resolve));
    f.port = (f.#server.address() as { port: number }).port;
    return f;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Open connections stop answering (a black hole on a live connection). */
  silenceAll(): void {
    for (const s of this.#sockets) this.#muted.add(s);
  }

  /** Drops every open connection (as a restart would). */
  cutAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    const mode = this.mode;
    if (mode === "refuse") {
      socket.destroy();
      return;
    }
    const parser = new FrameParser(1 << 20);
    let sessionId: bigint | undefined;
    socket.on("data", (chunk: Buffer) => {
      if (mode === "silent" || this.#muted.has(socket)) return;
      for (const frame of parser.push(chunk)) {
        const r = new JuteReader(frame);
        if (sessionId === undefined) {
          const req = readConnectRequest(r);
          this.connects.push(req);
          this.emit("connect", req);
          let timeOut = this.timeOutMs;
          if (req.sessionId === 0n) {
            sessionId = this.#nextSessionId++;
            this.sessions.add(sessionId);
          } else if (this.sessions.has(req.sessionId)) sessionId = req.sessionId;
          else {
            sessionId = 0n;
            timeOut = 0;
          }
          const w = new JuteWriter(64);
          w.int(0);
          writeConnectResponse(w, { protocolVersion: 0, timeOut, sessionId, passwd: Buffer.alloc(16, 7), readOnly: false });
          w.intAt(0, w.length - 4);
          socket.write(w.toBuffer());
          if (timeOut === 0) socket.end();
          continue;
        }
        const h = readRequestHeader(r);
        if (h.type === OpCode.ping) this.#reply(socket, Xid.ping, Err.Ok);
        else if (h.type === OpCode.closeSession) {
          this.sessions.delete(sessionId);
          this.closed.push(sessionId);
          this.emit("closeSession", sessionId);
          this.#reply(socket, h.xid, Err.Ok);
          socket.end();
        } else {
          this.emit("request", h);
          if (this.answerRequests) this.#reply(socket, h.xid, Err.NoNode);
        }
      }
    });
  }

  #reply(socket: Socket, xid: number, err: number): void {
    const w = new JuteWriter(32);
    w.int(0);
    writeReplyHeader(w, xid, 1n, err);
    w.intAt(0, w.length - 4);
    socket.write(w.toBuffer());
  }
}

interface FakeTimer extends ClockTimer {
  atMs: number;
  seq: number;
  fn: () => void;
}

/** A manual clock: timers fire only when the test advances time, in (time, creation) order. */
export class FakeClock implements Clock {
  #nowMs = 0;
  #seq = 0;
  readonly #timers = new Set<FakeTimer>();

  nowMs(): number {
    return this.#nowMs;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const t: FakeTimer = { atMs: this.#nowMs + Math.max(0, ms), seq: this.#seq++, fn, unref: () => t };
    this.#timers.add(t);
    return t;
  }

  clearTimeout(t: ClockTimer | undefined): void {
    if (t !== undefined) this.#timers.delete(t as FakeTimer);
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers) if (t.atMs <= targetMs && (next === undefined || t.atMs < next.atMs || (t.atMs === next.atMs && t.seq < next.seq))) next = t;
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#nowMs = Math.max(this.#nowMs, next.atMs);
      next.fn();
    }
    this.#nowMs = targetMs;
  }
}
