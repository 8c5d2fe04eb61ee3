// The quorum transport: one TCP connection per pair of servers on the quorum ports,
// carrying length-prefixed ZAB messages. Like ZooKeeper's QuorumCnxManager, only the
// server with the higher id keeps an outgoing connection to a lower one... here simply:
// each server dials every server with a lower id and accepts from higher ids, so each
// pair has exactly one connection. A broken connection is reported to ZAB (`onDown`)
// and re-dialled with a bounded backoff. Messages to a peer with no connection are
// dropped: ZAB resends what matters (notifications, FOLLOWERINFO) on its own.
//
// Membership changes at run time (dynamic reconfig): addPeers() learns new servers (and
// dials the lower ones), and a connection from an unknown server with a higher id is
// accepted, since a joiner dials the ensemble before any member has heard of it. A
// joiner with a lower id than a member is reached only once a reconfig names it.
//
// Output limits per peer (a slow or stuck learner must not grow the leader's memory
// without bound): unsent bytes are the socket's writableLength plus this turn's frames.
// Past outboundBytesHardMax the connection is dropped with one warning naming the peer
// and the numbers; ZAB sees the peer down, and the learner re-dials and resyncs (DIFF,
// TRUNC or SNAP), which is cheaper than holding its backlog. Past outboundBytesSoftMax
// a warning is logged once per episode, but reading from the peer does NOT stop, unlike
// on client connections: both ends of a quorum connection produce output (proposals one
// way, forwarded requests and acks the other), so two servers that each stopped reading
// because the other was slow would stall each other until the hard cap; and what a
// learner sends does not drive what the leader sends it, so pausing would bound nothing.
//
// Streams (SNAP): stream() sends a message sequence whose frames are produced one at a
// time, only when the socket has room (unsent bytes under STREAM_WINDOW_BYTES, else on
// 'drain'), one per turn of the event loop, so a big image neither sits in memory nor
// holds the loop. Until the stream ends, every later message to that peer (proposals,
// commits, pings, a second stream) waits in a per-peer queue behind it, so the peer
// receives them in the order they were sent. The queue counts against the hard cap; the
// stream's own frames never pile up past the window, so a learner that reads does not
// trip it however big the image. A connection that goes mid-stream aborts the stream.

//
// TLS (sslQuorum, portUnification; see QuorumTls): with sslQuorum every dial is TLS and
// both ends present certificates from the ssl.quorum.* stores; an accepted connection is
// TLS when its first byte starts a TLS handshake (0x16). A plain connection is refused
// under sslQuorum unless portUnification lets both kinds in (rolling upgrade to TLS:
// first portUnification everywhere, then sslQuorum, then portUnification off). With
// ssl.quorum.hostnameVerification (the default) a peer's certificate must name it both
// ways: the dialled host or IP, and on an accepted connection the address it comes from
// (an IP SAN, or the name that address reverse-resolves to); a certificate that does not
// is refused with one log line naming the address.

import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { connect as tlsConnect, TLSSocket } from "node:tls";
import { peerNameProblem, relay, verifyErrorOf, type TlsContextSource } from "./tls.js";
import { FrameParser, JuteReader, JuteWriter } from "../jute/index.js";
import { assert, type Logger } from "../util/index.js";
import { decodeZabMsg, encodeZabMsg, type ZabMsg } from "../zab/index.js";

export interface QuorumPeerAddress {
  id: bigint;
  host: string;
  port: number;
}

export interface QuorumTransportOptions {
  myId: bigint;
  listen: { host: string; port: number };
  peers: QuorumPeerAddress[];
  log: Logger;
  frameBytesMax: number;
  /** Unsent bytes to one peer past which a warning is logged (default frameBytesMax). */
  outboundBytesSoftMax?: number;
  /** Unsent bytes to one peer past which its connection is dropped (default 2 x frameBytesMax). */
  outboundBytesHardMax?: number;
  onMessage(from: bigint, msg: ZabMsg): void;
  onDown(peer: bigint): void;
  /** Quorum TLS; undefined = plain TCP only. */
  tls?: QuorumTls | undefined;
}

/** How the quorum port uses TLS: sslQuorum, portUnification, and the ssl.quorum.* certificates. */
export interface QuorumTls {
  /** sslQuorum: dial with TLS; accept only TLS unless `unified`. */
  readonly secure: boolean;
  /** portUnification: accept TLS and plain connections both. */
  readonly unified: boolean;
  /** This server's key, certificate and trusted CAs (both directions); reloaded when the files change. */
  readonly contexts: TlsContextSource;
  /**
   * ssl.quorum.hostnameVerification: a dialled peer's certificate must name the host or IP
   * dialled, and an accepted peer's the address it connects from (see peerNameProblem).
   */
  readonly hostnameVerification: boolean;
}

