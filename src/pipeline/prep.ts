// Prep: validate a write request against the tree *as it will be* once every txn already
// prepared has been applied (ZooKeeper's "outstanding changes"), check ACLs, and turn
// it into a txn. Nothing here changes the tree: the overlay records what prepared txns
// will do, and entries leave it when their txn is applied. A failed request becomes an
// error txn, which still takes a zxid and is logged, as in ZooKeeper.

import {
  CONTAINER_EPHEMERAL_OWNER,
  CREATE_IF_ABSENT_FLAG,
  CreateMode,
  PROTECTED_CREATE_FLAG,
  Err,
  OpCode,
  Perms,
  TTL_EPHEMERAL_OWNER_PREFIX,
  TTL_MAX_MS,
  isEphemeralMode,
  isSequentialMode,
  isTtlMode,
  type ACL,
  type Id,
} from "../jute/index.js";
import {
  checkAcl,
  childCount,
  fixupAcl,
  invalidPathReason,
  isEphemeralOwner,
  parentOf,
  sequenceSuffix,
  type AccessCheck,
  type DataTree,
  protectedKeyOf,
  protectedTokenOf,
} from "../tree/index.js";
import type { SessionEndMove, Txn } from "../txn/index.js";
import type { CreateReq, MultiOp, ReconfigReq, WriteReq } from "./requests.js";
import type { ReconfigPlanner, SessionEndPlanner } from "./types.js";

/** The prep-time view of a node: just what validation needs. */
interface PendingNode {
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  childCount: number;
  acl: readonly ACL[];
  /** Its data's length, for quota checks. */
  dataBytes: number;
}

/**
 * Every PendingNode is made here, as one literal: a create's copy of its parent made with
 * object spread was one of prep's dearest lines in a profile of 64x16 creates.
 */
function pendingNode(
  version: number,
  cversion: number,
  aversion: number,
  ephemeralOwner: bigint,
  childCount: number,
  acl: readonly ACL[],
  dataBytes: number,
): PendingNode {
  return { version, cversion, aversion, ephemeralOwner, childCount, acl, dataBytes };
}

interface ChangeRecord {
  zxid: bigint;
  path: string;
  /** null: deleted by a prepared txn. */
  node: PendingNode | null;
  /** The quota this record's node counts under, and what it will add to its usage once applied. */
  quota: PendingQuota | undefined;
}

interface PendingQuota {
  root: string;
  count: number;
  bytes: number;
}

export interface PrepContext {
  sessionId: bigint;
  authIds: readonly Id[];
  extendedTypesEnabled: boolean;
  /** enforceQuota: a create or setData past a quota's hard limit is refused with QuotaExceeded. */
  enforceQuota?: boolean;
  /** reconfigEnabled; and the planner, which only an ensemble member has. */
  reconfigEnabled?: boolean;
  reconfigPlanner?: ReconfigPlanner | undefined;
}

/** Thrown inside prep to unwind to the error txn; never escapes this module. */
class PrepError {
  readonly err: number;
  constructor(err: number) {
    this.err = err;
  }
}

/** ZooDefs.CONFIG_NODE: the dynamic configuration, which only reconfig writes. */
export const CONFIG_NODE = "/zookeeper/config";

/** Paths no client may delete (ZooKeeper's isSpecialPath). */
const SPECIAL_PATHS: ReadonlySet<string> = new Set(["/", "/zookeeper", "/zookeeper/quota", CONFIG_NODE]);

const MODES_MAX = CreateMode.PersistentSequentialWithTtl;

/** Namespaces whose quota refusals are counted one by one (a metric label each). */
export const QUOTA_NAMESPACES_MAX = 1024;

/**
 * The most znodes the tree can hold: a JS Map (the node map, a znode's children) holds
 * at most 2^24 entries ("Map maximum size exceeded"). A create past it is refused with
 * QuotaExceeded (ZooKeeper's answer to a create over a count limit) before it is
 * logged: applying it would throw, and so would every replay of the log.
 */
export const TREE_NODES_MAX = 2 ** 24;

