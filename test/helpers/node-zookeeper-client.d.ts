/**
 * Types for the parts of node-zookeeper-client 1.1.x (CommonJS, untyped) that
 * the integration tests use. Written from its source (index.js, lib/*.js).
 *
 * Import as `import zookeeper from "node-zookeeper-client"`: the default export
 * is the CommonJS `module.exports` object.
 *
 * 64-bit jute longs (zxids, times, ephemeralOwner, session id) arrive as 8-byte
 * big-endian Buffers; see `test/helpers/nzk.ts` for conversion to bigint.
 */
declare module "node-zookeeper-client" {
  import type { EventEmitter } from "node:events";

  type Callback<T> = (error: NzkException | Error | null, result: T) => void;
  type VoidCallback = (error: NzkException | Error | null) => void;
  type Watcher = (event: NzkEvent) => void;
  type DataCallback = (error: Error | null, data: Buffer | undefined, stat: NzkStat) => void;
  type ChildrenCallback = (error: Error | null, children: string[], stat: NzkStat) => void;

  interface NzkStat {
    czxid: Buffer;
    mzxid: Buffer;
    ctime: Buffer;
    mtime: Buffer;
    version: number;
    cversion: number;
    aversion: number;
    ephemeralOwner: Buffer;
    dataLength: number;
    numChildren: number;
    pzxid: Buffer;
  }

  interface NzkId {
    scheme: string;
    id: string;
  }
  interface NzkIdConstructor {
    new (scheme: string, id: string): NzkId;
    readonly ANYONE_ID_UNSAFE: NzkId;
    readonly AUTH_IDS: NzkId;
  }

  interface NzkAcl {
    permission: number;
    id: NzkId;
  }
  interface NzkAclConstructor {
    new (permission: number, id: NzkId): NzkAcl;
    readonly OPEN_ACL_UNSAFE: NzkAcl[];
    readonly CREATOR_ALL_ACL: NzkAcl[];
    readonly READ_ACL_UNSAFE: NzkAcl[];
  }

  interface NzkEvent {
    type: number;
    name: string;
    path: string;
    getType(): number;
    getName(): string;
    getPath(): string;
  }

  interface NzkException extends Error {
    code: number;
    name: string;
    path: string | undefined;
    getCode(): number;
    getName(): string;
  }

  interface NzkState {
    name: string;
    code: number;
  }

  /** One entry of a multi (transaction) reply. `type` -1 is an error result. */
  interface NzkOpResult {
    type: number;
    path?: string;
    stat?: NzkStat;
    err?: number;
  }

  interface NzkTransaction {
    create(path: string, data?: Buffer, acls?: NzkAcl[], mode?: number): NzkTransaction;
    create(path: string, data: Buffer | undefined, mode: number): NzkTransaction;
    create(path: string, mode: number): NzkTransaction;
    /** Note: the client turns version 0 into -1 (`version || -1`). */
    check(path: string, version?: number): NzkTransaction;
    setData(path: string, data: Buffer | null, version?: number): NzkTransaction;
    remove(path: string, version?: number): NzkTransaction;
    commit(callback: Callback<NzkOpResult[]>): void;
  }

  interface NzkClientOptions {
    sessionTimeout?: number;
    spinDelay?: number;
    retries?: number;
  }