/** The first byte of a TLS record carrying a handshake. */
const TLS_HANDSHAKE = 0x16;

const HELLO_MAGIC = 0x434f5251; // "CORQ"
const REDIAL_MS_MIN = 20;
/** Refusals remembered (see #refusals); past it the memory starts over. */
const REFUSALS_REMEMBERED_MAX = 256;
/** The same refusal is said at warn level at most this often. */
const REFUSAL_REPEAT_MS = 60_000;
const REDIAL_MS_MAX = 1000;
const OUT_BUFFER_KEEP_BYTES = 4 << 20;
/** A stream's next frame is produced only while the socket holds fewer unsent bytes than this. */
export const STREAM_WINDOW_BYTES = 4 << 20;

/** A message sequence produced on demand (a SNAP image): see stream(). */
export interface OutboundStream {
  /** The next message, or undefined when the stream is over. Called once per turn at most. */
  next(): ZabMsg | undefined;
  /** The connection went before the stream ended: it will not be asked again. */
  abort(): void;
}

/** Per peer while a stream runs: the stream, and what was sent after it, in order. */
interface StreamState {
  active: OutboundStream | undefined;
  queue: (Buffer | OutboundStream)[];
  queuedBytes: number;
  waiting: boolean;
  scheduled: boolean;
}

export class QuorumTransport {
  readonly #opts: QuorumTransportOptions;
  /** Known servers by id: the configured ones and those reconfigs added (never forgotten). */
  readonly #peers = new Map<bigint, QuorumPeerAddress>();
  readonly #server: Server;
  readonly #sockets = new Map<bigint, Socket>();
  readonly #redialMs = new Map<bigint, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;
  /** Frames waiting for this turn's flush, per peer. */
  readonly #out = new Map<bigint, JuteWriter>();
  #flushQueued = false;
  /** Peers this server is cut off from (fault injection in tests): no traffic either way. */
  readonly #blocked = new Set<bigint>();
  readonly #softBytes: number;
  /** Unsent bytes past which the connection is dropped. A SNAP image never counts against it: it is streamed as the socket drains (see stream()). */
  readonly #hardBytes: number;
  /** Peers whose unsent output passed the soft limit and has not drained since. */
  readonly #slow = new Set<bigint>();
  /** Peers with a stream under way (see stream()). */
  readonly #streams = new Map<bigint, StreamState>();
  /** The last TLS error said per peer, so a failing redial is logged once. */
  readonly #tlsErrors = new Map<bigint, string>();
  /** When each refusal (remote address and reason) was last said at warn level: a redialling peer's refusals are not repeated. */
  readonly #refusals = new Map<string, number>();

