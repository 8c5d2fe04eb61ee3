// One client connection: framing, the handshake, four-letter words, requests into the
// pipeline, replies and watch events out. Replies produced in one turn of the event loop
// go out in one socket write (corking by hand), so a burst of pipelined requests costs
// one syscall. A malformed frame closes this connection only, with a logged reason.

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

export interface ConnectionHost {
  readonly pipeline: Pipeline;
  readonly log: Logger;
  readonly frameBytesMax: number;
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
  readonly #out = new JuteWriter(4096);
  #flushScheduled = false;
  #state: State = State.Handshake;
  #queue: SessionQueue | undefined;
  #paused = false;

  get watchId(): bigint {
    return this.sessionId;
  }

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? "");
    this.remotePort = socket.remotePort ?? 0;
    this.authIds = [{ scheme: "ip", id: this.remoteAddress }];
    this.#parser = new FrameParser(host.frameBytesMax);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (e) => this.#closed(`socket error: ${e.message}`));
    socket.on("close", () => this.#closed("connection closed by client"));
  }

  get outstanding(): number {
    return this.#queue?.size ?? 0;
  }

  #isClosed(): boolean {
    return this.#state === State.Closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#state === State.Closed) return;
    this.#host.counters.bytesReceived += chunk.length;
    try {
      const data = this.#headChecked ? chunk : this.#firstBytes(chunk);
      if (data === undefined) return;
      for (const frame of this.#parser.push(data)) {
        if (this.#isClosed()) return;
        this.#onFrame(frame);
      }
    } catch (e) {
      this.close(`bad frame: ${(e as Error).message}`);
    }
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
    const ids = this.#host.authenticate(packet.scheme, packet.auth ?? Buffer.alloc(0), this.remoteAddress);
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
    this.socket.write(bytes);
    this.#out.reset();
  }

  setBackpressure(on: boolean): void {
    if (on === this.#paused || this.#state === State.Closed) return;
    this.#paused = on;
    if (on) this.socket.pause();
    else this.socket.resume();
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
    if (this.#queue !== undefined) this.#host.pipeline.detach(this.#queue, reason);
    this.#host.connectionClosed(this);
  }
}

/** IPv4-mapped IPv6 addresses print and match as plain IPv4, as ZooKeeper reports them. */
function normalizeAddress(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}