export class Prep {
  readonly #tree: DataTree;
  readonly #allows: AccessCheck;
  /** Latest pending record per path. */
  readonly #overlay = new Map<string, ChangeRecord>();
  /** Every pending record in zxid order, so applying a txn can retire its records. */
  readonly #queue = new PendingRecords();
  /** A multi's own changes while it is prepared; merged into the overlay on success. */
  #scratch: Map<string, ChangeRecord> | null = null;
  /**
   * The pending records that show a node as a session's ephemeral, in zxid order: with
   * the tree's own index these are all a closeSession may have to delete. A closeSession
   * scans only these (txns still in flight), never the whole overlay, which, when many
   * sessions close at once, holds every one of their deletes.
   */
  readonly #ephemeralRecords = new PendingRecords();
  /**
   * The same records by owner, so a session's checks (a protected create, its close) look
   * at its own in-flight ephemerals only, not every session's: under load thousands are
   * pending, and a scan of all of them per protected create would be quadratic.
   */
  readonly #ephemeralsPending = new Map<bigint, Set<ChangeRecord>>();
  /**
   * The same records of nodes named with a protected-create token, by `<parent>/<token>`
   * (the tree's protectedPathsOf for txns in flight): a session filing thousands of waits
   * has thousands pending, and a protected create must not scan them.
   */
  readonly #protectedPending = new Map<string, Set<ChangeRecord>>();

  readonly #nodesMax: number;
  /** Requests refused for a hard quota limit, by namespace (the root's first component), for /metrics. */
  readonly quotaExceeded = new Map<string, number>();
  /** What prepared txns not yet applied will add to each quota's usage (its stats count applied txns only). */
  readonly #quotaPending = new Map<string, { count: number; bytes: number }>();
  #sessionEndPlanner: SessionEndPlanner | undefined;

  /** `nodesMax`: TREE_NODES_MAX, lower only in tests. */
  constructor(tree: DataTree, allows: AccessCheck = checkAcl, nodesMax = TREE_NODES_MAX) {
    this.#tree = tree;
    this.#allows = allows;
    this.#nodesMax = nodesMax;
  }

  /** Decides the moves a session's closeSession makes (the recipe engine's queues). */
  setSessionEndPlanner(planner: SessionEndPlanner | undefined): void {
    this.#sessionEndPlanner = planner;
  }

  get outstandingCount(): number {
    return this.#queue.size;
  }

  /** Turns a write request into the txn zxid `zxid` will carry. */
  prep(req: WriteReq, zxid: bigint, ctx: PrepContext): Txn {
    if (req.kind === "multi") return this.#prepMulti(req.ops, zxid, ctx);
    if (req.kind === "closeSession") return this.#prepCloseSession(zxid, ctx.sessionId);
    try {
      return this.#prepOne(req, zxid, ctx);
    } catch (e) {
      if (e instanceof PrepError) return { type: "error", err: e.err };
      throw e;
    }
  }

  /** An internal delete of an expired container or TTL node, if it is still one. */
  prepReapDelete(path: string, zxid: bigint): Txn | undefined {
    const node = this.#lookup(path);
    if (node === null || node.childCount > 0) return undefined;
    const txn: Txn = { type: "delete", path };
    this.#recordDelete(path, node, zxid);
    return txn;
  }

  /** Forgets every prepared txn (a leader that stepped down: their fate is ZAB's now). */
  reset(): void {
    this.#overlay.clear();
    this.#queue.clear();
    this.#ephemeralRecords.clear();
    this.#ephemeralsPending.clear();
    this.#protectedPending.clear();
    this.#quotaPending.clear();
    this.#scratch = null;
  }

  /** Whether `path` will exist once every prepared txn is applied. */
  willExist(path: string): boolean {
    return this.#lookup(path) !== null;
  }

  /** Whether a protected create of `path` by the session would be refused (see #ownsProtected). */
  ownsProtected(sessionId: bigint, path: string): boolean {
    return this.#ownsProtected(sessionId, parentOf(path), path);
  }

