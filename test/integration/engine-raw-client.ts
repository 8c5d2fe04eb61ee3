// A minimal raw ZooKeeper-protocol client for the engine's own integration tests: one
// socket, the connect handshake, requests written with jute records, replies matched by
// xid, and pushed recipe events collected. It knows nothing of Corral's client (which
// other work rewrites), so these tests pin the wire protocol itself.

import { Socket, connect as tcpConnect } from "node:net";
import {
  FrameParser,
  JuteReader,
  JuteWriter,
  OpCode,
  RECIPE_EVENT_XID,
  RecipeEventSchema,
  decodeRecord,
  encodeRecord,
  readConnectResponse,
  readReplyHeader,
  writeConnectRequest,
  writeRequestHeader,
  type RecipeEvent,
  type RecordType,
  type Schema,
} from "../../src/jute/index.js";

export class RawError extends Error {
  readonly err: number;
  constructor(err: number) {
    super(`error ${err}`);
    this.err = err;
  }
}

export class RawClient {
  readonly sessionId: bigint;
  readonly passwd: Buffer;
  readonly events: RecipeEvent[] = [];
  readonly #sock: Socket;
  readonly #waiting = new Map<number, (r: { err: number; body: JuteReader }) => void>();
  readonly #eventWaiters: (() => void)[] = [];
  #xid = 0;
  closed = false;

  private constructor(sock: Socket, sessionId: bigint, passwd: Buffer, parser: FrameParser) {
    this.#sock = sock;
    this.sessionId = sessionId;
    this.passwd = passwd;
    sock.on("data", (chunk) => {
      for (const f of parser.push(chunk)) this.#frame(Buffer.from(f));
    });
    sock.on("close", () => {
      this.closed = true;
      // Requests in flight on a lost connection fail with ConnectionLoss (-4).
      for (const done of this.#waiting.values()) done({ err: -4, body: new JuteReader(Buffer.alloc(0)) });
      this.#waiting.clear();
    });
  }

  /** Opens a session (or re-attaches to `session`). */
  static async open(host: string, port: number, session?: { sessionId: bigint; passwd: Buffer }): Promise<RawClient> {
    const sock = tcpConnect({ host, port });
    await new Promise<void>((ok, fail) => sock.once("connect", ok).once("error", fail));
    const parser = new FrameParser(1 << 20);
    const w = new JuteWriter(64);
    writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: session?.sessionId ?? 0n, passwd: session?.passwd ?? Buffer.alloc(16), readOnly: false });
    sock.write(frame(w.toBuffer()));
    const first = await new Promise<Buffer>((ok, fail) => {
      const onData = (chunk: Buffer): void => {
        const frames = parser.push(chunk);
        if (frames.length > 0) {
          sock.off("data", onData);
          ok(Buffer.from(frames[0]!));
        }
      };
      sock.on("data", onData).once("error", fail);
    });
    const resp = readConnectResponse(new JuteReader(first));
    if (resp.sessionId === 0n) throw new Error("session refused");
    return new RawClient(sock, resp.sessionId, resp.passwd, parser);
  }

  #frame(buf: Buffer): void {
    const r = new JuteReader(buf);
    const h = readReplyHeader(r);
    if (h.xid === RECIPE_EVENT_XID) {
      this.events.push(decodeRecord(r, RecipeEventSchema));
      for (const f of this.#eventWaiters.splice(0)) f();
      return;
    }
    const done = this.#waiting.get(h.xid);
    this.#waiting.delete(h.xid);
    done?.({ err: h.err, body: r });
  }

  /** Sends one request; resolves with the decoded reply body, rejects with RawError. */
  async call<S extends Schema>(opCode: number, schema: S | undefined, body: (w: JuteWriter) => void, reply?: S): Promise<RecordType<S>> {
    void schema;
    const xid = ++this.#xid;
    const w = new JuteWriter(64);
    writeRequestHeader(w, xid, opCode);
    body(w);
    if (this.closed) throw new RawError(-4);
    const answer = new Promise<{ err: number; body: JuteReader }>((ok) => this.#waiting.set(xid, ok));
    this.#sock.write(frame(w.toBuffer()));
    const r = await answer;
    if (r.err !== 0) throw new RawError(r.err);
    return (reply === undefined ? undefined : decodeRecord(r.body, reply)) as RecordType<S>;
  }

  /** Sends a record as a request. */
  async send<Q extends Schema, S extends Schema>(opCode: number, req: Q, body: RecordType<Q>, reply?: S): Promise<RecordType<S>> {
    return await this.call(opCode, reply, (w) => encodeRecord(w, req, body), reply);
  }

  /** Creates `path` with `data`, open to anyone; `flags` is the CreateMode (0 persistent, 2 persistent sequential). */
  async create(path: string, data: string, flags: number): Promise<void> {
    await this.call(OpCode.create, undefined, (w) => {
      w.ustring(path);
      w.buffer(Buffer.from(data));
      w.int(1);
      w.int(31);
      w.ustring("world");
      w.ustring("anyone");
      w.int(flags);
    });
  }

  /** Resolves once `n` events have come; rejects if they have not within `timeoutMs`. */
  async untilEvents(n: number, timeoutMs = 10_000): Promise<RecipeEvent[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${this.events.length} of ${n} recipe events after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (this.events.length < n) await Promise.race([new Promise<void>((ok) => this.#eventWaiters.push(ok)), late]);
      return this.events;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the connection (not the session). */
  cut(): void {
    this.#sock.destroy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call(-11, undefined, () => {}).catch(() => undefined);
    this.#sock.destroy();
  }
}

function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}
