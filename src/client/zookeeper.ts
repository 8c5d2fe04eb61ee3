// Every ZooKeeper op, typed: results carry Stat, failures are ZooKeeperErrors, every call
// takes an AbortSignal. Paths are the caller's (chroot applied here, in and out).

import {
  AddWatchMode,
  AddWatchRequestSchema,
  Create2ResponseSchema,
  CreateResponseSchema,
  CreateMode,
  Err,
  ErrorResponseSchema,
  GetACLResponseSchema,
  GetAllChildrenNumberResponseSchema,
  GetChildren2ResponseSchema,
  GetChildrenResponseSchema,
  GetDataResponseSchema,
  GetEphemeralsRequestSchema,
  GetEphemeralsResponseSchema,
  JuteReader,
  MultiHeaderSchema,
  OpCode,
  PathSchema,
  PathTypeSchema,
  PathVersionSchema,
  PathWatchSchema,
  Perms,
  ReconfigRequestSchema,
  SetACLRequestSchema,
  SetDataRequestSchema,
  WatcherType,
  WhoAmIResponseSchema,
  decodeRecord,
  encodeRecord,
  readStat,
  type ACL,
  type JuteWriter,
  type Stat,
  writeCreateRequest,
} from "../jute/index.js";
import { Client, isFinal, type CallOptions, type ClientOptions } from "./client.js";
import type { ConnectionState } from "./states.js";
import { toClientPath, toServerPath } from "./connect-string.js";
import { ZooKeeperError } from "./errors.js";
import { ClientWatchKind, type WatchEvent, type WatchListener } from "./watches.js";

export type { ACL, Stat };

const CONFIG_NODE = "/zookeeper/config";

/** A reconfig request (ZooKeeperAdmin.reconfigure's arguments). */
export interface ReconfigChange {
  /** Server entries to add or change, e.g. "server.4=host:2888:3888;2181" (comma-separated or a list). */
  joining?: string | readonly string[];
  /** Ids of the servers to remove. */
  leaving?: string | readonly (string | number | bigint)[];
  /** The whole new configuration (a bulk reconfig; not with `joining`/`leaving`). */
  members?: string | readonly string[];
  /** The configuration version the change is made from; -1 (default) for any. */
  fromConfig?: bigint;
}

/**
 * ZooKeeper's CreateMode. Containers are deleted by the server once their last child goes;
 * the TTL modes need `ttlMs` and the server's `extendedTypesEnabled=true`.
 */
export type NodeMode =
  | "persistent"
  | "ephemeral"
  | "persistentSequential"
  | "ephemeralSequential"
  | "container"
  | "persistentTtl"
  | "persistentSequentialTtl";

const MODE_FLAGS: Record<NodeMode, number> = {
  persistent: CreateMode.Persistent,
  ephemeral: CreateMode.Ephemeral,
  persistentSequential: CreateMode.PersistentSequential,
  ephemeralSequential: CreateMode.EphemeralSequential,
  container: CreateMode.Container,
  persistentTtl: CreateMode.PersistentWithTtl,
  persistentSequentialTtl: CreateMode.PersistentSequentialWithTtl,
};

/** Everyone may do everything (ZooKeeper's Ids.OPEN_ACL_UNSAFE); the default ACL of a create. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.All, id: { scheme: "world", id: "anyone" } }];
/** Everyone may read (ZooKeeper's Ids.READ_ACL_UNSAFE). */
export const READ_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.Read, id: { scheme: "world", id: "anyone" } }];
/** All rights to the identities the creating session authenticated as (ZooKeeper's Ids.CREATOR_ALL_ACL). */
export const CREATOR_ALL_ACL: readonly ACL[] = [{ perms: Perms.All, id: { scheme: "auth", id: "" } }];

/** Options of `create` and `create2`. */
export interface CreateOptions extends CallOptions {
  /** Default "persistent". */
  mode?: NodeMode;
  /** Default `OPEN_ACL_UNSAFE`. */
  acl?: readonly ACL[];
  /** TTL in ms, for the TTL modes. */
  ttlMs?: number;
  /**
   * Creates missing parents first, with the same ACL: as persistent nodes (`true`, Curator's
   * `creatingParentsIfNeeded()`, kazoo's `makepath=True`) or as containers (`"container"`,
   * Curator's `creatingParentContainersIfNeeded()`). Costs nothing when the parent exists:
   * the create is tried first, and only a NoNode answer creates the parents (each
   * NodeExists ignored) and tries again.
   */
  createParents?: boolean | "container";
}