  /** Retires overlay records of txns up to `zxid`, once that txn is applied. */
  applied(zxid: bigint): void {
    for (let cr = this.#queue.shiftThrough(zxid); cr !== undefined; cr = this.#queue.shiftThrough(zxid)) {
      if (this.#overlay.get(cr.path) === cr) this.#overlay.delete(cr.path);
      // Applied: the tree's stats hold it now.
      if (cr.quota !== undefined) this.#addPendingQuota(cr.quota, -1);
    }
    // Applied: from now on the tree's ephemeral index has them (or they are gone).
    for (let cr = this.#ephemeralRecords.shiftThrough(zxid); cr !== undefined; cr = this.#ephemeralRecords.shiftThrough(zxid)) {
      const owner = cr.node!.ephemeralOwner;
      const mine = this.#ephemeralsPending.get(owner);
      mine?.delete(cr);
      if (mine?.size === 0) this.#ephemeralsPending.delete(owner);
      const key = protectedKeyOf(cr.path);
      if (key !== undefined) {
        const same = this.#protectedPending.get(key);
        same?.delete(cr);
        if (same?.size === 0) this.#protectedPending.delete(key);
      }
    }
  }

  #prepOne(req: Exclude<WriteReq, { kind: "multi" | "closeSession" }>, zxid: bigint, ctx: PrepContext): Txn {
    switch (req.kind) {
      case "create":
        return this.#prepCreate(req, zxid, ctx);
      case "delete":
        return this.#prepDelete(req.path, req.version, zxid, ctx);
      case "setData":
        return this.#prepSetData(req.path, req.data, req.version, zxid, ctx);
      case "setACL":
        return this.#prepSetAcl(req.path, req.acl, req.version, zxid, ctx);
      case "check":
        return this.#prepCheck(req.path, req.version, ctx);
      case "reconfig":
        return this.#prepReconfig(req, zxid, ctx);
    }
  }

  /**
   * reconfig, in PrepRequestProcessor's order: ReconfigDisabled, Unimplemented on a
   * standalone server, the planner's checks, and last WRITE on /zookeeper/config (whose
   * ACL is world:anyone READ, so only the super user passes). The txn is a setData of
   * the new configuration with version -1, as ZooKeeper's; the header's op code marks
   * it as a reconfig.
   */
  #prepReconfig(req: ReconfigReq, zxid: bigint, ctx: PrepContext): Txn {
    if (ctx.reconfigEnabled !== true) throw new PrepError(Err.ReconfigDisabled);
    if (ctx.reconfigPlanner === undefined) throw new PrepError(Err.Unimplemented);
    const plan = ctx.reconfigPlanner.plan(req, zxid);
    if (!plan.ok) throw new PrepError(plan.err);
    const node = this.#need(CONFIG_NODE);
    if (!this.#allows(node.acl, Perms.Write, ctx.authIds)) throw new PrepError(Err.NoAuth);
    this.#record(CONFIG_NODE, zxid, pendingNode(-1, node.cversion, node.aversion, node.ephemeralOwner, node.childCount, node.acl, plan.data?.length ?? 0));
    return { type: "setData", path: CONFIG_NODE, data: plan.data, version: -1 };
  }

