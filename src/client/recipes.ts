// The recipe API: locks, semaphores, queues, barriers and elections. Against Corral each
// call is one request and the server pushes the grant (no herd); against Apache
// ZooKeeper the same calls run the classic client-side recipes with chained watches and
// the same node layout, using the same rules (recipes/*/rules.ts). The server tells
// which by the data of `/zookeeper` (empty on Apache ZooKeeper).

import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import {
  CAPABILITY_PREFIX,
  CancelWaitResponseSchema,
  CorralOp,
  DoneResponseSchema,
  DoubleBarrierRequestSchema,
  ElectionJoinRequestSchema,
  ElectionJoinResponseSchema,
  Err,
  GetDataResponseSchema,
  LockKind,
  LockRequestSchema,
  LockResponseSchema,
  NodeRequestSchema,
  OpCode,
  PathRequestSchema,
  PathWatchSchema,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RecipeEventKind,
  SemaphoreRequestSchema,
  decodeRecord,
  encodeRecord,
  type RecipeEvent,
} from "../jute/index.js";
import { sortBySequence } from "../../recipes/common/sequence.js";
import { members as electionMembers, predecessorOf, MEMBER_PREFIX } from "../../recipes/election/rules.js";
import { ITEM_PREFIX, INFLIGHT_PREFIX, VISIBILITY_MS_MAX, items as queueItems } from "../../recipes/queue/rules.js";
import { NODE_PREFIX as RW_PREFIX, blockerOf, contenders, type LockMode } from "../../recipes/read-write-lock/rules.js";
import { NODE_PREFIX as LEASE_PREFIX, holders, parsePermits } from "../../recipes/semaphore/rules.js";
import { isFinal, type CallOptions, type ClientOptions, type ClientState } from "./client.js";
import { toClientPath, toServerPath } from "./connect-string.js";
import { ZooKeeperError } from "./errors.js";
import { ZooKeeperClient, type Data } from "./zookeeper.js";

export type RecipeMode = "engine" | "client";

export interface WaitOptions extends CallOptions {
  /** Give up after this long: the waiting node is removed and the call rejects. */
  timeoutMs?: number;
}

export interface LockHandle extends AsyncDisposable {
  /** The contender node that holds the lock. */
  readonly node: string;
  /** Fencing token: the node's czxid, which only grows. */
  readonly token: bigint;
  /** Aborts if the session expires (or the client closes) while the lock is held. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface Queue {
  offer(data: Data): Promise<string>;
  take(opts?: WaitOptions): Promise<Buffer>;
  peek(): Promise<Buffer | null>;
  size(): Promise<number>;
}

export interface Job {
  readonly id: string;
  readonly data: Buffer;
  /** Deletes the in-flight item. Rejects with NoNode if it went back to the queue first. */
  ack(): Promise<void>;
}

export interface JobQueueOptions {
  /**
   * Visibility timeout of every take (ms): an item not acked this long after it was taken
   * goes back to the head of the queue, for another consumer, as when its consumer's
   * session dies. 0 or unset: only a session's death puts it back. Needs Corral's engine
   * (against a plain ZooKeeper a take with a timeout rejects with Unimplemented).
   */
  visibilityTimeoutMs?: number;
}

export interface JobTakeOptions extends WaitOptions, JobQueueOptions {}

export interface JobQueue {
  offer(data: Data): Promise<string>;
  take(opts?: JobTakeOptions): Promise<Job>;
  size(): Promise<number>;
}

export interface Barrier {
  set(): Promise<void>;
  remove(): Promise<void>;
  wait(opts?: WaitOptions): Promise<void>;
}

export interface DoubleBarrier {
  enter(opts?: WaitOptions): Promise<void>;
  leave(opts?: WaitOptions): Promise<void>;
}

