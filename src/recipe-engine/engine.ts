// The recipe engine (DESIGN.md "Recipes on the server"): a registry of recipe bindings,
// the routing of applied-txn effects to the binding that watches a node or a directory,
// delivery of recipe events to the connection of the session that waits, and internal
// writes on a waiter's behalf. It never imports a recipe: recipes register here.
//
// Every decision a binding makes is a pure function of the tree as applied (the
// recipes' rules), so any replica can decide for the waiters connected to it.

import {
  CAPABILITY_PREFIX,
  CancelWaitResponseSchema,
  CorralOp,
  Err,
  NodeRequestSchema,
  REQUEST_ID_PATTERN,
  WaitRequestSchema,
  OpCode,
  RECIPE_EVENT_XID,
  RECIPE_PROTOCOL_VERSION,
  RecipeEventSchema,
  decodeRecord,
  encodeRecord,
  type ACL,
  type Id,
  JuteError,
  JuteReader,
  JuteWriter,
  type RecipeEvent,
} from "../jute/index.js";
import type { Conn, ExtensionCall, Pipeline, PlanContext, WriteReq } from "../pipeline/index.js";
import { EffectKind, basenameOf, invalidPathReason, parentOf, type ApplyResult, type DataTree, type Effect, type ZNode } from "../tree/index.js";
import type { TxnEntry } from "../txn/index.js";
import type { SessionId } from "../util/index.js";

/** The tree as a binding may read it (never change it: bindings change state by txns). */
export interface TreeReader {
  get(path: string): ZNode | undefined;
  /** The session's ephemeral paths (a new set). */
  ephemeralsOf(sessionId: bigint): Set<string>;
  /** Every session that owns ephemerals, with their paths (O(all ephemerals)). */
  ephemeralSessions(): IterableIterator<[bigint, ReadonlySet<string>]>;
  /** Every node with its path (rebuilds only: O(tree)). */
  nodes(): IterableIterator<[string, ZNode]>;
  readonly lastProcessedZxid: bigint;
}