/** Options of the calls that check a version (delete, setData, setACL). */
export interface VersionOptions extends CallOptions {
  /** Expected version; -1 (default) matches any. */
  version?: number;
}

/** Options of the reads that can leave a one-shot watch (getData, exists, getChildren, getChildren2). */
export interface WatchOptions extends CallOptions {
  /** Leaves a one-shot watch that calls this listener once, on the next change. */
  watch?: WatchListener;
}

/** A node's data as calls take it: a string is sent as UTF-8; null and undefined as no data. */
export type Data = Buffer | string | null | undefined;

/** One op of a multi. */
export type MultiOp =
  | {
      /** Creates `path`, as `create` with these options. */
      op: "create";
      /** The node to create. */
      path: string;
      /** Its data. */
      data?: Data;
      /** Default "persistent". */
      mode?: NodeMode;
      /** Default `OPEN_ACL_UNSAFE`. */
      acl?: readonly ACL[];
      /** TTL in ms, for the TTL modes. */
      ttlMs?: number;
    }
  | {
      /** Deletes `path`. */
      op: "delete";
      /** The node to delete. */
      path: string;
      /** Expected version; -1 (default) matches any. */
      version?: number;
    }
  | {
      /** Sets the data of `path`. */
      op: "setData";
      /** The node. */
      path: string;
      /** Its new data. */
      data: Data;
      /** Expected version; -1 (default) matches any. */
      version?: number;
    }
  | {
      /** Fails the multi unless `path` is at `version`. */
      op: "check";
      /** The node. */
      path: string;
      /** The version it must have. */
      version: number;
    };

/** One op's result in a multi, in the order of the ops. */
export type MultiResult =
  | {
      /** A create. */
      op: "create";
      /** The path created (with its sequence suffix). */
      path: string;
      /** Its Stat (all zeros when the server answered a plain create). */
      stat: Stat;
    }
  | {
      /** A delete. */
      op: "delete";
    }
  | {
      /** A setData. */
      op: "setData";
      /** The node's new Stat. */
      stat: Stat;
    }
  | {
      /** A check. */
      op: "check";
    }
  | {
      /** An op of a failed multi: `err` is 0 for the ops before the one that failed, -2 (RuntimeInconsistency) after it. */
      op: "error";
      /** ZooKeeper's numeric code. */
      err: number;
      /** The code's name ("Ok", "NoNode", ...). */
      code: string;
    };

/** A multi that failed: nothing was applied; `errno`/`code` and `path` are the failing op's. */
export class MultiError extends ZooKeeperError {
  /** Every op's result (`op: "error"`), the failing one with its code. */
  readonly results: MultiResult[];
  constructor(errno: number, path: string | undefined, results: MultiResult[]) {
    super(errno, path);
    this.results = results;
  }
}

