// The recipe API: locks, semaphores, queues, job queues, barriers and elections, one
// module each. Against Corral (capability `corral-recipes=2`) each call is one request
// and the server pushes the grant (no herd), routed by the call's requestId (router.ts);
// against anything else (Apache ZooKeeper) the same calls run the classic client-side
// recipes with chained watches, the same node layout and the same rules (recipes/*/rules.ts).
//
// Faults are part of every recipe: waits re-send their request unchanged after a
// reconnect and reject with the session's end on LOST; held locks and leadership are
// given up no later than LOST (session.ts); a waiting call or a held lock keeps the
// process alive through reconnects.

import {
  CAPABILITY_PREFIX,
  GetDataResponseSchema,
  OpCode,
  PathWatchSchema,
  RECIPE_PROTOCOL_VERSION,
  decodeRecord,
  encodeRecord,
  type JuteReader,
  type JuteWriter,
  type RecipeEvent,
} from "../../jute/index.js";
import type { CallOptions, ClientOptions } from "../client.js";
import { toClientPath, toServerPath } from "../connect-string.js";
import { ZooKeeperClient, type Data } from "../zookeeper.js";
import { AckQueue } from "./acks.js";
import { barrier } from "./barrier.js";
import type { RecipeContext, RecipeMode } from "./context.js";
import { doubleBarrier } from "./double-barrier.js";
import { election } from "./election.js";
import { jobQueue } from "./job-queue.js";
import { lock, semaphore } from "./lock.js";
import { queue } from "./queue.js";
import { EventRouter } from "./router.js";
import { SessionTracker, type SessionScope } from "./session.js";
import { raceAbort } from "./signals.js";
import { reentrantLock } from "./reentrant.js";
import type { Barrier, DoubleBarrier, Election, ElectionOptions, JobQueue, JobQueueOptions, LockHandle, LockOptions, Queue, WaitOptions } from "./types.js";

export type {
  RecipeMode,
  WaitOptions,
  LockOptions,
  LockHandle,
  Queue,
  JobQueue,
  JobQueueOptions,
  JobTakeOptions,
  JobOfferOptions,
  Job,
  Barrier,
  DoubleBarrier,
  Election,
  ElectionOptions,
} from "./types.js";

export { AckOutcomeUnknownError } from "./nodes.js";

/** The capability text of the protocol this client speaks; any other means "no engine". */
const CAPABILITY = `${CAPABILITY_PREFIX}${RECIPE_PROTOCOL_VERSION}`;

/**
 * The client `connect()` returns: every ZooKeeper call of `ZooKeeperClient`, plus the
 * recipes (locks, semaphores, queues, job queues, barriers, elections). Against Corral each
 * recipe call is one request and the server pushes the grant to the one waiter it
 * unblocks; against Apache ZooKeeper the same calls run the classic client-side recipes on
 * the same nodes. Guarantees and failure modes of each: docs/recipes.md.
 */
export class CorralClient extends ZooKeeperClient {
  #mode: Promise<RecipeMode> | undefined;
  #resolvedMode: RecipeMode | undefined;
  readonly #router = new EventRouter();
  readonly #session: SessionTracker;
  readonly #acks: AckQueue;
  readonly #ctx: RecipeContext;

  constructor(connectString: string, opts: ClientOptions = {}) {
    super(connectString, opts);
    this.#session = new SessionTracker(this);
    this.#acks = new AckQueue(() => this.#ctx);
    this.on("recipeEvent", (e: RecipeEvent) => this.#router.route(e));
    const client = this;
    this.#ctx = {
      zk: this,
      router: this.#router,
      session: this.#session,
      acks: this.#acks,
      request: <T>(op: number, path: string, body: (w: JuteWriter) => void, decode: ((r: JuteReader) => T) | undefined, o?: CallOptions) =>
        this.request(op, path, body, decode, o),
      mode: (scope, signal) => this.#modeFor(scope, signal),
      get resolvedMode() {
        return client.#resolvedMode;
      },
      sp: (p) => toServerPath(this.chroot, p),
      cp: (p) => toClientPath(this.chroot, p),
      get lostRaces() {
        return client.lostRaces;
      },
      set lostRaces(n: number) {
        client.lostRaces = n;
      },
    };
  }

  /**
   * Races lost by client-side takes (the queue benchmark's herd meter).
   * @internal
   */
  lostRaces = 0;

  /** "engine" against Corral, "client" against Apache ZooKeeper (undefined until known). */
  get recipeMode(): RecipeMode | undefined {
    return this.#resolvedMode;
  }