/** What a recipe binding can do through the engine: no more (DESIGN.md's narrow face). */
export interface EngineApi {
  /** The tree as applied on this server. */
  readonly tree: TreeReader;
  /** Whether `path` will exist once every txn already prepared has been applied. */
  willExist(path: string): boolean;
  /** The server's ACL check. */
  allows(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean;
  /** Whether the session has a connection on this server (a waiter can be told). */
  sessionLive(sessionId: bigint): boolean;
  /** Sends an event to the session's current connection; false if it has none. */
  push(sessionId: bigint, event: RecipeEvent): boolean;
  /**
   * Prepares and commits a write for a session outside its request queue, checked with
   * `authIds` (default: those of the session's connection here, if any).
   */
  submit(sessionId: bigint, req: WriteReq, done: (result: ApplyResult) => void, authIds?: readonly Id[]): void;
  /**
   * Whether this session's waits are kept by the leader: on a follower or observer, for
   * a global session. Each member serving its own clients' waits would let the members
   * race for the same items, and those nearest the leader would win every race.
   */
  waitsAtOwner(sessionId: bigint): boolean;
  /**
   * Learner: tells the leader's `binding` about `sessionId` (its onLearnerMessage gets
   * what `body` writes), in order with that session's forwarded writes.
   */
  toOwner(binding: RecipeBinding, sessionId: bigint, body: (w: JuteWriter) => void): void;
  /** Whether the session is one of the ensemble's, not closing (the leader's view is exact). */
  sessionOpen(sessionId: bigint): boolean;
  /** Routes Created/Deleted effects of `dir`'s children to `binding`. */
  trackDir(dir: string, binding: RecipeBinding): void;
  untrackDir(dir: string, binding: RecipeBinding): void;
  /** Routes the Deleted effect of `path` itself to `binding`. */
  trackNode(path: string, binding: RecipeBinding): void;
  untrackNode(path: string, binding: RecipeBinding): void;
  /** This server issues the txns that time decides (standalone, leader). */
  readonly ownsExpiry: boolean;
}

export interface ChildChange {
  kind: "created" | "deleted";
  dir: string;
  name: string;
  node: ZNode | undefined;
  /** The txn that made the change (closeSession for a session's death). */
  entry: TxnEntry;
}

/** A session's ephemeral re-created as a persistent node when the session ends. */
export interface Move {
  from: string;
  to: string;
}

/** A recipe's server side: its op codes, and what it does when its nodes change. */
export interface RecipeBinding {
  readonly name: string;
  readonly opCodes: readonly number[];
  decode(opCode: number, r: JuteReader, engine: EngineApi): ExtensionCall;
  onChildChange?(change: ChildChange, engine: EngineApi): void;
  /**
   * A txn deletes `names` (several) from `dir`: called before their onChildChange calls,
   * so an ordered line can drop them all in one pass. Each name's onChildChange still
   * follows and must then find it already gone from that line.
   */
  onChildrenDeleting?(dir: string, names: readonly string[], engine: EngineApi): void;
  onNodeDeleted?(path: string, entry: TxnEntry, engine: EngineApi): void;
  /** A session is gone: drop its waiters. */
  onSessionClosed?(sessionId: bigint, engine: EngineApi): void;
  /**
   * Basename prefixes of nodes this binding follows anywhere in the tree, whether or not
   * their directory is tracked: their Created/Deleted changes go to onNamedChange.
   */
  readonly namePrefixes?: readonly string[];
  onNamedChange?(change: ChildChange, engine: EngineApi): void;
  /**
   * Called every tick while this server issues the txns that time decides (standalone,
   * leader), with the wall clock; `first` after it has just become that server (the tree
   * may have been loaded from a snapshot or a leader's image since the last call).
   */
  onOwnerTick?(nowMs: number, engine: EngineApi, first: boolean): void;
  /**
   * A session ends (its closeSession is being prepared on the leader): which of its
   * ephemerals (`paths`) go back as persistent nodes in the same txn.
   */
  planSessionEnd?(sessionId: bigint, paths: readonly string[]): readonly Move[];
  /**
   * Drops every cache (waiters, chains, indexes) and rebuilds what it derives from the
   * tree; returns the sessions that had waits filed here (their connections are closed so
   * their clients re-send). Called at registration and whenever the tree was replaced or
   * cut (SNAP image, TRUNC, a role change).
   */
  rebuild?(engine: EngineApi): Iterable<bigint>;
  /** cancelWait: drops the session's wait `requestId` on `path`, if this binding has it. */
  cancelWait?(engine: EngineApi, sessionId: bigint, path: string, requestId: string): boolean;
  /**
   * Leader: what a learner's binding of the same name sent with toOwner about one of its
   * sessions (`authIds`: what that session proved there). Malformed input throws
   * (JuteError): the message is dropped.
   */
  onLearnerMessage?(sessionId: bigint, authIds: readonly Id[], r: JuteReader, engine: EngineApi): void;
}

export class RecipeEngine implements EngineApi {
  readonly #pipeline: Pipeline;
  readonly #ownsExpiry: () => boolean;
  readonly #byOp = new Map<number, RecipeBinding>();
  readonly #bindings: RecipeBinding[] = [];
  readonly #dirs = new Map<string, Set<RecipeBinding>>();
  readonly #nodes = new Map<string, Set<RecipeBinding>>();
  readonly #named: { prefix: string; binding: RecipeBinding }[] = [];
  #owning = false;
  /** Events pushed, for the herd meter and tests. */
  eventsPushed = 0;
  /** Events pushed by RecipeEventKind (metrics). */
  readonly eventsPushedByKind = new Map<number, number>();
  /** Learners' engine messages dropped: malformed, or for a binding that takes none. */
  learnerMessagesDropped = 0;

