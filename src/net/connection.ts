// One client connection: framing, the handshake, four-letter words, requests into the
// pipeline, replies and watch events out. Replies produced in one turn of the event loop
// go out in one socket write (corking by hand), so a burst of pipelined requests costs
// one syscall. A malformed frame closes this connection only, with a logged reason.
//
// Bounded memory per connection (output backpressure). Replies to a client that does not
// read them pile up in the socket's write buffer (socket.writableLength) and in this
// turn's frame buffer. Past outboundBytesSoftMax the connection stops taking requests:
// frames already parsed wait in #held and the socket is paused, so the kernel's receive
// window fills and the client's writes block; 'drain' (everything handed to the kernel)
// resumes it. Queued reads behind a write can still be answered while paused, so
// past outboundBytesHardMax the connection is closed with one warning naming the client
// and the numbers; the session survives for its timeout, as after any disconnect.
//
// A connection that has not sent its ConnectRequest within handshakeTimeoutMs is closed
// (a silent or trickling connection would otherwise hold a socket and a maxClientCnxns
// slot for ever). Four-letter words share the port: they are answered as soon as their
// four bytes arrive, so the bound never bites a well-behaved 4lw.

import type { Socket } from "node:net";
import {
  AuthPacketSchema,
  Err,
  EventType,
  FrameParser,
  JuteReader,
  JuteWriter,
  KeeperState,
  OpCode,
  RECIPE_EVENT_XID,
  WatcherEventSchema,
  Xid,
  decodeRecord,
  encodeRecord,
  readConnectRequest,
  readRequestHeader,
  writeConnectResponse,
  writeReplyHeader,
  type ConnectRequest,
  type Id,
} from "../jute/index.js";
import type { Conn, Pipeline, SessionQueue } from "../pipeline/index.js";
import { asSessionId, hex64, type Logger, type SessionId } from "../util/index.js";
import { ServerStats } from "./stats.js";

const OP_NAMES = new Map<number, string>(Object.entries(OpCode).map(([name, code]) => [code, name]));

/**
 * Default handshake bound: ZooKeeper's NIOServerCnxnFactory closes a connection that has
 * no session after zookeeper.nio.sessionlessCnxnTimeout, 10 s by default. We use the same
 * number rather than a tickTime x initLimit product: it does not depend on ensemble
 * settings, is long enough for a client on a slow link to send ~50 bytes, and short
 * enough that 2,000 silent connections are gone within seconds.
 */
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;

/**
 * Default output limits, from jute.maxbuffer (the largest reply). The soft limit lets two
 * replies of the largest size be queued before reading stops. Once reading has stopped,
 * output can still grow only by replies already owed: reads queued behind a write, watch
 * events. The hard cap leaves room for 32 largest replies of those (~32 MiB at the default
 * jute.maxbuffer); a backlog beyond it means the client is not reading, and it is cut off
 * rather than held in memory (globalOutstandingLimit x jute.maxbuffer would be 1 GiB).
 */
export function outboundLimitsFor(frameBytesMax: number): { softBytes: number; hardBytes: number } {
  const softBytes = Math.max(2 * frameBytesMax, OUTBOUND_SOFT_BYTES_MIN);
  return { softBytes, hardBytes: Math.max(32 * frameBytesMax, 4 * softBytes) };
}

const OUTBOUND_SOFT_BYTES_MIN = 256 * 1024;
/** What a taken slot of the held-frame queue is set to, so the frame can be collected. */
const EMPTY_FRAME = Buffer.alloc(0);
/** A frame buffer that grew past this for a burst is not kept at that size. */
const OUT_BUFFER_KEEP_BYTES = 256 * 1024;

