// The data tree: znodes, their Stat, ephemeral owners, containers and TTL nodes.
// `apply(entry)` is deterministic: the same txns in the same order give the same tree
// on every replica. No I/O, no clock (times come in the txn header), no randomness.
// Apply never decides anything a txn has not already decided; where the tree disagrees
// with a txn it reports an error code and changes nothing — except in replay() (recovery
// over a fuzzy snapshot), which redoes the txn's assignments instead (see there).
// Quota stats (quota.ts) are part of apply: each zookeeper_stats node is rewritten in
// place by the txn that changes its subtree, never by a txn of its own.

import {
  CONTAINER_EPHEMERAL_OWNER,
  Err,
  OpCode,
  TTL_EPHEMERAL_OWNER_PREFIX,
  type ACL,
  type Stat,
} from "../jute/index.js";
import type { SessionEndMove, Txn, TxnEntry, TxnHeader } from "../txn/index.js";
import { asZxid, assert, assertNever, type Zxid } from "../util/index.js";
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, aclKey } from "./acl.js";
import { basenameOf, joinPath, parentOf, protectedKeyOf } from "./paths.js";
import {
  QUOTA_PREFIX,
  formatUsage,
  limitsPathOf,
  parseLimits,
  parseUsage,
  quotaNodeOf,
  statsPathOf,
  type QuotaLimits,
  type QuotaUsage,
} from "./quota.js";

/** The empty data every node with zero-length data hands out (never written to). */
const EMPTY_DATA = Buffer.alloc(0);

/**
 * A znode. Its data is kept as a latin1 string, one char per byte (byte-exact both ways):
 * a Buffer per node cost a ~96-byte object of its own plus a share of an 8 KiB pool slab
 * that other short-lived buffers had cut into, so a million nodes of 100 bytes kept
 * ~700 MiB of slabs alive. `data` makes a Buffer on each read; hot paths use dataLength
 * and dataLatin1 instead. What only concerns children (their names, cversion, pzxid) is
 * in a ZDir made when the node first needs one: most nodes are leaves whose cversion is 0
 * and pzxid their czxid. A class, so every node has one shape.
 */
export class ZNode {
  #data: string | null;
  acl: readonly ACL[];
  readonly czxid: bigint;
  mzxid: bigint;
  ctimeMs: number;
  mtimeMs: number;
  version: number;
  aversion: number;
  ephemeralOwner: bigint;
  // No private methods: V8 would give every instance a brand field for them.
  #dir: ZDir | null = null;

  constructor(dataLatin1: string | null, acl: readonly ACL[], czxid: bigint, mzxid: bigint, pzxid: bigint, ctimeMs: number, mtimeMs: number, version: number, cversion: number, aversion: number, ephemeralOwner: bigint) {
    this.#data = dataLatin1;
    this.acl = acl;
    this.czxid = czxid;
    this.mzxid = mzxid;
    this.ctimeMs = ctimeMs;
    this.mtimeMs = mtimeMs;
    this.version = version;
    this.aversion = aversion;
    if (cversion !== 0 || pzxid !== czxid) this.#dir = new ZDir(cversion, pzxid);
    // Decoded txns and snapshots bring a BigInt 0n apiece: the literal is one shared object.
    this.ephemeralOwner = ephemeralOwner === 0n ? 0n : ephemeralOwner;
  }

  /** Child names; null for a node that never had children. */
  get children(): Set<string> | null {
    return this.#dir === null ? null : this.#dir.children;
  }

