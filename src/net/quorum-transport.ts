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

import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { FrameParser, JuteReader, JuteWriter } from "../jute/index.js";
import type { Logger } from "../util/index.js";
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
  onMessage(from: bigint, msg: ZabMsg): void;
  onDown(peer: bigint): void;
}

const HELLO_MAGIC = 0x434f5251; // "CORQ"
const REDIAL_MS_MIN = 20;
const REDIAL_MS_MAX = 1000;
const OUT_BUFFER_KEEP_BYTES = 4 << 20;

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

  constructor(opts: QuorumTransportOptions) {
    this.#opts = opts;
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
    let w = this.#out.get(to);
    if (w === undefined) this.#out.set(to, (w = new JuteWriter(4096)));
    const at = w.length;
    w.int(0);
    encodeZabMsg(w, msg);
    w.intAt(at, w.length - at - 4);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    for (const [to, w] of this.#out) {
      if (w.length === 0) continue;
      const s = this.#sockets.get(to);
      if (s !== undefined && !s.destroyed && !this.#blocked.has(to)) s.write(w.toBuffer());
      // A writer that grew for a SNAP image is not kept at that size.
      if (w.length > OUT_BUFFER_KEEP_BYTES) this.#out.delete(to);
      else w.reset();
    }
  };

  #dial(p: QuorumPeerAddress): void {
    if (this.#closed || this.#sockets.has(p.id)) return;
    const s = tcpConnect({ host: p.host, port: p.port, noDelay: true });
    s.once("connect", () => {
      const hello = Buffer.alloc(12);
      hello.writeInt32BE(HELLO_MAGIC, 0);
      hello.writeBigInt64BE(this.#opts.myId, 4);
      s.write(hello);
      this.#redialMs.set(p.id, REDIAL_MS_MIN);
      this.#attach(p.id, s, Buffer.alloc(0));
    });
    s.once("error", () => {});
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
      this.#opts.onDown(id);
      const p = this.#peers.get(id);
      if (p !== undefined && id < this.#opts.myId) this.#scheduleRedial(p);
    });
    if (rest.length > 0) onData(rest);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.#sockets.values()) s.destroy();
    this.#sockets.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