export interface ConnectionHost {
  readonly pipeline: Pipeline;
  readonly log: Logger;
  readonly frameBytesMax: number;
  /** Unsent output (bytes) past which no more requests are read; default from frameBytesMax. */
  readonly outboundBytesSoftMax?: number;
  /** Unsent output (bytes) past which the connection is closed; default from frameBytesMax. */
  readonly outboundBytesHardMax?: number;
  /** A connection without a ConnectRequest by then is closed (HANDSHAKE_TIMEOUT_MS_DEFAULT). */
  readonly handshakeTimeoutMs?: number;
  readonly sessionTimeoutMsMin: number;
  readonly sessionTimeoutMsMax: number;
  /** Identities an auth packet proves, or undefined if it fails. */
  authenticate(scheme: string, auth: Buffer, remoteAddress: string): Id[] | undefined;
  /** The reply to a four-letter word, or undefined if `word` is not one. */
  fourLetterWord(word: string): string | undefined;
  /** False while the server does not serve (an ensemble member in election): only
   * four-letter words are answered; client sessions are refused. */
  serving?: () => boolean;
  readonly counters: ServerStats;
  /** Called once per reply with the request's op code and its latency (metrics). */
  observeRequest?(opCode: number, latencyMs: number): void;
  connectionClosed(c: ClientConnection): void;
}

/**
 * Who is at the other end when the socket cannot say (a TLS socket over a stream, on a
 * unified port), and the identities the transport proved (a TLS client certificate).
 */
export type PeerInfo = {
  readonly address?: string | undefined;
  readonly port?: number | undefined;
  /** Added to the connection's ids; `addauth x509` answers with these. */
  readonly authIds?: readonly Id[] | undefined;
};

const PASSWORD_BYTES = 16;
const State = { Handshake: 0, Connecting: 1, Ready: 2, Closed: 3 } as const;
type State = (typeof State)[keyof typeof State];

export class ClientConnection implements Conn {
  readonly socket: Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly authIds: Id[];
  readonly establishedAtMs = Date.now();
  sessionId: SessionId = asSessionId(0n);
  sessionTimeoutMs = 0;
  packetsReceived = 0;
  packetsSent = 0;
  lastZxid = 0n;
  lastCxid = 0;
  lastOp = "NA";
  lastLatencyMs = 0;
  lastResponseAtMs = 0;
  readonly stats = new ServerStats();
  /** Arrival times of requests not yet answered; replies go out in request order. */
  readonly #arrivals: number[] = [];
  /** Op codes of those requests, in the same order. */
  readonly #arrivalOps: number[] = [];
  readonly #host: ConnectionHost;
  readonly #parser: FrameParser;
  #out = new JuteWriter(4096);
  #flushScheduled = false;
  #state: State = State.Handshake;
  #queue: SessionQueue | undefined;
  /** The pipeline asked to stop reading (too many outstanding requests). */
  #pipelinePaused = false;
  /** Whether the socket is paused now (for the pipeline's reason or for unsent output). */
  #readPaused = false;
  /** Frames parsed but not yet taken, while reading is stopped; at most one socket chunk's worth. */
  #held: Buffer[] = [];
  /** Index of the next held frame to take (a head index: no O(n) shift per frame). */
  #heldHead = 0;
  #pumping = false;
  #pumpScheduled = false;
  readonly #softBytes: number;
  readonly #hardBytes: number;
  /** The most unsent output this connection ever had (bytes), for tests and `cons`. */
  outboundBytesPeak = 0;
  #handshakeTimer: NodeJS.Timeout | undefined;

  get watchId(): bigint {
    return this.sessionId;
  }

