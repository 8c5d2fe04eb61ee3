/**
 * A small TCP fault proxy for tests (public: `corral/testing`): it listens on loopback and forwards every connection
 * to one target (a server's client port), and can be told to misbehave the way a network
 * does.
 *
 * - `cut()`: destroy every open connection now, both sides; new connections still pass.
 * - `blackhole(ms?)`: stop forwarding bytes both ways. Connections stay open and new ones
 *   are accepted but stay silent (the upstream connection is opened only once the hole
 *   heals). Bytes (and a side's close) are held, as TCP would retransmit them, and delivered
 *   in order when the hole heals; a connection that holds more than `heldBytesMax` in one
 *   direction is cut. Lasts until `heal()`, or `ms` if given.
 * - `refuse(on)`: new connections are accepted and closed at once.
 * - `delay(ms)`: every chunk, both ways, is forwarded `ms` later than it arrived; order is
 *   kept (a chunk never overtakes an earlier one, even when the delay shrinks). 0 = off.
 * - `heal()`: undo blackhole, refuse and delay (a cut cannot be undone).
 *
 * Loopback only. Every timer belongs to the proxy and `close()` clears all of them and
 * destroys every connection, so a test leaves nothing behind.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

const LOOPBACK = "127.0.0.1";

/** What one direction of a connection holds: data chunks, or the sending side's close. */
type Item = { kind: "data"; bytes: Buffer; dueAtMs: number } | { kind: "close"; dueAtMs: number };

/** One direction of a proxied connection: bytes read from `from`, written to `to`. */
interface Lane {
  readonly queue: Item[];
  queuedBytes: number;
  timer: NodeJS.Timeout | undefined;
  /** Set once the close item has been delivered: nothing more goes this way. */
  done: boolean;
}

interface Pair {
  readonly id: number;
  readonly client: Socket;
  upstream: Socket | undefined;
  upstreamReady: boolean;
  readonly up: Lane; // client -> upstream
  readonly down: Lane; // upstream -> client
  dead: boolean;
}

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** The loopback address the proxy listens on (default 127.0.0.1). */
  host?: string;
  /** Bytes one direction of a connection may hold (black hole or delay) before it is cut. */
  heldBytesMax?: number;
}

const HELD_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;

function newLane(): Lane {
  return { queue: [], queuedBytes: 0, timer: undefined, done: false };
}

function nowMs(): number {
  return performance.now();
}

/**
 * A TCP proxy in front of one server's client port that can cut, black-hole, refuse or
 * delay the connections that pass through it. Connect a client to `host:port` of the
 * proxy instead of the server, then break its network on purpose.
 *
 * @example
 * const proxy = await FaultProxy.start({ host: "127.0.0.1", port: server.members[0].clientPort });
 * const client = await connect(`${proxy.host}:${proxy.port}`);
 * proxy.cut(); // the client sees SUSPENDED, then RECONNECTED
 * await proxy.close();
 */
export class FaultProxy {
  /** The address the proxy listens on. */
  readonly host: string;
  /** Where every accepted connection is forwarded. */
  readonly target: { host: string; port: number };
  #port = 0;
  #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #heldBytesMax: number;
  #blackholed = false;
  #blackholeTimer: NodeJS.Timeout | undefined;
  #refusing = false;
  #delayMs = 0;
  #closed = false;
  #nextId = 1;

  private constructor(target: { host: string; port: number }, opts: FaultProxyOptions) {
    this.host = opts.host ?? LOOPBACK;
    this.target = { host: target.host, port: target.port };
    this.#heldBytesMax = opts.heldBytesMax ?? HELD_BYTES_MAX_DEFAULT;
    this.#server = createServer({ allowHalfOpen: false, noDelay: true }, (socket) => this.#accept(socket));
  }