  /** Asks the server once whether it runs the recipe engine (protocol v2). */
  detectRecipeMode(opts: CallOptions = {}): Promise<RecipeMode> {
    this.#mode ??= this.request(
      OpCode.getData,
      "/zookeeper",
      (w) => encodeRecord(w, PathWatchSchema, { path: "/zookeeper", watch: false }),
      (r) => decodeRecord(r, GetDataResponseSchema).data,
      opts,
    ).then(
      (data) => {
        this.#resolvedMode = data?.toString("utf8") === CAPABILITY ? "engine" : "client";
        return this.#resolvedMode;
      },
      (e: unknown) => {
        this.#mode = undefined; // ask again next time
        throw e;
      },
    );
    return this.#mode;
  }

  /** The mode, asked again after a lost connection until the scope's session ends. */
  async #modeFor(scope: SessionScope, signal?: AbortSignal): Promise<RecipeMode> {
    for (;;) {
      if (this.#resolvedMode !== undefined) return this.#resolvedMode;
      await scope.usable(signal);
      try {
        return await raceAbort(this.detectRecipeMode(), scope, signal);
      } catch (e) {
        if (!(e instanceof Error && "code" in e && e.code === "ConnectionLoss")) throw e;
      }
    }
  }

  /**
   * Closes the session. First the FIFO acks still pending are sent (so no item delivered
   * to this client goes back to its queue), then every held lock's `lost` fires and every
   * election member stops leading (ClientClosedError), before the server can hand them to
   * anyone else.
   */
  override async close(): Promise<void> {
    if (!this.#session.closed && this.#session.connected) {
      const flushing = this.#acks.flush();
      // Bounded: a flush cut off by a lost connection does not hold up close().
      await Promise.race([flushing, new Promise((r) => setTimeout(r, Math.max(1000, this.sessionTimeoutMs)).unref())]);
    }
    this.#session.closing(this.sessionId);
    await super.close();
  }

  // ---- locks --------------------------------------------------------------------------

  /**
   * Acquires the write lock at `path`, waiting behind earlier contenders. The wait lives
   * through lost connections (re-sent on the same session: the same node, never a second
   * one); it rejects with the session's end when the session is LOST (SessionLostError or
   * SessionExpired) or the client is closed (ClientClosedError), and with OperationTimeout
   * or the signal's reason when the caller gives up (the node is then removed). Locks
   * taken here exclude kazoo's, Curator's and the ZooKeeper docs' locks on the same path.
   */
  writeLock(path: string, opts: LockOptions = {}): Promise<LockHandle> {
    return this.#lock(path, "write", opts);
  }

  /** Acquires a read lock at `path` (shared with readers, excluded by writers); as writeLock. */
  readLock(path: string, opts: LockOptions = {}): Promise<LockHandle> {
    return this.#lock(path, "read", opts);
  }

  /** A mutual-exclusion lock: a write lock. */
  mutex(path: string, opts: LockOptions = {}): Promise<LockHandle> {
    return this.#lock(path, "write", opts);
  }

  #lock(path: string, mode: "read" | "write", opts: LockOptions): Promise<LockHandle> {
    if (opts.reentrant !== true) return lock(this.#ctx, path, mode, opts);
    return reentrantLock(this.#ctx, `${mode}\0${path}`, opts, () => lock(this.#ctx, path, mode, opts));
  }

  /** A counting semaphore: at most `permits` holders at once; waits as writeLock does. */
  semaphore(path: string, permits: number, opts: WaitOptions = {}): Promise<LockHandle> {
    return semaphore(this.#ctx, path, permits, opts);
  }

  // ---- queues, barriers, elections ----------------------------------------------------

  /**
   * The FIFO queue at `path` (created on the first offer). Items are persistent sequential
   * children `qn-N`; `take()` hands each to exactly one consumer.
   */
  queue(path: string): Queue {
    return queue(this.#ctx, path);
  }

  /**
   * The job queue at `path`: `take()` hands an item out for processing and `ack()` ends
   * it; an item not acked goes back to the queue when its consumer's session ends, or
   * after `visibilityTimeoutMs` (Corral only), so it is processed at least once.
   */
  jobQueue(path: string, opts: JobQueueOptions = {}): JobQueue {
    return jobQueue(this.#ctx, path, opts);
  }

  /** The barrier at `path`: closed while the node exists; `wait()` returns once it is gone. */
  barrier(path: string): Barrier {
    return barrier(this.#ctx, path);
  }

  /**
   * One participant of the double barrier at `path` for `count` participants: `enter()`
   * waits until `count` are in, `leave()` until all have left. Call `leave()` on the object
   * that entered (it names the participant's node).
   */
  doubleBarrier(path: string, count: number): DoubleBarrier {
    return doubleBarrier(this.#ctx, path, count);
  }

  /** A member of the election at `path`; `id` is what members() and leader() report. */
  election(path: string, id: Data = null, opts: ElectionOptions = {}): Election {
    return election(this.#ctx, path, id, opts);
  }
}
