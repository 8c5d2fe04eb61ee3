/**
 * Promise wrapper around node-zookeeper-client for integration tests.
 *
 * - Every wait is bounded (`within`); tests never sleep to wait for an event.
 * - Watches come back as promises of the event they fire.
 * - Stats are converted to bigint zxids/times/owners (jute longs are signed 64-bit).
 * - `notifications` records every watch notification the server sent on this
 *   connection, before the client library's own one-shot bookkeeping, so tests
 *   can assert what the *server* delivered (e.g. that a watch fired only once).
 */
import { createHash } from "node:crypto";
import zookeeper from "node-zookeeper-client";
import type { NzkAcl, NzkClient, NzkEvent, NzkOpResult, NzkStat, NzkTransaction } from "node-zookeeper-client";

export { zookeeper };
export const { ACL, Id, Permission, CreateMode, Event, Exception } = zookeeper;

export const EVENT_WAIT_MS = 5_000;
const CONNECT_WAIT_MS = 10_000;
const CLOSE_WAIT_MS = 5_000;

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export function longOf(buffer: Buffer): bigint {
  if (buffer.length !== 8) throw new Error(`jute long must be 8 bytes, got ${buffer.length}`);
  return buffer.readBigInt64BE(0);
}

export function statOf(raw: NzkStat): Stat {
  return {
    czxid: longOf(raw.czxid),
    mzxid: longOf(raw.mzxid),
    ctime: longOf(raw.ctime),
    mtime: longOf(raw.mtime),
    version: raw.version,
    cversion: raw.cversion,
    aversion: raw.aversion,
    ephemeralOwner: longOf(raw.ephemeralOwner),
    dataLength: raw.dataLength,
    numChildren: raw.numChildren,
    pzxid: longOf(raw.pzxid),
  };
}

/** Rejects with a descriptive error when `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, label: string, ms: number = EVENT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Notification {
  type: number;
  path: string;
}

interface WatchTap {
  connectionManager: { watcherManager: { emit(event: { type: number; path: string }): void } };
}

export interface CreateOptions {
  data?: Buffer;
  acls?: NzkAcl[];
  mode?: number;
}

export interface Watched<T> {
  result: T;
  /** Resolves with the first (and only) event of this one-shot watch. */
  event: Promise<NzkEvent>;
}

function watcherPromise(): { watcher: (event: NzkEvent) => void; event: Promise<NzkEvent> } {
  let resolve: (event: NzkEvent) => void = () => undefined;
  const event = new Promise<NzkEvent>((r) => {
    resolve = r;
  });
  return { watcher: (e) => resolve(e), event };
}

export class ZkSession {
  readonly client: NzkClient;
  readonly notifications: Notification[] = [];
  #closed = false;

  constructor(client: NzkClient) {
    this.client = client;
    // Tap the raw notification stream: node-zookeeper-client dispatches every
    // server notification (xid -1) through watcherManager.emit.
    const manager = (client as unknown as WatchTap).connectionManager.watcherManager;
    const original = manager.emit.bind(manager);
    manager.emit = (event) => {
      this.notifications.push({ type: event.type, path: event.path });
      original(event);
    };
  }

  get sessionId(): bigint {
    return longOf(this.client.getSessionId());
  }

