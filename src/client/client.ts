// Corral's TypeScript client for ZooKeeper's protocol: works against Corral and against
// Apache ZooKeeper. One session over one TCP connection at a time; on a lost connection
// it re-attaches the same session to the next host (connect string shuffled), re-arms
// watches with setWatches2 from the last zxid it saw, and re-sends its auth. Requests
// made while disconnected wait for the connection; requests in flight when it drops
// fail with ConnectionLoss, as ZooKeeper's clients do (the caller decides to retry).

import { EventEmitter } from "node:events";
import { connect as tcpConnect, type Socket } from "node:net";
import {
  AuthPacketSchema,
  Err,
  FrameParser,
  JuteReader,
  JuteWriter,
  OpCode,
  RECIPE_EVENT_XID,
  RecipeEventSchema,
  SetWatches2Schema,
  WatcherEventSchema,
  Xid,
  decodeRecord,
  encodeRecord,
  readConnectResponse,
  readReplyHeader,
  writeConnectRequest,
  writeRequestHeader,
} from "../jute/index.js";
import { parseConnectString, toClientPath, type ConnectString, type HostPort } from "./connect-string.js";
import { ZooKeeperError, connectionLoss } from "./errors.js";
import { ClientWatches, watchEvent, type WatchListener } from "./watches.js";

export type ClientState = "CONNECTING" | "CONNECTED" | "CONNECTED_READ_ONLY" | "SUSPENDED" | "EXPIRED" | "AUTH_FAILED" | "CLOSED";

export interface ClientOptions {
  /** Requested session timeout; the server clamps it. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Give up the first connect after this long. Default: the session timeout. */
  connectTimeoutMs?: number;
  /** Ask for a read-only session when the server is partitioned. */
  canBeReadOnly?: boolean;
  /** Shuffle the hosts of the connect string (default true). */
  shuffleHosts?: boolean;
  /** Largest frame accepted from a server (default ZooKeeper's jute.maxbuffer). */
  frameBytesMax?: number;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

interface InFlight {
  xid: number;
  path: string | undefined;
  decode: ((r: JuteReader) => unknown) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  /** Runs with the error code before resolve/reject: watch registration and the like. */
  onReply: ((err: number) => void) | undefined;
  settled: boolean;
}

interface Outgoing {
  frame: Buffer;
  inflight: InFlight | undefined;
}

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
const FRAME_BYTES_MAX = 0xfffff + 1024;
const SET_WATCHES_BYTES_MAX = 128 * 1024;

export class Client extends EventEmitter {
  readonly #cs: ConnectString;
  readonly #opts: Required<Omit<ClientOptions, "connectTimeoutMs">> & { connectTimeoutMs: number | undefined };
  readonly watches = new ClientWatches();
  #hosts: HostPort[];
  #hostIndex = 0;
  #state: ClientState = "CONNECTING";
  #socket: Socket | undefined;
  #parser: FrameParser;
  #sessionId = 0n;
  #passwd: Buffer = Buffer.alloc(16);
  #negotiatedTimeoutMs = 0;
  /** Whether a read-write server ever accepted this session (ZooKeeper's seenRwServerBefore). */
  #seenRwServer = false;
  #lastZxid = 0n;
  #xid = 1;
  readonly #inflight: InFlight[] = [];
  readonly #authInflight: InFlight[] = [];
  readonly #queued: Outgoing[] = [];
  readonly #auth: { scheme: string; auth: Buffer }[] = [];
  #pingTimer: NodeJS.Timeout | undefined;
  #lastRecvMs = 0;
  #lastSendMs = 0;
  #closing = false;
  readonly #w = new JuteWriter(256);
  /** The socket corked during this tick, if any (see #send). */
  #corked: Socket | undefined;

