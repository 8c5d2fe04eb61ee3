// The client port: accepts TCP connections, enforces maxClientCnxns per client address
// (ZooKeeper closes the extra connection at once), and tracks live connections for
// the four-letter words and a clean shutdown.

import { createServer, type Server, type Socket } from "node:net";
import { ClientConnection, type ConnectionHost } from "./connection.js";

export interface ListenerOptions {
  host: string | undefined;
  port: number;
  /** Per client address; 0 = unlimited. */
  maxClientCnxns: number;
  /** False while the server does not serve (an ensemble member in election): refuse. */
  acceptWhen?: (() => boolean) | undefined;
}

export class ClientListener {
  readonly connections = new Set<ClientConnection>();
  readonly #perAddress = new Map<string, number>();
  readonly #server: Server;
  readonly #host: Omit<ConnectionHost, "connectionClosed">;
  readonly #opts: ListenerOptions;

  constructor(host: Omit<ConnectionHost, "connectionClosed">, opts: ListenerOptions) {
    this.#host = host;
    this.#opts = opts;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.#server.once("error", onError);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off("error", onError);
        const addr = this.#server.address();
        if (addr === null || typeof addr === "string") throw new Error("client port has no TCP address");
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  #accept(socket: Socket): void {
    const addr = socket.remoteAddress ?? "";
    const n = this.#perAddress.get(addr) ?? 0;
    const max = this.#opts.maxClientCnxns;
    if (max > 0 && n >= max) {
      this.#host.log.warn({ client: addr, max }, `Too many connections from ${addr} - max is ${max}`);
      socket.destroy();
      return;
    }
    this.#perAddress.set(addr, n + 1);
    const conn = new ClientConnection(socket, {
      ...this.#host,
      serving: () => this.#opts.acceptWhen?.() !== false,
      connectionClosed: (c) => this.#closed(c, addr),
    });
    this.connections.add(conn);
  }

  #closed(c: ClientConnection, addr: string): void {
    if (!this.connections.delete(c)) return;
    const n = (this.#perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.#perAddress.delete(addr);
    else this.#perAddress.set(addr, n);
  }

  /** Closes every client connection (the server stopped serving); clients try another server. */
  dropConnections(reason: string): void {
    for (const c of [...this.connections]) c.close(reason);
  }

  /** Stops accepting, closes every connection, and resolves when the port is free. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of [...this.connections]) {
      c.close("server shutting down");
      c.socket.destroy();
    }
    await closed;
  }
}