  constructor(socket: Socket, host: ConnectionHost, peer: PeerInfo = {}) {
    this.socket = socket;
    this.#host = host;
    this.remoteAddress = normalizeAddress(peer.address ?? socket.remoteAddress ?? "");
    this.remotePort = peer.port ?? socket.remotePort ?? 0;
    this.authIds = [{ scheme: "ip", id: this.remoteAddress }, ...(peer.authIds ?? [])];
    this.#parser = new FrameParser(host.frameBytesMax);
    const limits = outboundLimitsFor(host.frameBytesMax);
    this.#softBytes = host.outboundBytesSoftMax ?? limits.softBytes;
    this.#hardBytes = host.outboundBytesHardMax ?? limits.hardBytes;
    if (!(this.#softBytes > 0 && this.#hardBytes >= this.#softBytes)) {
      throw new Error(`outbound limits out of order: soft ${this.#softBytes}, hard ${this.#hardBytes}`);
    }
    const handshakeMs = host.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS_DEFAULT;
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = undefined;
      if (this.#state === State.Handshake) this.close(`no ConnectRequest within ${handshakeMs} ms`);
    }, handshakeMs);
    this.#handshakeTimer.unref();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("drain", () => this.#pump());
    socket.on("error", (e) => this.#closed(`socket error: ${e.message}`));
    socket.on("close", () => this.#closed("connection closed by client"));
  }

  get outstanding(): number {
    return this.#queue?.size ?? 0;
  }

  #isClosed(): boolean {
    return this.#state === State.Closed;
  }

  /** Bytes produced for this client and not yet handed to the kernel. */
  get outboundBytes(): number {
    return this.socket.writableLength + this.#out.length;
  }

  /** Whether no more requests are taken from this connection for now. */
  get readingPaused(): boolean {
    return this.#readPaused;
  }

  #onData(chunk: Buffer): void {
    if (this.#state === State.Closed) return;
    this.#host.counters.bytesReceived += chunk.length;
    try {
      const data = this.#headChecked ? chunk : this.#firstBytes(chunk);
      if (data === undefined) return;
      for (const frame of this.#parser.push(data)) this.#held.push(frame);
    } catch (e) {
      this.close(`bad frame: ${(e as Error).message}`);
      return;
    }
    this.#pump();
  }

  /**
   * Takes held frames while the pipeline and the output allow, then pauses or resumes the
   * socket to match. Not re-entered: a reply produced while taking a frame may ask for it.
   */
  #pump(): void {
    if (this.#pumping || this.#isClosed()) return;
    this.#pumping = true;
    try {
      while (this.#heldHead < this.#held.length && !this.#pipelinePaused && !this.#congested()) {
        const frame = this.#held[this.#heldHead]!;
        this.#held[this.#heldHead++] = EMPTY_FRAME;
        if (this.#heldHead === this.#held.length) {
          this.#held.length = 0;
          this.#heldHead = 0;
        }
        this.#onFrame(frame);
        if (this.#isClosed()) return;
      }
    } catch (e) {
      this.close(`bad frame: ${(e as Error).message}`);
      return;
    } finally {
      this.#pumping = false;
    }
    const stop = this.#heldCount > 0 || this.#pipelinePaused || this.#congested();
    if (stop === this.#readPaused) return;
    this.#readPaused = stop;
    if (stop) this.socket.pause();
    else this.socket.resume();
  }

  get #heldCount(): number {
    return this.#held.length - this.#heldHead;
  }

  #congested(): boolean {
    return this.outboundBytes > this.#softBytes;
  }

  /** Bytes before the first frame, held until four have come to tell a four-letter word. */
  #head: Buffer | undefined;
  #headChecked = false;

  #firstBytes(chunk: Buffer): Buffer | undefined {
    const data = this.#head === undefined ? chunk : Buffer.concat([this.#head, chunk]);
    if (data.length < 4) {
      this.#head = data;
      return undefined;
    }
    this.#head = undefined;
    this.#headChecked = true;
    const reply = this.#host.fourLetterWord(data.toString("latin1", 0, 4));
    if (reply === undefined) return data;
    this.#state = State.Closed;
    this.#host.counters.bytesSent += Buffer.byteLength(reply);
    // Close fully once the reply is flushed, as ZooKeeper does: end() alone leaves the
    // socket half-open (and counted against maxClientCnxns) until the client hangs up.
    this.socket.end(reply);
    this.socket.destroySoon();
    return undefined;
  }

  #onFrame(frame: Buffer): void {
    this.packetsReceived++;
    this.#host.counters.packetsReceived++;
    const r = new JuteReader(frame);
    if (this.#state === State.Handshake) {
      this.#stopHandshakeTimer();
      this.#onConnect(readConnectRequest(r));
      return;
    }
    if (this.#state !== State.Ready) throw new Error("request before the handshake completed");
    const hdr = readRequestHeader(r);
    if (hdr.type === OpCode.auth) {
      this.#onAuth(hdr.xid, r);
      return;
    }
    const req = this.#host.pipeline.decodeRequest(hdr.type, r);
    this.lastOp = OP_NAMES.get(hdr.type) ?? "unknown";
    if (hdr.xid >= 0) this.lastCxid = hdr.xid;
    this.#arrivals.push(performance.now());
    this.#arrivalOps.push(hdr.type);
    this.#host.pipeline.submit(this.#queue!, hdr.xid, hdr.type, req);
  }

  #onConnect(req: ConnectRequest): void {
    const p = this.#host.pipeline;
    if (req.lastZxidSeen > p.tree.lastProcessedZxid) {
      // The client has seen a newer state than ours: it must try another server.
      this.close(
        `client has seen zxid ${hex64(req.lastZxidSeen)}, our last zxid is ${hex64(p.tree.lastProcessedZxid)}`,
      );
      return;
    }
    const timeoutMs = Math.min(Math.max(req.timeOut, this.#host.sessionTimeoutMsMin), this.#host.sessionTimeoutMsMax);
    // Not serving (an election, or cut off from the quorum): only clients that asked for
    // read-only get in, and only when readonlymode.enabled (ZooKeeper's ReadOnlyZooKeeperServer).
    if (this.#host.serving?.() === false && !(p.readOnly && req.readOnly === true)) {
      this.close("server is not serving: an election is under way");
      return;
    }
    this.#state = State.Connecting;
    if (req.sessionId === 0n) {
      p.createSession(timeoutMs, (id) => this.#established(id, timeoutMs, req.readOnly));
      return;
    }
    const id = asSessionId(req.sessionId);
    const s = p.sessions.get(id);
    if (s === undefined || s.closing || !p.sessions.checkPassword(id, req.passwd)) {
      this.#host.log.info({ sessionId: hex64(id) }, "invalid or expired session on reconnect");
      this.#respondConnect(0, asSessionId(0n), Buffer.alloc(PASSWORD_BYTES), req.readOnly);
      this.#flush();
      this.close("session expired or password wrong");
      return;
    }
    this.#established(id, s.timeoutMs, req.readOnly);
  }

  #established(id: SessionId, timeoutMs: number, readOnly: boolean | undefined): void {
    if (this.#state === State.Closed) return;
    const p = this.#host.pipeline;
    this.sessionId = id;
    this.sessionTimeoutMs = timeoutMs;
    this.#queue = p.attach(this);
    p.touchSession(id);
    this.#state = State.Ready;
    this.#respondConnect(timeoutMs, id, p.sessions.passwordFor(id), readOnly === undefined ? undefined : p.readOnly);
    this.#host.log.info({ sessionId: hex64(id), timeoutMs, client: this.remoteAddress }, "session established");
  }

  #respondConnect(timeoutMs: number, id: SessionId, passwd: Buffer, readOnly: boolean | undefined): void {
    const w = this.#beginFrame();
    writeConnectResponse(w, { protocolVersion: 0, timeOut: timeoutMs, sessionId: id, passwd, readOnly });
    this.#endFrame();
  }

  #onAuth(xid: number, r: JuteReader): void {
    const packet = decodeRecord(r, AuthPacketSchema);
    // x509 is proved by the TLS handshake, not by the packet (as ZooKeeper's provider does).
    const x509 = this.authIds.filter((a) => a.scheme === "x509");
    const ids = packet.scheme === "x509"
      ? (x509.length > 0 ? x509 : undefined)
      : this.#host.authenticate(packet.scheme, packet.auth ?? Buffer.alloc(0), this.remoteAddress);
    if (ids === undefined) {
      this.reply(Xid.auth, 0n, Err.AuthFailed);
      this.#flush();
      this.close(`authentication failed for scheme ${packet.scheme}`);
      return;
    }
    for (const id of ids) {
      if (!this.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) this.authIds.push(id);
    }
    this.reply(xid === Xid.auth ? Xid.auth : xid, 0n, Err.Ok);
  }

  reply(xid: number, zxid: bigint, err: number, body?: (w: JuteWriter) => void): void {
    if (this.#state === State.Closed) return;
    if (xid !== Xid.notification && xid !== Xid.auth && xid !== RECIPE_EVENT_XID) this.#answered(zxid);
    const w = this.#beginFrame();
    writeReplyHeader(w, xid, zxid, err);
    if (body !== undefined && err === Err.Ok) body(w);
    this.#endFrame();
  }

  #answered(zxid: bigint): void {
    this.lastZxid = zxid;
    const at = this.#arrivals.shift();
    const op = this.#arrivalOps.shift();
    if (at === undefined) return;
    const now = performance.now();
    this.#host.observeRequest?.(op!, now - at);
    this.lastLatencyMs = Math.round(now - at);
    this.lastResponseAtMs = Date.now();
    this.stats.recordLatency(this.lastLatencyMs);
    this.#host.counters.recordLatency(this.lastLatencyMs);
  }

  deliver(type: EventType, path: string): void {
    if (this.#state !== State.Ready) return;
    const w = this.#beginFrame();
    writeReplyHeader(w, Xid.notification, -1n, Err.Ok);
    encodeRecord(w, WatcherEventSchema, { type, state: KeeperState.SyncConnected, path });
    this.#endFrame();
  }

  #frameStart = 0;

  #beginFrame(): JuteWriter {
    this.#frameStart = this.#out.length;
    this.#out.int(0);
    return this.#out;
  }

  #endFrame(): void {
    this.#out.intAt(this.#frameStart, this.#out.length - this.#frameStart - 4);
    this.packetsSent++;
    this.#host.counters.packetsSent++;
    const unsent = this.outboundBytes;
    if (unsent > this.outboundBytesPeak) this.outboundBytesPeak = unsent;
    if (unsent > this.#hardBytes) {
      this.#overflow(unsent);
      return;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#out.length === 0 || this.socket.destroyed) {
      this.#out.reset();
      return;
    }
    const bytes = this.#out.toBuffer();
    this.#host.counters.bytesSent += bytes.length;
    // The return value is not needed: #pump looks at writableLength. A write the kernel
    // takes whole returns true and never emits 'drain', so the pump runs here as well.
    this.socket.write(bytes);
    this.#resetOut(bytes.length);
    if (this.#readPaused || this.#heldCount > 0 || this.#congested()) this.#pump();
  }

  #resetOut(usedBytes: number): void {
    if (usedBytes > OUT_BUFFER_KEEP_BYTES) this.#out = new JuteWriter(4096);
    else this.#out.reset();
  }