  set children(v: Set<string> | null) {
    if (v !== null || this.#dir !== null) (this.#dir ??= new ZDir(0, this.czxid)).children = v;
  }

  /** Child creations under this node (statOf derives ZooKeeper's cversion from it). */
  get cversion(): number {
    return this.#dir === null ? 0 : this.#dir.cversion;
  }

  set cversion(v: number) {
    if (v !== 0 || this.#dir !== null) (this.#dir ??= new ZDir(0, this.czxid)).cversion = v;
  }

  get pzxid(): bigint {
    return this.#dir === null ? this.czxid : this.#dir.pzxid;
  }

  set pzxid(v: bigint) {
    if (v !== this.czxid || this.#dir !== null) (this.#dir ??= new ZDir(0, this.czxid)).pzxid = v;
  }

  /** The data as a new Buffer (null: none); each call copies. */
  get data(): Buffer | null {
    const d = this.#data;
    return d === null ? null : d.length === 0 ? EMPTY_DATA : Buffer.from(d, "latin1");
  }

  set data(v: Uint8Array | null) {
    this.#data = latin1Of(v);
  }

  /** The data's bytes as a latin1 string (char i = byte i), without a copy. */
  get dataLatin1(): string | null {
    return this.#data;
  }

  set dataLatin1(v: string | null) {
    this.#data = v;
  }

  get dataLength(): number {
    return this.#data === null ? 0 : this.#data.length;
  }

  /** A plain copy of the node's record (data copied), e.g. to restore into another tree. */
  toRecord(): ZNodeRecord {
    const { acl, czxid, mzxid, pzxid, ctimeMs, mtimeMs, version, cversion, aversion, ephemeralOwner } = this;
    return { data: this.data, acl, czxid, mzxid, pzxid, ctimeMs, mtimeMs, version, cversion, aversion, ephemeralOwner };
  }
}

/** A node's children and what changes with them: only on nodes that ever had a child (or a record saying so). */
class ZDir {
  children: Set<string> | null = null;
  cversion: number;
  pzxid: bigint;

  constructor(cversion: number, pzxid: bigint) {
    this.cversion = cversion;
    this.pzxid = pzxid;
  }
}

/** Bytes as a latin1 string, one char per byte: the form a ZNode keeps its data in. */
export function latin1Of(v: Uint8Array | null): string | null {
  if (v === null) return null;
  if (v.length === 0) return "";
  return (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)).toString("latin1");
}

export const EffectKind = {
  Created: 1,
  Deleted: 2,
  DataChanged: 3,
  ChildrenChanged: 4,
} as const;
export type EffectKind = (typeof EffectKind)[keyof typeof EffectKind];

/** What applying a txn changed, for the watch registry and the recipe engine. */
export interface Effect {
  kind: EffectKind;
  path: string;
  /** For Created and Deleted: the node as it was created or just before it was removed. */
  node?: ZNode;
}

/** A node as a snapshot stores it: everything but its children, which follow from the paths. */
export interface ZNodeRecord {
  data: Buffer | null;
  acl: readonly ACL[];
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctimeMs: number;
  mtimeMs: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
}

/** A node record's fields but its data and ACL (what both snapshot formats call its stat). */
export type ZNodeStat = Omit<ZNodeRecord, "data" | "acl">;

export interface OpResult {
  err: number;
  /** Created path (create) and the node's Stat after the op (create/setData/setACL/check). */
  path?: string;
  stat?: Stat;
}

export interface ApplyResult extends OpResult {
  /** Per-op results of a multi, in request order. */
  multi?: OpResult[];
}

const ZOOKEEPER = "/zookeeper";
const QUOTA = QUOTA_PREFIX;
const CONFIG = "/zookeeper/config";

/** A quota's usage past one of its limits, after a txn applied (soft limits are only logged). */
export interface QuotaWarning {
  root: string;
  what: "count" | "bytes";
  usage: number;
  limit: number;
  hard: boolean;
}

/** Quota warnings kept until the server takes them; more in between are only counted. */
export const QUOTA_WARNINGS_MAX = 64;

export function isContainerOwner(owner: bigint): boolean {
  return owner === CONTAINER_EPHEMERAL_OWNER;
}

/** TTL in ms of a TTL node's ephemeralOwner, or undefined for other nodes. */
export function ttlOfOwner(owner: bigint): bigint | undefined {
  if (owner >= 0n || owner === CONTAINER_EPHEMERAL_OWNER) return undefined;
  if ((owner & TTL_EPHEMERAL_OWNER_PREFIX) !== TTL_EPHEMERAL_OWNER_PREFIX) return undefined;
  return owner & 0xff_ffff_ffffn;
}

/**
 * Whether a node's owner is a session (a normal ephemeral): any non-zero owner that is
 * neither the container nor a TTL marker, as ZooKeeper's EphemeralType.NORMAL. Session
 * ids made by servers with myid >= 128 have the top bit set, so they are negative.
 */
export function isEphemeralOwner(owner: bigint): boolean {
  return owner !== 0n && !isContainerOwner(owner) && ttlOfOwner(owner) === undefined;
}

export class DataTree {
  // Not readonly: adoptContent() takes another tree's maps whole.
  #nodes = new Map<string, ZNode>();
  /** Each session's ephemerals (see EphemeralIndex). */
  #ephemerals = new Map<bigint, EphemeralIndex>();
  /** The index last looked up, and its session: creates come in runs from one session. */
  #lastEphemeralOwner: bigint | undefined;
  #lastEphemeralIndex: EphemeralIndex | undefined;
  /**
   * Ephemerals whose names carry a protected-create token, by `<parent>/<token>` (see
   * protectedPathsOf): one path, or several in the rare case that names share a token.
   */
  #protected = new Map<string, string | string[]>();
  #containers = new Set<string>();
  #ttls = new Set<string>();
  /** The parent restoreStat found last (see #restoreParentOf). */
  #restoreParent: { path: string; node: ZNode } | undefined;
  #acls = new Map<string, readonly ACL[]>();
  #dataBytes = 0;
  /** What setSystemData gave each system node, for reset(). */
  readonly #systemData = new Map<string, Buffer>();
  /** Set by replay(): apply redoes each op over a fuzzy snapshot instead of rejecting it. */
  #replaying = false;
  #replayClosedPaths: readonly string[] | undefined;
  #lastInternedFrom: readonly ACL[] | undefined;
  #lastInterned: readonly ACL[] = [];
  /** The interned world:anyone ACL of each permission set: most nodes have one of these. */
  #worldAcls: (readonly ACL[] | undefined)[] = [];
  lastProcessedZxid: Zxid = asZxid(0n);
  /**
   * Paths with a quota (a zookeeper_limits node): an index of the tree, like the
   * ephemeral index. Each root's zookeeper_stats node is kept equal to a count of its
   * subtree (nodes under a deeper quota root excluded: they count there), so a replica
   * that recounts (after a snapshot load or a SNAP) holds the same bytes as one that
   * applied every txn.
   */
  #quotaRoots = new Set<string>();
  /** Set when nodes arrived outside apply (snapshot, replay): roots and stats are recounted before use. */
  #quotaDirty = false;
  #quotaWarnings: QuotaWarning[] = [];
  #quotaWarningsDropped = 0;

  constructor() {
    this.#init();
  }

  /**
   * Empties the tree back to its start-up state (system nodes with the data start-up
   * gave them, not what txns wrote since: a reconfig's /zookeeper/config comes back from
   * the snapshot or log replayed next), so a replica can load a snapshot in its place
   * (ZAB's SNAP) or rebuild after a TRUNC.
   */
  reset(): void {
    const system = [...this.#systemData];
    this.#nodes.clear();
    this.#ephemerals.clear();
    this.#lastEphemeralOwner = undefined;
    this.#lastEphemeralIndex = undefined;
    this.#protected.clear();
    this.#restoreParent = undefined;
    this.#containers.clear();
    this.#ttls.clear();
    this.#acls.clear();
    this.#worldAcls.length = 0;
    this.#lastInternedFrom = undefined;
    this.#dataBytes = 0;
    this.#quotaRoots.clear();
    this.#quotaDirty = false;
    this.#quotaWarnings = [];
    this.#quotaWarningsDropped = 0;
    this.lastProcessedZxid = asZxid(0n);
    this.#init();
    for (const [p, data] of system) this.setSystemData(p, data);
  }

  /**
   * Takes `from`'s whole content (nodes, indexes, interned ACLs, zxid) in O(1), leaving
   * `from` empty: a learner installs a SNAP image it decoded into a fresh tree without a
   * second pass over a million nodes. This tree's system data (for reset()) is kept.
   */
  adoptContent(from: DataTree): void {
    assert(from !== this && !from.#replaying && !this.#replaying, "adoptContent: not while replaying");
    this.#nodes = from.#nodes;
    this.#ephemerals = from.#ephemerals;
    this.#protected = from.#protected;
    this.#lastEphemeralOwner = undefined;
    this.#lastEphemeralIndex = undefined;
    this.#containers = from.#containers;
    this.#ttls = from.#ttls;
    this.#acls = from.#acls;
    this.#dataBytes = from.#dataBytes;
    this.#lastInternedFrom = undefined;
    this.#lastInterned = [];
    this.#worldAcls = from.#worldAcls;
    this.#quotaRoots = from.#quotaRoots;
    this.#quotaDirty = from.#quotaDirty;
    this.lastProcessedZxid = from.lastProcessedZxid;
    from.#nodes = new Map();
    from.#ephemerals = new Map();
    from.#protected = new Map();
    from.#containers = new Set();
    from.#ttls = new Set();
    from.#acls = new Map();
    from.#worldAcls = [];
    from.#quotaRoots = new Set();
    from.#dataBytes = 0;
    from.#lastEphemeralOwner = undefined;
    from.#lastEphemeralIndex = undefined;
    from.#lastInternedFrom = undefined;
    from.reset();
  }

  #init(): void {
    this.#nodes.set("/", this.#newNode(Buffer.alloc(0), OPEN_ACL_UNSAFE, 0n, 0, 0n));
    for (const [path, acl] of [
      [ZOOKEEPER, OPEN_ACL_UNSAFE],
      [QUOTA, OPEN_ACL_UNSAFE],
      [CONFIG, READ_ACL_UNSAFE],
    ] as const) {
      this.#link(path, this.#newNode(Buffer.alloc(0), acl, 0n, 0, 0n));
    }
  }

  /**
   * Sets the data of a system node outside any txn, at start-up, identically on every
   * replica (Corral's capability text on `/zookeeper`). Not for client-visible changes.
   */
  setSystemData(path: string, data: Buffer): void {
    const n = this.#nodes.get(path);
    assert(n !== undefined && n.czxid === 0n, `${path} is not a system node`);
    this.#dataBytes += data.length - dataLength(n);
    n.data = data;
    this.#systemData.set(path, data);
  }

  get nodeCount(): number {
    return this.#nodes.size;
  }

  /** Bytes of data plus path lengths, as ZooKeeper's approximateDataSize counts them. */
  get approximateDataBytes(): number {
    return this.#dataBytes;
  }

  get(path: string): ZNode | undefined {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    return this.#nodes.get(path);
  }

  paths(): IterableIterator<string> {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    return this.#nodes.keys();
  }

  /**
   * Every node with its path, parents before children, live (nodes added while iterating
   * are visited too). Walking this costs no lookup per node: a snapshot of a million
   * nodes spent more in map lookups of the paths it walked than in writing them.
   */
  nodes(): IterableIterator<[string, ZNode]> {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    return this.#nodes.entries();
  }

  /** The paths of the session's ephemeral nodes: a new set, the caller's (O(its ephemerals)). */
  ephemeralsOf(sessionId: bigint): Set<string> {
    const idx = this.#ephemerals.get(sessionId);
    if (idx === undefined) return new Set();
    return idx.set !== null ? new Set(idx.set) : this.#listedLive(sessionId, idx.paths);
  }

  /** The paths of a list-mode index whose nodes exist and are still `owner`'s. */
  #listedLive(owner: bigint, paths: readonly string[]): Set<string> {
    const live = new Set<string>();
    for (const path of paths) if (this.#nodes.get(path)?.ephemeralOwner === owner) live.add(path);
    return live;
  }

  /**
   * The ephemerals named `<key>...` where key is `<parent>/<protected token>` (a
   * protected create's `_c_<requestId>-`): what a protected create checks, in O(1) however
   * many ephemerals its session has. The caller checks each one's owner.
   */
  protectedPathsOf(key: string): string | readonly string[] {
    return this.#protected.get(key) ?? NO_PATHS;
  }

  /** Every session that owns ephemerals, with their paths (O(all ephemerals): admin views). */
  *ephemeralSessions(): IterableIterator<[bigint, ReadonlySet<string>]> {
    for (const sessionId of [...this.#ephemerals.keys()]) yield [sessionId, this.ephemeralsOf(sessionId)];
  }

  ephemeralCount(): number {
    let n = 0;
    for (const idx of this.#ephemerals.values()) n += idx.set === null ? idx.live : idx.set.size;
    return n;
  }

  /** Containers with no children that once had one, and TTL nodes idle past their TTL. */
  expiredContainersAndTtls(nowMs: number): string[] {
    const out: string[] = [];
    for (const path of this.#containers) {
      const n = this.#nodes.get(path)!;
      if (n.cversion > 0 && childCount(n) === 0) out.push(path);
    }
    for (const path of this.#ttls) {
      const n = this.#nodes.get(path)!;
      const ttl = ttlOfOwner(n.ephemeralOwner)!;
      if (childCount(n) === 0 && BigInt(Math.floor(nowMs - n.mtimeMs)) > ttl) out.push(path);
    }
    return out.sort();
  }

  /** Number of nodes below `path`, not counting itself (getAllChildrenNumber). */
  descendantCount(path: string): number {
    const n = this.#nodes.get(path);
    if (n === undefined || n.children === null) return 0;
    let total = 0;
    for (const c of n.children) total += 1 + this.descendantCount(joinPath(path, c));
    return total;
  }

  statOf(n: ZNode): Stat {
    return {
      czxid: n.czxid,
      mzxid: n.mzxid,
      ctime: BigInt(n.ctimeMs),
      mtime: BigInt(n.mtimeMs),
      version: n.version,
      // The tree counts child creations (so sequence numbers never repeat); clients see
      // ZooKeeper's "changes to the children": every create, plus a delete for each
      // child no longer there (DataNode.copyStat).
      cversion: n.cversion * 2 - childCount(n),
      aversion: n.aversion,
      // Containers and TTL nodes keep their marker inside; clients see 0, as in ZooKeeper.
      ephemeralOwner: isEphemeralOwner(n.ephemeralOwner) ? n.ephemeralOwner : 0n,
      dataLength: n.dataLength,
      numChildren: childCount(n),
      pzxid: n.pzxid,
    };
  }

  /** Applies one committed txn. Effects are appended to `effects` in the order they happen. */
  apply(entry: TxnEntry, effects: Effect[]): ApplyResult {
    const { hdr, txn } = entry;
    assert(hdr.zxid > this.lastProcessedZxid || hdr.zxid === 0n, `txn zxid ${hdr.zxid} not after ${this.lastProcessedZxid}`);
    if (this.#replaying) this.#quotaDirty = true;
    else if (this.#quotaDirty) this.#settleQuotas();
    const result = txn.type === "multi" ? this.#applyMulti(hdr, txn.txns, effects) : this.#applyOne(hdr, txn, effects);
    if (hdr.zxid > this.lastProcessedZxid) this.lastProcessedZxid = hdr.zxid;
    return result;
  }

  /**
   * Applies a logged txn during recovery, over a fuzzy snapshot: one serialised while
   * txns were being applied, so it may already hold some of the effects of the txns
   * replayed over it. Each op is redone as the assignments it made the first time,
   * whatever the snapshot caught: a create replaces a node already there (keeping its
   * children) and still sets the parent's cversion and pzxid; a delete of a missing or
   * non-empty node still sets the parent's pzxid; setData/setACL of a missing node do
   * nothing (a later create of that path redoes the node). Replaying the log in order
   * therefore ends where a replay over an exact snapshot ends (the storage property
   * test checks this). `closedPaths`: the ephemerals a closeSession deleted the first
   * time, which a fuzzy snapshot's ephemeral index may have lost.
   */
  replay(entry: TxnEntry, closedPaths?: readonly string[]): ApplyResult {
    this.#replaying = true;
    this.#replayClosedPaths = closedPaths;
    try {
      return this.apply(entry, []);
    } finally {
      this.#replaying = false;
      this.#replayClosedPaths = undefined;
    }
  }

  /**
   * Puts back a node as a snapshot recorded it. A node already at `path` (the root, or an
   * earlier record of the same path in a fuzzy snapshot) is replaced but keeps its
   * children. Returns false, changing nothing, when the parent is missing.
   */
  restoreNode(path: string, rec: ZNodeRecord): boolean {
    return this.restoreStat(path, latin1Of(rec.data), rec.acl, rec);
  }

  /** restoreNode with the data already in a ZNode's form (latin1Of): a snapshot decodes it so. */
  restoreStat(path: string, dataLatin1: string | null, acl: readonly ACL[], s: ZNodeStat): boolean {
    const node = new ZNode(dataLatin1, this.#intern(acl), s.czxid, s.mzxid, s.pzxid, s.ctimeMs, s.mtimeMs, s.version, s.cversion, s.aversion, s.ephemeralOwner);
    this.#quotaDirty = true;
    const old = this.#nodes.get(path);
    if (old !== undefined) {
      this.#replace(path, old, node);
      return true;
    }
    const parent = path === "/" ? undefined : this.#restoreParentOf(path);
    if (parent === undefined) return false;
    this.#link(path, node, parent);
    return true;
  }

  /**
   * The parent node of `path`, for restoreStat: a snapshot lists siblings together, so the
   * last parent is kept with its path and checked against the map under that same string
   * (its hash already computed), instead of cutting and hashing a new parent path per
   * node (a million nodes under one parent: ~10% of a restart).
   */
  #restoreParentOf(path: string): ZNode | undefined {
    const cut = path.lastIndexOf("/");
    const last = this.#restoreParent;
    if (last !== undefined && (cut === 0 ? last.path === "/" : cut === last.path.length && path.startsWith(last.path)) && this.#nodes.get(last.path) === last.node) {
      return last.node;
    }
    const parentPath = parentOf(path);
    const node = this.#nodes.get(parentPath);
    this.#restoreParent = node === undefined ? undefined : { path: parentPath, node };
    return node;
  }

  #applyMulti(hdr: TxnHeader, txns: Txn[], effects: Effect[]): ApplyResult {
    // A multi that failed at prep arrives as all error txns: it changes nothing.
    if (txns.some((t) => t.type === "error")) {
      return { err: Err.Ok, multi: txns.map((t) => ({ err: t.type === "error" ? t.err : Err.Ok })) };
    }
    const multi = txns.map((t) => this.#applyOne(hdr, t, effects));
    return { err: Err.Ok, multi };
  }

  #applyOne(hdr: TxnHeader, txn: Txn, effects: Effect[]): OpResult {
    switch (txn.type) {
      case "create":
        return this.#create(hdr, txn.path, txn.data, txn.acl, txn.ephemeralOwner, txn.parentCVersion, effects);
      case "delete":
        return this.#delete(hdr, txn.path, effects);
      case "setData":
        return this.#setData(hdr, txn.path, txn.data, txn.version, effects);
      case "setACL":
        return this.#setAcl(txn.path, txn.acl, txn.version);
      case "check": {
        const n = this.#nodes.get(txn.path);
        return n === undefined ? { err: Err.NoNode } : { err: Err.Ok, stat: this.statOf(n) };
      }
      case "closeSession":
        this.#closeSession(hdr, txn.moves, effects);
        return { err: Err.Ok };
      case "createSession":
        return { err: Err.Ok };
      case "error":
        return { err: txn.err };
      case "multi":
        return { err: Err.RuntimeInconsistency };
      default:
        return assertNever(txn, "txn");
    }
  }

  #create(
    hdr: TxnHeader,
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    owner: bigint,
    parentCVersion: number,
    effects: Effect[],
  ): OpResult {
    const parentPath = parentOf(path);
    const parent = this.#nodes.get(parentPath);
    if (parent === undefined) return { err: Err.NoNode };
    let node: ZNode;
    if (this.#replaying || path === "/") {
      const existing = this.#nodes.get(path);
      if (existing !== undefined && !this.#replaying) return { err: Err.NodeExists };
      node = this.#newNode(data, acl, hdr.zxid, hdr.timeMs, owner);
      if (existing === undefined) this.#link(path, node, parent);
      else this.#replace(path, existing, node);
    } else {
      // A path is in the node map exactly when its name is in its parent's children, so
      // adding the name tells whether it existed: one lookup in a small set instead of
      // a miss in the whole tree's map (the dearest line of a create here).
      const children = (parent.children ??= new Set());
      const before = children.size;
      children.add(basenameOf(path));
      if (children.size === before) return { err: Err.NodeExists };
      node = this.#newNode(data, acl, hdr.zxid, hdr.timeMs, owner);
      this.#index(path, node);
    }
    parent.cversion = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion;
    parent.pzxid = hdr.zxid;
    if (!this.#replaying) this.#quotaCreated(path, node);
    effects.push({ kind: EffectKind.Created, path, node }, { kind: EffectKind.ChildrenChanged, path: parentPath });
    // A plain create is answered with the path alone (the other creates, and a multi's, with a Stat).
    return hdr.opCode === OpCode.create ? { err: Err.Ok, path } : { err: Err.Ok, path, stat: this.statOf(node) };
  }

  #delete(hdr: TxnHeader, path: string, effects: Effect[]): OpResult {
    const node = this.#nodes.get(path);
    if (node === undefined || childCount(node) > 0) {
      // Replaying over a fuzzy snapshot: the delete still moved its parent's pzxid.
      const parent = this.#replaying && path !== "/" ? this.#nodes.get(parentOf(path)) : undefined;
      if (parent !== undefined) parent.pzxid = hdr.zxid;
      return { err: node === undefined ? Err.NoNode : Err.NotEmpty };
    }
    const parentPath = parentOf(path);
    const parent = this.#nodes.get(parentPath)!;
    parent.children!.delete(basenameOf(path));
    // Since ZOOKEEPER-1046 a delete moves only pzxid: cversion counts creations, so
    // sequence numbers never repeat under a parent.
    parent.pzxid = hdr.zxid;
    this.#nodes.delete(path);
    this.#dataBytes -= path.length + dataLength(node);
    this.#untrackOwner(path, node.ephemeralOwner);
    if (!this.#replaying) this.#quotaDeleted(path, node);
    effects.push({ kind: EffectKind.Deleted, path, node }, { kind: EffectKind.ChildrenChanged, path: parentPath });
    return { err: Err.Ok };
  }

  #setData(hdr: TxnHeader, path: string, data: Buffer | null, version: number, effects: Effect[]): OpResult {
    const node = this.#nodes.get(path);
    if (node === undefined) return { err: Err.NoNode };
    const bytesBefore = dataLength(node);
    this.#dataBytes += (data === null ? 0 : data.length) - bytesBefore;
    node.data = data;
    node.version = version;
    node.mzxid = hdr.zxid;
    node.mtimeMs = hdr.timeMs;
    if (!this.#replaying) this.#quotaDataChanged(path, dataLength(node) - bytesBefore);
    effects.push({ kind: EffectKind.DataChanged, path });
    return { err: Err.Ok, stat: this.statOf(node) };
  }

  #setAcl(path: string, acl: readonly ACL[], version: number): OpResult {
    const node = this.#nodes.get(path);
    if (node === undefined) return { err: Err.NoNode };
    node.acl = this.#intern(acl);
    node.aversion = version;
    return { err: Err.Ok, stat: this.statOf(node) };
  }

  #closeSession(hdr: TxnHeader, moves: readonly SessionEndMove[] | undefined, effects: Effect[]): void {
    // Moves first: each `from` is still there to be read (data and ACL as applied now).
    // Prep planned only moves whose `to` will not exist, so a `to` found here is a replay
    // over a fuzzy snapshot that caught this txn's own create: the parent is set as the
    // create set it, and nothing else is redone.
    for (const m of moves ?? []) {
      const parent = this.#nodes.get(parentOf(m.to));
      if (parent === undefined) continue;
      if (this.#nodes.has(m.to)) {
        if (this.#replaying) {
          parent.cversion = m.parentCVersion;
          parent.pzxid = hdr.zxid;
        }
        continue;
      }
      const from = this.#nodes.get(m.from);
      if (from === undefined || (!this.#replaying && from.ephemeralOwner !== hdr.sessionId)) continue;
      this.#create(hdr, m.to, from.data, from.acl, 0n, m.parentCVersion, effects);
    }
    const owned = this.#replayClosedPaths ?? this.ephemeralsOf(hdr.sessionId);
    for (const path of [...owned].sort()) this.#delete(hdr, path, effects);
    this.#dropEphemeralIndex(hdr.sessionId);
  }

  /** Whether any path has a quota (a zookeeper_limits node). */
  get hasQuotas(): boolean {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    return this.#quotaRoots.size > 0;
  }

  /** The deepest path with a quota at or above `path` (ZooKeeper's getMaxPrefixWithQuota). */
  quotaRootOf(path: string): string | undefined {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    return this.#rootOf(path);
  }

  /** Every quota root with its limits and its usage (undefined while its stats node is missing). */
  *quotas(): IterableIterator<{ root: string; limits: QuotaLimits; usage: QuotaUsage | undefined }> {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    for (const root of [...this.#quotaRoots].sort()) {
      const q = this.quotaOf(root);
      if (q !== undefined) yield { root, ...q };
    }
  }

  /** A quota root's limits (as its zookeeper_limits node says now) and usage. */
  quotaOf(root: string): { limits: QuotaLimits; usage: QuotaUsage | undefined } | undefined {
    if (this.#quotaDirty && !this.#replaying) this.#settleQuotas();
    const limits = this.#quotaRoots.has(root) ? this.#nodes.get(limitsPathOf(root)) : undefined;
    if (limits === undefined) return undefined;
    const stats = this.#nodes.get(statsPathOf(root));
    return { limits: parseLimits(limits.data), usage: stats === undefined ? undefined : parseUsage(stats.data) };
  }

  /** The quota warnings of txns applied since the last call, and how many did not fit. */
  takeQuotaWarnings(): { warnings: QuotaWarning[]; dropped: number } {
    const out = { warnings: this.#quotaWarnings, dropped: this.#quotaWarningsDropped };
    this.#quotaWarnings = [];
    this.#quotaWarningsDropped = 0;
    return out;
  }

  #rootOf(path: string): string | undefined {
    if (this.#quotaRoots.size === 0) return undefined;
    // Bounded by the path's depth: each step drops one component.
    for (let p = path; p.length > 1; p = parentOf(p)) if (this.#quotaRoots.has(p)) return p;
    return undefined;
  }

  #quotaCreated(path: string, node: ZNode): void {
    const q = quotaNodeOf(path);
    if (q?.kind === "limits") {
      this.#quotaRoots.add(q.root);
      this.#recount(q.root);
      // A quota inside another's subtree takes its nodes from the outer one.
      const outer = this.#rootOf(parentOf(q.root));
      if (outer !== undefined) this.#recount(outer);
    } else if (q?.kind === "stats" && this.#quotaRoots.has(q.root)) this.#recount(q.root);
    this.#quotaAdd(path, 1, dataLength(node));
  }

  #quotaDeleted(path: string, node: ZNode): void {
    const q = quotaNodeOf(path);
    if (q?.kind === "limits" && this.#quotaRoots.delete(q.root)) {
      const outer = this.#rootOf(parentOf(q.root));
      if (outer !== undefined) this.#recount(outer);
    }
    this.#quotaAdd(path, -1, -dataLength(node));
  }

  #quotaDataChanged(path: string, bytesDiff: number): void {
    const q = quotaNodeOf(path);
    // A stats node written by a client is put back to the count (ZooKeeper keeps the
    // written value until its next restart; here every replica agrees at all times).
    if (q?.kind === "stats" && this.#quotaRoots.has(q.root)) this.#recount(q.root);
    else if (bytesDiff !== 0) this.#quotaAdd(path, 0, bytesDiff);
  }

  #quotaAdd(path: string, countDiff: number, bytesDiff: number): void {
    const root = this.#rootOf(path);
    if (root === undefined) return;
    const stats = this.#nodes.get(statsPathOf(root));
    if (stats === undefined) return;
    const usage = parseUsage(stats.data);
    usage.count += countDiff;
    usage.bytes += bytesDiff;
    this.#setStats(stats, usage);
    if (countDiff <= 0 && bytesDiff <= 0) return;
    const limits = parseLimits(this.#nodes.get(limitsPathOf(root))?.data ?? null);
    const over = (what: "count" | "bytes", used: number, soft: number, hard: number): void => {
      if (hard > -1 && used > hard) this.#warn({ root, what, usage: used, limit: hard, hard: true });
      else if (soft > -1 && used > soft) this.#warn({ root, what, usage: used, limit: soft, hard: false });
    };
    if (countDiff > 0) over("count", usage.count, limits.count, limits.countHardLimit);
    if (bytesDiff > 0) over("bytes", usage.bytes, limits.bytes, limits.byteHardLimit);
  }

  #warn(w: QuotaWarning): void {
    if (this.#quotaWarnings.length < QUOTA_WARNINGS_MAX) this.#quotaWarnings.push(w);
    else this.#quotaWarningsDropped++;
  }

  /** Sets a root's stats to a count of its subtree (the root counted, deeper quota roots' subtrees not). */
  #recount(root: string): void {
    const stats = this.#nodes.get(statsPathOf(root));
    if (stats === undefined) return;
    const usage = { count: 0, bytes: 0 };
    const stack = this.#nodes.has(root) ? [root] : [];
    // Bounded by the tree: each node is pushed at most once.
    while (stack.length > 0) {
      const p = stack.pop()!;
      const n = this.#nodes.get(p)!;
      usage.count++;
      usage.bytes += dataLength(n);
      for (const c of n.children ?? []) {
        const cp = joinPath(p, c);
        if (!this.#quotaRoots.has(cp)) stack.push(cp);
      }
    }
    this.#setStats(stats, usage);
  }

  #setStats(stats: ZNode, usage: QuotaUsage): void {
    const text = formatUsage(usage); // ASCII: its latin1 chars are its UTF-8 bytes
    this.#dataBytes += text.length - stats.dataLength;
    stats.dataLatin1 = text;
  }

  /** Rebuilds the quota roots from /zookeeper/quota and recounts each one's stats. */
  #settleQuotas(): void {
    this.#quotaDirty = false;
    this.#quotaRoots.clear();
    const stack = this.#nodes.has(QUOTA) ? [QUOTA] : [];
    while (stack.length > 0) {
      const p = stack.pop()!;
      for (const c of this.#nodes.get(p)!.children ?? []) {
        const cp = joinPath(p, c);
        const q = quotaNodeOf(cp);
        if (q?.kind === "limits") this.#quotaRoots.add(q.root);
        stack.push(cp);
      }
    }
    for (const root of this.#quotaRoots) this.#recount(root);
  }

  #newNode(data: Buffer | null, acl: readonly ACL[], zxid: bigint, timeMs: number, owner: bigint): ZNode {
    return new ZNode(latin1Of(data), this.#intern(acl), zxid, zxid, zxid, timeMs, timeMs, 0, 0, 0, owner);
  }

  /** Puts a node into the maps and its parent's children (parent must exist). */
  #link(path: string, node: ZNode, parentNode?: ZNode): void {
    const parent = parentNode ?? this.#nodes.get(parentOf(path))!;
    (parent.children ??= new Set()).add(basenameOf(path));
    this.#index(path, node);
  }

  /** Puts a node into the maps (its name is already among its parent's children). */
  #index(path: string, node: ZNode): void {
    this.#nodes.set(path, node);
    this.#dataBytes += path.length + dataLength(node);
    const owner = node.ephemeralOwner;
    if (owner === 0n) return;
    if (isEphemeralOwner(owner)) {
      this.#trackProtected(path);
      let idx = this.#ephemeralIndex(owner);
      if (idx === undefined) {
        this.#ephemerals.set(owner, (idx = { paths: [], live: 0, set: null }));
        this.#lastEphemeralOwner = owner;
        this.#lastEphemeralIndex = idx;
      }
      if (idx.set !== null) idx.set.add(path);
      else if (++idx.live > EPHEMERAL_LIST_MAX) {
        // Past this many, a rebuild of the list would stall the server for too long.
        idx.paths.push(path);
        idx.set = this.#listedLive(owner, idx.paths);
        idx.paths = [];
      } else idx.paths.push(path);
    } else if (isContainerOwner(owner)) this.#containers.add(path);
    else if (ttlOfOwner(owner) !== undefined) this.#ttls.add(path);
  }

  /** Swaps the node at `path` for `node`, which takes over its children. */
  #replace(path: string, old: ZNode, node: ZNode): void {
    node.children = old.children;
    this.#untrackOwner(path, old.ephemeralOwner, false);
    if (path === "/") {
      // The root's path is not counted in approximateDataBytes, only its data.
      this.#dataBytes += dataLength(node) - dataLength(old);
      this.#nodes.set(path, node);
      return;
    }
    this.#dataBytes -= path.length + dataLength(old);
    this.#link(path, node); // Map.set keeps the old insertion position: parents stay first
  }

  /**
   * Forgets `path` as its owner's. `settled`: the node map already shows the change (a
   * delete), so the owner's ephemeral index may be compacted against it (not mid-replace).
   */
  #untrackOwner(path: string, owner: bigint, settled = true): void {
    if (owner === 0n) return;
    if (isEphemeralOwner(owner)) {
      this.#untrackProtected(path);
      const idx = this.#ephemeralIndex(owner);
      if (idx === undefined) return;
      if (idx.set !== null) {
        idx.set.delete(path);
        if (idx.set.size === 0) this.#dropEphemeralIndex(owner);
        return;
      }
      idx.live--;
      if (idx.live <= 0) this.#dropEphemeralIndex(owner);
      else if (settled && idx.paths.length > 2 * idx.live + EPHEMERAL_SLACK) {
        const live = this.#listedLive(owner, idx.paths);
        idx.paths = [...live];
        idx.live = live.size;
      }
    } else {
      this.#containers.delete(path);
      this.#ttls.delete(path);
    }
  }

  #trackProtected(path: string): void {
    const key = protectedKeyOf(path);
    if (key === undefined) return;
    const had = this.#protected.get(key);
    if (had === undefined) this.#protected.set(key, path);
    else if (typeof had === "string") this.#protected.set(key, [had, path]);
    else had.push(path);
  }

  #untrackProtected(path: string): void {
    const key = protectedKeyOf(path);
    if (key === undefined) return;
    const had = this.#protected.get(key);
    if (had === path) this.#protected.delete(key);
    else if (Array.isArray(had)) {
      const rest = had.filter((p) => p !== path);
      if (rest.length === had.length) return;
      this.#protected.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }

  #ephemeralIndex(owner: bigint): EphemeralIndex | undefined {
    if (owner === this.#lastEphemeralOwner) return this.#lastEphemeralIndex;
    const idx = this.#ephemerals.get(owner);
    if (idx !== undefined) {
      this.#lastEphemeralOwner = owner;
      this.#lastEphemeralIndex = idx;
    }
    return idx;
  }

  #dropEphemeralIndex(owner: bigint): void {
    this.#ephemerals.delete(owner);
    if (owner === this.#lastEphemeralOwner) {
      this.#lastEphemeralOwner = undefined;
      this.#lastEphemeralIndex = undefined;
    }
  }

  /** Nodes with equal ACLs share one array, as ZooKeeper's ACL cache does. */
  #intern(acl: readonly ACL[]): readonly ACL[] {
    // Runs of nodes with the very same array (a snapshot restore) skip the lookup.
    if (acl === this.#lastInternedFrom) return this.#lastInterned;
    let have: readonly ACL[] | undefined;
    const only = acl.length === 1 ? acl[0]! : undefined;
    if (only !== undefined && only.id.scheme === "world" && only.id.id === "anyone" && only.perms >>> 0 < 32) {
      have = this.#worldAcls[only.perms] ??= acl;
    } else {
      const key = aclKey(acl);
      have = this.#acls.get(key);
      if (have === undefined) this.#acls.set(key, (have = acl));
    }
    this.#lastInternedFrom = acl;
    this.#lastInterned = have;
    return have;
  }
}

/**
 * A session's ephemerals, kept for its closeSession and for getEphemerals. Most sessions
 * own a few (locks, members, in-flight jobs): for them, the paths they created
 * ephemerals at, in order, and how many of those nodes still exist. Deletes only count
 * down; the paths of deleted nodes (or of paths since re-created by another owner) stay
 * until they outnumber the live ones, then the list is rebuilt from the node map.
 * Appending costs a create no hash-set insert (it did: as much as the node map's own).
 * A rebuild takes a node-map lookup per entry, so a session with more than
 * EPHEMERAL_LIST_MAX live ephemerals switches to a set (exact, no rebuilds) for good.
 */
interface EphemeralIndex {
  paths: string[];
  live: number;
  set: Set<string> | null;
}

const NO_PATHS: readonly string[] = [];

/** Stale paths an ephemeral index's list may hold beyond twice its live ones. */
const EPHEMERAL_SLACK = 32;
/** Live ephemerals past which a session's index is a set (a list rebuild stays ~1 ms). */
const EPHEMERAL_LIST_MAX = 4096;

export function childCount(n: ZNode): number {
  return n.children === null ? 0 : n.children.size;
}

function dataLength(n: ZNode): number {
  return n.dataLength;
}
