/**
 * A minimal raw ZooKeeper client over jute for the crash tests: it pipelines requests on
 * one connection (so a server under test sees real group-commit load), can re-attach a
 * session by id and password, and reports watch notifications. Loopback only.
 */
import { connect, type Socket } from "node:net";
import {
  CreateRequestSchema,
  FrameParser,
  GetDataResponseSchema,
  JuteReader,
  JuteWriter,
  OpCode,
  PathSchema,
  PathWatchSchema,
  SetDataRequestSchema,
  StatResponseSchema,
  Xid,
  decodeRecord,
  encodeRecord,
  readConnectResponse,
  readReplyHeader,
  writeConnectRequest,
  writeRequestHeader,
  type ACL,
  type Stat,
} from "../../src/jute/index.js";

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

export interface Reply {
  readonly err: number;
  readonly zxid: bigint;
  readonly body: JuteReader;
}

interface Waiter {
  resolve(r: Reply): void;
  reject(e: Error): void;
}

export class RawClient {
  readonly sessionId: bigint;
  readonly passwd: Buffer;
  readonly timeoutMs: number;
  readonly #socket: Socket;
  readonly #waiting = new Map<number, Waiter>();
  readonly #parser = new FrameParser(64 * 1024 * 1024);
  #xid = 1;
  #closed: Error | undefined;
  /** Watch notifications: [type, path]. */
  readonly events: [number, string][] = [];
  #onEvent: (() => void) | undefined;
  readonly #pinger: NodeJS.Timeout;

  private constructor(socket: Socket, sessionId: bigint, passwd: Buffer, timeoutMs: number) {
    this.#socket = socket;
    this.sessionId = sessionId;
    this.passwd = passwd;
    this.timeoutMs = timeoutMs;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    const fail = (e: Error): void => this.#fail(e);
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
    // Keep the session alive as real clients do: a ping every third of the timeout.
    this.#pinger = setInterval(() => this.#ping(), Math.max(10, Math.floor(timeoutMs / 3)));
    this.#pinger.unref();
  }

  #ping(): void {
    const w = new JuteWriter();
    w.int(0);
    writeRequestHeader(w, Xid.ping, OpCode.ping);
    w.intAt(0, w.length - 4);
    if (this.#closed === undefined) this.#socket.write(w.toBuffer());
  }

  /** Connects and creates (or, given sessionId and passwd, re-attaches) a session. */
  static async connect(
    host: string,
    port: number,
    opts: { timeoutMs?: number; sessionId?: bigint; passwd?: Buffer; lastZxidSeen?: bigint } = {},
  ): Promise<RawClient> {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const w = new JuteWriter();
    w.int(0);
    writeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: opts.lastZxidSeen ?? 0n,
      timeOut: opts.timeoutMs ?? 10_000,
      sessionId: opts.sessionId ?? 0n,
      passwd: opts.passwd ?? Buffer.alloc(16),
      readOnly: false,
    });
    w.intAt(0, w.length - 4);
    socket.write(w.toBuffer());
    const parser = new FrameParser(1024 * 1024);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        const frames = parser.push(chunk);
        if (frames.length > 0) {
          socket.off("data", onData);
          socket.off("close", onClose);
          resolve(frames[0]!);
        }
      };
      const onClose = (): void => reject(new Error("closed during handshake"));
      socket.on("data", onData);
      socket.once("close", onClose);
      socket.once("error", reject);
    });
    const resp = readConnectResponse(new JuteReader(frame));
    if (resp.timeOut <= 0 || resp.sessionId === 0n) {
      socket.destroy();
      throw new SessionExpiredError();
    }
    return new RawClient(socket, resp.sessionId, resp.passwd, resp.timeOut);
  }

  request(opCode: number, body: (w: JuteWriter) => void): Promise<Reply> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const xid = this.#xid++;
    const w = new JuteWriter();
    w.int(0);
    writeRequestHeader(w, xid, opCode);
    body(w);
    w.intAt(0, w.length - 4);
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting.set(xid, { resolve, reject });
      this.#socket.write(w.toBuffer());
    });
  }

  async create(path: string, data: Buffer, flags = 0): Promise<{ err: number; path: string; zxid: bigint }> {
    const r = await this.request(OpCode.create, (w) => encodeRecord(w, CreateRequestSchema, { path, data, acl: OPEN_ACL, flags }));
    return { err: r.err, path: r.err === 0 ? r.body.ustring() : "", zxid: r.zxid };
  }

  async setData(path: string, data: Buffer, version = -1): Promise<{ err: number; stat: Stat | undefined }> {
    const r = await this.request(OpCode.setData, (w) => encodeRecord(w, SetDataRequestSchema, { path, data, version }));
    return { err: r.err, stat: r.err === 0 ? decodeRecord(r.body, StatResponseSchema).stat : undefined };
  }

  async getData(path: string, watch = false): Promise<{ err: number; data: Buffer | null; stat: Stat | undefined }> {
    const r = await this.request(OpCode.getData, (w) => encodeRecord(w, PathWatchSchema, { path, watch }));
    if (r.err !== 0) return { err: r.err, data: null, stat: undefined };
    const d = decodeRecord(r.body, GetDataResponseSchema);
    return { err: 0, data: d.data, stat: d.stat };
  }

  async exists(path: string, watch = false): Promise<number> {
    return (await this.request(OpCode.exists, (w) => encodeRecord(w, PathWatchSchema, { path, watch }))).err;
  }

  async remove(path: string): Promise<number> {
    return (await this.request(OpCode.delete, (w) => encodeRecord(w, [...PathSchema, ["version", "int"]] as const, { path, version: -1 }))).err;
  }

  /** Resolves at the first watch notification for `path` of `type`. */
  nextEvent(type: number, path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.events.some(([t, p]) => t === type && p === path)) {
          this.#onEvent = undefined;
          resolve();
        } else if (this.#closed !== undefined) reject(this.#closed);
      };
      this.#onEvent = check;
      check();
    });
  }

  /** Drops the connection without closing the session (as a client whose host died). */
  destroy(): void {
    this.#socket.destroy();
  }

  async close(): Promise<void> {
    if (this.#closed === undefined) await this.request(OpCode.closeSession, () => {}).catch(() => undefined);
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    for (const frame of this.#parser.push(chunk)) {
      const r = new JuteReader(frame);
      const hdr = readReplyHeader(r);
      if (hdr.xid === Xid.notification) {
        const type = r.int();
        r.int();
        this.events.push([type, r.ustring()]);
        this.#onEvent?.();
        continue;
      }
      const w = this.#waiting.get(hdr.xid);
      if (w === undefined) continue;
      this.#waiting.delete(hdr.xid);
      w.resolve({ err: hdr.err, zxid: hdr.zxid, body: r });
    }
  }

  #fail(e: Error): void {
    if (this.#closed !== undefined) return;
    this.#closed = e;
    clearInterval(this.#pinger);
    for (const w of this.#waiting.values()) w.reject(e);
    this.#waiting.clear();
    this.#onEvent?.();
  }
}

export class SessionExpiredError extends Error {
  override name = "SessionExpiredError";
  constructor() {
    super("session expired (the server answered the handshake with timeout 0)");
  }
}