export interface Election {
  join(): Promise<void>;
  leave(): Promise<void>;
  leader(): Promise<{ id: string; data: Buffer } | null>;
  members(): Promise<string[]>;
  isLeader(): boolean;
  onLeadershipChange(cb: (isLeader: boolean) => void): () => void;
}

type EventKey = string;
const key = (kind: number, path: string): EventKey => `${kind}\u0000${path}`;

export class CorralClient extends ZooKeeperClient {
  #mode: Promise<RecipeMode> | undefined;
  #resolvedMode: RecipeMode | undefined;
  /** Recipe events waited for, by kind and path; FIFO per key. */
  readonly #waiting = new Map<EventKey, ((e: RecipeEvent) => void)[]>();
  /** Events that arrived before their waiter was registered. */
  readonly #early = new Map<EventKey, RecipeEvent[]>();
  readonly #lost = new AbortController();
  /**
   * What each waiting recipe call re-sends after a reconnect. Kept here rather than as
   * "reconnected" listeners: a client may have any number of calls waiting, and
   * EventEmitter would warn of a leak past ten.
   */
  readonly #onReconnect = new Set<() => void>();
  /** Calls waiting for the session to be usable again (true) or gone (false). */
  readonly #onSessionBack = new Set<(back: boolean) => void>();

  constructor(connectString: string, opts: ClientOptions = {}) {
    super(connectString, opts);
    // Every waiting call listens on this signal until it ends, and every handle exposes it
    // as `lost`: many listeners are expected, not a leak.
    setMaxListeners(0, this.#lost.signal);
    this.on("recipeEvent", (e: RecipeEvent) => this.#onEvent(e));
    this.on("reconnected", () => {
      for (const resend of [...this.#onReconnect]) resend();
    });
    this.on("state", (s: ClientState) => {
      const gone = isFinal(s);
      if (gone) this.#lost.abort(new ZooKeeperError(Err.SessionExpired));
      if (gone || s === "CONNECTED") for (const wake of [...this.#onSessionBack]) wake(!gone);
    });
  }

  /** Resolves true once the session is connected (read-write) again, false if it ended. */
  #sessionBack(): Promise<boolean> {
    const s = this.state;
    if (s === "CONNECTED") return Promise.resolve(true);
    if (isFinal(s)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (back: boolean): void => {
        this.#onSessionBack.delete(wake);
        resolve(back);
      };
      this.#onSessionBack.add(wake);
    });
  }

  /** "engine" against Corral, "client" against Apache ZooKeeper (undefined until known). */
  get recipeMode(): RecipeMode | undefined {
    return this.#resolvedMode;
  }

  /** Asks the server once whether it runs the recipe engine. */
  detectRecipeMode(opts: CallOptions = {}): Promise<RecipeMode> {
    this.#mode ??= this.request(
      OpCode.getData,
      "/zookeeper",
      (w) => encodeRecord(w, PathWatchSchema, { path: "/zookeeper", watch: false }),
      (r) => decodeRecord(r, GetDataResponseSchema).data,
      opts,
    ).then((data) => {
      const text = data?.toString("utf8") ?? "";
      this.#resolvedMode = text.startsWith(CAPABILITY_PREFIX) ? "engine" : "client";
      return this.#resolvedMode;
    });
    return this.#mode;
  }

  #onEvent(e: RecipeEvent): void {
    const k = key(e.kind, e.kind === RecipeEventKind.LockGranted || e.kind === RecipeEventKind.LeaderElected ? e.node : e.path);
    const list = this.#waiting.get(k);
    const fn = list?.shift();
    if (list?.length === 0) this.#waiting.delete(k);
    if (fn !== undefined) fn(e);
    else this.#early.set(k, [...(this.#early.get(k) ?? []), e]);
  }

  /** Resolves with the next recipe event for (kind, server path). */
  #nextEvent(kind: number, path: string, signal?: AbortSignal): { event: Promise<RecipeEvent>; cancel: () => boolean } {
    const k = key(kind, path);
    const early = this.#early.get(k);
    if (early !== undefined && early.length > 0) {
      const e = early.shift()!;
      if (early.length === 0) this.#early.delete(k);
      return { event: Promise.resolve(e), cancel: () => false };
    }
    let fn: ((e: RecipeEvent) => void) | undefined;
    let detach: () => void = () => {};
    const event = new Promise<RecipeEvent>((resolve, reject) => {
      const onLost = (): void => reject(this.#lost.signal.reason as Error);
      const onAbort = (): void => reject(signal!.reason as Error);
      this.#lost.signal.addEventListener("abort", onLost, { once: true });
      signal?.addEventListener("abort", onAbort, { once: true });
      detach = () => {
        this.#lost.signal.removeEventListener("abort", onLost);
        signal?.removeEventListener("abort", onAbort);
      };
      fn = resolve;
    });
    // However it ends, the listeners go; and nobody may be awaiting it any more when the
    // session is lost: that is not an error.
    event.then(detach, detach);
    const list = this.#waiting.get(k) ?? [];
    list.push(fn!);
    this.#waiting.set(k, list);
    return {
      event,
      cancel: () => {
        const l = this.#waiting.get(k);
        const i = l?.indexOf(fn!) ?? -1;
        if (i === -1) return false;
        l!.splice(i, 1);
        detach();
        return true;
      },
    };
  }

  #sp(path: string): string {
    return toServerPath(this.chroot, path);
  }

  #cp(path: string): string {
    return toClientPath(this.chroot, path);
  }

