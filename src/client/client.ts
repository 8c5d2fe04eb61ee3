// Corral's TypeScript client for ZooKeeper's protocol: works against Corral and against
// Apache ZooKeeper. One session over one TCP connection at a time; on a lost connection
// it re-attaches the same session to the next host (connect string shuffled), re-arms
// watches with setWatches2 from the last zxid it saw, and re-sends its auth. Requests
// made while disconnected wait for the connection, at most `operationTimeoutMs`; requests
// in flight when it drops fail with ConnectionLoss, as ZooKeeper's clients do (the caller
// decides to retry, or sets a retry policy).
//
// Session liveness (see states.ts): the client keeps the send time of the newest request
// or ping that was answered, and presumes the session LOST once that is `lostAfterMs` old,
// before the server could expire it. After LOST it opens a new session (closing the old
// one first, best effort, when the loss was only presumed), unless `afterLost: "close"`.
//
// A connection attempt that ends before the server answers the connect request (a TLS
// handshake refused either way, a refused or silent port) is recorded as a
// ConnectAttemptError with Node's code: `lastConnectError`, the "connectError" event, and
// the cause of start()'s rejection when it gives up; the client keeps trying meanwhile.
//
// Every timer runs on the injected Clock and is unref'd; the one thing that keeps the
// process alive is a ref'd keep-alive timer held while the client is open and has calls
// pending or holds taken (`holdOpen`), and, as before, the connected socket itself.

