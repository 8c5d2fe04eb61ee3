// Faults on purpose, for tests of how an application copes: a client's network broken
// (ConnectionFaults: fault proxies in front of every server) and a session expired
// (expireSession: the server ends it, as when a client was away past its timeout).

import { ZooKeeperClient, parseConnectString } from "../client/index.js";
import { FaultProxy } from "./fault-proxy.js";

/** Bound of the short-lived session take-over in expireSession. */
const EXPIRE_CONNECT_TIMEOUT_MS = 10_000;

/** What has a connect string: a TestingServer, a TestingCluster, or `{ connectString }`. */
export interface HasConnectString {
  /** `host:port[,host:port...][/chroot]` */
  readonly connectString: string;
}

/**
 * One {@link FaultProxy} in front of every server of a connect string. A client that
 * connects through `faults.connectString` can have its network broken without touching
 * the servers or the other clients: give each client you want to fault its own
 * ConnectionFaults.
 *
 * @example
 * const faults = await ConnectionFaults.start(server);
 * const client = await connect(faults.connectString);
 * faults.cut();      // every connection of this client is reset; it reconnects (RECONNECTED)
 * faults.refuse(true); faults.cut(); // the client stays away (SUSPENDED) until heal()
 * faults.heal();
 * await faults.close();
 */
export class ConnectionFaults {
  /** The connect string through the proxies (with the target's chroot, if any). */
  readonly connectString: string;
  /** The proxies, one per server in the target's connect string, in its order. */
  readonly proxies: readonly FaultProxy[];

  private constructor(proxies: FaultProxy[], chroot: string) {
    this.proxies = proxies;
    this.connectString = proxies.map((p) => `${p.host}:${p.port}`).join(",") + chroot;
  }

  /** Starts one proxy per server of `target` (each on a free 127.0.0.1 port). */
  static async start(target: HasConnectString | string): Promise<ConnectionFaults> {
    const { hosts, chroot } = parseConnectString(typeof target === "string" ? target : target.connectString);
    const proxies: FaultProxy[] = [];
    try {
      for (const h of hosts) proxies.push(await FaultProxy.start(h));
    } catch (e) {
      await Promise.all(proxies.map((p) => p.close()));
      throw e;
    }
    return new ConnectionFaults(proxies, chroot);
  }

  /** Resets every open connection now (both sides); new connections pass. */
  cut(): void {
    for (const p of this.proxies) p.cut();
  }

  /** Holds every byte both ways (connections stay open and silent) until heal(), or for `ms`. */
  blackhole(ms?: number): void {
    for (const p of this.proxies) p.blackhole(ms);
  }

  /** While on, new connections are closed as soon as they are accepted. */
  refuse(on: boolean): void {
    for (const p of this.proxies) p.refuse(on);
  }

  /** Delivers every chunk `ms` late (0 = off). */
  delay(ms: number): void {
    for (const p of this.proxies) p.delay(ms);
  }

  /** Undoes blackhole, refuse and delay. */
  heal(): void {
    for (const p of this.proxies) p.heal();
  }

  /** Closes every proxy and every connection through them. */
  async close(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.close()));
  }
}

/** The session of a client to expire: Corral's client, or anything with its id and password. */
export interface SessionOf {
  /** The session id (nonzero: the client is connected). */
  readonly sessionId: bigint;
  /** The session password from the handshake. */
  readonly sessionPassword: Buffer;
}

/**
 * Ends `client`'s session on the server now, as if the client had been away past its
 * session timeout: its ephemeral nodes are deleted and its watches dropped on every
 * server. It takes the session over on a connection of its own (the server drops the
 * client's connection) and closes it. The client learns it when it reconnects: the server
 * answers SessionExpired, and Corral's client announces `LOST` with a `ZooKeeperError`
 * whose code is `SessionExpired` (then opens a new session, or ends, as its `afterLost`
 * option says).
 *
 * Resolves once the server has ended the session.
 */
export async function expireSession(target: HasConnectString | string, client: SessionOf): Promise<void> {
  if (client.sessionId === 0n) throw new Error("corral/testing: the client has no session (not connected)");
  const connectString = typeof target === "string" ? target : target.connectString;
  const killer = new ZooKeeperClient(connectString, { sessionTimeoutMs: EXPIRE_CONNECT_TIMEOUT_MS, connectTimeoutMs: EXPIRE_CONNECT_TIMEOUT_MS });
  try {
    await killer.start({ sessionId: client.sessionId, password: client.sessionPassword });
  } finally {
    await killer.close();
  }
}
