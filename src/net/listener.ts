// The client ports: accepts TCP connections, enforces maxClientCnxns per client address
// (ZooKeeper closes the extra connection at once), and tracks live connections for
// the four-letter words and a clean shutdown. With TLS configured it also serves
// secureClientPort (TLS only) and, with client.portUnification, TLS and plain clients on
// the plain port, told apart by the first byte (a TLS handshake record starts with 0x16).
// A TLS client's verified certificate becomes its x509 identity.

import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import type { Id } from "../jute/index.js";
import { ClientConnection, type ConnectionHost, type PeerInfo } from "./connection.js";
import { relay, verifyErrorOf, type TlsContextSource } from "./tls.js";
import { javaSubjectDn } from "./x509-name.js";

/** The client port's TLS: the secure port, port unification, and who a certificate is. */
export interface ListenerTls {
  /** secureClientPort; undefined = no TLS-only port. */
  readonly port: number | undefined;
  readonly host: string | undefined;
  /** client.portUnification: the plain port takes TLS clients too. */
  readonly unified: boolean;
  /** The identities a verified client certificate with this subject DN proves. */
  readonly idsOf: (subjectDn: string) => Id[];
}

export interface ListenerOptions {
  host: string | undefined;
  port: number;
  /** Per client address; 0 = unlimited. */
  maxClientCnxns: number;
  /** False while the server does not serve (an ensemble member in election): refuse. */
  acceptWhen?: (() => boolean) | undefined;
  /** False: no plain port (only secureClientPort was configured). Default true. */
  plain?: boolean | undefined;
  tls?: ListenerTls | undefined;
  /** A connection that has not finished its TLS handshake (or sent a byte, unified) by then is closed. */
  handshakeTimeoutMs?: number | undefined;
}

/** The first byte of a TLS record carrying a handshake (a ClientHello). */
export const TLS_HANDSHAKE_RECORD = 0x16;
const TLS_HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;

type Peer = { readonly address: string; readonly port: number };

export class ClientListener {
  readonly connections = new Set<ClientConnection>();
  readonly #perAddress = new Map<string, number>();
  readonly #server: Server | undefined;
  readonly #secureServer: Server | undefined;
  /** Sockets accepted but not yet connections (TLS handshake, or unified port's first byte). */
  readonly #pending = new Set<Socket>();
  readonly #host: Omit<ConnectionHost, "connectionClosed">;
  readonly #opts: ListenerOptions;
  #secureAddress: { host: string; port: number } | undefined;
  #contexts: TlsContextSource | undefined;

  constructor(host: Omit<ConnectionHost, "connectionClosed">, opts: ListenerOptions) {
    this.#host = host;
    this.#opts = opts;
    const unified = opts.tls?.unified === true;
    if (opts.plain !== false) {
      this.#server = createServer({ noDelay: true }, (socket) => this.#admit(socket, unified ? "unified" : "plain"));
    }
    if (opts.tls?.port !== undefined) {
      this.#secureServer = createServer({ noDelay: true }, (socket) => this.#admit(socket, "secure"));
    }
    if (this.#server === undefined && this.#secureServer === undefined) throw new Error("no client port to listen on");
  }

  /**
   * Listens on every configured port; resolves with the plain port's address (the secure
   * one's when there is none). With TLS configured, `contexts` gives the certificates
   * (and is closed with the listener).
   */
  async listen(contexts?: TlsContextSource): Promise<{ host: string; port: number }> {
    if (this.#opts.tls !== undefined && contexts === undefined) throw new Error("TLS is configured but no certificates were given");
    this.#contexts = contexts;
    const plain = this.#server === undefined ? undefined : await listenOn(this.#server, this.#opts.port, this.#opts.host);
    if (this.#secureServer !== undefined) {
      this.#secureAddress = await listenOn(this.#secureServer, this.#opts.tls?.port ?? 0, this.#opts.tls?.host ?? this.#opts.host);
    }
    const primary = plain ?? this.#secureAddress;
    if (primary === undefined) throw new Error("no client port to listen on");
    return primary;
  }

  /** secureClientPort's address once listening; undefined without one. */
  get secureAddress(): { host: string; port: number } | undefined {
    return this.#secureAddress;
  }

  #admit(socket: Socket, mode: "plain" | "unified" | "secure"): void {
    const addr = socket.remoteAddress ?? "";
    const n = this.#perAddress.get(addr) ?? 0;
    const max = this.#opts.maxClientCnxns;
    if (max > 0 && n >= max) {
      this.#host.log.warn({ client: addr, max }, `Too many connections from ${addr} - max is ${max}`);
      socket.destroy();
      return;
    }
    this.#perAddress.set(addr, n + 1);
    const peer = { address: addr, port: socket.remotePort ?? 0 };
    if (mode === "plain") this.#connect(socket, peer, {});
    else if (mode === "secure") this.#startTls(socket, socket, peer, "secure port");
    else this.#sniff(socket, peer);
  }

  #connect(socket: Socket, peer: Peer, info: PeerInfo): void {
    const conn = new ClientConnection(socket, {
      ...this.#host,
      serving: () => this.#opts.acceptWhen?.() !== false,
      connectionClosed: (c) => this.#closed(c, peer.address),
    }, { ...info, address: peer.address, port: peer.port });
    this.connections.add(conn);
  }