  /** Starts a proxy on a free port of `opts.host` (default 127.0.0.1) in front of `target`. */
  static async start(target: { host: string; port: number }, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
    const proxy = new FaultProxy(target, opts);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once("error", reject);
      proxy.#server.listen(0, proxy.host, () => {
        proxy.#server.off("error", reject);
        resolve();
      });
    });
    const address = proxy.#server.address();
    if (address === null || typeof address === "string") throw new Error("fault proxy: no TCP address");
    proxy.#port = address.port;
    return proxy;
  }

  /** The port the proxy listens on. */
  get port(): number {
    return this.#port;
  }

  /** Open proxied connections (accepted and not yet torn down). */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Whether bytes are held now (between `blackhole()` and `heal()`). */
  get isBlackholed(): boolean {
    return this.#blackholed;
  }

  /** Destroys every open connection now, both sides; new connections still pass. */
  cut(): void {
    for (const pair of [...this.#pairs]) this.#kill(pair);
  }

  /**
   * Stops forwarding bytes both ways until `heal()` (or for `ms`): connections stay open and
   * silent, held bytes are delivered in order when the hole heals.
   */
  blackhole(ms?: number): void {
    this.#assertOpen();
    this.#blackholed = true;
    if (this.#blackholeTimer !== undefined) clearTimeout(this.#blackholeTimer);
    this.#blackholeTimer = undefined;
    if (ms !== undefined) {
      this.#blackholeTimer = setTimeout(() => {
        this.#blackholeTimer = undefined;
        this.#endBlackhole();
      }, Math.max(0, ms));
    }
  }

  /** While on, new connections are accepted and closed at once. */
  refuse(on: boolean): void {
    this.#assertOpen();
    this.#refusing = on;
  }

  /** Forwards every chunk, both ways, `ms` later than it arrived (order kept); 0 = off. */
  delay(ms: number): void {
    this.#assertOpen();
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`fault proxy: bad delay ${ms}`);
    this.#delayMs = ms;
  }

  /** Undoes `blackhole`, `refuse` and `delay` (a cut cannot be undone). */
  heal(): void {
    if (this.#closed) return;
    this.#refusing = false;
    this.#delayMs = 0;
    // Items already queued keep the due time they were given: order is kept.
    this.#endBlackhole();
  }

  /** Stops listening, destroys every connection and clears every timer of the proxy. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#blackholeTimer !== undefined) clearTimeout(this.#blackholeTimer);
    this.#blackholeTimer = undefined;
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error("fault proxy: closed");
  }

  #endBlackhole(): void {
    if (this.#blackholeTimer !== undefined) clearTimeout(this.#blackholeTimer);
    this.#blackholeTimer = undefined;
    if (!this.#blackholed) return;
    this.#blackholed = false;
    for (const pair of [...this.#pairs]) {
      if (pair.upstream === undefined) this.#dialUpstream(pair);
      this.#pump(pair, pair.up);
      this.#pump(pair, pair.down);
    }
  }

  #accept(client: Socket): void {
    if (this.#closed || this.#refusing) {
      client.on("error", () => {});
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const pair: Pair = { id: this.#nextId++, client, upstream: undefined, upstreamReady: false, up: newLane(), down: newLane(), dead: false };
    this.#pairs.add(pair);
    client.on("data", (bytes: Buffer) => this.#enqueue(pair, pair.up, { kind: "data", bytes, dueAtMs: 0 }));
    client.on("error", () => {});
    client.on("close", () => this.#enqueue(pair, pair.up, { kind: "close", dueAtMs: 0 }));
    if (!this.#blackholed) this.#dialUpstream(pair);
  }

  #dialUpstream(pair: Pair): void {
    if (pair.dead || pair.upstream !== undefined) return;
    const upstream = createConnection({ host: this.target.host, port: this.target.port, noDelay: true });
    pair.upstream = upstream;
    upstream.on("connect", () => {
      pair.upstreamReady = true;
      this.#pump(pair, pair.up);
    });
    upstream.on("data", (bytes: Buffer) => this.#enqueue(pair, pair.down, { kind: "data", bytes, dueAtMs: 0 }));
    upstream.on("error", () => {});
    upstream.on("close", () => {
      if (!pair.upstreamReady) {
        // The target refused or vanished before connecting: the client sees a close.
        this.#kill(pair);
        return;
      }
      this.#enqueue(pair, pair.down, { kind: "close", dueAtMs: 0 });
    });
  }

  #enqueue(pair: Pair, lane: Lane, item: Item): void {
    if (pair.dead || lane.done) return;
    const last = lane.queue[lane.queue.length - 1];
    item.dueAtMs = Math.max(nowMs() + this.#delayMs, last?.dueAtMs ?? 0);
    lane.queue.push(item);
    if (item.kind === "data") {
      lane.queuedBytes += item.bytes.length;
      if (lane.queuedBytes > this.#heldBytesMax) {
        this.#kill(pair);
        return;
      }
    }
    this.#pump(pair, lane);
  }

  /** Delivers every due item of `lane`, unless black-holed; arms one timer for the next. */
  #pump(pair: Pair, lane: Lane): void {
    if (lane.timer !== undefined) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    if (pair.dead || this.#blackholed) return;
    const to = lane === pair.up ? pair.upstream : pair.client;
    if (to === undefined || (lane === pair.up && !pair.upstreamReady)) return;
    const now = nowMs();
    while (lane.queue.length > 0) {
      const head = lane.queue[0]!;
      if (head.dueAtMs > now) {
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          this.#pump(pair, lane);
        }, Math.ceil(head.dueAtMs - now));
        return;
      }
      lane.queue.shift();
      if (head.kind === "close") {
        lane.done = true;
        this.#kill(pair);
        return;
      }
      lane.queuedBytes -= head.bytes.length;
      if (to.destroyed) continue;
      to.write(head.bytes);
      if (to.writableLength > this.#heldBytesMax) {
        // The reader does not keep up: bound what the proxy holds for it.
        this.#kill(pair);
        return;
      }
    }
  }

  #kill(pair: Pair): void {
    if (pair.dead) return;
    pair.dead = true;
    this.#pairs.delete(pair);
    for (const lane of [pair.up, pair.down]) {
      if (lane.timer !== undefined) clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.queue.length = 0;
      lane.queuedBytes = 0;
    }
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