  constructor(connectString: string, opts: ClientOptions = {}) {
    super();
    this.#cs = parseConnectString(connectString);
    this.#opts = {
      sessionTimeoutMs: opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      connectTimeoutMs: opts.connectTimeoutMs,
      canBeReadOnly: opts.canBeReadOnly ?? false,
      shuffleHosts: opts.shuffleHosts ?? true,
      frameBytesMax: opts.frameBytesMax ?? FRAME_BYTES_MAX,
    };
    this.#hosts = this.#opts.shuffleHosts ? shuffle(this.#cs.hosts) : [...this.#cs.hosts];
    this.#parser = new FrameParser(this.#opts.frameBytesMax);
  }

  get state(): ClientState {
    return this.#state;
  }

  get sessionId(): bigint {
    return this.#sessionId;
  }

  get sessionPassword(): Buffer {
    return this.#passwd;
  }

  get sessionTimeoutMs(): number {
    return this.#negotiatedTimeoutMs;
  }

  get chroot(): string {
    return this.#cs.chroot;
  }

  /** The zxid of the newest state this client has seen. */
  get lastZxid(): bigint {
    return this.#lastZxid;
  }

  /** Connects for the first time; rejects if no host answers within connectTimeoutMs. */
  async start(session?: { sessionId: bigint; password: Buffer }): Promise<void> {
    if (session !== undefined) {
      this.#sessionId = session.sessionId;
      this.#passwd = Buffer.from(session.password);
      this.#seenRwServer = true;
    }
    const timeoutMs = this.#opts.connectTimeoutMs ?? this.#opts.sessionTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.#shutdown("CLOSED", Err.ConnectionLoss);
        reject(new ZooKeeperError(Err.OperationTimeout, undefined, { cause: new Error(`no server answered within ${timeoutMs} ms`) }));
      }, timeoutMs);
      const onState = (s: ClientState): void => {
        if (s === "CONNECTED" || s === "CONNECTED_READ_ONLY") {
          cleanup();
          resolve();
        } else if (isFinal(s)) {
          cleanup();
          reject(new ZooKeeperError(s === "EXPIRED" ? Err.SessionExpired : Err.ConnectionLoss));
        }
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off("state", onState);
      };
      this.on("state", onState);
      this.#connectNext();
    });
  }

  #setState(s: ClientState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.emit("state", s);
    if (s === "EXPIRED") this.emit("expired");
  }

  #connectNext(): void {
    if (this.#closing || isFinal(this.#state)) return;
    const hp = this.#hosts[this.#hostIndex++ % this.#hosts.length]!;
    const socket = tcpConnect({ host: hp.host, port: hp.port, noDelay: true });
    this.#socket = socket;
    this.#parser = new FrameParser(this.#opts.frameBytesMax);
    let handshaken = false;
    socket.on("connect", () => this.#sendConnect(socket));
    socket.on("data", (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      this.#lastRecvMs = performance.now();
      try {
        for (const frame of this.#parser.push(chunk)) {
          if (!handshaken) {
            handshaken = true;
            this.#failedAttempts = 0;
            this.#onConnectResponse(frame);
          } else this.#onFrame(frame);
        }
      } catch (e) {
        socket.destroy(e as Error);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (!handshaken) this.#failedAttempts++;
      this.#onDisconnect();
    });
    const connectWithinMs = Math.max(1000, Math.floor(this.#opts.sessionTimeoutMs / this.#hosts.length));
    socket.setTimeout(connectWithinMs, () => {
      if (!handshaken) socket.destroy();
    });
  }

  #sendConnect(socket: Socket): void {
    const w = this.#w;
    w.reset();
    w.int(0);
    writeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: this.#lastZxid,
      timeOut: this.#opts.sessionTimeoutMs,
      // A session begun on a read-only server is local to it: a read-write server gets a
      // request for a new session instead (ZooKeeper's client does the same).
      sessionId: this.#seenRwServer ? this.#sessionId : 0n,
      passwd: this.#passwd,
      readOnly: this.#opts.canBeReadOnly,
    });
    w.intAt(0, w.length - 4);
    socket.write(w.toBuffer());
  }

  #onConnectResponse(frame: Buffer): void {
    const socket = this.#socket!;
    socket.setTimeout(0);
    const resp = readConnectResponse(new JuteReader(frame));
    if (resp.timeOut <= 0) {
      this.#shutdown("EXPIRED", Err.SessionExpired);
      return;
    }
    this.#sessionId = resp.sessionId;
    this.#passwd = resp.passwd;
    this.#negotiatedTimeoutMs = resp.timeOut;
    this.#resendSessionState(socket);
    for (const o of this.#queued.splice(0)) this.#send(socket, o);
    this.#startPings(socket);
    const wasSuspended = this.#state === "SUSPENDED";
    if (resp.readOnly !== true) this.#seenRwServer = true;
    this.#setState(resp.readOnly === true ? "CONNECTED_READ_ONLY" : "CONNECTED");
    if (wasSuspended) this.emit("reconnected");
  }

  /** After a reconnect: auth first, then the watches the server must re-arm. */
  #resendSessionState(socket: Socket): void {
    for (const a of this.#auth) {
      this.#send(socket, { frame: this.#frame(Xid.auth, OpCode.auth, (w) => encodeRecord(w, AuthPacketSchema, { type: 0, ...a })), inflight: undefined });
    }
    if (this.watches.empty) return;
    const [dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches] = this.watches.paths();
    // One setWatches2 per ~128 KB of paths, as ZooKeeper's client batches them.
    for (const batch of batchWatches([dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches])) {
      const frame = this.#frame(Xid.setWatches, OpCode.setWatches2, (w) =>
        encodeRecord(w, SetWatches2Schema, {
          relativeZxid: this.#lastZxid,
          dataWatches: batch[0]!,
          existWatches: batch[1]!,
          childWatches: batch[2]!,
          persistentWatches: batch[3]!,
          persistentRecursiveWatches: batch[4]!,
        }),
      );
      this.#send(socket, { frame, inflight: undefined });
    }
  }

  #startPings(socket: Socket): void {
    clearInterval(this.#pingTimer);
    const readTimeoutMs = (this.#negotiatedTimeoutMs * 2) / 3;
    const pingEveryMs = Math.max(10, Math.min(readTimeoutMs / 2, 10_000));
    this.#lastRecvMs = performance.now();
    this.#pingTimer = setInterval(() => {
      const now = performance.now();
      if (now - this.#lastRecvMs > readTimeoutMs) {
        socket.destroy();
        return;
      }
      if (now - this.#lastSendMs >= pingEveryMs) {
        this.#send(socket, { frame: this.#frame(Xid.ping, OpCode.ping, undefined), inflight: undefined });
      }
    }, Math.max(5, pingEveryMs / 2));
    this.#pingTimer.unref();
  }

  #onDisconnect(): void {
    clearInterval(this.#pingTimer);
    this.#failInflight(Err.ConnectionLoss);
    if (this.#closing || isFinal(this.#state)) return;
    if (this.#state !== "CONNECTING") this.#setState("SUSPENDED");
    // After a full round of hosts that all failed, back off (bounded) before the next.
    const roundDone = this.#failedAttempts > 0 && this.#failedAttempts % this.#hosts.length === 0;
    const backoffMs = roundDone ? Math.min(1000, 10 * 2 ** Math.min(7, this.#failedAttempts / this.#hosts.length)) : 0;
    const delayMs = Math.max(this.#reconnectDelayMs, backoffMs);
    this.#reconnectDelayMs = 0;
    if (delayMs > 0) setTimeout(() => this.#connectNext(), delayMs).unref();
    else setImmediate(() => this.#connectNext());
  }

  #failInflight(err: number): void {
    for (const f of this.#inflight.splice(0)) settle(f, new ZooKeeperError(err, f.path));
    for (const f of this.#authInflight.splice(0)) settle(f, new ZooKeeperError(err));
  }

  #onFrame(frame: Buffer): void {
    const r = new JuteReader(frame);
    const h = readReplyHeader(r);
    if (h.zxid > 0n && h.xid !== Xid.notification) this.#lastZxid = h.zxid;
    switch (h.xid) {
      case Xid.notification:
        this.#onNotification(decodeRecord(r, WatcherEventSchema));
        return;
      case Xid.ping:
      case Xid.setWatches:
        return;
      case RECIPE_EVENT_XID:
        this.emit("recipeEvent", decodeRecord(r, RecipeEventSchema));
        return;
      case Xid.auth: {
        const f = this.#authInflight.shift();
        if (h.err === Err.AuthFailed) {
          if (f !== undefined) settle(f, new ZooKeeperError(h.err));
          this.#shutdown("AUTH_FAILED", Err.AuthFailed);
          return;
        }
        if (f !== undefined) settle(f, undefined, undefined);
        return;
      }
    }
    const f = this.#inflight.shift();
    if (f === undefined || f.xid !== h.xid) {
      this.#socket?.destroy(new Error(`reply xid ${h.xid} does not match request xid ${f?.xid}`));
      return;
    }
    f.onReply?.(h.err);
    if (h.err !== Err.Ok) {
      settle(f, new ZooKeeperError(h.err, f.path));
      return;
    }
    try {
      settle(f, undefined, f.decode === undefined ? undefined : f.decode(r));
    } catch (e) {
      settle(f, e as Error);
    }
  }

  #onNotification(e: { type: number; state: number; path: string }): void {
    const path = toClientPath(this.#cs.chroot, e.path);
    const event = watchEvent(e.type, path);
    for (const l of this.watches.materialize(e.type, path)) {
      try {
        l(event);
      } catch (err) {
        this.emit("error", err);
      }
    }
  }

  #frame(xid: number, opCode: number, body: ((w: JuteWriter) => void) | undefined): Buffer {
    const w = this.#w;
    w.reset();
    w.int(0);
    writeRequestHeader(w, xid, opCode);
    body?.(w);
    w.intAt(0, w.length - 4);
    return w.toBuffer();
  }

  #send(socket: Socket, o: Outgoing): void {
    if (o.inflight !== undefined) {
      if (o.inflight.xid === Xid.auth) this.#authInflight.push(o.inflight);
      else this.#inflight.push(o.inflight);
    }
    this.#lastSendMs = performance.now();
    // Requests issued in one tick go out in one writev: a client with many requests in
    // flight (each reply's continuation sends the next) pays one syscall per tick, not
    // one per request, and the server reads them in one chunk.
    if (this.#corked !== socket) {
      this.#corked = socket;
      socket.cork();
      process.nextTick(() => {
        if (this.#corked === socket) this.#corked = undefined;
        socket.uncork();
      });
    }
    socket.write(o.frame);
  }

  /** Sends one request and resolves with its decoded reply. */
  request<T>(
    opCode: number,
    path: string | undefined,
    body: ((w: JuteWriter) => void) | undefined,
    decode: ((r: JuteReader) => T) | undefined,
    opts: CallOptions & { onReply?: ((err: number) => void) | undefined; xid?: number } = {},
  ): Promise<T> {
    if (isFinal(this.#state) || this.#closing) {
      return Promise.reject(new ZooKeeperError(this.#state === "EXPIRED" ? Err.SessionExpired : Err.ConnectionLoss, path));
    }
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const xid = opts.xid ?? this.#nextXid();
    return new Promise<T>((resolve, reject) => {
      const f: InFlight = {
        xid,
        path,
        decode,
        resolve: resolve as (v: unknown) => void,
        reject,
        onReply: opts.onReply,
        settled: false,
      };
      if (signal !== undefined) {
        const onAbort = (): void => settle(f, signal.reason as Error);
        signal.addEventListener("abort", onAbort, { once: true });
        const done = f.resolve;
        const fail = f.reject;
        f.resolve = (v) => {
          signal.removeEventListener("abort", onAbort);
          done(v);
        };
        f.reject = (e) => {
          signal.removeEventListener("abort", onAbort);
          fail(e);
        };
      }
      const o: Outgoing = { frame: this.#frame(xid, opCode, body), inflight: f };
      const socket = this.#socket;
      if (socket !== undefined && (this.#state === "CONNECTED" || this.#state === "CONNECTED_READ_ONLY")) this.#send(socket, o);
      else this.#queued.push(o);
    });
  }

  #nextXid(): number {
    const x = this.#xid;
    this.#xid = this.#xid >= 0x7fff_fff0 ? 1 : this.#xid + 1;
    return x;
  }

  /** Adds auth info (e.g. digest "user:password"); kept and re-sent on reconnect. */
  async addAuth(scheme: string, auth: string | Buffer, opts: CallOptions = {}): Promise<void> {
    const a = { scheme, auth: typeof auth === "string" ? Buffer.from(auth, "utf8") : Buffer.from(auth) };
    this.#auth.push(a);
    await this.request(OpCode.auth, undefined, (w) => encodeRecord(w, AuthPacketSchema, { type: 0, ...a }), undefined, {
      ...opts,
      xid: Xid.auth,
    });
  }

  /** Closes the session (its ephemerals go) and the connection. */
  async close(): Promise<void> {
    if (isFinal(this.#state) || this.#closing) {
      this.#shutdown("CLOSED", Err.ConnectionLoss);
      return;
    }
    const socket = this.#socket;
    if (socket !== undefined && (this.#state === "CONNECTED" || this.#state === "CONNECTED_READ_ONLY")) {
      const closing = this.request(OpCode.closeSession, undefined, undefined, undefined).catch(() => undefined);
      this.#closing = true;
      const timeout = new Promise((r) => setTimeout(r, Math.max(1000, this.#negotiatedTimeoutMs)).unref());
      await Promise.race([closing, timeout]);
    }
    this.#shutdown("CLOSED", Err.ConnectionLoss);
  }

  #reconnectDelayMs = 0;
  /** Connection attempts in a row that ended before a handshake. */
  #failedAttempts = 0;

  /**
   * Drops the connection without closing the session and waits `reconnectDelayMs` before
   * reconnecting (tests of reconnect and, with a delay past the timeout, of expiry).
   */
  disconnectForTest(reconnectDelayMs = 0): void {
    this.#reconnectDelayMs = reconnectDelayMs;
    this.#socket?.destroy();
  }

  #shutdown(state: ClientState, err: number): void {
    this.#closing = true;
    clearInterval(this.#pingTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    this.#failInflight(err);
    for (const o of this.#queued.splice(0)) if (o.inflight !== undefined) settle(o.inflight, new ZooKeeperError(err, o.inflight.path));
    this.#setState(state);
  }
}

function settle(f: InFlight, err: Error | undefined, value?: unknown): void {
  if (f.settled) return;
  f.settled = true;
  if (err !== undefined) f.reject(err);
  else f.resolve(value);
}

/** The session has ended for good: expired, closed, or refused (no reconnect follows). */
export function isFinal(s: ClientState): boolean {
  return s === "EXPIRED" || s === "AUTH_FAILED" || s === "CLOSED";
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function batchWatches(lists: string[][]): string[][][] {
  const batches: string[][][] = [];
  let cur: string[][] = lists.map(() => []);
  let bytes = 0;
  lists.forEach((list, k) => {
    for (const p of list) {
      if (bytes + p.length > SET_WATCHES_BYTES_MAX && bytes > 0) {
        batches.push(cur);
        cur = lists.map(() => []);
        bytes = 0;
      }
      cur[k]!.push(p);
      bytes += p.length + 4;
    }
  });
  batches.push(cur);
  return batches;
}