  #prepCreate(req: CreateReq, zxid: bigint, ctx: PrepContext): Txn {
    const ifAbsent = (req.flags & CREATE_IF_ABSENT_FLAG) !== 0;
    const protectedCreate = (req.flags & PROTECTED_CREATE_FLAG) !== 0;
    const mode = req.flags & ~(CREATE_IF_ABSENT_FLAG | PROTECTED_CREATE_FLAG);
    if (mode < 0 || mode > MODES_MAX) throw new PrepError(Err.BadArguments);
    if (ifAbsent && !isSequentialMode(mode) && invalidPathReason(req.path) === undefined && this.#lookup(req.path) !== null) {
      return { type: "check", path: req.path, version: -1 };
    }
    if (req.opCode === OpCode.createContainer && mode !== CreateMode.Container) throw new PrepError(Err.BadArguments);
    if (isTtlMode(mode) || req.opCode === OpCode.createTTL) {
      if (!ctx.extendedTypesEnabled) throw new PrepError(Err.Unimplemented);
      if (!isTtlMode(mode) || req.ttl <= 0n || req.ttl > TTL_MAX_MS) throw new PrepError(Err.BadArguments);
    }
    const sequential = isSequentialMode(mode);
    if (invalidPathReason(req.path, sequential) !== undefined) throw new PrepError(Err.BadArguments);
    const acl = fixupAcl(req.acl, ctx.authIds);
    if (acl === Err.InvalidAcl) throw new PrepError(Err.InvalidAcl);
    const parentPath = parentOf(req.path);
    if (req.path === "/") throw new PrepError(Err.NodeExists);
    const parent = this.#need(parentPath);
    if (!this.#allows(parent.acl, Perms.Create, ctx.authIds)) throw new PrepError(Err.NoAuth);
    if (protectedCreate && isEphemeralMode(mode) && this.#ownsProtected(ctx.sessionId, parentPath, req.path)) throw new PrepError(Err.NodeExists);
    const path = sequential ? req.path + sequenceSuffix(parent.cversion) : req.path;
    if (this.#lookup(path) !== null) throw new PrepError(Err.NodeExists);
    if (isEphemeralOwner(parent.ephemeralOwner)) throw new PrepError(Err.NoChildrenForEphemerals);
    if (ctx.enforceQuota === true) this.#checkQuota(path, 1, req.data === null ? 0 : req.data.length);
    // Pending records bound the creates not yet applied from above.
    const pending = this.#queue.size + (this.#scratch?.size ?? 0);
    if (this.#tree.nodeCount + pending >= this.#nodesMax) throw new PrepError(Err.QuotaExceeded);
    const owner = ownerFor(req.opCode, mode, ctx.sessionId, req.ttl);
    const parentCVersion = (parent.cversion + 1) | 0;
    this.#record(parentPath, zxid, pendingNode(parent.version, parentCVersion, parent.aversion, parent.ephemeralOwner, parent.childCount + 1, parent.acl, parent.dataBytes));
    this.#record(path, zxid, pendingNode(0, 0, 0, owner, 0, acl, req.data?.length ?? 0));
    return { type: "create", path, data: req.data, acl, ephemeralOwner: owner, parentCVersion };
  }

  #prepDelete(path: string, version: number, zxid: bigint, ctx: PrepContext): Txn {
    if (invalidPathReason(path) !== undefined || SPECIAL_PATHS.has(path)) throw new PrepError(Err.BadArguments);
    const parent = this.#need(parentOf(path));
    // The parent's DELETE permission is checked before the node is looked up, as
    // ZooKeeper's PrepRequestProcessor does: NoAuth, not NoNode, for a missing node.
    if (!this.#allows(parent.acl, Perms.Delete, ctx.authIds)) throw new PrepError(Err.NoAuth);
    const node = this.#need(path);
    checkVersion(node.version, version);
    if (node.childCount > 0) throw new PrepError(Err.NotEmpty);
    this.#recordDelete(path, node, zxid);
    return { type: "delete", path };
  }

  #prepSetData(path: string, data: Buffer | null, version: number, zxid: bigint, ctx: PrepContext): Txn {
    if (invalidPathReason(path) !== undefined) throw new PrepError(Err.BadArguments);
    const node = this.#need(path);
    if (!this.#allows(node.acl, Perms.Write, ctx.authIds)) throw new PrepError(Err.NoAuth);
    if (ctx.enforceQuota === true) this.#checkQuota(path, 0, (data === null ? 0 : data.length) - node.dataBytes);
    const next = checkVersion(node.version, version);
    this.#record(path, zxid, pendingNode(next, node.cversion, node.aversion, node.ephemeralOwner, node.childCount, node.acl, data?.length ?? 0));
    return { type: "setData", path, data, version: next };
  }

  #prepSetAcl(path: string, aclIn: ACL[], version: number, zxid: bigint, ctx: PrepContext): Txn {
    if (invalidPathReason(path) !== undefined) throw new PrepError(Err.BadArguments);
    const acl = fixupAcl(aclIn, ctx.authIds);
    if (acl === Err.InvalidAcl) throw new PrepError(Err.InvalidAcl);
    const node = this.#need(path);
    if (!this.#allows(node.acl, Perms.Admin, ctx.authIds)) throw new PrepError(Err.NoAuth);
    const next = checkVersion(node.aversion, version);
    this.#record(path, zxid, pendingNode(node.version, node.cversion, next, node.ephemeralOwner, node.childCount, acl, node.dataBytes));
    return { type: "setACL", path, acl, version: next };
  }

  #prepCheck(path: string, version: number, ctx: PrepContext): Txn {
    if (invalidPathReason(path) !== undefined) throw new PrepError(Err.BadArguments);
    const node = this.#need(path);
    if (!this.#allows(node.acl, Perms.Read, ctx.authIds)) throw new PrepError(Err.NoAuth);
    checkVersion(node.version, version);
    return { type: "check", path, version: node.version };
  }

  /** All ops or none: ops before the failing one report Ok, later ones RuntimeInconsistency. */
  #prepMulti(ops: MultiOp[], zxid: bigint, ctx: PrepContext): Txn {
    this.#scratch = new Map();
    const txns: Txn[] = [];
    let failedAt = -1;
    let failure: number = Err.Ok;
    try {
      for (const op of ops) {
        try {
          txns.push(this.#prepOne(op, zxid, ctx));
        } catch (e) {
          if (!(e instanceof PrepError)) throw e;
          failedAt = txns.length;
          failure = e.err;
          break;
        }
      }
      if (failedAt === -1) {
        for (const cr of this.#scratch.values()) this.#publish(cr);
        return { type: "multi", txns };
      }
    } finally {
      this.#scratch = null;
    }
    const errs: Txn[] = ops.map((_, i) => ({
      type: "error",
      err: i < failedAt ? Err.Ok : i === failedAt ? failure : Err.RuntimeInconsistency,
    }));
    return { type: "multi", txns: errs };
  }

  /**
   * PROTECTED_CREATE_FLAG: whether the session owns, or will own once prepared txns (and
   * this multi's earlier ops) apply, an ephemeral under `parentPath` whose name carries
   * the same `_c_<requestId>-` token as `path`. Only nodes named with that token are
   * looked at, applied or in flight, through their indexes: never the parent's children
   * (a queue of 100k items costs nothing) nor the session's other ephemerals.
   */
  #ownsProtected(sessionId: bigint, parentPath: string, path: string): boolean {
    const token = protectedTokenOf(path.slice(parentPath.length === 1 ? 1 : parentPath.length + 1));
    if (token === undefined) return false;
    const dirPrefix = parentPath === "/" ? "/" : parentPath + "/";
    // #lookup sees the tree as it will be, so nodes deleted by txns in flight are ruled out
    // by their owner. Scanning the session's ephemerals instead made each create of a
    // session with 6,000 waits cost 6,000 checks: filing was quadratic.
    const key = dirPrefix + token;
    const owned = (p: string): boolean => this.#lookup(p)?.ephemeralOwner === sessionId;
    const matches = (p: string): boolean => p.startsWith(key) && p.indexOf("/", dirPrefix.length) === -1 && owned(p);
    const applied = this.#tree.protectedPathsOf(key);
    if (typeof applied === "string" ? owned(applied) : applied.some(owned)) return true;
    for (const cr of this.#protectedPending.get(key) ?? []) if (owned(cr.path)) return true;
    for (const cr of this.#scratch?.values() ?? []) if (cr.node?.ephemeralOwner === sessionId && matches(cr.path)) return true;
    return false;
  }

  #prepCloseSession(zxid: bigint, sessionId: bigint): Txn {
    // Ephemerals this session owns now or will own once prepared txns apply.
    const owned = this.#tree.ephemeralsOf(sessionId);
    for (const cr of this.#ephemeralsPending.get(sessionId) ?? []) owned.add(cr.path);
    const live = [...owned].sort().filter((path) => this.#lookup(path)?.ephemeralOwner === sessionId);
    // The session's end may put some of its ephemerals back as persistent nodes (a queue
    // item a consumer took and never acked): created before the ephemerals go, in the
    // same txn, so every replica and every recovery does the same.
    const moves = this.#planMoves(sessionId, live, zxid);
    for (const path of live) this.#recordDelete(path, this.#lookup(path)!, zxid);
    return moves.length > 0 ? { type: "closeSession", moves } : { type: "closeSession" };
  }

  /** The planner's moves that the tree as it will be allows, recorded as pending creates. */
  #planMoves(sessionId: bigint, live: readonly string[], zxid: bigint): SessionEndMove[] {
    if (this.#sessionEndPlanner === undefined || live.length === 0) return [];
    const owned = new Set(live);
    const moves: SessionEndMove[] = [];
    for (const m of this.#sessionEndPlanner(sessionId, live)) {
      if (!owned.has(m.from) || invalidPathReason(m.to) !== undefined || m.to === "/") continue;
      if (this.#lookup(m.to) !== null) continue;
      const parentPath = parentOf(m.to);
      const parent = this.#lookup(parentPath);
      if (parent === null || isEphemeralOwner(parent.ephemeralOwner)) continue;
      const from = this.#tree.get(m.from);
      const parentCVersion = (parent.cversion + 1) | 0;
      this.#record(parentPath, zxid, pendingNode(parent.version, parentCVersion, parent.aversion, parent.ephemeralOwner, parent.childCount + 1, parent.acl, parent.dataBytes));
      this.#record(m.to, zxid, pendingNode(0, 0, 0, 0n, 0, from?.acl ?? this.#lookup(m.from)!.acl, from?.dataLength ?? this.#lookup(m.from)!.dataBytes));
      moves.push({ from: m.from, to: m.to, parentCVersion });
    }
    return moves;
  }

  #recordDelete(path: string, _node: PendingNode, zxid: bigint): void {
    const parentPath = parentOf(path);
    const parent = this.#lookup(parentPath);
    if (parent !== null) this.#record(parentPath, zxid, pendingNode(parent.version, parent.cversion, parent.aversion, parent.ephemeralOwner, parent.childCount - 1, parent.acl, parent.dataBytes));
    this.#record(path, zxid, null);
  }

  /**
   * ZooKeeper's checkQuota (3.7+, with enforceQuota): the change may not take the usage of
   * the deepest quota above `path` past a hard limit. The usage is the tree as it will be
   * (ZooKeeper counts only applied txns, so pipelined creates could all pass it); the
   * limits are the zookeeper_limits node's as it is now. Soft limits are only warned of,
   * on apply.
   */
  #checkQuota(path: string, countDiff: number, bytesDiff: number): void {
    const root = this.#tree.quotaRootOf(path);
    const q = root === undefined ? undefined : this.#tree.quotaOf(root);
    if (root === undefined || q === undefined || q.usage === undefined) return;
    const { countHardLimit, byteHardLimit } = q.limits;
    // The usage as it will be once every prepared txn (and this multi's earlier ops) applied.
    let count = q.usage.count + (this.#quotaPending.get(root)?.count ?? 0);
    let bytes = q.usage.bytes + (this.#quotaPending.get(root)?.bytes ?? 0);
    for (const cr of this.#scratch?.values() ?? []) {
      if (cr.quota?.root === root) {
        count += cr.quota.count;
        bytes += cr.quota.bytes;
      }
    }
    const overCount = countDiff !== 0 && countHardLimit > -1 && count + countDiff > countHardLimit;
    const overBytes = bytesDiff !== 0 && byteHardLimit > -1 && bytes + bytesDiff > byteHardLimit;
    if (!overCount && !overBytes) return;
    const namespace = root.split("/")[1] ?? "";
    const seen = this.quotaExceeded.get(namespace);
    if (seen !== undefined || this.quotaExceeded.size < QUOTA_NAMESPACES_MAX) this.quotaExceeded.set(namespace, (seen ?? 0) + 1);
    throw new PrepError(Err.QuotaExceeded);
  }

  /** What recording `node` at `path` adds to the usage of the quota above it, if any. */
  #quotaDelta(path: string, node: PendingNode | null): PendingQuota | undefined {
    if (!this.#tree.hasQuotas) return undefined;
    const root = this.#tree.quotaRootOf(path);
    if (root === undefined) return undefined;
    const before = this.#lookup(path);
    const count = (node === null ? 0 : 1) - (before === null ? 0 : 1);
    const bytes = (node?.dataBytes ?? 0) - (before?.dataBytes ?? 0);
    return count === 0 && bytes === 0 ? undefined : { root, count, bytes };
  }

  #addPendingQuota(q: PendingQuota, sign: 1 | -1): void {
    const sum = this.#quotaPending.get(q.root) ?? { count: 0, bytes: 0 };
    sum.count += sign * q.count;
    sum.bytes += sign * q.bytes;
    if (sum.count === 0 && sum.bytes === 0) this.#quotaPending.delete(q.root);
    else this.#quotaPending.set(q.root, sum);
  }

  #need(path: string): PendingNode {
    const node = this.#lookup(path);
    if (node === null) throw new PrepError(Err.NoNode);
    return node;
  }

  /** The node as it will be after every prepared txn (and this multi's earlier ops). */
  #lookup(path: string): PendingNode | null {
    const cr = this.#scratch?.get(path) ?? this.#overlay.get(path);
    if (cr !== undefined) return cr.node;
    const n = this.#tree.get(path);
    if (n === undefined) return null;
    return pendingNode(n.version, n.cversion, n.aversion, n.ephemeralOwner, childCount(n), n.acl, n.dataLength);
  }

  #record(path: string, zxid: bigint, node: PendingNode | null): void {
    let quota = this.#quotaDelta(path, node);
    // A multi keeps one record per path: its quota change is the sum of the ops on the path.
    const earlier = this.#scratch?.get(path)?.quota;
    if (earlier !== undefined) quota = { root: earlier.root, count: earlier.count + (quota?.count ?? 0), bytes: earlier.bytes + (quota?.bytes ?? 0) };
    const cr: ChangeRecord = { zxid, path, node, quota };
    if (this.#scratch !== null) this.#scratch.set(path, cr);
    else this.#publish(cr);
  }

  #publish(cr: ChangeRecord): void {
    if (cr.quota !== undefined) this.#addPendingQuota(cr.quota, 1);
    this.#overlay.set(cr.path, cr);
    this.#queue.push(cr);
    if (cr.node !== null && isEphemeralOwner(cr.node.ephemeralOwner)) {
      this.#ephemeralRecords.push(cr);
      let mine = this.#ephemeralsPending.get(cr.node.ephemeralOwner);
      if (mine === undefined) this.#ephemeralsPending.set(cr.node.ephemeralOwner, (mine = new Set()));
      mine.add(cr);
      const key = protectedKeyOf(cr.path);
      if (key !== undefined) {
        let same = this.#protectedPending.get(key);
        if (same === undefined) this.#protectedPending.set(key, (same = new Set()));
        same.add(cr);
      }
    }
  }
}

/** Change records in zxid order; those of applied txns leave from the front. */
class PendingRecords {
  #items: ChangeRecord[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(cr: ChangeRecord): void {
    this.#items.push(cr);
  }

  /** Removes and returns the first record if its txn is at or below `zxid`. */
  shiftThrough(zxid: bigint): ChangeRecord | undefined {
    const cr = this.#items[this.#head];
    if (cr === undefined || cr.zxid > zxid) return undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      // Under steady load the queue may never empty: drop the retired head now and then.
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return cr;
  }

  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }
}

/** ZooKeeper's checkAndIncVersion: -1 matches any version; returns the next version. */
function checkVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) throw new PrepError(Err.BadVersion);
  return (current + 1) | 0;
}

/** Containers and TTL nodes come only from their own op codes; a plain create with the
 * container flag makes a persistent node, as in ZooKeeper (its CreateTxn has no owner). */
function ownerFor(opCode: number, mode: number, sessionId: bigint, ttl: bigint): bigint {
  if (isEphemeralMode(mode)) return sessionId;
  if (mode === CreateMode.Container && opCode === OpCode.createContainer) return CONTAINER_EPHEMERAL_OWNER;
  if (isTtlMode(mode) && opCode === OpCode.createTTL) return TTL_EPHEMERAL_OWNER_PREFIX | ttl;
  return 0n;
}