  // ---- locks --------------------------------------------------------------------------

  writeLock(path: string, opts: WaitOptions = {}): Promise<LockHandle> {
    return this.#lock(path, "write", opts);
  }

  readLock(path: string, opts: WaitOptions = {}): Promise<LockHandle> {
    return this.#lock(path, "read", opts);
  }

  /** A mutual-exclusion lock: a write lock. */
  mutex(path: string, opts: WaitOptions = {}): Promise<LockHandle> {
    return this.#lock(path, "write", opts);
  }

  async #lock(path: string, mode: LockMode, opts: WaitOptions): Promise<LockHandle> {
    if ((await this.detectRecipeMode(opts)) === "client") return this.#clientLock(path, mode, opts);
    const kind = mode === "read" ? LockKind.read : LockKind.write;
    const send = (resumeNode: string) =>
      this.request(
        CorralOp.lock,
        path,
        (w) => encodeRecord(w, LockRequestSchema, { path: this.#sp(path), kind, permits: 0, resumeNode }),
        (r) => decodeRecord(r, LockResponseSchema),
        opts,
      );
    return this.#engineAcquire(await send(""), send, opts);
  }

  /** A counting semaphore: at most `permits` holders at once. */
  async semaphore(path: string, permits: number, opts: WaitOptions = {}): Promise<LockHandle> {
    if (!Number.isInteger(permits) || permits <= 0) throw new ZooKeeperError(Err.BadArguments, path);
    if ((await this.detectRecipeMode(opts)) === "client") return this.#clientSemaphore(path, permits, opts);
    const send = (resumeNode: string) =>
      this.request(
        CorralOp.semaphoreAcquire,
        path,
        (w) => encodeRecord(w, SemaphoreRequestSchema, { path: this.#sp(path), permits, resumeNode }),
        (r) => decodeRecord(r, LockResponseSchema),
        opts,
      );
    return this.#engineAcquire(await send(""), send, opts);
  }

  /** Waits for the grant of an engine lock or lease; gives up (removing the node) on timeout. */
  async #engineAcquire(
    first: { node: string; granted: boolean; token: bigint },
    resend: (resumeNode: string) => Promise<{ node: string; granted: boolean; token: bigint }>,
    opts: WaitOptions,
  ): Promise<LockHandle> {
    const node = first.node;
    if (first.granted) return this.#handle(node, first.token);
    const gaveUp = giveUpSignal(opts);
    const wait = this.#nextEvent(RecipeEventKind.LockGranted, node, gaveUp.signal);
    // After a reconnect the waiter is registered again on whichever server we reach.
    const onReconnect = (): void => {
      resend(node).then(
        (r) => {
          if (r.granted && wait.cancel()) this.#onEvent({ kind: RecipeEventKind.LockGranted, path: "", node, token: r.token, data: null });
        },
        () => undefined,
      );
    };
    this.#onReconnect.add(onReconnect);
    try {
      const e = await wait.event;
      return this.#handle(node, e.token);
    } catch (err) {
      wait.cancel();
      // Giving up removes the node; if the connection is down that happens once it is
      // back, without holding up the caller's timeout or abort.
      const removed = this.#releaseNode(node).catch(() => undefined);
      if (this.state === "CONNECTED") await removed;
      throw err;
    } finally {
      this.#onReconnect.delete(onReconnect);
      gaveUp.done();
    }
  }

  /**
   * Deletes a recipe node the session owns, as Curator's guaranteed delete and kazoo's
   * retried release do: a release cut off by a lost connection is sent again once the
   * session is back (NoNode then means the first one did it), so the node can never
   * outlive its release while the session lives on and block every later waiter. It
   * settles once the node is gone: deleted, or gone with the session.
   */
  async #releaseNode(serverNode: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#releaseNodeOnce(serverNode);
        return;
      } catch (e) {
        if (attempt > 0 && ZooKeeperError.is(e, "NoNode")) return;
        if (ZooKeeperError.is(e, "SessionExpired")) return;
        if (!ZooKeeperError.is(e, "ConnectionLoss")) throw e;
        if (!(await this.#sessionBack())) return;
      }
    }
  }

  async #releaseNodeOnce(serverNode: string): Promise<void> {
    if (this.#resolvedMode === "engine") {
      await this.request(CorralOp.release, serverNode, (w) => encodeRecord(w, NodeRequestSchema, { node: serverNode }), undefined);
      return;
    }
    await this.delete(this.#cp(serverNode)).catch((e: unknown) => {
      if (!ZooKeeperError.is(e, "NoNode")) throw e;
    });
  }

  #handle(serverNode: string, token: bigint): LockHandle {
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await this.#releaseNode(serverNode);
    };
    return {
      node: this.#cp(serverNode),
      token,
      lost: this.#lost.signal,
      release,
      [Symbol.asyncDispose]: release,
    };
  }

  // ---- client-side fallbacks for locks (classic recipes, chained watches) ----------------

  async #clientLock(path: string, mode: LockMode, opts: WaitOptions): Promise<LockHandle> {
    await this.#ensurePath(path);
    const created = await this.create2(`${path}/_c_${randomUUID()}-${RW_PREFIX[mode]}`, null, { mode: "ephemeralSequential" });
    const name = created.path.slice(path.length + 1);
    await this.#waitChain(path, name, (children) => blockerOf(contenders(children), name), opts, created.path);
    return this.#handle(this.#sp(created.path), created.stat.czxid);
  }

  async #clientSemaphore(path: string, permits: number, opts: WaitOptions): Promise<LockHandle> {
    await this.#ensurePath(path, Buffer.from(String(permits)));
    const { data } = await this.getData(path);
    const have = parsePermits(data);
    if (have !== undefined && have !== permits) throw new ZooKeeperError(Err.BadArguments, path);
    const created = await this.create2(`${path}/${LEASE_PREFIX}`, null, { mode: "ephemeralSequential" });
    const name = created.path.slice(path.length + 1);
    const gaveUp = giveUpSignal(opts);
    try {
      for (;;) {
        const changed = new Promise<void>((resolve) => gaveUp.signal.addEventListener("abort", () => resolve(), { once: true }));
        let fired: () => void = () => {};
        const childEvent = new Promise<void>((resolve) => (fired = resolve));
        const children = await this.getChildren(path, { watch: () => fired() });
        if (holders(children, permits).includes(name)) return this.#handle(this.#sp(created.path), created.stat.czxid);
        await Promise.race([childEvent, changed]);
        gaveUp.signal.throwIfAborted();
      }
    } catch (err) {
      await this.delete(created.path).catch(() => undefined);
      throw err;
    } finally {
      gaveUp.done();
    }
  }

  /**
   * Waits until `blocker(children)` is undefined, watching only the current blocker
   * (no herd). On give-up deletes `own` and rejects.
   */
  async #waitChain(dir: string, _me: string, blocker: (children: string[]) => string | undefined, opts: WaitOptions, own: string): Promise<void> {
    const gaveUp = giveUpSignal(opts);
    try {
      for (;;) {
        const b = blocker(await this.getChildren(dir));
        if (b === undefined) return;
        let fired: () => void = () => {};
        const gone = new Promise<void>((resolve) => (fired = resolve));
        const stat = await this.exists(`${dir}/${b}`, { watch: () => fired() });
        if (stat === null) continue;
        await Promise.race([gone, abortPromise(gaveUp.signal)]);
      }
    } catch (err) {
      await this.delete(own).catch(() => undefined);
      throw err;
    } finally {
      gaveUp.done();
    }
  }

  /** Creates `path` and missing parents as containers (data on the last), if absent. */
  async #ensurePath(path: string, data: Buffer | null = null): Promise<void> {
    if ((await this.exists(path)) !== null) return;
    const parts = path.split("/").filter((p) => p !== "");
    let cur = "";
    for (let i = 0; i < parts.length; i++) {
      cur += "/" + parts[i]!;
      const last = i === parts.length - 1;
      await this.create(cur, last ? data : null, { mode: last && data !== null ? "persistent" : "container" }).catch((e: unknown) => {
        if (!ZooKeeperError.is(e, "NodeExists")) throw e;
      });
    }
  }

  // ---- queues -------------------------------------------------------------------------

  queue(path: string): Queue {
    return {
      offer: (data) => this.#offer(path, data),
      take: (opts = {}) => this.#take(path, false, opts).then((t) => t.data),
      peek: async () => {
        const head = queueItems(await this.getChildren(path))[0];
        if (head === undefined) return null;
        return (await this.getData(`${path}/${head}`).catch(() => ({ data: null }))).data ?? Buffer.alloc(0);
      },
      size: async () => queueItems(await this.getChildren(path)).length,
    };
  }

  jobQueue(path: string, queueOpts: JobQueueOptions = {}): JobQueue {
    return {
      offer: (data) => this.#offer(path, data),
      take: async (opts = {}) => {
        const visibilityMs = opts.visibilityTimeoutMs ?? queueOpts.visibilityTimeoutMs ?? 0;
        if (!Number.isSafeInteger(visibilityMs) || visibilityMs < 0 || visibilityMs > VISIBILITY_MS_MAX) {
          throw new ZooKeeperError(Err.BadArguments, path);
        }
        const t = await this.#take(path, true, opts, visibilityMs);
        const id = t.item;
        return { id, data: t.data, ack: () => this.delete(id) };
      },
      size: async () => queueItems(await this.getChildren(path)).length,
    };
  }

  async #offer(path: string, data: Data): Promise<string> {
    const created = await this.create(`${path}/${ITEM_PREFIX}`, data, { mode: "persistentSequential" }).catch(async (e: unknown) => {
      if (!ZooKeeperError.is(e, "NoNode")) throw e;
      await this.#ensurePath(path);
      return this.create(`${path}/${ITEM_PREFIX}`, data, { mode: "persistentSequential" });
    });
    return created.slice(path.length + 1);
  }

  async #take(path: string, job: boolean, opts: WaitOptions, visibilityMs = 0): Promise<{ item: string; data: Buffer }> {
    if ((await this.detectRecipeMode(opts)) === "client") {
      if (visibilityMs > 0) throw new ZooKeeperError(Err.Unimplemented, path);
      return this.#clientTake(path, job, opts);
    }
    const sp = this.#sp(path);
    const send = () =>
      this.request(
        CorralOp.queueTake,
        path,
        (w) => {
          encodeRecord(w, QueueTakeRequestSchema, { path: sp, job, wait: true });
          if (visibilityMs > 0) w.long(BigInt(visibilityMs)); // optional trailing field
        },
        (r) => decodeRecord(r, QueueTakeResponseSchema),
        opts,
      );
    const r = await send();
    const asItem = (item: string, data: Buffer | null) => ({ item: job ? this.#cp(item) : item, data: data ?? Buffer.alloc(0) });
    if (r.found) return asItem(r.item, r.data);
    const gaveUp = giveUpSignal(opts);
    const wait = this.#nextEvent(RecipeEventKind.QueueItem, sp);
    const onReconnect = (): void => void send().catch(() => undefined);
    this.#onReconnect.add(onReconnect);
    try {
      const e = await Promise.race([wait.event, abortPromise(gaveUp.signal)]);
      return asItem(e.node, e.data);
    } catch (err) {
      if (this.state !== "CONNECTED" || !gaveUp.signal.aborted) throw err;
      // Give up only if the server still had us waiting; otherwise an item is on its way
      // (or its take failed and we are waiting again): ask again, a bounded number of times.
      for (let attempt = 0; attempt < CANCEL_ATTEMPTS_MAX; attempt++) {
        const cancelled = await this.request(CorralOp.cancelWait, path, (w) => encodeRecord(w, PathRequestSchema, { path: sp }), (r) =>
          decodeRecord(r, CancelWaitResponseSchema),
        );
        if (cancelled.cancelled && wait.cancel()) throw err;
        const e = await Promise.race([wait.event, delay(CANCEL_RETRY_MS)]);
        if (e !== undefined) return asItem(e.node, e.data);
      }
      wait.cancel();
      throw err;
    } finally {
      this.#onReconnect.delete(onReconnect);
      gaveUp.done();
    }
  }

  /** Classic client-side take: read the head, delete it; a lost race moves to the next. */
  async #clientTake(path: string, job: boolean, opts: WaitOptions): Promise<{ item: string; data: Buffer }> {
    const gaveUp = giveUpSignal(opts);
    try {
      for (;;) {
        let fired: () => void = () => {};
        const childEvent = new Promise<void>((resolve) => (fired = resolve));
        const names = queueItems(await this.getChildren(path, { watch: () => fired() }));
        for (const name of names) {
          const taken = await this.#clientTakeOne(path, name, job);
          if (taken !== undefined) return taken;
          this.lostRaces++;
        }
        await Promise.race([childEvent, abortPromise(gaveUp.signal)]);
      }
    } finally {
      gaveUp.done();
    }
  }

  /** Races lost by client-side takes (the queue benchmark's herd meter). */
  lostRaces = 0;

  async #clientTakeOne(path: string, name: string, job: boolean): Promise<{ item: string; data: Buffer } | undefined> {
    const itemPath = `${path}/${name}`;
    try {
      const { data, stat } = await this.getData(itemPath);
      if (!job) {
        await this.delete(itemPath, { version: stat.version });
        return { item: name, data: data ?? Buffer.alloc(0) };
      }
      const inflight = `${path}/${INFLIGHT_PREFIX}${name}`;
      await this.multi([
        { op: "create", path: inflight, data, mode: "ephemeral" },
        { op: "delete", path: itemPath, version: stat.version },
      ]);
      return { item: inflight, data: data ?? Buffer.alloc(0) };
    } catch (e) {
      if (e instanceof ZooKeeperError && (e.code === "NoNode" || e.code === "BadVersion" || e.code === "NodeExists")) return undefined;
      throw e;
    }
  }

  // ---- barriers -----------------------------------------------------------------------

  barrier(path: string): Barrier {
    return {
      set: async () => {
        await this.create(path).catch((e: unknown) => {
          if (!ZooKeeperError.is(e, "NodeExists")) throw e;
        });
      },
      remove: async () => {
        await this.delete(path).catch((e: unknown) => {
          if (!ZooKeeperError.is(e, "NoNode")) throw e;
        });
      },
      wait: (opts = {}) => this.#barrierWait(path, opts),
    };
  }

  async #barrierWait(path: string, opts: WaitOptions): Promise<void> {
    const sp = this.#sp(path);
    const gaveUp = giveUpSignal(opts);
    try {
      if ((await this.detectRecipeMode(opts)) === "engine") {
        const r = await this.request(CorralOp.barrierWait, path, (w) => encodeRecord(w, PathRequestSchema, { path: sp }), (rd) =>
          decodeRecord(rd, DoneResponseSchema),
        );
        if (r.done) return;
        await this.#nextEvent(RecipeEventKind.BarrierReleased, sp, gaveUp.signal).event;
        return;
      }
      for (;;) {
        let fired: () => void = () => {};
        const gone = new Promise<void>((resolve) => (fired = resolve));
        if ((await this.exists(path, { watch: () => fired() })) === null) return;
        await Promise.race([gone, abortPromise(gaveUp.signal)]);
      }
    } finally {
      gaveUp.done();
    }
  }

  doubleBarrier(path: string, count: number): DoubleBarrier {
    const name = `${this.sessionId.toString(16)}-${randomUUID().slice(0, 8)}`;
    return {
      enter: (opts = {}) => this.#doubleBarrier(path, count, name, true, opts),
      leave: (opts = {}) => this.#doubleBarrier(path, count, name, false, opts),
    };
  }

  async #doubleBarrier(path: string, count: number, name: string, enter: boolean, opts: WaitOptions): Promise<void> {
    if (!Number.isInteger(count) || count <= 0) throw new ZooKeeperError(Err.BadArguments, path);
    const sp = this.#sp(path);
    const gaveUp = giveUpSignal(opts);
    try {
      if ((await this.detectRecipeMode(opts)) === "engine") {
        const op = enter ? CorralOp.doubleBarrierEnter : CorralOp.doubleBarrierLeave;
        const kind = enter ? RecipeEventKind.DoubleBarrierEntered : RecipeEventKind.DoubleBarrierLeft;
        const wait = this.#nextEvent(kind, sp, gaveUp.signal);
        const r = await this.request(op, path, (w) => encodeRecord(w, DoubleBarrierRequestSchema, { path: sp, count, name }), (rd) =>
          decodeRecord(rd, DoneResponseSchema),
        );
        if (r.done) {
          wait.cancel();
          return;
        }
        await wait.event;
        return;
      }
      // The ZooKeeper docs' double barrier: the participant that completes the count
      // creates "ready", and the others wait for "ready" rather than re-counting (a fast
      // participant may already be leaving by then).
      const own = `${path}/${name}`;
      const ready = `${path}/${READY_NODE}`;
      const participants = (children: string[]): number => children.filter((c) => c !== READY_NODE).length;
      if (enter) {
        await this.#ensurePath(path);
        await this.create(own, null, { mode: "ephemeral" });
        if (participants(await this.getChildren(path)) >= count) {
          await this.create(ready).catch((e: unknown) => {
            if (!ZooKeeperError.is(e, "NodeExists")) throw e;
          });
          return;
        }
        let fired: () => void = () => {};
        const created = new Promise<void>((resolve) => (fired = resolve));
        if ((await this.exists(ready, { watch: () => fired() })) !== null) return;
        await Promise.race([created, abortPromise(gaveUp.signal)]);
        return;
      }
      await this.delete(own).catch(() => undefined);
      for (;;) {
        let fired: () => void = () => {};
        const changed = new Promise<void>((resolve) => (fired = resolve));
        if (participants(await this.getChildren(path, { watch: () => fired() })) === 0) {
          await this.delete(ready).catch(() => undefined);
          return;
        }
        await Promise.race([changed, abortPromise(gaveUp.signal)]);
      }
    } finally {
      gaveUp.done();
    }
  }

  // ---- election -----------------------------------------------------------------------

  election(path: string, data: Data = null): Election {
    const listeners = new Set<(isLeader: boolean) => void>();
    let node: string | undefined;
    let leading = false;
    const setLeading = (v: boolean): void => {
      if (leading === v) return;
      leading = v;
      for (const l of listeners) l(v);
    };
    const payload = data === null || data === undefined ? null : typeof data === "string" ? Buffer.from(data) : data;
    const abort = new AbortController();
    return {
      join: async () => {
        if (node !== undefined) return;
        if ((await this.detectRecipeMode()) === "engine") {
          const send = (resumeNode: string) =>
            this.request(
              CorralOp.electionJoin,
              path,
              (w) => encodeRecord(w, ElectionJoinRequestSchema, { path: this.#sp(path), data: payload, resumeNode }),
              (r) => decodeRecord(r, ElectionJoinResponseSchema),
            );
          const r = await send("");
          node = r.node;
          if (r.leader) setLeading(true);
          else {
            const wait = this.#nextEvent(RecipeEventKind.LeaderElected, r.node, abort.signal);
            const onReconnect = (): void =>
              void send(r.node).then((x) => {
                if (x.leader && wait.cancel()) setLeading(true);
              }, () => undefined);
            this.#onReconnect.add(onReconnect);
            wait.event.then(
              () => setLeading(true),
              () => undefined,
            ).finally(() => this.#onReconnect.delete(onReconnect));
          }
          return;
        }
        await this.#ensurePath(path);
        const created = await this.create(`${path}/${MEMBER_PREFIX}`, payload, { mode: "ephemeralSequential" });
        node = this.#sp(created);
        const name = created.slice(path.length + 1);
        void this.#waitChain(path, name, (children) => predecessorOf(electionMembers(children), name), { signal: abort.signal }, created).then(
          () => setLeading(true),
          () => undefined,
        );
      },
      leave: async () => {
        abort.abort(new ZooKeeperError(Err.OperationTimeout));
        const n = node;
        node = undefined;
        setLeading(false);
        if (n !== undefined) await this.#releaseNode(n).catch(() => undefined);
      },
      leader: async () => {
        for (const id of electionMembers(await this.getChildren(path))) {
          const r = await this.getData(`${path}/${id}`).catch(() => undefined);
          if (r !== undefined) return { id, data: r.data ?? Buffer.alloc(0) };
        }
        return null;
      },
      members: async () => sortBySequence(electionMembers(await this.getChildren(path))),
      isLeader: () => leading,
      onLeadershipChange: (cb) => {
        listeners.add(cb);
        return () => listeners.delete(cb);
      },
    };
  }
}

/** The node that opens a client-side double barrier (ZooKeeper's recipes.md). */
const READY_NODE = "ready";
const CANCEL_ATTEMPTS_MAX = 20;
const CANCEL_RETRY_MS = 100;

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/** An AbortSignal that fires on the caller's signal or after timeoutMs. */
function giveUpSignal(opts: WaitOptions): { signal: AbortSignal; done: () => void } {
  const ctrl = new AbortController();
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => ctrl.abort(new ZooKeeperError(Err.OperationTimeout)), Math.max(0, opts.timeoutMs));
  const onAbort = (): void => ctrl.abort(opts.signal!.reason);
  if (opts.signal?.aborted) ctrl.abort(opts.signal.reason);
  else opts.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: ctrl.signal,
    done: () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    },
  };
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
  });
}