  /** Over the hard cap: the client is not reading its replies. Dropped, not flushed. */
  #overflow(unsent: number): void {
    this.#host.log.warn(
      {
        client: `${this.remoteAddress}:${this.remotePort}`,
        sessionId: hex64(this.sessionId),
        unsentBytes: unsent,
        outboundBytesHardMax: this.#hardBytes,
        heldRequests: this.#heldCount,
      },
      `closing connection from ${this.remoteAddress}:${this.remotePort}: ${unsent} bytes of replies unsent, over the ${this.#hardBytes}-byte cap (client not reading)`,
    );
    this.#state = State.Closed;
    this.#held = [];
    this.#heldHead = 0;
    this.#resetOut(this.#out.length);
    // The session's queue is detached on the socket's 'close' (next turn), not here: we
    // may be inside the pipeline's or the watch registry's loop.
    this.socket.destroy();
  }

  setBackpressure(on: boolean): void {
    if (on === this.#pipelinePaused || this.#state === State.Closed) return;
    this.#pipelinePaused = on;
    if (on) {
      if (!this.#readPaused) {
        this.#readPaused = true;
        this.socket.pause();
      }
      return;
    }
    // The pipeline calls this from inside its own loops: take held frames on a fresh stack.
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    process.nextTick(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #stopHandshakeTimer(): void {
    if (this.#handshakeTimer === undefined) return;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  close(reason: string): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#host.log.debug({ sessionId: hex64(this.sessionId), client: this.remoteAddress, reason }, "closing connection");
    this.#flush();
    this.socket.end();
    this.socket.destroySoon();
    this.#release(reason);
  }

  #closed(reason: string): void {
    if (this.#state !== State.Closed) {
      this.#state = State.Closed;
      this.#host.log.debug({ sessionId: hex64(this.sessionId), client: this.remoteAddress, reason }, "connection closed");
    }
    this.#release(reason);
  }

  #released = false;

  #release(reason: string): void {
    if (this.#released) return;
    this.#released = true;
    this.#stopHandshakeTimer();
    this.#held = [];
    this.#heldHead = 0;
    if (this.#queue !== undefined) this.#host.pipeline.detach(this.#queue, reason);
    this.#host.connectionClosed(this);
  }
}

/** IPv4-mapped IPv6 addresses print and match as plain IPv4, as ZooKeeper reports them. */
function normalizeAddress(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}