  constructor(opts: QuorumTransportOptions) {
    this.#opts = opts;
    this.#softBytes = opts.outboundBytesSoftMax ?? opts.frameBytesMax;
    this.#hardBytes = opts.outboundBytesHardMax ?? 2 * opts.frameBytesMax;
    if (!(this.#softBytes > 0 && this.#hardBytes >= this.#softBytes)) {
      throw new Error(`quorum outbound limits out of order: soft ${this.#softBytes}, hard ${this.#hardBytes}`);
    }
    for (const p of opts.peers) this.#peers.set(p.id, p);
    this.#server = createServer({ noDelay: true }, (s) => this.#accept(s));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#opts.listen.port, this.#opts.listen.host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    for (const p of this.#peers.values()) if (p.id < this.#opts.myId) this.#dial(p);
  }

  /** Servers a reconfig named: remembered, and dialled when this server is the one to dial. */
  addPeers(peers: readonly QuorumPeerAddress[]): void {
    for (const p of peers) {
      if (p.id === this.#opts.myId) continue;
      const known = this.#peers.get(p.id);
      this.#peers.set(p.id, p);
      if (known === undefined && p.id < this.#opts.myId && !this.#closed) this.#dial(p);
    }
  }

  connected(peer: bigint): boolean {
    return this.#sockets.has(peer);
  }

  /** Cuts this server off from `peers` (a partition, for tests) until unblock(). */
  block(peers: readonly bigint[]): void {
    for (const p of peers) {
      this.#blocked.add(p);
      this.#sockets.get(p)?.destroy();
    }
  }

  unblock(): void {
    this.#blocked.clear();
  }

  /**
   * Queues `msg` for `to`. Messages made in the same turn of the event loop leave
   * together, one socket write per peer (a batch of proposals and commits would
   * otherwise cost a syscall each), in the order they were sent.
   */
  send(to: bigint, msg: ZabMsg): void {
    if (this.#blocked.has(to)) return;
    const s = this.#sockets.get(to);
    if (s === undefined || s.destroyed) return;
    const st = this.#streams.get(to);
    if (st !== undefined) {
      const frame = encodeFrame(msg);
      st.queue.push(frame);
      st.queuedBytes += frame.length;
      this.#withinLimits(to, s, st.queuedBytes);
      return;
    }
    let w = this.#out.get(to);
    if (w === undefined) this.#out.set(to, (w = new JuteWriter(4096)));
    const at = w.length;
    w.int(0);
    encodeZabMsg(w, msg);
    w.intAt(at, w.length - at - 4);
    if (!this.#withinLimits(to, s, w.length)) return;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  /**
   * Sends the messages `src` produces, in order, after everything sent to `to` before and
   * before everything sent after (see the header). If `to` has no connection the stream
   * is aborted at once, as send() drops a message.
   */
  stream(to: bigint, src: OutboundStream): void {
    const s = this.#sockets.get(to);
    if (this.#blocked.has(to) || s === undefined || s.destroyed) {
      src.abort();
      return;
    }
    const st = this.#streams.get(to);
    if (st !== undefined) {
      st.queue.push(src);
      return;
    }
    // This turn's frames to `to` were sent before the stream: they go first.
    const w = this.#out.get(to);
    if (w !== undefined && w.length > 0) {
      s.write(w.toBuffer());
      this.#out.delete(to);
    }
    this.#streams.set(to, { active: src, queue: [], queuedBytes: 0, waiting: false, scheduled: false });
    this.#pumpStream(to);
  }

  /** Unsent bytes to `to`: handed to the socket and not yet to the kernel, plus this turn's frames and those queued behind a stream. */
  outboundBytes(to: bigint): number {
    return (this.#sockets.get(to)?.writableLength ?? 0) + (this.#out.get(to)?.length ?? 0) + (this.#streams.get(to)?.queuedBytes ?? 0);
  }

  /** Produces `to`'s next stream frame if the socket has room; then the queue behind it. */
  #pumpStream(to: bigint): void {
    const st = this.#streams.get(to);
    if (st === undefined) return;
    st.scheduled = false;
    const s = this.#sockets.get(to);
    if (s === undefined || s.destroyed || this.#closed) {
      this.#dropStreams(to);
      return;
    }
    for (let steps = 0; ; steps++) {
      // Each step either ends the stream or queue item it is on or returns: bounded by the queue.
      if (steps > st.queue.length + 2) throw new Error("quorum stream pump did not progress");
      if (st.active === undefined) {
        const ready: Buffer[] = [];
        while (st.queue.length > 0 && Buffer.isBuffer(st.queue[0])) ready.push(st.queue.shift() as Buffer);
        if (ready.length > 0) {
          const bytes = Buffer.concat(ready);
          st.queuedBytes -= bytes.length;
          s.write(bytes);
        }
        const nextStream = st.queue.shift();
        if (nextStream === undefined) {
          this.#streams.delete(to);
          return;
        }
        st.active = nextStream as OutboundStream;
      }
      if (s.writableLength >= STREAM_WINDOW_BYTES) {
        if (!st.waiting) {
          st.waiting = true;
          s.once("drain", () => {
            st.waiting = false;
            this.#pumpStream(to);
          });
        }
        return;
      }
      const msg = st.active.next();
      if (msg === undefined) {
        st.active = undefined;
        continue;
      }
      s.write(encodeFrame(msg));
      // One frame per turn: whatever else is waiting (client requests, timers) runs between.
      st.scheduled = true;
      setImmediate(() => this.#pumpStream(to));
      return;
    }
  }

  /** The connection to `to` went: its streams are aborted and what waited behind them dropped. */
  #dropStreams(to: bigint): void {
    const st = this.#streams.get(to);
    if (st === undefined) return;
    this.#streams.delete(to);
    st.active?.abort();
    for (const q of st.queue) if (!Buffer.isBuffer(q)) q.abort();
  }

  /** Drops the connection to `peer` (it is re-dialled as after any break). */
  drop(peer: bigint): void {
    this.#sockets.get(peer)?.destroy();
  }

  /** Checks the output limits for `to`; over the hard cap drops its connection (false). */
  #withinLimits(to: bigint, s: Socket, queuedBytes: number): boolean {
    const unsent = s.writableLength + queuedBytes;
    if (unsent > this.#hardBytes) {
      this.#opts.log.warn(
        { peer: to.toString(), unsentBytes: unsent, outboundBytesHardMax: this.#hardBytes },
        `dropping quorum connection to server ${to}: ${unsent} bytes unsent, over the ${this.#hardBytes}-byte cap (peer not reading); it resyncs when it reconnects`,
      );
      this.#out.delete(to);
      this.#slow.delete(to);
      this.#dropStreams(to);
      s.destroy();
      return false;
    }
    if (unsent > this.#softBytes && !this.#slow.has(to)) {
      this.#slow.add(to);
      this.#opts.log.warn(
        { peer: to.toString(), unsentBytes: unsent, outboundBytesSoftMax: this.#softBytes },
        `quorum peer ${to} is slow: ${unsent} bytes unsent`,
      );
      s.once("drain", () => this.#slow.delete(to));
    }
    return true;
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    for (const [to, w] of this.#out) {
      if (w.length === 0) continue;
      assert(!this.#streams.has(to), "a frame for a peer with a stream under way bypassed its queue");
      const s = this.#sockets.get(to);
      if (s !== undefined && !s.destroyed && !this.#blocked.has(to)) s.write(w.toBuffer());
      // A writer that grew for a SNAP image is not kept at that size.
      if (w.length > OUT_BUFFER_KEEP_BYTES) this.#out.delete(to);
      else w.reset();
    }
  };

  #dial(p: QuorumPeerAddress): void {
    if (this.#closed || this.#sockets.has(p.id)) return;
    const tls = this.#opts.tls;
    const secure = tls?.secure === true;
    const s = !secure
      ? tcpConnect({ host: p.host, port: p.port, noDelay: true })
      : tlsConnect({
        host: p.host,
        port: p.port,
        secureContext: tls.contexts.context,
        ...(tls.hostnameVerification ? {} : { checkServerIdentity: () => undefined }),
      });
    s.setNoDelay(true);
    s.once(secure ? "secureConnect" : "connect", () => {
      this.#tlsErrors.delete(p.id);
      const hello = Buffer.alloc(12);
      hello.writeInt32BE(HELLO_MAGIC, 0);
      hello.writeBigInt64BE(this.#opts.myId, 4);
      s.write(hello);
      this.#redialMs.set(p.id, REDIAL_MS_MIN);
      this.#attach(p.id, s, Buffer.alloc(0));
    });
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (!secure || e.code === "ECONNREFUSED" || e.code === "ECONNRESET") return;
      // A TLS failure (untrusted or misnamed certificate) would repeat on every redial: say it once.
      const said = this.#tlsErrors.get(p.id);
      if (said === e.message) return;
      this.#tlsErrors.set(p.id, e.message);
      this.#opts.log.warn({ peer: p.id.toString(), err: e.message }, `TLS connection to quorum peer ${p.id} failed: ${e.message}`);
    });
    s.once("close", () => {
      if (this.#sockets.get(p.id) === s) return; // handled by #attach's close
      this.#scheduleRedial(p);
    });
  }

  #scheduleRedial(p: QuorumPeerAddress): void {
    if (this.#closed) return;
    const ms = this.#redialMs.get(p.id) ?? REDIAL_MS_MIN;
    this.#redialMs.set(p.id, Math.min(ms * 2, REDIAL_MS_MAX));
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#dial(this.#peers.get(p.id) ?? p);
    }, ms);
    this.#timers.add(t);
  }

  #accept(s: Socket): void {
    const tls = this.#opts.tls;
    if (tls === undefined || (!tls.secure && !tls.unified)) {
      this.#readHello(s);
      return;
    }
    s.on("error", () => {});
    s.once("data", (first: Buffer) => {
      s.pause();
      const refuse = (reason: string): void => {
        // A refused member redials every second: the same reason from the same address
        // is said again only once a minute (at debug level in between).
        const address = s.remoteAddress ?? "";
        const key = `${address} ${reason}`;
        const nowMs = performance.now();
        const saidMs = this.#refusals.get(key);
        const again = saidMs !== undefined && nowMs - saidMs < REFUSAL_REPEAT_MS;
        if (!again) {
          if (this.#refusals.size >= REFUSALS_REMEMBERED_MAX) this.#refusals.clear();
          this.#refusals.set(key, nowMs);
        }
        this.#opts.log[again ? "debug" : "warn"]({ client: `${address}:${s.remotePort}`, reason }, `refused quorum connection from ${address}: ${reason}`);
        s.destroy();
      };
      if (first[0] !== TLS_HANDSHAKE) {
        if (tls.secure && !tls.unified) {
          refuse("not a TLS handshake (sslQuorum=true, portUnification=false)");
          return;
        }
        s.unshift(first);
        this.#readHello(s);
        s.resume();
        return;
      }
      const sock = new TLSSocket(relay(s, first), { isServer: true, secureContext: tls.contexts.context, requestCert: true, rejectUnauthorized: true });
      // Destroying the raw socket ends the TLS one through the relay.
      const failed = (e: Error): void => refuse(`TLS handshake failed: ${e.message}`);
      sock.on("error", failed);
      sock.once("secure", () => {
        const cert = sock.getPeerX509Certificate();
        const verdict = cert === undefined ? "no certificate" : verifyErrorOf(sock);
        if (verdict !== null || cert === undefined) {
          refuse(`peer certificate not trusted (${verdict})`);
          return;
        }
        const admit = (): void => {
          sock.off("error", failed);
          this.#readHello(sock);
        };
        if (!tls.hostnameVerification) {
          admit();
          return;
        }
        // As the dialling side checks the host it dialled, the accepting side checks the
        // address the peer connects from (ZooKeeper's quorum trust manager does both).
        // The TLS socket buffers what arrives meanwhile: #readHello reads it after.
        void peerNameProblem(cert, s.remoteAddress ?? "").catch((e: unknown) => `peer certificate cannot be checked: ${(e as Error).message}`).then((problem) => {
          if (this.#closed) s.destroy();
          if (s.destroyed) return;
          if (problem !== null) refuse(problem);
          else admit();
        });
      });
    });
  }

  #readHello(s: Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 12) return;
      s.off("data", onData);
      if (head.readInt32BE(0) !== HELLO_MAGIC) {
        s.destroy();
        return;
      }
      const id = head.readBigInt64BE(4);
      if (id <= this.#opts.myId) {
        this.#opts.log.warn({ peer: id.toString() }, "quorum connection from a lower server id refused");
        s.destroy();
        return;
      }
      this.#attach(id, s, head.subarray(12));
    };
    s.on("data", onData);
    s.once("error", () => {});
  }

  #attach(id: bigint, s: Socket, rest: Buffer): void {
    if (this.#blocked.has(id)) {
      s.destroy();
      const p = this.#peers.get(id);
      if (p !== undefined && id < this.#opts.myId) this.#scheduleRedial(p);
      return;
    }
    const old = this.#sockets.get(id);
    if (old !== undefined && old !== s) {
      this.#sockets.delete(id);
      old.destroy();
    }
    this.#sockets.set(id, s);
    const parser = new FrameParser(this.#opts.frameBytesMax);
    const onData = (chunk: Buffer): void => {
      try {
        for (const f of parser.push(chunk)) this.#opts.onMessage(id, decodeZabMsg(new JuteReader(f)));
      } catch (e) {
        this.#opts.log.warn({ peer: id.toString(), err: (e as Error).message }, "bad quorum frame; dropping the connection");
        s.destroy();
      }
    };
    s.on("data", onData);
    s.once("close", () => {
      if (this.#sockets.get(id) !== s) return;
      this.#sockets.delete(id);
      this.#slow.delete(id);
      this.#dropStreams(id);
      this.#opts.onDown(id);
      const p = this.#peers.get(id);
      if (p !== undefined && id < this.#opts.myId) this.#scheduleRedial(p);
    });
    if (rest.length > 0) onData(rest);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const id of [...this.#streams.keys()]) this.#dropStreams(id);
    for (const s of this.#sockets.values()) s.destroy();
    this.#sockets.clear();
    this.#opts.tls?.contexts.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** One length-prefixed frame holding `msg`. */
function encodeFrame(msg: ZabMsg): Buffer {
  // Sized for a chunk at once: growing by doubling would copy a big chunk a dozen times.
  const w = new JuteWriter(256 + (msg.type === "SNAPCHUNK" ? msg.data.byteLength : 0));
  w.int(0);
  encodeZabMsg(w, msg);
  w.intAt(0, w.length - 4);
  return w.toBuffer();
}