  create(path: string, opts: CreateOptions = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      this.client.create(path, opts.data, opts.acls ?? ACL.OPEN_ACL_UNSAFE, opts.mode ?? CreateMode.PERSISTENT, (e, p) =>
        e ? reject(e) : resolve(p),
      );
    });
  }

  remove(path: string, version = -1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.remove(path, version, (e) => (e ? reject(e) : resolve()));
    });
  }

  setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    return new Promise((resolve, reject) => {
      this.client.setData(path, data, version, (e, s) => (e ? reject(e) : resolve(statOf(s))));
    });
  }

  getData(path: string): Promise<{ data: Buffer | undefined; stat: Stat }> {
    return new Promise((resolve, reject) => {
      this.client.getData(path, undefined, (e, data, s) => (e ? reject(e) : resolve({ data, stat: statOf(s) })));
    });
  }

  getDataW(path: string): Promise<Watched<{ data: Buffer | undefined; stat: Stat }>> {
    const w = watcherPromise();
    return new Promise((resolve, reject) => {
      this.client.getData(path, w.watcher, (e, data, s) =>
        e ? reject(e) : resolve({ result: { data, stat: statOf(s) }, event: w.event }),
      );
    });
  }

  exists(path: string): Promise<Stat | null> {
    return new Promise((resolve, reject) => {
      this.client.exists(path, undefined, (e, s) => (e ? reject(e) : resolve(s === null ? null : statOf(s))));
    });
  }

  existsW(path: string): Promise<Watched<Stat | null>> {
    const w = watcherPromise();
    return new Promise((resolve, reject) => {
      this.client.exists(path, w.watcher, (e, s) =>
        e ? reject(e) : resolve({ result: s === null ? null : statOf(s), event: w.event }),
      );
    });
  }

  getChildren(path: string): Promise<{ children: string[]; stat: Stat }> {
    return new Promise((resolve, reject) => {
      this.client.getChildren(path, undefined, (e, children, s) =>
        e ? reject(e) : resolve({ children, stat: statOf(s) }),
      );
    });
  }

  getChildrenW(path: string): Promise<Watched<{ children: string[]; stat: Stat }>> {
    const w = watcherPromise();
    return new Promise((resolve, reject) => {
      this.client.getChildren(path, w.watcher, (e, children, s) =>
        e ? reject(e) : resolve({ result: { children, stat: statOf(s) }, event: w.event }),
      );
    });
  }

  getACL(path: string): Promise<{ acls: NzkAcl[]; stat: Stat }> {
    return new Promise((resolve, reject) => {
      this.client.getACL(path, (e, acls, s) => (e ? reject(e) : resolve({ acls, stat: statOf(s) })));
    });
  }

  setACL(path: string, acls: NzkAcl[], version = -1): Promise<Stat> {
    return new Promise((resolve, reject) => {
      this.client.setACL(path, acls, version, (e, s) => (e ? reject(e) : resolve(statOf(s))));
    });
  }

  /**
   * Commits a multi. Resolves with the per-op results even when the multi
   * failed (`error` is then the first failing op's exception), since the
   * results are what a test wants to inspect.
   */
  commit(tx: NzkTransaction): Promise<{ error: Error | null; results: NzkOpResult[] }> {
    return new Promise((resolve) => {
      tx.commit((error, results) => resolve({ error, results }));
    });
  }

  addDigest(userColonPassword: string): void {
    this.client.addAuthInfo("digest", Buffer.from(userColonPassword));
  }

  /** Closes the session (closeSession request) and waits until the socket is gone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const gone = new Promise<void>((resolve) => this.client.once("disconnected", () => resolve()));
    this.client.close();
    await within(gone, "client to disconnect after close()", CLOSE_WAIT_MS);
  }
}

export async function connect(connectString: string, sessionTimeoutMs = 10_000): Promise<ZkSession> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: sessionTimeoutMs, retries: 0 });
  const session = new ZkSession(client);
  const connected = new Promise<void>((resolve) => client.once("connected", () => resolve()));
  client.connect();
  try {
    await within(connected, `connection to ${connectString}`, CONNECT_WAIT_MS);
  } catch (error) {
    client.close();
    throw error;
  }
  return session;
}

/** `digest` ACL id for user:password, as DigestAuthenticationProvider stores it. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash("sha1").update(`${user}:${password}`).digest("base64")}`;
}

/** A path prefix unique to this process and call, so tests never collide. */
let uniqueCounter = 0;
export function uniquePath(label: string): string {
  uniqueCounter += 1;
  return `/t-${process.pid}-${Date.now().toString(36)}-${uniqueCounter}-${label}`;
}
