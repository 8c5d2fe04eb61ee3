// Reads and the other requests answered from the local tree (ZooKeeper's
// FinalRequestProcessor, read half): they run when the session's earlier writes have
// been answered, against the tree as applied, and may register watches.

import {
  AddWatchMode,
  ClientInfoSchema,
  Err,
  GetACLResponseSchema,
  GetChildren2ResponseSchema,
  GetChildrenResponseSchema,
  ErrorResponseSchema,
  EventType,
  MultiHeaderSchema,
  OpCode,
  Perms,
  PathSchema,
  StatResponseSchema,
  WhoAmIResponseSchema,
  GetEphemeralsResponseSchema,
  GetAllChildrenNumberResponseSchema,
  encodeRecord,
  writeStat,
  type JuteWriter,
  type RecordType,
} from "../jute/index.js";
import { checkAcl, invalidPathReason, maskDigests, type AccessCheck, type DataTree, type ZNode } from "../tree/index.js";
import { WatchKind, WatchRegistry } from "../watch/index.js";
import type { PathReadReq, ReadReq, SetWatchesReq } from "./requests.js";
import type { Conn } from "./types.js";

export interface ReadResult {
  err: number;
  body?: ((w: JuteWriter) => void) | undefined;
}

const OK_EMPTY: ReadResult = { err: Err.Ok };
const ADD_WATCH_OK: ReadResult = { err: Err.Ok, body: (w) => encodeRecord(w, ErrorResponseSchema, { err: Err.Ok }) };

function fail(err: number): ReadResult {
  return { err };
}

export class Reads {
  readonly #tree: DataTree;
  readonly #watches: WatchRegistry;
  readonly #allows: AccessCheck;

  constructor(tree: DataTree, watches: WatchRegistry, allows: AccessCheck = checkAcl) {
    this.#tree = tree;
    this.#watches = watches;
    this.#allows = allows;
  }

  /** Looks a path up for a read: BadArguments for a bad path, NoNode or NoAuth as ZooKeeper. */
  #readable(conn: Conn, path: string, perm: number): ZNode | number {
    if (invalidPathReason(path) !== undefined) return Err.BadArguments;
    const node = this.#tree.get(path);
    if (node === undefined) return Err.NoNode;
    if (perm !== 0 && !this.#allows(node.acl, perm, conn.authIds)) return Err.NoAuth;
    return node;
  }

  run(conn: Conn, req: ReadReq): ReadResult {
    switch (req.kind) {
      case "exists":
      case "getData":
      case "getChildren":
      case "getChildren2":
        return this.#pathRead(conn, req);
      case "getACL":
        return this.#getAcl(conn, req.path);
      case "sync":
        return { err: Err.Ok, body: (w) => encodeRecord(w, PathSchema, { path: req.path }) };
      case "getAllChildrenNumber":
        return this.#allChildrenNumber(conn, req.path);
      case "getEphemerals":
        return this.#ephemerals(conn, req.prefixPath);
      case "multiRead":
        return this.#multiRead(conn, req.ops);
      case "setWatches":
        this.#setWatches(conn, req);
        return OK_EMPTY;
      case "addWatch":
        return this.#addWatch(conn, req.path, req.mode);
      case "checkWatches":
      case "removeWatches":
        return this.#watchOp(conn, req.kind, req.path, req.type);
      case "whoAmI":
        return this.#whoAmI(conn);
      case "ping":
        return OK_EMPTY;
      case "unimplemented":
        return fail(Err.Unimplemented);
      case "extension":
        return req.call.answer(conn, undefined);
    }
  }