  interface NzkClient extends EventEmitter {
    connect(): void;
    close(): void;
    getState(): NzkState;
    getSessionId(): Buffer;
    getSessionPassword(): Buffer;
    getSessionTimeout(): number;
    addAuthInfo(scheme: string, auth: Buffer): void;
    /**
     * Optional arguments are recognised by type: Buffer = data (null/undefined =
     * no data), array = ACLs (default world:anyone ALL), number = mode (default
     * PERSISTENT), function = callback (required, last).
     */
    create(path: string, callback: Callback<string>): void;
    create(path: string, data: Buffer | null | undefined, callback: Callback<string>): void;
    create(path: string, data: Buffer | null | undefined, mode: number, callback: Callback<string>): void;
    create(path: string, data: Buffer | null | undefined, acls: NzkAcl[], callback: Callback<string>): void;
    create(
      path: string,
      data: Buffer | null | undefined,
      acls: NzkAcl[],
      mode: number,
      callback: Callback<string>,
    ): void;
    create(path: string, mode: number, callback: Callback<string>): void;
    create(path: string, acls: NzkAcl[], mode: number, callback: Callback<string>): void;
    remove(path: string, callback: VoidCallback): void;
    remove(path: string, version: number, callback: VoidCallback): void;
    setData(path: string, data: Buffer | null, callback: Callback<NzkStat>): void;
    setData(path: string, data: Buffer | null, version: number, callback: Callback<NzkStat>): void;
    getData(path: string, callback: DataCallback): void;
    getData(path: string, watcher: Watcher | undefined, callback: DataCallback): void;
    exists(path: string, callback: Callback<NzkStat | null>): void;
    exists(path: string, watcher: Watcher | undefined, callback: Callback<NzkStat | null>): void;
    getChildren(path: string, callback: ChildrenCallback): void;
    getChildren(path: string, watcher: Watcher | undefined, callback: ChildrenCallback): void;
    getACL(path: string, callback: (e: Error | null, acls: NzkAcl[], stat: NzkStat) => void): void;
    setACL(path: string, acls: NzkAcl[], callback: Callback<NzkStat>): void;
    setACL(path: string, acls: NzkAcl[], version: number, callback: Callback<NzkStat>): void;
    mkdirp(path: string, callback: Callback<string>): void;
    mkdirp(path: string, data: Buffer | null | undefined, callback: Callback<string>): void;
    transaction(): NzkTransaction;
  }

  interface NodeZookeeperClient {
    createClient(connectionString: string, options?: NzkClientOptions): NzkClient;
    ACL: NzkAclConstructor;
    Id: NzkIdConstructor;
    Permission: { READ: 1; WRITE: 2; CREATE: 4; DELETE: 8; ADMIN: 16; ALL: 31 };
    CreateMode: { PERSISTENT: 0; EPHEMERAL: 1; PERSISTENT_SEQUENTIAL: 2; EPHEMERAL_SEQUENTIAL: 3 };
    Event: { NODE_CREATED: 1; NODE_DELETED: 2; NODE_DATA_CHANGED: 3; NODE_CHILDREN_CHANGED: 4 };
    State: Record<"DISCONNECTED" | "SYNC_CONNECTED" | "AUTH_FAILED" | "CONNECTED_READ_ONLY" | "SASL_AUTHENTICATED" | "EXPIRED", NzkState>;
    Exception: {
      readonly OK: 0;
      readonly SYSTEM_ERROR: -1;
      readonly RUNTIME_INCONSISTENCY: -2;
      readonly DATA_INCONSISTENCY: -3;
      readonly CONNECTION_LOSS: -4;
      readonly MARSHALLING_ERROR: -5;
      readonly UNIMPLEMENTED: -6;
      readonly OPERATION_TIMEOUT: -7;
      readonly BAD_ARGUMENTS: -8;
      readonly API_ERROR: -100;
      readonly NO_NODE: -101;
      readonly NO_AUTH: -102;
      readonly BAD_VERSION: -103;
      readonly NO_CHILDREN_FOR_EPHEMERALS: -108;
      readonly NODE_EXISTS: -110;
      readonly NOT_EMPTY: -111;
      readonly SESSION_EXPIRED: -112;
      readonly INVALID_CALLBACK: -113;
      readonly INVALID_ACL: -114;
      readonly AUTH_FAILED: -115;
    };
  }

  export type {
    NzkAcl,
    NzkClient,
    NzkClientOptions,
    NzkEvent,
    NzkException,
    NzkId,
    NzkOpResult,
    NzkStat,
    NzkTransaction,
  };

  const zookeeper: NodeZookeeperClient;
  /**
   * Type-only names reachable through the default import, so callers can write
   * `zookeeper.Client` (as the library's docs do). Erased at compile time.
   */
  // A namespace despite STYLE.md: in a .d.ts it is type-only and the one way to
  // hang type names off a default-exported value.
  namespace zookeeper {
    type Client = NzkClient;
    type ClientOptions = NzkClientOptions;
    type Stat = NzkStat;
    type Event = NzkEvent;
    type Exception = NzkException;
    type ACL = NzkAcl;
    type Id = NzkId;
    type Transaction = NzkTransaction;
    type OpResult = NzkOpResult;
  }
  export default zookeeper;
}