  /** Holds a socket until it becomes a connection; refusing it releases its per-address slot. */
  #hold(socket: Socket, peer: Peer, what: string): { refuse(reason: string, quiet?: boolean): void; done(): void } {
    this.#pending.add(socket);
    socket.on("error", () => undefined); // "close" follows and releases the slot
    let settled = false;
    const ms = this.#opts.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    const timer = setTimeout(() => refuse(`no ${what} within ${ms} ms`), ms);
    timer.unref();
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      this.#pending.delete(socket);
      return true;
    };
    const refuse = (reason: string, quiet = false): void => {
      if (!settle()) return;
      this.#host.log[quiet ? "debug" : "warn"]({ client: `${peer.address}:${peer.port}`, reason }, `refused client connection from ${peer.address}: ${reason}`);
      socket.destroy();
      this.#release(peer.address);
    };
    socket.once("close", () => {
      if (settle()) this.#release(peer.address);
    });
    return { refuse, done: () => void settle() };
  }

  /** client.portUnification: a first byte of 0x16 is a TLS ClientHello; anything else is a plain client. */
  #sniff(socket: Socket, peer: Peer): void {
    const hold = this.#hold(socket, peer, "first byte");
    socket.once("data", (first: Buffer) => {
      socket.pause();
      hold.done();
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        this.#startTls(relay(socket, first), socket, peer, "unified port");
        return;
      }
      socket.unshift(first);
      this.#connect(socket, peer, {});
      socket.resume();
    });
  }

  #startTls(stream: Duplex, raw: Socket, peer: Peer, port: string): void {
    const tls = this.#opts.tls;
    const contexts = this.#contexts;
    if (tls === undefined || contexts === undefined) throw new Error("TLS connection without TLS settings");
    const hold = this.#hold(raw, peer, "TLS handshake");
    const clientAuth = contexts.settings.clientAuth;
    const sock = new TLSSocket(stream, {
      isServer: true,
      secureContext: contexts.context,
      requestCert: clientAuth !== "none",
      rejectUnauthorized: clientAuth === "need",
    });
    // Destroying the raw socket ends the TLS socket too (over the handle it wrapped, or
    // through the relay). Destroying the TLS socket as well crashed the process in testing.
    const refuse = (reason: string, quiet = false): void => hold.refuse(reason, quiet);
    // A client that hangs up before its ClientHello (a port probe) is not worth a warning.
    const failed = (e: Error): void => refuse(handshakeFailure(e, port), isHangUp(e));
    sock.on("error", failed);
    sock.on("_tlsError", failed);
    sock.once("secure", () => {
      const cert = sock.getPeerX509Certificate();
      let authIds: Id[] = [];
      if (cert !== undefined) {
        // Node's verify callback accepts every chain and keeps the verdict for later, as
        // its own TLS server does: refuse an untrusted certificate here (want or need).
        const verdict = verifyErrorOf(sock);
        if (verdict !== null) {
          refuse(`client certificate not trusted (${verdict}) on the ${port}`);
          return;
        }
        let dn: string;
        try {
          dn = javaSubjectDn(cert);
        } catch (e) {
          refuse(`cannot read the client certificate's subject: ${(e as Error).message}`);
          return;
        }
        authIds = tls.idsOf(dn);
      } else if (clientAuth === "need") {
        refuse(`no client certificate on the ${port} (ssl.clientAuth=need)`);
        return;
      }
      hold.done();
      sock.off("error", failed);
      sock.off("_tlsError", failed);
      this.#connect(sock, peer, { authIds });
    });
  }

  #release(addr: string): void {
    const n = (this.#perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(addr);
    else this.#perAddress.set(addr, n);
  }

  #closed(c: ClientConnection, addr: string): void {
    if (!this.connections.delete(c)) return;
    this.#release(addr);
  }

  /** Closes every client connection (the server stopped serving); clients try another server. */
  dropConnections(reason: string): void {
    for (const c of [...this.connections]) c.close(reason);
  }

  /** Stops accepting, closes every connection, and resolves when the ports are free. */
  async close(): Promise<void> {
    const closing = [this.#server, this.#secureServer]
      .filter((s): s is Server => s !== undefined)
      .map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of [...this.#pending]) s.destroy();
    for (const c of [...this.connections]) {
      c.close("server shutting down");
      c.socket.destroy();
    }
    this.#contexts?.close();
    await Promise.all(closing);
  }
}

function listenOn(server: Server, port: number, host: string | undefined): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const addr = server.address();
      if (addr === null || typeof addr === "string") {
        reject(new Error("client port has no TCP address"));
        return;
      }
      resolve({ host: addr.address, port: addr.port });
    });
  });
}

function isHangUp(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ECONNRESET" || /disconnected before secure TLS connection/.test(e.message);
}

/** Why a TLS handshake failed, in words an operator can act on. */
function handshakeFailure(e: Error, port: string): string {
  const code = (e as NodeJS.ErrnoException).code ?? "";
  if (/WRONG_VERSION_NUMBER|HTTP_REQUEST|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH/.test(code)) {
    return `not a TLS handshake: a plain client on the ${port}? (${e.message})`;
  }
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE/.test(code)) return `no client certificate on the ${port} (ssl.clientAuth=need)`;
  return `TLS handshake failed on the ${port}: ${e.message}`;
}