  #pathRead(conn: Conn, req: PathReadReq): ReadResult {
    if (req.kind === "exists") return this.#exists(conn, req.path, req.watch);
    const node = this.#readable(conn, req.path, Perms.Read);
    if (typeof node === "number") return fail(node);
    const tree = this.#tree;
    if (req.kind === "getData") {
      if (req.watch) this.#watches.add(conn, WatchKind.Data, req.path);
      // GetDataResponse (data, Stat), the data written from the node's own form: no copy.
      const data = node.dataLatin1;
      const stat = tree.statOf(node);
      return {
        err: Err.Ok,
        body: (w) => {
          w.bufferLatin1(data);
          writeStat(w, stat);
        },
      };
    }
    if (req.watch) this.#watches.add(conn, WatchKind.Child, req.path);
    const children = node.children === null ? [] : [...node.children];
    if (req.kind === "getChildren") {
      return { err: Err.Ok, body: (w) => encodeRecord(w, GetChildrenResponseSchema, { children }) };
    }
    const value = { children, stat: tree.statOf(node) };
    return { err: Err.Ok, body: (w) => encodeRecord(w, GetChildren2ResponseSchema, value) };
  }

  /** exists: no ACL check in 3.8.0; a watch on a missing node waits for its creation. */
  #exists(conn: Conn, path: string, watch: boolean): ReadResult {
    if (invalidPathReason(path) !== undefined) return fail(Err.BadArguments);
    const node = this.#tree.get(path);
    if (watch) this.#watches.add(conn, WatchKind.Data, path);
    if (node === undefined) return fail(Err.NoNode);
    const stat = this.#tree.statOf(node);
    return { err: Err.Ok, body: (w) => encodeRecord(w, StatResponseSchema, { stat }) };
  }

  /** getACL needs READ or ADMIN; without ADMIN digest hashes are hidden. */
  #getAcl(conn: Conn, path: string): ReadResult {
    const node = this.#readable(conn, path, Perms.Read | Perms.Admin);
    if (typeof node === "number") return fail(node);
    const acl = this.#allows(node.acl, Perms.Admin, conn.authIds) ? [...node.acl] : maskDigests(node.acl);
    const value = { acl, stat: this.#tree.statOf(node) };
    return { err: Err.Ok, body: (w) => encodeRecord(w, GetACLResponseSchema, value) };
  }

  #allChildrenNumber(conn: Conn, path: string): ReadResult {
    const node = this.#readable(conn, path, Perms.Read);
    if (typeof node === "number") return fail(node);
    const totalNumber = this.#tree.descendantCount(path);
    return { err: Err.Ok, body: (w) => encodeRecord(w, GetAllChildrenNumberResponseSchema, { totalNumber }) };
  }

  #ephemerals(conn: Conn, prefix: string): ReadResult {
    const all = [...this.#tree.ephemeralsOf(conn.sessionId)];
    const p = prefix.trim();
    const ephemerals = (p === "" || p === "/" ? all : all.filter((e) => e.startsWith(prefix))).sort();
    return { err: Err.Ok, body: (w) => encodeRecord(w, GetEphemeralsResponseSchema, { ephemerals }) };
  }

  /** multiRead: each op answered on its own; an op's error does not fail the rest. */
  #multiRead(conn: Conn, ops: PathReadReq[]): ReadResult {
    const results = ops.map((op) => ({ op, r: this.#pathRead(conn, op) }));
    return {
      err: Err.Ok,
      body: (w) => {
        for (const { op, r } of results) {
          if (r.err !== Err.Ok) {
            encodeRecord(w, MultiHeaderSchema, { type: OpCode.error, done: false, err: r.err });
            encodeRecord(w, ErrorResponseSchema, { err: r.err });
            continue;
          }
          const type = op.kind === "getData" ? OpCode.getData : OpCode.getChildren;
          encodeRecord(w, MultiHeaderSchema, { type, done: false, err: 0 });
          r.body?.(w);
        }
        encodeRecord(w, MultiHeaderSchema, { type: -1, done: true, err: -1 });
      },
    };
  }

  /**
   * Re-registers a reconnecting client's watches; any whose condition already changed
   * after relativeZxid fires at once instead (ZooKeeper's DataTree.setWatches).
   */
  #setWatches(conn: Conn, req: SetWatchesReq): void {
    const rel = req.relativeZxid;
    const tree = this.#tree;
    for (const path of req.dataWatches) {
      const n = tree.get(path);
      if (n === undefined) conn.deliver(EventType.NodeDeleted, path);
      else if (n.mzxid > rel) conn.deliver(EventType.NodeDataChanged, path);
      else this.#watches.add(conn, WatchKind.Data, path);
    }
    for (const path of req.existWatches) {
      if (tree.get(path) !== undefined) conn.deliver(EventType.NodeCreated, path);
      else this.#watches.add(conn, WatchKind.Data, path);
    }
    for (const path of req.childWatches) {
      const n = tree.get(path);
      if (n === undefined) conn.deliver(EventType.NodeDeleted, path);
      else if (n.pzxid > rel) conn.deliver(EventType.NodeChildrenChanged, path);
      else this.#watches.add(conn, WatchKind.Child, path);
    }
    for (const path of req.persistentWatches) this.#watches.add(conn, WatchKind.Persistent, path);
    for (const path of req.persistentRecursiveWatches) {
      this.#watches.add(conn, WatchKind.PersistentRecursive, path);
    }
  }

  #addWatch(conn: Conn, path: string, mode: number): ReadResult {
    if (invalidPathReason(path) !== undefined) return fail(Err.BadArguments);
    if (mode === AddWatchMode.Persistent) this.#watches.add(conn, WatchKind.Persistent, path);
    else if (mode === AddWatchMode.PersistentRecursive) this.#watches.add(conn, WatchKind.PersistentRecursive, path);
    else return fail(Err.BadArguments);
    // ZooKeeper answers addWatch with ErrorResponse{err: 0}; the Java client reads that
    // record and drops the connection on an empty body.
    return ADD_WATCH_OK;
  }

  #watchOp(conn: Conn, kind: "checkWatches" | "removeWatches", path: string, type: number): ReadResult {
    const kinds = WatchRegistry.kindsOf(type);
    if (kinds === undefined) return fail(Err.BadArguments);
    const ok = kind === "checkWatches" ? this.#watches.holds(conn, kinds, path) : this.#watches.removeKinds(conn, kinds, path);
    return ok ? OK_EMPTY : fail(Err.NoWatcher);
  }

  #whoAmI(conn: Conn): ReadResult {
    const clientInfo: RecordType<typeof ClientInfoSchema>[] = conn.authIds.map((id) => ({
      authScheme: id.scheme,
      user: id.scheme === "digest" ? id.id.replace(/:.*/, "") : id.id,
    }));
    return { err: Err.Ok, body: (w) => encodeRecord(w, WhoAmIResponseSchema, { clientInfo }) };
  }
}