function toBuffer(data: Data): Buffer | null {
  if (data === null || data === undefined) return null;
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/**
 * ZooKeeper's API over `Client`: every op typed, paths in the caller's chroot. The plain
 * reads retry by themselves under the client's `retryPolicy` (see `Client.retry`); writes
 * never do. Connection states, bounded calls and keep-alive: docs/client.md.
 */
export class ZooKeeperClient extends Client {
  constructor(connectString: string, opts: ClientOptions = {}) {
    super(connectString, opts);
  }

  #p(path: string): string {
    return toServerPath(this.chroot, path);
  }

  /**
   * A plain read: safe to repeat, so it retries by itself under the client's
   * `retryPolicy` (none by default). Writes never do (see `retry`).
   */
  #read<T>(opts: CallOptions, call: () => Promise<T>): Promise<T> {
    return this.retry(call, undefined, opts);
  }

  /** Creates a node; returns its path (with the sequence suffix for sequential modes). */
  async create(path: string, data?: Data, opts: CreateOptions = {}): Promise<string> {
    return (await this.#create(path, data, opts, false)).path;
  }

  /** Creates a node; returns its path and Stat (ZooKeeper's create2). */
  async create2(path: string, data?: Data, opts: CreateOptions = {}): Promise<{
    /** The path created (with the sequence suffix for sequential modes). */
    path: string;
    /** The new node's Stat. */
    stat: Stat;
  }> {
    const r = await this.#create(path, data, opts, true);
    if (r.stat === undefined) throw new Error("create2: the answer carried no Stat");
    return { path: r.path, stat: r.stat };
  }

  /**
   * A plain create is sent as ZooKeeper's `create`, whose answer is the path alone (as the
   * Java client's create does), so neither side encodes or decodes a Stat nobody reads.
   * Containers and TTL nodes have op codes of their own, answered with a Stat.
   */
  async #create(path: string, data: Data | undefined, opts: CreateOptions, withStat: boolean): Promise<{ path: string; stat: Stat | undefined }> {
    if (opts.createParents === undefined || opts.createParents === false) return this.#createOnce(path, data, opts, withStat);
    try {
      return await this.#createOnce(path, data, opts, withStat);
    } catch (e) {
      if (!ZooKeeperError.is(e, "NoNode")) throw e;
    }
    const parentMode: NodeMode = opts.createParents === "container" ? "container" : "persistent";
    await this.#ensure(path.slice(0, path.lastIndexOf("/")), { ...(opts.acl === undefined ? {} : { acl: opts.acl }), mode: parentMode, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    return this.#createOnce(path, data, opts, withStat);
  }

  /**
   * Creates `path` and every missing ancestor as empty persistent nodes (kazoo's
   * `ensure_path`), or containers with `{ mode: "container" }`; nodes that exist are left
   * as they are. One exists() when the path is there already.
   */
  async ensurePath(path: string, opts: Pick<CreateOptions, "acl" | "signal"> & { mode?: "persistent" | "container" } = {}): Promise<void> {
    if ((await this.exists(path, opts.signal === undefined ? {} : { signal: opts.signal })) !== null) return;
    await this.#ensure(path, { ...opts, mode: opts.mode ?? "persistent" });
  }

  async #ensure(path: string, opts: CreateOptions): Promise<void> {
    let cur = "";
    for (const part of path.split("/")) {
      if (part === "") continue;
      cur += `/${part}`;
      try {
        await this.#createOnce(cur, null, opts, false);
      } catch (e) {
        if (!ZooKeeperError.is(e, "NodeExists")) throw e;
      }
    }
  }

  async #createOnce(path: string, data: Data | undefined, opts: CreateOptions, withStat: boolean): Promise<{ path: string; stat: Stat | undefined }> {
    const mode = opts.mode ?? "persistent";
    const flags = MODE_FLAGS[mode];
    const ttl = opts.ttlMs;
    const opCode = mode === "container" ? OpCode.createContainer : ttl !== undefined ? OpCode.createTTL : withStat ? OpCode.create2 : OpCode.create;
    const r = await this.request(
      opCode,
      path,
      (w) => writeCreate(w, this.#p(path), toBuffer(data), opts.acl ?? OPEN_ACL_UNSAFE, flags, ttl),
      (rd): { path: string; stat?: Stat } => (opCode === OpCode.create ? decodeRecord(rd, CreateResponseSchema) : decodeRecord(rd, Create2ResponseSchema)),
      opts,
    );
    return { path: toClientPath(this.chroot, r.path), stat: r.stat };
  }

  /** Deletes a node (NotEmpty if it has children; BadVersion unless `version` matches). */
  async delete(path: string, opts: VersionOptions = {}): Promise<void> {
    const body = { path: this.#p(path), version: opts.version ?? -1 };
    await this.request(OpCode.delete, path, (w) => encodeRecord(w, PathVersionSchema, body), undefined, opts);
  }

  /** The node's Stat, or null if it does not exist. A watch fires on create, change or delete. */
  async exists(path: string, opts: WatchOptions = {}): Promise<Stat | null> {
    const sp = this.#p(path);
    const watch = opts.watch;
    try {
      return await this.#read(opts, () => this.request(
        OpCode.exists,
        path,
        (w) => encodeRecord(w, PathWatchSchema, { path: sp, watch: watch !== undefined }),
        (r) => readStat(r),
        {
          ...opts,
          onReply: (err) => {
            if (watch === undefined) return;
            if (err === Err.Ok) this.watches.add(ClientWatchKind.Data, path, watch);
            else if (err === Err.NoNode) this.watches.add(ClientWatchKind.Exist, path, watch);
          },
        },
      ));
    } catch (e) {
      if (ZooKeeperError.is(e, "NoNode")) return null;
      throw e;
    }
  }

  /** A node's data and Stat (NoNode if it does not exist). A watch fires on change or delete. */
  async getData(path: string, opts: WatchOptions = {}): Promise<{
    /** The node's data (null when it has none). */
    data: Buffer | null;
    /** The node's Stat. */
    stat: Stat;
  }> {
    return this.#read(opts, () => this.request(
      OpCode.getData,
      path,
      (w) => encodeRecord(w, PathWatchSchema, { path: this.#p(path), watch: opts.watch !== undefined }),
      (r) => decodeRecord(r, GetDataResponseSchema),
      { ...opts, onReply: this.#registerOnOk(ClientWatchKind.Data, path, opts.watch) },
    ));
  }

  /** Sets a node's data (BadVersion unless `version` matches); resolves to its new Stat. */
  async setData(path: string, data: Data, opts: VersionOptions = {}): Promise<Stat> {
    const body = { path: this.#p(path), data: toBuffer(data), version: opts.version ?? -1 };
    return this.request(OpCode.setData, path, (w) => encodeRecord(w, SetDataRequestSchema, body), (r) => readStat(r), opts);
  }

  /** A node's ACL and Stat. */
  async getACL(path: string, opts: CallOptions = {}): Promise<{
    /** The node's ACL. */
    acl: ACL[];
    /** The node's Stat. */
    stat: Stat;
  }> {
    const sp = this.#p(path);
    return this.#read(opts, () => this.request(OpCode.getACL, path, (w) => encodeRecord(w, PathSchema, { path: sp }), (r) => decodeRecord(r, GetACLResponseSchema), opts));
  }

  /** Sets a node's ACL (BadVersion unless `version` matches the ACL version); resolves to its new Stat. */
  async setACL(path: string, acl: readonly ACL[], opts: VersionOptions = {}): Promise<Stat> {
    const body = { path: this.#p(path), acl: [...acl], version: opts.version ?? -1 };
    return this.request(OpCode.setACL, path, (w) => encodeRecord(w, SetACLRequestSchema, body), (r) => readStat(r), opts);
  }

  /** The names of a node's children (unordered). A watch fires when a child is added or removed, or the node deleted. */
  async getChildren(path: string, opts: WatchOptions = {}): Promise<string[]> {
    return this.#read(opts, () => this.request(
      OpCode.getChildren,
      path,
      (w) => encodeRecord(w, PathWatchSchema, { path: this.#p(path), watch: opts.watch !== undefined }),
      (r) => decodeRecord(r, GetChildrenResponseSchema).children,
      { ...opts, onReply: this.#registerOnOk(ClientWatchKind.Child, path, opts.watch) },
    ));
  }

  /** As getChildren, with the node's Stat. */
  async getChildren2(path: string, opts: WatchOptions = {}): Promise<{
    /** The children's names. */
    children: string[];
    /** The node's Stat. */
    stat: Stat;
  }> {
    return this.#read(opts, () => this.request(
      OpCode.getChildren2,
      path,
      (w) => encodeRecord(w, PathWatchSchema, { path: this.#p(path), watch: opts.watch !== undefined }),
      (r) => decodeRecord(r, GetChildren2ResponseSchema),
      { ...opts, onReply: this.#registerOnOk(ClientWatchKind.Child, path, opts.watch) },
    ));
  }

  /** Makes this server catch up with the leader before this session's next read. */
  async sync(path: string, opts: CallOptions = {}): Promise<void> {
    const sp = this.#p(path);
    await this.#read(opts, () => this.request(OpCode.sync, path, (w) => encodeRecord(w, PathSchema, { path: sp }), undefined, opts));
  }

  /** All ops or none. On failure throws MultiError whose results say which op failed. */
  async multi(ops: readonly MultiOp[], opts: CallOptions = {}): Promise<MultiResult[]> {
    const results = await this.request(
      OpCode.multi,
      undefined,
      (w) => {
        for (const op of ops) this.#writeMultiOp(w, op);
        encodeRecord(w, MultiHeaderSchema, { type: -1, done: true, err: -1 });
      },
      (r) => this.#readMultiResults(r),
      opts,
    );
    const failedAt = results.findIndex((x) => x.op === "error" && x.err !== Err.Ok && x.err !== Err.RuntimeInconsistency);
    if (failedAt !== -1) {
      const f = results[failedAt] as { err: number };
      throw new MultiError(f.err, ops[failedAt]?.path, results);
    }
    return results;
  }

  #writeMultiOp(w: JuteWriter, op: MultiOp): void {
    const path = this.#p(op.path);
    switch (op.op) {
      case "create": {
        const mode = op.mode ?? "persistent";
        const type = mode === "container" ? OpCode.createContainer : op.ttlMs !== undefined ? OpCode.createTTL : OpCode.create2;
        encodeRecord(w, MultiHeaderSchema, { type, done: false, err: -1 });
        writeCreate(w, path, toBuffer(op.data), op.acl ?? OPEN_ACL_UNSAFE, MODE_FLAGS[mode], op.ttlMs);
        return;
      }
      case "delete":
        encodeRecord(w, MultiHeaderSchema, { type: OpCode.delete, done: false, err: -1 });
        encodeRecord(w, PathVersionSchema, { path, version: op.version ?? -1 });
        return;
      case "setData":
        encodeRecord(w, MultiHeaderSchema, { type: OpCode.setData, done: false, err: -1 });
        encodeRecord(w, SetDataRequestSchema, { path, data: toBuffer(op.data), version: op.version ?? -1 });
        return;
      case "check":
        encodeRecord(w, MultiHeaderSchema, { type: OpCode.check, done: false, err: -1 });
        encodeRecord(w, PathVersionSchema, { path, version: op.version });
        return;
    }
  }

  #readMultiResults(r: JuteReader): MultiResult[] {
    const out: MultiResult[] = [];
    for (;;) {
      const h = decodeRecord(r, MultiHeaderSchema);
      if (h.done) return out;
      switch (h.type) {
        case OpCode.create: {
          const path = decodeRecord(r, PathSchema).path;
          out.push({ op: "create", path: toClientPath(this.chroot, path), stat: ZERO_STAT });
          break;
        }
        case OpCode.create2:
        case OpCode.createContainer:
        case OpCode.createTTL: {
          const c = decodeRecord(r, Create2ResponseSchema);
          out.push({ op: "create", path: toClientPath(this.chroot, c.path), stat: c.stat });
          break;
        }
        case OpCode.delete:
          out.push({ op: "delete" });
          break;
        case OpCode.setData:
          out.push({ op: "setData", stat: readStat(r) });
          break;
        case OpCode.check:
          out.push({ op: "check" });
          break;
        default: {
          const err = decodeRecord(r, ErrorResponseSchema).err;
          out.push({ op: "error", err, code: new ZooKeeperError(err).code });
        }
      }
    }
  }

  /** Several reads in one round trip; each answers on its own. */
  async multiRead(
    ops: readonly ({ op: "getData"; path: string } | { op: "getChildren"; path: string })[],
    opts: CallOptions = {},
  ): Promise<(
    | {
        /** A getData's data. */
        data: Buffer | null;
        /** A getData's Stat. */
        stat: Stat;
      }
    | {
        /** A getChildren's names. */
        children: string[];
      }
    | {
        /** Why this read failed (the others still answer). */
        error: ZooKeeperError;
      }
  )[]> {
    return this.#read(opts, () => this.request(
      OpCode.multiRead,
      undefined,
      (w) => {
        for (const op of ops) {
          encodeRecord(w, MultiHeaderSchema, { type: op.op === "getData" ? OpCode.getData : OpCode.getChildren, done: false, err: -1 });
          encodeRecord(w, PathWatchSchema, { path: this.#p(op.path), watch: false });
        }
        encodeRecord(w, MultiHeaderSchema, { type: -1, done: true, err: -1 });
      },
      (r) => {
        const out: ({ data: Buffer | null; stat: Stat } | { children: string[] } | { error: ZooKeeperError })[] = [];
        let i = 0;
        for (;;) {
          const h = decodeRecord(r, MultiHeaderSchema);
          if (h.done) return out;
          if (h.type === OpCode.getData) out.push(decodeRecord(r, GetDataResponseSchema));
          else if (h.type === OpCode.getChildren) out.push(decodeRecord(r, GetChildrenResponseSchema));
          else out.push({ error: new ZooKeeperError(decodeRecord(r, ErrorResponseSchema).err, ops[i]?.path) });
          i++;
        }
      },
      opts,
    ));
  }

  /** A persistent (optionally recursive) watch: fires on every change until removed. */
  async addWatch(path: string, listener: WatchListener, opts: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    const mode = opts.recursive === true ? AddWatchMode.PersistentRecursive : AddWatchMode.Persistent;
    const kind = opts.recursive === true ? ClientWatchKind.PersistentRecursive : ClientWatchKind.Persistent;
    await this.request(
      OpCode.addWatch,
      path,
      (w) => encodeRecord(w, AddWatchRequestSchema, { path: this.#p(path), mode }),
      undefined,
      { ...opts, onReply: this.#registerOnOk(kind, path, listener) },
    );
  }

  /**
   * A persistent watch as an async iterator; leaving the loop removes the watch. The watch
   * is re-armed after reconnects and on a new session after LOST; the loop ends when the
   * client does (CLOSED). While the loop waits for an event it keeps the process alive.
   */
  watch(path: string, opts: CallOptions & { recursive?: boolean } = {}): AsyncIterable<WatchEvent> {
    const client = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
        const buffered: WatchEvent[] = [];
        let wake: ((r: IteratorResult<WatchEvent>) => void) | undefined;
        let done = false;
        const listener: WatchListener = (e) => {
          if (wake !== undefined) {
            const w = wake;
            wake = undefined;
            w({ value: e, done: false });
          } else buffered.push(e);
        };
        const added = client.addWatch(path, listener, opts);
        // The client ending (closed, or its session lost for good) ends the loop.
        const onState = (s: ConnectionState): void => {
          if (s === "CLOSED" || (s === "LOST" && isFinal(client.state))) {
            void finish();
            wake?.({ value: undefined, done: true });
          }
        };
        client.on("connectionState", onState);
        const finish = async (): Promise<IteratorResult<WatchEvent>> => {
          if (!done) {
            done = true;
            client.off("connectionState", onState);
            const type = opts.recursive === true ? WatcherType.PersistentRecursive : WatcherType.Persistent;
            await client.removeWatches(path, type, listener, { local: true }).catch(() => undefined);
          }
          return { value: undefined, done: true };
        };
        opts.signal?.addEventListener("abort", () => {
          void finish();
          wake?.({ value: undefined, done: true });
        });
        return {
          async next(): Promise<IteratorResult<WatchEvent>> {
            await added;
            if (done) return { value: undefined, done: true };
            const e = buffered.shift();
            if (e !== undefined) return { value: e, done: false };
            // A loop waiting for the next event keeps the process alive, through reconnects.
            const release = client.holdOpen();
            return new Promise((resolve) => {
              wake = (r) => {
                release();
                resolve(r);
              };
            });
          },
          return: finish,
        };
      },
    };
  }

  /**
   * Removes watches of `type` (WatcherType) on `path` — the given listener only, or all.
   * With `local`, removes them here even if the server cannot be reached.
   */
  async removeWatches(path: string, type: number, listener?: WatchListener, opts: CallOptions & { local?: boolean } = {}): Promise<void> {
    const kinds = clientKinds(type);
    const removedHere = kinds.filter((k) => this.watches.has(k, path));
    if (removedHere.length === 0) throw new ZooKeeperError(Err.NoWatcher, path);
    for (const k of removedHere) this.watches.remove(k, path, listener);
    const stillHeld = kinds.some((k) => this.watches.has(k, path));
    if (stillHeld) return;
    const sp = this.#p(path);
    try {
      await this.request(OpCode.removeWatches, path, (w) => encodeRecord(w, PathTypeSchema, { path: sp, type }), undefined, opts);
    } catch (e) {
      if (!(opts.local === true && e instanceof ZooKeeperError)) throw e;
    }
  }

  /** This session's ephemeral nodes whose path starts with `prefix`. */
  async getEphemerals(prefix = "/", opts: CallOptions = {}): Promise<string[]> {
    const prefixPath = this.#p(prefix);
    const list = await this.#read(opts, () => this.request(
      OpCode.getEphemerals,
      prefix,
      (w) => encodeRecord(w, GetEphemeralsRequestSchema, { prefixPath }),
      (r) => decodeRecord(r, GetEphemeralsResponseSchema).ephemerals,
      opts,
    ));
    return list.map((p) => toClientPath(this.chroot, p));
  }

  /** Number of nodes below `path` (not counting it). */
  async getAllChildrenNumber(path: string, opts: CallOptions = {}): Promise<number> {
    const sp = this.#p(path);
    return this.#read(opts, () => this.request(
      OpCode.getAllChildrenNumber,
      path,
      (w) => encodeRecord(w, PathSchema, { path: sp }),
      (r) => decodeRecord(r, GetAllChildrenNumberResponseSchema).totalNumber,
      opts,
    ));
  }

  /** ZooKeeper.getConfig: the ensemble's configuration at /zookeeper/config (never chrooted). */
  async getConfig(opts: CallOptions = {}): Promise<{
    /** The configuration text (`server.N=...` lines and `version=`). */
    data: Buffer | null;
    /** The Stat of /zookeeper/config. */
    stat: Stat;
  }> {
    return this.#read(opts, () => this.request(
      OpCode.getData,
      CONFIG_NODE,
      (w) => encodeRecord(w, PathWatchSchema, { path: CONFIG_NODE, watch: false }),
      (r) => decodeRecord(r, GetDataResponseSchema),
      opts,
    ));
  }

  /**
   * ZooKeeperAdmin.reconfigure: incremental (`joining` server entries such as
   * "server.4=host:2888:3888;2181", `leaving` server ids) or bulk (`members`, the whole
   * new configuration). `fromConfig` makes it fail with BadVersion unless the
   * configuration is still that version. Resolves to the new configuration and its Stat.
   */
  async reconfig(change: ReconfigChange, opts: CallOptions = {}): Promise<{
    /** The new configuration text. */
    data: Buffer | null;
    /** The Stat of /zookeeper/config. */
    stat: Stat;
  }> {
    const list = (v: string | readonly (string | number | bigint)[] | undefined): string =>
      v === undefined ? "" : typeof v === "string" ? v : v.map(String).join(",");
    const body = {
      joiningServers: list(change.joining),
      leavingServers: list(change.leaving),
      newMembers: list(change.members),
      curConfigId: change.fromConfig ?? -1n,
    };
    // ZooKeeper's client reports reconfig errors with an empty path.
    return this.request(
      OpCode.reconfig,
      "",
      (w) => encodeRecord(w, ReconfigRequestSchema, body),
      (r) => decodeRecord(r, GetDataResponseSchema),
      opts,
    );
  }

  /** The identities this session is authenticated as (ZooKeeper 3.7's whoAmI). */
  async whoAmI(opts: CallOptions = {}): Promise<{
    /** "ip", "digest", "sasl", ... */
    authScheme: string;
    /** The identity within the scheme (an address, a user name). */
    user: string;
  }[]> {
    return this.#read(opts, () => this.request(OpCode.whoAmI, undefined, undefined, (r) => decodeRecord(r, WhoAmIResponseSchema).clientInfo, opts));
  }

  #registerOnOk(kind: ClientWatchKind, path: string, listener: WatchListener | undefined): ((err: number) => void) | undefined {
    if (listener === undefined) return undefined;
    return (err) => {
      if (err === Err.Ok) this.watches.add(kind, path, listener);
    };
  }
}

const ZERO_STAT: Stat = {
  czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0,
  ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n,
};

function writeCreate(w: JuteWriter, path: string, data: Buffer | null, acl: readonly ACL[], flags: number, ttlMs: number | undefined): void {
  writeCreateRequest(w, { path, data, acl, flags }, ttlMs === undefined ? undefined : BigInt(ttlMs));
}

function clientKinds(type: number): ClientWatchKind[] {
  switch (type) {
    case WatcherType.Children:
      return [ClientWatchKind.Child];
    case WatcherType.Data:
      return [ClientWatchKind.Data, ClientWatchKind.Exist];
    case WatcherType.Persistent:
      return [ClientWatchKind.Persistent];
    case WatcherType.PersistentRecursive:
      return [ClientWatchKind.PersistentRecursive];
    default:
      return [ClientWatchKind.Data, ClientWatchKind.Exist, ClientWatchKind.Child, ClientWatchKind.Persistent, ClientWatchKind.PersistentRecursive];
  }
}