  constructor(pipeline: Pipeline, opts: { ownsExpiry: () => boolean }) {
    this.#pipeline = pipeline;
    this.#ownsExpiry = opts.ownsExpiry;
    this.register(releaseBinding);
    this.register(cancelBinding(() => this.#bindings));
    pipeline.setExtension({ decode: (opCode, r) => this.#decode(opCode, r) });
    pipeline.subscribe((entry, _result, effects) => this.#onApply(entry, effects));
    pipeline.setSessionEndPlanner((sessionId, paths) => this.#planSessionEnd(sessionId, paths));
    pipeline.setEngineMessageHandler((sid, authIds, data) => this.#onLearnerMessage(sid, authIds, data));
  }

  get tree(): DataTree {
    return this.#pipeline.tree;
  }

  willExist(path: string): boolean {
    return this.#pipeline.willExist(path);
  }

  allows(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean {
    return this.#pipeline.allows(acl, perm, authIds);
  }

  sessionLive(sessionId: bigint): boolean {
    const q = this.#pipeline.queueOf(sessionId as SessionId);
    return q !== undefined && !q.closed;
  }

  /**
   * Engine state is a function of the tree: drops every binding's caches and rebuilds
   * them from the tree as it is now (after a SNAP image, a TRUNC, a role change). Returns
   * the sessions that had waits filed here: the server closes their connections on this
   * server (not the sessions), so their clients re-send with the same request ids and
   * the bindings file them again from the tree.
   */
  rebuild(): Set<bigint> {
    this.#dirs.clear();
    this.#nodes.clear();
    this.#owning = false;
    const sessions = new Set<bigint>();
    for (const b of this.#bindings) for (const s of b.rebuild?.(this) ?? []) sessions.add(s);
    return sessions;
  }

  #planSessionEnd(sessionId: bigint, paths: readonly string[]): Move[] {
    const moves: Move[] = [];
    for (const b of this.#bindings) if (b.planSessionEnd !== undefined) moves.push(...b.planSessionEnd(sessionId, paths));
    return moves;
  }

  /** The capability text clients read from `/zookeeper`. */
  static capability(): Buffer {
    return Buffer.from(`${CAPABILITY_PREFIX}${RECIPE_PROTOCOL_VERSION}`, "utf8");
  }

  get ownsExpiry(): boolean {
    return this.#ownsExpiry();
  }

  register(binding: RecipeBinding): void {
    for (const op of binding.opCodes) {
      if (this.#byOp.has(op)) throw new Error(`op code ${op} registered twice`);
      this.#byOp.set(op, binding);
    }
    this.#bindings.push(binding);
    for (const prefix of binding.namePrefixes ?? []) this.#named.push({ prefix, binding });
    binding.rebuild?.(this);
  }

  /** The server's tick: time-driven recipe work, on the server that owns it. */
  tick(nowMs: number): void {
    if (!this.ownsExpiry) {
      this.#owning = false;
      return;
    }
    const first = !this.#owning;
    this.#owning = true;
    for (const b of this.#bindings) b.onOwnerTick?.(nowMs, this, first);
  }

  /** The registered bindings, in registration order (admin views). */
  bindings(): readonly RecipeBinding[] {
    return this.#bindings;
  }

  #decode(opCode: number, r: JuteReader): ExtensionCall | undefined {
    return this.#byOp.get(opCode)?.decode(opCode, r, this);
  }

  push(sessionId: bigint, event: RecipeEvent): boolean {
    const q = this.#pipeline.queueOf(sessionId as SessionId);
    if (q === undefined || q.closed) return false;
    this.eventsPushed++;
    this.eventsPushedByKind.set(event.kind, (this.eventsPushedByKind.get(event.kind) ?? 0) + 1);
    q.conn.reply(RECIPE_EVENT_XID, this.#pipeline.tree.lastProcessedZxid, Err.Ok, (w) => encodeRecord(w, RecipeEventSchema, event));
    return true;
  }

  submit(sessionId: bigint, req: WriteReq, done: (result: ApplyResult) => void, authIds?: readonly Id[]): void {
    const opCode = req.kind === "multi" ? OpCode.multi : req.kind === "delete" ? OpCode.delete : req.kind === "check" ? OpCode.check : OpCode.create2;
    this.#pipeline.submitInternal(sessionId as SessionId, opCode, req, done, authIds);
  }

  waitsAtOwner(sessionId: bigint): boolean {
    return this.#pipeline.forwarding && !this.#pipeline.isLocalSession(sessionId as SessionId);
  }

  toOwner(binding: RecipeBinding, sessionId: bigint, body: (w: JuteWriter) => void): void {
    const w = new JuteWriter(64);
    w.ustring(binding.name);
    body(w);
    this.#pipeline.sendToLeaderEngine(sessionId as SessionId, w.toBuffer());
  }

  sessionOpen(sessionId: bigint): boolean {
    return this.#pipeline.sessionOpen(sessionId as SessionId);
  }

  /** Learners' engine messages, for the binding they name; malformed ones are dropped (counted). */
  #onLearnerMessage(sessionId: bigint, authIds: readonly Id[], data: Buffer): void {
    try {
      const r = new JuteReader(data);
      const name = r.ustring();
      const binding = this.#bindings.find((b) => b.name === name);
      if (binding?.onLearnerMessage === undefined) {
        this.learnerMessagesDropped++;
        return;
      }
      binding.onLearnerMessage(sessionId, authIds, r, this);
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      this.learnerMessagesDropped++;
    }
  }

  trackDir(dir: string, binding: RecipeBinding): void {
    addTo(this.#dirs, dir, binding);
  }

  untrackDir(dir: string, binding: RecipeBinding): void {
    removeFrom(this.#dirs, dir, binding);
  }

  trackNode(path: string, binding: RecipeBinding): void {
    addTo(this.#nodes, path, binding);
  }

  untrackNode(path: string, binding: RecipeBinding): void {
    removeFrom(this.#nodes, path, binding);
  }

  #onApply(entry: TxnEntry, effects: readonly Effect[]): void {
    if (this.#dirs.size > 0 || this.#nodes.size > 0 || this.#named.length > 0) {
      if (effects.length > 1 && this.#dirs.size > 0) this.#announceDeletes(effects);
      for (const e of effects) {
        if (e.kind === EffectKind.Created || e.kind === EffectKind.Deleted) this.#route(e, entry);
      }
    }
    if (entry.txn.type === "closeSession") {
      for (const b of this.#bindings) b.onSessionClosed?.(entry.hdr.sessionId, this);
    }
  }

  /** Tells each tracked dir's bindings, before the changes themselves, which of its children this txn deletes. */
  #announceDeletes(effects: readonly Effect[]): void {
    let byDir: Map<string, string[]> | undefined;
    for (const e of effects) {
      if (e.kind !== EffectKind.Deleted) continue;
      const dir = parentOf(e.path);
      if (!this.#dirs.has(dir)) continue;
      byDir ??= new Map();
      const names = byDir.get(dir);
      if (names === undefined) byDir.set(dir, [basenameOf(e.path)]);
      else names.push(basenameOf(e.path));
    }
    for (const [dir, names] of byDir ?? []) {
      if (names.length < 2) continue;
      for (const b of [...(this.#dirs.get(dir) ?? [])]) b.onChildrenDeleting?.(dir, names, this);
    }
  }

  #route(e: Effect, entry: TxnEntry): void {
    const dir = parentOf(e.path);
    const kind = e.kind === EffectKind.Created ? "created" : "deleted";
    const inDir = this.#dirs.get(dir);
    if (inDir !== undefined) {
      const change: ChildChange = { kind, dir, name: basenameOf(e.path), node: e.node, entry };
      for (const b of [...inDir]) b.onChildChange?.(change, this);
    }
    for (const { prefix, binding } of this.#named) {
      if (!e.path.startsWith(prefix, e.path.lastIndexOf("/") + 1)) continue;
      binding.onNamedChange?.({ kind, dir, name: basenameOf(e.path), node: e.node, entry }, this);
    }
    if (kind === "deleted") {
      const onNode = this.#nodes.get(e.path);
      if (onNode !== undefined) for (const b of [...onNode]) b.onNodeDeleted?.(e.path, entry, this);
    }
  }
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (s === undefined) m.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  s?.delete(v);
  if (s?.size === 0) m.delete(k);
}

/** An ExtensionCall whose answer is an error code found while planning. */
export function failedCall(err: number): ExtensionCall {
  return { plan: () => undefined, answer: () => ({ err }) };
}

/**
 * `release`: deletes a recipe node (lock, lease, member) the calling session owns.
 * Releasing a node another session owns is NoAuth and changes nothing; a node that is
 * already gone is NoNode.
 */
const releaseBinding: RecipeBinding = {
  name: "release",
  opCodes: [CorralOp.release],
  decode(_opCode, r) {
    const { node } = decodeRecord(r, NodeRequestSchema);
    let err: number = Err.Ok;
    return {
      plan(ctx: PlanContext): WriteReq | undefined {
        if (invalidPathReason(node) !== undefined) err = Err.BadArguments;
        else if (!ctx.willExist(node)) err = Err.NoNode;
        else if (ctx.tree.get(node)?.ephemeralOwner !== ctx.sessionId) err = Err.NoAuth;
        return err === Err.Ok ? { kind: "delete", path: node, version: -1 } : undefined;
      },
      answer(_conn: Conn, result: ApplyResult | undefined) {
        return { err: result === undefined ? err : result.err };
      },
    };
  },
};


/**
 * `cancelWait(path, requestId)`: ends that one wait of the calling session, in whichever
 * binding has it (a queue take, a barrier wait); `cancelled` says whether one did. A lock,
 * semaphore or election wait is given up by releasing its node instead.
 */
function cancelBinding(bindings: () => readonly RecipeBinding[]): RecipeBinding {
  return {
    name: "cancel",
    opCodes: [CorralOp.cancelWait],
    decode(_opCode, r, engine) {
      const { path, requestId } = decodeRecord(r, WaitRequestSchema);
      if (invalidPathReason(path) !== undefined || !REQUEST_ID_PATTERN.test(requestId)) return failedCall(Err.BadArguments);
      return {
        plan: () => undefined,
        answer: (conn: Conn) => {
          let cancelled = false;
          for (const b of bindings()) if (b.cancelWait?.(engine, conn.sessionId, path, requestId) === true) cancelled = true;
          return { err: Err.Ok, body: (w) => encodeRecord(w, CancelWaitResponseSchema, { cancelled }) };
        },
      };
    },
  };
}