import { EventEmitter } from "node:events";
import { connect as tcpConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
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
import { ClientClosedError, ConnectAttemptError, SessionLostError, ZooKeeperError } from "./errors.js";
import { isRetryable, retryLoop, type RetryPolicy } from "./retry.js";
import {
  clampLostAfterFraction,
  isConnectedState,
  lostAfterMsOf,
  presumedLost,
  systemClock,
  type Clock,
  type ClockTimer,
  type ConnectionState,
  type ConnectionStateChange,
  type ConnectionStateInfo,
} from "./states.js";
import { ClientWatches, watchEvent } from "./watches.js";

/**
 * The client's low-level state, as ZooKeeper's `ZooKeeper.States` (kept for existing
 * callers; `connectionState` is the model to act on). CONNECTING: before the first
 * connect, and while a new session is opened after LOST. SUSPENDED: the connection is
 * gone, the session may live. EXPIRED: the session was lost and `afterLost` is "close"
 * (final). AUTH_FAILED and CLOSED: final.
 */
export type ClientState = "CONNECTING" | "CONNECTED" | "CONNECTED_READ_ONLY" | "SUSPENDED" | "EXPIRED" | "AUTH_FAILED" | "CLOSED";

/** What the client does once its session is LOST. */
export type AfterLost = "new-session" | "close";

/** Options of `connect()` and of the client classes' constructors; every one is optional. */
export interface ClientOptions {
  /** Requested session timeout; the server clamps it. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Give up the first connect after this long. Default: the session timeout. */
  connectTimeoutMs?: number;
  /** Ask for a read-only session when the server is partitioned. */
  canBeReadOnly?: boolean;
  /** Shuffle the hosts of the connect string (default true). */
  shuffleHosts?: boolean;
  /** Largest frame accepted from a server (default ZooKeeper's jute.maxbuffer plus 1 KiB of headers). */
  frameBytesMax?: number;
  /**
   * The session is presumed LOST after `floor(negotiatedTimeout * lostAfterFraction)` ms
   * without an answer to anything sent since. Clamped to (0, 0.9]; default 0.8.
   */
  lostAfterFraction?: number;
  /**
   * After LOST: "new-session" (default) opens a new session on the next connect, as
   * Curator does, and announces RECONNECTED; "close" ends the client (legacy state
   * EXPIRED, final), as ZooKeeper's Java client does.
   */
  afterLost?: AfterLost;
  /**
   * A call that waits for a connection (made while disconnected) settles with
   * ConnectionLoss at the latest this long after it was made. Default: the requested
   * session timeout.
   */
  operationTimeoutMs?: number;
  /**
   * A call sent on a live connection and answered by nobody for this long fails with
   * RequestTimeout (ZooKeeper's zookeeper.request.timeout). Default 0: no limit.
   */
  requestTimeoutMs?: number;
  /**
   * Retries the plain reads (getData, exists, getChildren, getChildren2, getACL, ...) on
   * ConnectionLoss, OperationTimeout and RequestTimeout; and is the default policy of
   * `client.retry()`. Writes are never retried by themselves. Default: none.
   */
  retryPolicy?: RetryPolicy;
  /** The time source and timers (tests inject a fake one). Default: the system's. */
  clock?: Clock;
  /**
   * Connect with TLS (a server's secureClientPort, or a port with client.portUnification).
   * Undefined: plain TCP.
   */
  tls?: ClientTlsOptions;
}

/**
 * TLS for the client's connections. The server's certificate is checked against `ca`
 * (default: Node's bundled root CAs) and, unless `hostnameVerification` is false,
 * against the host name or IP address of the connect string (or `servername`).
 */
export interface ClientTlsOptions {
  /** Trusted CA certificates (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The client certificate chain (PEM), for ssl.clientAuth=want/need and x509 ACLs. */
  cert?: string | Buffer;
  /** The client certificate's private key (PEM). */
  key?: string | Buffer;
  /** Key and certificate as one PKCS#12 file, instead of `cert` and `key`. */
  pfx?: Buffer;
  /** Password of an encrypted `key` or of `pfx`. */
  passphrase?: string;
  /** The name sent with SNI and checked against the server's certificate; default the host. */
  servername?: string;
  /** false: do not check the server certificate's name (zookeeper.ssl.hostnameVerification=false). Default true. */
  hostnameVerification?: boolean;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call: it rejects with the signal's reason (a queued call is not sent). */
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
  /** When the call was made (clock ms): bounds its wait for a connection. */
  madeMs: number;
  /** When it was last written to a socket (clock ms); -1 while queued. */
  sentMs: number;
}

interface Outgoing {
  frame: Buffer;
  inflight: InFlight | undefined;
}

interface OldSession {
  sessionId: bigint;
  passwd: Buffer;
  attempts: number;
}

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
const FRAME_BYTES_MAX = 0xfffff + 1024;
const SET_WATCHES_BYTES_MAX = 128 * 1024;
/** Tries in a row at closing a session presumed lost, when the server cuts them (best effort). */
const OLD_SESSION_CLOSE_ATTEMPTS_MAX = 4;
/** Tries in all (over reconnect attempts, while no server can be reached) before giving up. */
const OLD_SESSION_CLOSE_TRIES_MAX = 20;
/** Bound of one try at closing a session presumed lost. */
const OLD_SESSION_CLOSE_MS_MAX = 2_000;
/** Longest ping interval, as ZooKeeper's client (readTimeout / 2, at most 10 s). */
const PING_EVERY_MS_MAX = 10_000;
const KEEP_ALIVE_MS = 2 ** 30;

/** Listener of the "connectionState" event. */
export type ConnectionStateListener = (state: ConnectionState, info: ConnectionStateInfo) => void;

// Typed overloads for the "connectionState" event; other events keep EventEmitter's types.
export interface Client {
  /** Every connection state change (see `ConnectionState`). */
  on(event: "connectionState", listener: ConnectionStateListener): this;
  /** A connection attempt failed before the server answered the connect request (the client keeps trying). */
  on(event: "connectError", listener: (err: ConnectAttemptError) => void): this;
  /** The other events: "state" (ClientState), "expired" (reason), "reconnected", "recipeEvent". */
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** The next connection state change only. */
  once(event: "connectionState", listener: ConnectionStateListener): this;
  /** The next failed connection attempt only. */
  once(event: "connectError", listener: (err: ConnectAttemptError) => void): this;
  /** The next event of that name only (see `on`). */
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Removes a "connectionState" listener. */
  off(event: "connectionState", listener: ConnectionStateListener): this;
  /** Removes a "connectError" listener. */
  off(event: "connectError", listener: (err: ConnectAttemptError) => void): this;
  /** Removes a listener of another event. */
  off(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * A ZooKeeper protocol client: one session at a time, reconnecting and re-attaching it on
 * its own. Events: "connectionState" (state, info) is the model to act on; the older
 * "state" (ClientState), "expired" (reason) and "reconnected" (same session back) stay for
 * existing callers; "recipeEvent" carries the recipe engine's pushed events.
 */
export class Client extends EventEmitter {
  readonly #cs: ConnectString;
  readonly #opts: {
    sessionTimeoutMs: number;
    connectTimeoutMs: number | undefined;
    canBeReadOnly: boolean;
    shuffleHosts: boolean;
    frameBytesMax: number;
    lostAfterFraction: number;
    afterLost: AfterLost;
    operationTimeoutMs: number;
    requestTimeoutMs: number;
    retryPolicy: RetryPolicy | undefined;
    tls: ClientTlsOptions | undefined;
  };
  readonly #clock: Clock;
  /**
   * The watches this client holds, by kind and path (re-armed after every reconnect).
   * @internal
   */
  readonly watches = new ClientWatches();
  #hosts: HostPort[];
  #hostIndex = 0;
  #state: ClientState = "CONNECTING";
  #cstate: ConnectionState = "SUSPENDED";
  #everConnected = false;
  #socket: Socket | undefined;
  #parser: FrameParser;
  #sessionId = 0n;
  #passwd: Buffer = Buffer.alloc(16);
  #negotiatedTimeoutMs = 0;
  #lostAfterMs = 0;
  /** Whether a read-write server ever accepted this session (ZooKeeper's seenRwServerBefore). */
  #seenRwServer = false;
  #lastZxid = 0n;
  #xid = 1;
  readonly #inflight: InFlight[] = [];
  readonly #authInflight: InFlight[] = [];
  readonly #queued: Outgoing[] = [];
  readonly #auth: { scheme: string; auth: Buffer }[] = [];
  /** Send times of the pings on this connection waiting for their reply, oldest first. */
  #pingsSentMs: number[] = [];
  #pingTimer: ClockTimer | undefined;
  #lostTimer: ClockTimer | undefined;
  #opTimer: ClockTimer | undefined;
  #requestTimer: ClockTimer | undefined;
  #reconnectTimer: ClockTimer | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #lastRecvMs = 0;
  #lastSendMs = 0;
  #connectSentMs = 0;
  /** Send time (clock ms) of the newest request or ping whose reply arrived. */
  #lastAckedSendMs = 0;
  /** Calls made and not settled yet. */
  #pending = 0;
  #holds = 0;
  /** LOSTs so far: a retry loop begun in one session never retries into the next. */
  #lostCount = 0;
  #lastLostReason: Error | undefined;
  /** The newest failed connection attempt while not connected (see lastConnectError). */
  #lastConnectError: ConnectAttemptError | undefined;
  /** The session LOST, until a new one is open: announced as previousSessionId. */
  #previousSessionId: bigint | undefined;
  /** A session presumed lost that the next connect closes first (best effort). */
  #oldSession: OldSession | undefined;
  #closing = false;
  /** Why calls made now fail (once final). */
  #finalReason: Error | undefined;
  readonly #ended = new AbortController();
  readonly #w = new JuteWriter(256);
  /** The socket corked during this tick, if any (see #send). */
  #corked: Socket | undefined;

  constructor(connectString: string, opts: ClientOptions = {}) {
    super();
    this.#cs = parseConnectString(connectString);
    const sessionTimeoutMs = opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.#opts = {
      sessionTimeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      canBeReadOnly: opts.canBeReadOnly ?? false,
      shuffleHosts: opts.shuffleHosts ?? true,
      frameBytesMax: opts.frameBytesMax ?? FRAME_BYTES_MAX,
      lostAfterFraction: clampLostAfterFraction(opts.lostAfterFraction),
      afterLost: opts.afterLost ?? "new-session",
      operationTimeoutMs: opts.operationTimeoutMs ?? sessionTimeoutMs,
      requestTimeoutMs: Math.max(0, opts.requestTimeoutMs ?? 0),
      retryPolicy: opts.retryPolicy,
      tls: opts.tls,
    };
    this.#clock = opts.clock ?? systemClock;
    this.#hosts = this.#opts.shuffleHosts ? shuffle(this.#cs.hosts) : [...this.#cs.hosts];
    this.#parser = new FrameParser(this.#opts.frameBytesMax);
  }

  /** The low-level state (ZooKeeper.States); see `connectionState` for the one to act on. */
  get state(): ClientState {
    return this.#state;
  }

  /**
   * The connection state last announced (see `ConnectionState`). Before the first connect
   * it reads "SUSPENDED" (not connected), without an announcement.
   */
  get connectionState(): ConnectionState {
    return this.#cstate;
  }

  /** The current session's id (0 before the first connect and while a new one is opened after LOST). */
  get sessionId(): bigint {
    return this.#sessionId;
  }

  /** The current session's password (with `sessionId`, what `start()` takes to re-attach it). */
  get sessionPassword(): Buffer {
    return this.#passwd;
  }

  /** The negotiated session timeout (0 before the first connect). */
  get sessionTimeoutMs(): number {
    return this.#negotiatedTimeoutMs;
  }

  /** The chroot of the connect string ("" for none). */
  get chroot(): string {
    return this.#cs.chroot;
  }

  /**
   * Why the newest connection attempt failed (a TLS handshake error with Node's code, a
   * refused connection, no answer in time), while the client is not connected; undefined
   * once a server answers. The client keeps trying meanwhile. See also "connectError".
   */
  get lastConnectError(): ConnectAttemptError | undefined {
    return this.#lastConnectError;
  }

  /** The zxid of the newest state this client has seen. */
  get lastZxid(): bigint {
    return this.#lastZxid;
  }

  /**
   * The connection state changes from now on, as an async iterator of `{ state, info }`;
   * it ends after CLOSED (leaving the loop early stops it too). Changes that come while
   * the loop body runs are buffered, none is dropped.
   */
  connectionStates(): AsyncIterableIterator<ConnectionStateChange> {
    const buffered: ConnectionStateChange[] = [];
    let wake: ((r: IteratorResult<ConnectionStateChange>) => void) | undefined;
    let done = this.#cstate === "CLOSED";
    const listener: ConnectionStateListener = (state, info) => {
      if (done) return;
      const change = { state, info };
      if (wake !== undefined) {
        const w = wake;
        wake = undefined;
        w({ value: change, done: false });
      } else buffered.push(change);
      if (state === "CLOSED") stop();
    };
    const stop = (): void => {
      done = true;
      this.off("connectionState", listener);
    };
    if (!done) this.on("connectionState", listener);
    const iterator: AsyncIterableIterator<ConnectionStateChange> = {
      next: () => {
        const change = buffered.shift();
        if (change !== undefined) return Promise.resolve({ value: change, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (wake = resolve));
      },
      return: () => {
        stop();
        buffered.length = 0;
        wake?.({ value: undefined, done: true });
        wake = undefined;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Keeps the process alive while the client is open, including between a lost connection
   * and the next connect (a held lock, a waiting take). Returns the release (idempotent);
   * holds are counted. An open client with no holds and no pending call does not keep the
   * process alive while it is disconnected.
   */
  holdOpen(): () => void {
    this.#holds++;
    this.#updateKeepAlive();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#updateKeepAlive();
    };
  }

  /**
   * Runs `fn` and, while `policy` (default: the client's `retryPolicy`; none: one try)
   * allows, runs it again after ConnectionLoss, OperationTimeout or RequestTimeout. Never
   * retries once the session was LOST or the client CLOSED since the first try: it then
   * rejects with the LOST reason (or the client's end). Use it for
   * calls that are safe to repeat: a create or a sequential create may have succeeded
   * before its connection dropped, and a blind retry makes it twice or fails NodeExists.
   */
  retry<T>(fn: () => Promise<T>, policy?: RetryPolicy, opts: CallOptions = {}): Promise<T> {
    const p = policy ?? this.#opts.retryPolicy;
    if (p === undefined) return fn();
    const lostCount = this.#lostCount;
    const clock = this.#clock;
    return retryLoop(fn, p, {
      nowMs: () => clock.nowMs(),
      signal: opts.signal,
      mayRetry: () => this.#endedSince(lostCount) === undefined,
      sleep: (ms, signal) => this.#sleep(ms, signal),
    }).catch((e: unknown) => {
      // Stopped on a connection error because the session (or the client) ended meanwhile:
      // say that, rather than the connection error.
      throw (isRetryable(e) ? this.#endedSince(lostCount) : undefined) ?? e;
    });
  }

  /** Why the session seen when #lostCount was `lostCount` is over, if it is. */
  #endedSince(lostCount: number): Error | undefined {
    if (this.#closing || isFinal(this.#state)) return this.#finalReason ?? new ClientClosedError();
    return this.#lostCount === lostCount ? undefined : this.#lastLostReason;
  }

  /**
   * Sleeps on the client's clock; wakes early when `signal` aborts or the client ends. A
   * retry asleep keeps the process alive (its call is pending for the caller).
   */
  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const ended = this.#ended.signal;
      if (signal?.aborted === true || ended.aborted) return resolve();
      const release = this.holdOpen();
      const wake = (): void => {
        release();
        this.#clock.clearTimeout(t);
        signal?.removeEventListener("abort", wake);
        ended.removeEventListener("abort", wake);
        resolve();
      };
      const t = this.#clock.setTimeout(wake, ms);
      t.unref?.();
      signal?.addEventListener("abort", wake, { once: true });
      ended.addEventListener("abort", wake, { once: true });
    });
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
      const timer = this.#clock.setTimeout(() => {
        cleanup();
        const why = this.#notConnectedWhy(`no server answered within ${timeoutMs} ms`);
        const err = new ZooKeeperError(Err.OperationTimeout, undefined, { cause: why });
        // Said in the message too: "KeeperErrorCode = OperationTimeout" alone hides a TLS failure.
        err.message = `${err.message}: ${why.message}`;
        this.#shutdown("CLOSED", err);
        reject(err);
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
        this.#clock.clearTimeout(timer);
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
  }

  #announce(state: ConnectionState, info: ConnectionStateInfo): void {
    this.#cstate = state;
    this.emit("connectionState", state, info);
  }

  #connectNext(): void {
    this.#reconnectTimer = undefined;
    if (this.#closing || isFinal(this.#state)) return;
    const hp = this.#hosts[this.#hostIndex++ % this.#hosts.length]!;
    const old = this.#oldSession;
    if (old !== undefined) {
      // A session presumed lost still holds its ephemerals (lock nodes) until the server
      // expires it: close it now if a server can be reached, then open the new one. Tries
      // follow each other at once: a try is often cut by the server itself, when a late
      // re-attach of the same session (bytes held by the network) takes the session over.
      const attempt = (): void => {
        old.attempts++;
        void closeSessionAt(hp, old, this.#lastZxid, this.#opts.sessionTimeoutMs, this.#oldSessionCloseBoundMs(), this.#opts.frameBytesMax, this.#clock).then(
          (outcome) => {
            if (this.#closing || isFinal(this.#state) || this.#oldSession !== old) return;
            if (outcome === "cut" && old.attempts < OLD_SESSION_CLOSE_ATTEMPTS_MAX) return attempt();
            // An unreachable host: the next connect (maybe to another host) tries again.
            if (outcome !== "unreachable" || old.attempts >= OLD_SESSION_CLOSE_TRIES_MAX) this.#oldSession = undefined;
            this.#openConnection(hp);
          },
        );
      };
      attempt();
      return;
    }
    this.#openConnection(hp);
  }

  /** Bound of one try at closing a session that is not this connection's (a third of the timeout, at most 2 s). */
  #oldSessionCloseBoundMs(): number {
    return Math.min(OLD_SESSION_CLOSE_MS_MAX, Math.max(100, Math.floor(this.#opts.sessionTimeoutMs / 3)));
  }

  #openConnection(hp: HostPort): void {
    if (this.#closing || isFinal(this.#state)) return;
    const socket = this.#dial(hp);
    this.#socket = socket;
    this.#parser = new FrameParser(this.#opts.frameBytesMax);
    this.#pingsSentMs = [];
    let handshaken = false;
    /** The first error of this attempt before the connect response: the reason it failed. */
    let attemptError: NodeJS.ErrnoException | undefined;
    socket.on(this.#opts.tls === undefined ? "connect" : "secureConnect", () => this.#sendConnect(socket));
    socket.on("data", (chunk: Buffer) => {
      if (this.#socket !== socket) return;
      this.#lastRecvMs = this.#clock.nowMs();
      try {
        for (const frame of this.#parser.push(chunk)) {
          if (this.#socket !== socket) return;
          if (!handshaken) {
            handshaken = true;
            this.#failedAttempts = 0;
            this.#onConnectResponse(socket, frame);
          } else this.#onFrame(frame);
        }
      } catch (e) {
        socket.destroy(e as Error);
      }
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      if (!handshaken) attemptError ??= e;
    });
    socket.on("close", () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (!handshaken) {
        this.#failedAttempts++;
        this.#attemptFailed(hp, attemptError);
      }
      this.#onDisconnect();
    });
    const connectWithinMs = Math.max(1000, Math.floor(this.#opts.sessionTimeoutMs / this.#hosts.length));
    socket.setTimeout(connectWithinMs, () => {
      if (!handshaken) socket.destroy(Object.assign(new Error(`no answer to the connect request within ${connectWithinMs} ms`), { code: "ETIMEDOUT" }));
    });
  }

  /** Records and announces why an attempt ended before the connect response (see ConnectAttemptError). */
  #attemptFailed(hp: HostPort, e: NodeJS.ErrnoException | undefined): void {
    if (this.#closing || isFinal(this.#state)) return;
    const err = new ConnectAttemptError(
      hp.host,
      hp.port,
      this.#opts.tls !== undefined,
      e?.code,
      e === undefined ? "the server closed the connection before answering the connect request" : attemptDetail(e, this.#opts.tls !== undefined),
      e === undefined ? undefined : { cause: e },
    );
    this.#lastConnectError = err;
    this.emit("connectError", err);
  }

  /** `what` (why the client gives up waiting), with the newest failed attempt as its cause when there is one. */
  #notConnectedWhy(what: string): Error {
    const last = this.#lastConnectError;
    return last === undefined ? new Error(what) : new Error(`${what}; last attempt ${last.message}`, { cause: last });
  }

  /** A TCP or (with `tls`) TLS connection to one host; "connect" / "secureConnect" follows. */
  #dial(hp: HostPort): Socket {
    const tls = this.#opts.tls;
    if (tls === undefined) return tcpConnect({ host: hp.host, port: hp.port, noDelay: true });
    const { hostnameVerification, servername, ...material } = tls;
    const socket = tlsConnect({
      host: hp.host,
      port: hp.port,
      ...material,
      // SNI carries names only; an IP address is checked against the certificate's IP SANs.
      ...(servername !== undefined ? { servername } : isIP(hp.host) === 0 ? { servername: hp.host } : {}),
      ...(hostnameVerification === false ? { checkServerIdentity: () => undefined } : {}),
    });
    socket.setNoDelay(true);
    return socket;
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
    this.#connectSentMs = this.#clock.nowMs();
    socket.write(w.toBuffer());
  }

  #onConnectResponse(socket: Socket, frame: Buffer): void {
    socket.setTimeout(0);
    this.#lastConnectError = undefined;
    const resp = readConnectResponse(new JuteReader(frame));
    if (resp.timeOut <= 0) {
      // The server says the session expired (or was closed): LOST, for real.
      this.#onLost(new ZooKeeperError(Err.SessionExpired));
      return;
    }
    const previousSessionId = this.#previousSessionId;
    this.#previousSessionId = undefined;
    this.#oldSession = undefined;
    this.#sessionId = resp.sessionId;
    this.#passwd = resp.passwd;
    this.#negotiatedTimeoutMs = resp.timeOut;
    this.#lostAfterMs = lostAfterMsOf(resp.timeOut, this.#opts.lostAfterFraction);
    // The server heard from us no earlier than when the connect request left.
    this.#lastAckedSendMs = this.#connectSentMs;
    this.#resendSessionState(socket);
    this.#clock.clearTimeout(this.#opTimer);
    this.#opTimer = undefined;
    for (const o of this.#queued.splice(0)) {
      if (o.inflight === undefined || !o.inflight.settled) this.#send(socket, o);
    }
    this.#startPings(socket);
    this.#armLostTimer();
    const wasSuspended = this.#state === "SUSPENDED";
    if (resp.readOnly !== true) this.#seenRwServer = true;
    this.#setState(resp.readOnly === true ? "CONNECTED_READ_ONLY" : "CONNECTED");
    if (wasSuspended) this.emit("reconnected");
    if (!this.#everConnected) {
      this.#everConnected = true;
      this.#announce("CONNECTED", { sessionId: this.#sessionId });
    } else if (previousSessionId !== undefined) {
      this.#announce("RECONNECTED", { sessionId: this.#sessionId, previousSessionId });
    } else if (this.#cstate === "SUSPENDED") {
      this.#announce("RECONNECTED", { sessionId: this.#sessionId });
    }
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

  /**
   * Pings when idle, and drops a connection that has been silent for 2/3 of the timeout
   * (ZooKeeper's readTimeout): the session then is SUSPENDED, and the reconnect begins.
   */
  #startPings(socket: Socket): void {
    this.#clock.clearTimeout(this.#pingTimer);
    const readTimeoutMs = (this.#negotiatedTimeoutMs * 2) / 3;
    const pingEveryMs = Math.max(10, Math.min(readTimeoutMs / 2, PING_EVERY_MS_MAX));
    const checkEveryMs = Math.max(5, pingEveryMs / 4);
    this.#lastRecvMs = this.#clock.nowMs();
    const tick = (): void => {
      this.#pingTimer = undefined;
      if (this.#socket !== socket) return;
      const now = this.#clock.nowMs();
      if (now - this.#lastRecvMs > readTimeoutMs) {
        socket.destroy();
        return;
      }
      if (now - this.#lastSendMs >= pingEveryMs) {
        this.#pingsSentMs.push(now);
        this.#send(socket, { frame: this.#frame(Xid.ping, OpCode.ping, undefined), inflight: undefined });
      }
      this.#pingTimer = this.#clock.setTimeout(tick, checkEveryMs);
      this.#pingTimer.unref?.();
    };
    this.#pingTimer = this.#clock.setTimeout(tick, checkEveryMs);
    this.#pingTimer.unref?.();
  }

  /** A reply arrived for something sent at `sentMs`: the server heard from us then. */
  #acked(sentMs: number): void {
    if (sentMs > this.#lastAckedSendMs) this.#lastAckedSendMs = sentMs;
  }

  /** Arms the LOST check at `lastAckedSendMs + lostAfterMs` (re-armed as acks move it). */
  #armLostTimer(): void {
    this.#clock.clearTimeout(this.#lostTimer);
    this.#lostTimer = undefined;
    if (this.#closing || isFinal(this.#state) || this.#sessionId === 0n || this.#lostAfterMs <= 0) return;
    const check = (): void => {
      this.#lostTimer = undefined;
      if (this.#closing || isFinal(this.#state) || this.#cstate === "LOST") return;
      const now = this.#clock.nowMs();
      if (presumedLost(now, this.#lastAckedSendMs, this.#lostAfterMs)) {
        this.#onLost(new SessionLostError(this.#sessionId, now - this.#lastAckedSendMs, this.#negotiatedTimeoutMs));
        return;
      }
      this.#lostTimer = this.#clock.setTimeout(check, this.#lastAckedSendMs + this.#lostAfterMs - now);
      this.#lostTimer.unref?.();
    };
    this.#lostTimer = this.#clock.setTimeout(check, Math.max(0, this.#lastAckedSendMs + this.#lostAfterMs - this.#clock.nowMs()));
    this.#lostTimer.unref?.();
  }

  /**
   * The session is gone (the server said so) or presumed gone: fail every call in flight
   * or queued with `reason`, drop one-shot watches, announce LOST; then either end the
   * client (afterLost "close") or open a new session on the next connect.
   */
  #onLost(reason: ZooKeeperError): void {
    this.#clock.clearTimeout(this.#lostTimer);
    this.#lostTimer = undefined;
    this.#clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    const lostId = this.#sessionId;
    const presumed = reason instanceof SessionLostError;
    this.#lostCount++;
    this.#lastLostReason = reason;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    this.#failAll(reason);
    this.watches.dropOneShot();
    // A session handed to start() that is gone at the first connect ends the client too:
    // the caller asked for that session, not for any.
    if (this.#opts.afterLost === "close" || !this.#everConnected) {
      this.#shutdown("EXPIRED", reason, false);
      this.#announce("LOST", { reason, sessionId: lostId });
      this.emit("expired", reason);
      return;
    }
    if (presumed && lostId !== 0n) this.#oldSession = { sessionId: lostId, passwd: this.#passwd, attempts: 0 };
    this.#previousSessionId = lostId;
    this.#sessionId = 0n;
    this.#passwd = Buffer.alloc(16);
    this.#setState("CONNECTING");
    this.#announce("LOST", { reason, sessionId: lostId });
    this.emit("expired", reason);
    // A connection (or an attempt) was open: nothing else will schedule the next one.
    if (socket !== undefined || this.#reconnectTimer === undefined) this.#scheduleReconnect(0);
  }

  #onDisconnect(): void {
    this.#clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#failInflight(Err.ConnectionLoss);
    if (this.#closing || isFinal(this.#state)) return;
    if (this.#state === "CONNECTED" || this.#state === "CONNECTED_READ_ONLY") {
      this.#setState("SUSPENDED");
      if (isConnectedState(this.#cstate)) this.#announce("SUSPENDED", { sessionId: this.#sessionId });
    }
    // After a full round of hosts that all failed, back off (bounded) before the next.
    const roundDone = this.#failedAttempts > 0 && this.#failedAttempts % this.#hosts.length === 0;
    const backoffMs = roundDone ? Math.min(1000, 10 * 2 ** Math.min(7, this.#failedAttempts / this.#hosts.length)) : 0;
    const delayMs = Math.max(this.#reconnectDelayMs, backoffMs);
    this.#reconnectDelayMs = 0;
    this.#scheduleReconnect(delayMs);
  }

  #scheduleReconnect(delayMs: number): void {
    this.#clock.clearTimeout(this.#reconnectTimer);
    if (delayMs > 0) {
      this.#reconnectTimer = this.#clock.setTimeout(() => this.#connectNext(), delayMs);
      this.#reconnectTimer.unref?.();
    } else {
      const t: ClockTimer = {};
      this.#reconnectTimer = t;
      setImmediate(() => {
        if (this.#reconnectTimer === t) this.#connectNext();
      });
    }
  }

  #failInflight(err: number): void {
    for (const f of this.#inflight.splice(0)) settle(f, new ZooKeeperError(err, f.path));
    for (const f of this.#authInflight.splice(0)) settle(f, new ZooKeeperError(err));
    this.#clock.clearTimeout(this.#requestTimer);
    this.#requestTimer = undefined;
  }

  /** Rejects every call in flight or queued with `reason` (the path is kept when it has one). */
  #failAll(reason: Error): void {
    const withPath = (path: string | undefined): Error => {
      if (path === undefined || !(reason instanceof ZooKeeperError)) return reason;
      if (reason instanceof SessionLostError || reason instanceof ClientClosedError) return reason;
      return new ZooKeeperError(reason.errno, path, { cause: reason.cause });
    };
    for (const f of this.#inflight.splice(0)) settle(f, withPath(f.path));
    for (const f of this.#authInflight.splice(0)) settle(f, reason);
    for (const o of this.#queued.splice(0)) if (o.inflight !== undefined) settle(o.inflight, withPath(o.inflight.path));
    for (const t of [this.#requestTimer, this.#opTimer]) this.#clock.clearTimeout(t);
    this.#requestTimer = undefined;
    this.#opTimer = undefined;
  }

  #onFrame(frame: Buffer): void {
    const r = new JuteReader(frame);
    const h = readReplyHeader(r);
    if (h.zxid > 0n && h.xid !== Xid.notification) this.#lastZxid = h.zxid;
    switch (h.xid) {
      case Xid.notification:
        this.#onNotification(decodeRecord(r, WatcherEventSchema));
        return;
      case Xid.ping: {
        const sentMs = this.#pingsSentMs.shift();
        if (sentMs !== undefined) this.#acked(sentMs);
        return;
      }
      case Xid.setWatches:
        return;
      case RECIPE_EVENT_XID:
        this.emit("recipeEvent", decodeRecord(r, RecipeEventSchema));
        return;
      case Xid.auth: {
        const f = this.#authInflight.shift();
        if (h.err === Err.AuthFailed) {
          const err = new ZooKeeperError(h.err);
          if (f !== undefined) settle(f, err);
          this.#shutdown("AUTH_FAILED", err);
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
    this.#acked(f.sentMs);
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
        // A listener's bug is the application's, not the connection's: as ZooKeeper's event
        // thread logs a throwing watcher and goes on, the session and the calls in flight
        // are untouched. Reported on "error" when someone listens, else as a warning.
        if (this.listenerCount("error") > 0) this.emit("error", err);
        else process.emitWarning(err instanceof Error ? err : String(err), { type: "CorralWatchListenerError" });
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
    const now = this.#clock.nowMs();
    const f = o.inflight;
    if (f !== undefined) {
      f.sentMs = now;
      if (f.xid === Xid.auth) this.#authInflight.push(f);
      else {
        this.#inflight.push(f);
        if (this.#opts.requestTimeoutMs > 0 && this.#requestTimer === undefined) this.#armRequestTimer();
      }
    }
    this.#lastSendMs = now;
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

  /** Fails calls on a live connection unanswered for requestTimeoutMs with RequestTimeout. */
  #armRequestTimer(): void {
    const head = this.#inflight.find((f) => !f.settled);
    if (head === undefined) {
      this.#requestTimer = undefined;
      return;
    }
    const limitMs = this.#opts.requestTimeoutMs;
    const waitMs = Math.max(0, head.sentMs + limitMs - this.#clock.nowMs());
    this.#requestTimer = this.#clock.setTimeout(() => {
      const now = this.#clock.nowMs();
      // Timed-out calls stay in the in-flight list so that their late replies still match.
      for (const f of this.#inflight) {
        if (!f.settled && now - f.sentMs >= limitMs) {
          settle(f, new ZooKeeperError(Err.RequestTimeout, f.path, { cause: new Error(`no reply within ${limitMs} ms`) }));
        }
      }
      this.#armRequestTimer();
    }, waitMs);
    this.#requestTimer.unref?.();
  }

  /** Fails queued calls older than operationTimeoutMs with ConnectionLoss. */
  #armOpTimer(): void {
    this.#clock.clearTimeout(this.#opTimer);
    this.#opTimer = undefined;
    while (this.#queued.length > 0 && (this.#queued[0]!.inflight === undefined || this.#queued[0]!.inflight.settled)) this.#queued.shift();
    const head = this.#queued[0]?.inflight;
    if (head === undefined) return;
    const limitMs = this.#opts.operationTimeoutMs;
    const waitMs = Math.max(0, head.madeMs + limitMs - this.#clock.nowMs());
    this.#opTimer = this.#clock.setTimeout(() => {
      this.#opTimer = undefined;
      const now = this.#clock.nowMs();
      for (const o of this.#queued) {
        const f = o.inflight;
        if (f !== undefined && !f.settled && now - f.madeMs >= limitMs) {
          settle(f, new ZooKeeperError(Err.ConnectionLoss, f.path, { cause: this.#notConnectedWhy(`no connection within ${limitMs} ms (operationTimeoutMs)`) }));
        }
      }
      this.#armOpTimer();
    }, waitMs);
    this.#opTimer.unref?.();
  }

  /** Why a call made now fails at once, or undefined if it may go ahead. */
  #refusal(path: string | undefined): Error | undefined {
    if (this.#closing && this.#state !== "EXPIRED" && this.#state !== "AUTH_FAILED") return new ClientClosedError(path);
    switch (this.#state) {
      case "EXPIRED":
        return new ZooKeeperError(Err.SessionExpired, path);
      case "AUTH_FAILED":
        return new ZooKeeperError(Err.AuthFailed, path);
      case "CLOSED":
        return this.#finalReason instanceof ClientClosedError ? new ClientClosedError(path) : new ZooKeeperError(Err.ConnectionLoss, path);
      default:
        return undefined;
    }
  }

  /**
   * Sends one request and resolves with its decoded reply. Sent at once when connected,
   * else queued until the next connect (at most `operationTimeoutMs`); rejects with the
   * LOST reason if the session is lost first, with ConnectionLoss if the connection drops
   * while it is in flight. The building block of the typed calls; not for applications.
   * @internal
   */
  request<T>(
    opCode: number,
    path: string | undefined,
    body: ((w: JuteWriter) => void) | undefined,
    decode: ((r: JuteReader) => T) | undefined,
    opts: CallOptions & { onReply?: ((err: number) => void) | undefined; xid?: number } = {},
  ): Promise<T> {
    const refused = this.#refusal(path);
    if (refused !== undefined) return Promise.reject(refused);
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const xid = opts.xid ?? this.#nextXid();
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => settle(f, signal!.reason as Error);
      const done = (): void => {
        signal?.removeEventListener("abort", onAbort);
        this.#pending--;
        if (this.#pending === 0) this.#updateKeepAlive();
      };
      const f: InFlight = {
        xid,
        path,
        decode,
        resolve: (v) => {
          done();
          resolve(v as T);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        onReply: opts.onReply,
        settled: false,
        madeMs: this.#clock.nowMs(),
        sentMs: -1,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending++;
      if (this.#pending === 1) this.#updateKeepAlive();
      const o: Outgoing = { frame: this.#frame(xid, opCode, body), inflight: f };
      const socket = this.#socket;
      if (socket !== undefined && (this.#state === "CONNECTED" || this.#state === "CONNECTED_READ_ONLY")) this.#send(socket, o);
      else {
        this.#queued.push(o);
        if (this.#opTimer === undefined) this.#armOpTimer();
      }
    });
  }

  /** Holds a ref'd timer exactly while the client is open and has calls pending or holds. */
  #updateKeepAlive(): void {
    const need = !this.#closing && !isFinal(this.#state) && (this.#pending > 0 || this.#holds > 0);
    if (need && this.#keepAlive === undefined) this.#keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
    else if (!need && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
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

  /**
   * Closes the session (its ephemerals go) and the connection, and announces CLOSED. Calls
   * in flight, queued or made afterwards reject with `ClientClosedError`.
   */
  async close(): Promise<void> {
    if (isFinal(this.#state) || this.#closing) {
      this.#shutdown("CLOSED", new ClientClosedError());
      return;
    }
    const socket = this.#socket;
    if (socket !== undefined && (this.#state === "CONNECTED" || this.#state === "CONNECTED_READ_ONLY")) {
      const closing = this.request(OpCode.closeSession, undefined, undefined, undefined).catch(() => undefined);
      this.#closing = true;
      this.#updateKeepAlive();
      const timeout = new Promise<void>((r) => this.#clock.setTimeout(r, Math.max(1000, this.#negotiatedTimeoutMs)).unref?.());
      await Promise.race([closing, timeout]);
    } else if (this.#oldSession !== undefined || (this.#everConnected && this.#sessionId !== 0n)) {
      // Not connected, but the session (or one presumed lost, not closed yet) may live:
      // one bounded try at closing it, so that what it holds goes now, not at its expiry.
      const old: OldSession = this.#oldSession ?? { sessionId: this.#sessionId, passwd: this.#passwd, attempts: 0 };
      const hp = this.#hosts[this.#hostIndex++ % this.#hosts.length]!;
      this.#shutdown("CLOSED", new ClientClosedError());
      // Best effort: the outcome changes nothing more.
      await closeSessionAt(hp, old, this.#lastZxid, this.#opts.sessionTimeoutMs, this.#oldSessionCloseBoundMs(), this.#opts.frameBytesMax, this.#clock);
      return;
    }
    this.#shutdown("CLOSED", new ClientClosedError());
  }

  #reconnectDelayMs = 0;
  /** Connection attempts in a row that ended before a handshake. */
  #failedAttempts = 0;

  /**
   * Drops the connection without closing the session and waits `reconnectDelayMs` before
   * reconnecting (tests of reconnect and, with a delay past the timeout, of expiry).
   * @internal
   */
  disconnectForTest(reconnectDelayMs = 0): void {
    this.#reconnectDelayMs = reconnectDelayMs;
    this.#socket?.destroy();
  }

  /**
   * Ends the client for good: legacy state `state`, every call rejected with `reason`,
   * and (unless `announce` is false) CLOSED announced when the client was not closed yet.
   */
  #shutdown(state: ClientState, reason: Error, announce = true): void {
    this.#closing = true;
    this.#finalReason ??= reason;
    for (const t of [this.#pingTimer, this.#lostTimer, this.#reconnectTimer]) this.#clock.clearTimeout(t);
    this.#pingTimer = this.#lostTimer = this.#reconnectTimer = undefined;
    this.#oldSession = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    this.#failAll(reason);
    this.#setState(state);
    this.#ended.abort(reason);
    this.#updateKeepAlive();
    if (announce && this.#cstate !== "CLOSED") this.#announce("CLOSED", { reason, sessionId: this.#sessionId });
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

/**
 * Best effort: re-attaches the session presumed lost at `hp` and closes it, so that its
 * ephemerals go now rather than at its expiry. Resolves "closed" when the server answered
 * (the session is closed, or had already expired), "cut" when the connection was made but
 * ended or stalled before the answer (within `boundMs`), "unreachable" when no connection
 * was made.
 */
function closeSessionAt(
  hp: HostPort,
  old: OldSession,
  lastZxid: bigint,
  timeOut: number,
  boundMs: number,
  frameBytesMax: number,
  clock: Clock,
): Promise<"closed" | "cut" | "unreachable"> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: hp.host, port: hp.port, noDelay: true });
    const parser = new FrameParser(frameBytesMax);
    let handshaken = false;
    let connected = false;
    let answered = false;
    const finish = (): void => {
      clock.clearTimeout(timer);
      socket.destroy();
      resolve(answered ? "closed" : connected ? "cut" : "unreachable");
    };
    const timer = clock.setTimeout(finish, boundMs);
    timer.unref?.();
    socket.on("error", () => {});
    socket.on("close", finish);
    socket.on("connect", () => {
      connected = true;
      const w = new JuteWriter(64);
      w.int(0);
      writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: lastZxid, timeOut, sessionId: old.sessionId, passwd: old.passwd, readOnly: false });
      w.intAt(0, w.length - 4);
      socket.write(w.toBuffer());
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const frame of parser.push(chunk)) {
          if (!handshaken) {
            handshaken = true;
            const resp = readConnectResponse(new JuteReader(frame));
            if (resp.timeOut <= 0) {
              answered = true; // already expired
              finish();
              return;
            }
            const w = new JuteWriter(16);
            w.int(0);
            writeRequestHeader(w, 1, OpCode.closeSession);
            w.intAt(0, w.length - 4);
            socket.write(w.toBuffer());
          } else {
            const h = readReplyHeader(new JuteReader(frame));
            if (h.xid === 1) {
              answered = true;
              finish();
              return;
            }
          }
        }
      } catch {
        finish();
      }
    });
  });
}

/**
 * A failed attempt's error as a user reads it: OpenSSL's "...:error:0A000410:SSL
 * routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record.c:1601:SSL alert
 * number 40" becomes "sslv3 alert handshake failure (SSL alert number 40)", and the usual
 * causes of a refused handshake are named.
 */
function attemptDetail(e: NodeJS.ErrnoException, tls: boolean): string {
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):[^:]*:\d+:(.*)$/s.exec(e.message.trim());
  const text = openssl === null ? e.message.trim() : `${openssl[1]}${openssl[2]!.trim() === "" ? "" : ` (${openssl[2]!.trim()})`}`;
  if (!tls) return text;
  switch (e.code) {
    case "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE":
    case "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED":
    case "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE":
    case "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA":
      return `${text}: the server refused the handshake; does it require a client certificate (ssl.clientAuth=need) from a CA it trusts?`;
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "ECONNRESET":
      return `${text}: is the port a TLS port (secureClientPort, or client.portUnification)?`;
    default:
      return text;
  }
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
