// STAND-IN — DELETE when every supported client has the recipe API (issue 5): bench's own
// classic client-side ZooKeeper recipes on plain ZooKeeperClient ops. `recipesFor()` uses
// these only when the client lacks `client.mutex` etc., or with `--recipes standin` (to
// measure Corral with the classic protocol against its own engine). Same node layout as
// the ZooKeeper recipes docs:
// - locks: ephemeral-sequential `write-`/`read-` nodes; a writer watches only its
//   immediate predecessor, a reader only the nearest lower writer (no herd);
// - queue: persistent-sequential `qn-` items; take = getChildren, then getData + delete
//   of the lowest; a NoNode/BadVersion means another consumer won: a lost race (counted);
// - job queue: take moves the item to an ephemeral `inflight/<item>` in one multi, ack deletes it;
// - double barrier: the docs' algorithm with a `ready` node (enter) and chained leave;
// - election: ephemeral-sequential `n_` members, each watching the next-lower member.

import type { WatchEvent, ZooKeeperClient } from "../../src/client/index.js";
import { ZooKeeperError } from "../../src/client/index.js";
import type {
  DoubleBarrierApi,
  ElectionApi,
  JobApi,
  JobQueueApi,
  LockHandle,
  QueueApi,
  RecipeClient,
  RecipeMode,
  WaitOpts,
} from "./api.js";

const SEQ_DIGITS = 10;
const WRITE = "write-";
const READ = "read-";
const ITEM = "qn-";
const INFLIGHT = "inflight";
const MEMBER = "n_";
const READY = "ready";

const seqOf = (name: string): number => Number.parseInt(name.slice(-SEQ_DIGITS), 10);
const bySeq = (a: string, b: string): number => seqOf(a) - seqOf(b);

/** Rejects when the caller's signal fires or timeoutMs passes; `done()` clears the timer. */
function giveUp(opts: WaitOpts): { promise: Promise<never>; done: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    if (opts.timeoutMs !== undefined) timer = setTimeout(() => reject(new Error(`gave up after ${opts.timeoutMs} ms`)), opts.timeoutMs);
    if (opts.signal !== undefined) {
      onAbort = () => reject(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error("aborted"));
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  promise.catch(() => undefined);
  return {
    promise,
    done: () => {
      clearTimeout(timer);
      if (onAbort !== undefined) opts.signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** A promise that resolves when a one-shot watch fires, and the listener to pass. */
function watchOnce(): { fired: Promise<WatchEvent | undefined>; listener: (e: WatchEvent) => void } {
  let listener: (e: WatchEvent) => void = () => {};
  const fired = new Promise<WatchEvent | undefined>((resolve) => (listener = resolve));
  return { fired, listener };
}

function ignore(code: "NoNode" | "NodeExists") {
  return (e: unknown): void => {
    if (!ZooKeeperError.is(e, code)) throw e;
  };
}

export class StandInRecipes implements RecipeClient {
  readonly recipeMode: RecipeMode = "client";
  readonly implementation = "bench stand-in" as const;
  readonly #zk: ZooKeeperClient;
  readonly #lost = new AbortController();
  #lostRaces = 0;

  constructor(zk: ZooKeeperClient) {
    this.#zk = zk;
    zk.on("state", (s: string) => {
      if (s === "EXPIRED" || s === "CLOSED" || s === "AUTH_FAILED") this.#lost.abort(new Error(`session ${s}`));
    });
  }

  lostRaces(): number {
    return this.#lostRaces;
  }

  async #ensurePath(path: string): Promise<void> {
    let cur = "";
    for (const part of path.split("/").filter((p) => p !== "")) {
      cur += "/" + part;
      await this.#zk.create(cur).catch(ignore("NodeExists"));
    }
  }

  /** create(), making the parents first if they are missing. */
  async #create(path: string, data: Buffer | null, mode: "ephemeral" | "ephemeralSequential" | "persistentSequential") {
    try {
      return await this.#zk.create2(path, data, { mode });
    } catch (e) {
      if (!ZooKeeperError.is(e, "NoNode")) throw e;
      await this.#ensurePath(path.slice(0, path.lastIndexOf("/")));
      return this.#zk.create2(path, data, { mode });
    }
  }

  // ---- locks ------------------------------------------------------------------------------

  mutex(path: string, opts: WaitOpts = {}): Promise<LockHandle> {
    return this.#lock(path, "write", opts);
  }

  writeLock(path: string, opts: WaitOpts = {}): Promise<LockHandle> {
    return this.#lock(path, "write", opts);
  }

  readLock(path: string, opts: WaitOpts = {}): Promise<LockHandle> {
    return this.#lock(path, "read", opts);
  }

  async #lock(path: string, mode: "read" | "write", opts: WaitOpts): Promise<LockHandle> {
    const created = await this.#create(`${path}/${mode === "write" ? WRITE : READ}`, null, "ephemeralSequential");
    const name = created.path.slice(path.length + 1);
    const blockerOf = (children: string[]): string | undefined => {
      const nodes = children.filter((c) => c.startsWith(WRITE) || c.startsWith(READ)).sort(bySeq);
      const i = nodes.indexOf(name);
      if (i === -1) throw new Error(`lock node ${created.path} vanished`);
      if (mode === "write") return i === 0 ? undefined : nodes[i - 1];
      for (let j = i - 1; j >= 0; j--) if (nodes[j]!.startsWith(WRITE)) return nodes[j];
      return undefined;
    };
    await this.#waitChain(path, blockerOf, opts, created.path);
    let released = false;
    return {
      token: created.stat.czxid,
      lost: this.#lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        await this.#zk.delete(created.path).catch(ignore("NoNode"));
      },
    };
  }

  /** Waits, watching only the one node that blocks us, until nothing does; deletes `own` on give-up. */
  async #waitChain(dir: string, blockerOf: (children: string[]) => string | undefined, opts: WaitOpts, own: string): Promise<void> {
    const g = giveUp(opts);
    try {
      for (;;) {
        const blocker = blockerOf(await this.#zk.getChildren(dir));
        if (blocker === undefined) return;
        const w = watchOnce();
        if ((await this.#zk.exists(`${dir}/${blocker}`, { watch: w.listener })) === null) continue;
        await Promise.race([w.fired, g.promise]);
      }
    } catch (e) {
      await this.#zk.delete(own).catch(() => undefined);
      throw e;
    } finally {
      g.done();
    }
  }

  // ---- queues -----------------------------------------------------------------------------

  async #offer(path: string, data: Buffer): Promise<string> {
    const created = await this.#create(`${path}/${ITEM}`, data, "persistentSequential");
    return created.path.slice(path.length + 1);
  }

  /** Classic take: the lowest item, or wait for a child change; a lost race moves on. */
  async #take<T>(path: string, opts: WaitOpts, claim: (name: string) => Promise<T | undefined>): Promise<T> {
    const g = giveUp(opts);
    try {
      for (;;) {
        const w = watchOnce();
        const items = (await this.#zk.getChildren(path, { watch: w.listener }).catch(async (e: unknown) => {
          if (!ZooKeeperError.is(e, "NoNode")) throw e;
          await this.#ensurePath(path);
          return this.#zk.getChildren(path, { watch: w.listener });
        }))
          .filter((c) => c.startsWith(ITEM))
          .sort(bySeq);
        for (const name of items) {
          const got = await claim(name);
          if (got !== undefined) return got;
          this.#lostRaces++;
        }
        await Promise.race([w.fired, g.promise]);
      }
    } finally {
      g.done();
    }
  }

  queue(path: string): QueueApi {
    const claim = async (name: string): Promise<Buffer | undefined> => {
      try {
        const { data, stat } = await this.#zk.getData(`${path}/${name}`);
        await this.#zk.delete(`${path}/${name}`, { version: stat.version });
        return data ?? Buffer.alloc(0);
      } catch (e) {
        if (ZooKeeperError.is(e, "NoNode") || ZooKeeperError.is(e, "BadVersion")) return undefined;
        throw e;
      }
    };
    return {
      offer: (data) => this.#offer(path, data),
      take: (opts = {}) => this.#take(path, opts, claim),
      size: async () => (await this.#zk.getChildren(path)).filter((c) => c.startsWith(ITEM)).length,
    };
  }

  jobQueue(path: string): JobQueueApi {
    const inflight = `${path}/${INFLIGHT}`;
    const claim = async (name: string): Promise<JobApi | undefined> => {
      try {
        const { data, stat } = await this.#zk.getData(`${path}/${name}`);
        await this.#zk.create(inflight).catch(ignore("NodeExists"));
        const id = `${inflight}/${name}`;
        await this.#zk.multi([
          { op: "create", path: id, data, mode: "ephemeral" },
          { op: "delete", path: `${path}/${name}`, version: stat.version },
        ]);
        return { id, data: data ?? Buffer.alloc(0), ack: () => this.#zk.delete(id) };
      } catch (e) {
        if (e instanceof ZooKeeperError && (e.code === "NoNode" || e.code === "BadVersion" || e.code === "NodeExists")) return undefined;
        throw e;
      }
    };
    return {
      offer: (data) => this.#offer(path, data),
      take: (opts = {}) => this.#take(path, opts, claim),
    };
  }

  // ---- double barrier (ZooKeeper recipes docs) ---------------------------------------------

  doubleBarrier(path: string, count: number): DoubleBarrierApi {
    let own: string | undefined;
    const members = (children: string[]): string[] => children.filter((c) => c !== READY).sort();
    return {
      enter: async (opts = {}) => {
        const g = giveUp(opts);
        try {
          await this.#ensurePath(path);
          const ready = watchOnce();
          const readyNow = (await this.#zk.exists(`${path}/${READY}`, { watch: ready.listener })) !== null;
          own = (await this.#create(`${path}/${this.#zk.sessionId.toString(16)}-${Math.random().toString(36).slice(2, 10)}`, null, "ephemeral")).path;
          if (readyNow) return;
          if (members(await this.#zk.getChildren(path)).length < count) {
            await Promise.race([ready.fired, g.promise]);
            return;
          }
          await this.#zk.create(`${path}/${READY}`).catch(ignore("NodeExists"));
        } finally {
          g.done();
        }
      },
      leave: async (opts = {}) => {
        const g = giveUp(opts);
        const me = own?.slice(path.length + 1);
        try {
          for (;;) {
            const nodes = members(await this.#zk.getChildren(path));
            if (nodes.length === 0) return;
            if (nodes.length === 1 && nodes[0] === me) {
              await this.#zk.delete(own!).catch(ignore("NoNode"));
              return;
            }
            // The lowest waits on the highest; everyone else leaves and waits on the lowest.
            const lowest = nodes[0]!;
            const target = lowest === me ? nodes[nodes.length - 1]! : lowest;
            if (lowest !== me && me !== undefined && nodes.includes(me)) await this.#zk.delete(own!).catch(ignore("NoNode"));
            const w = watchOnce();
            if ((await this.#zk.exists(`${path}/${target}`, { watch: w.listener })) === null) continue;
            await Promise.race([w.fired, g.promise]);
          }
        } finally {
          g.done();
        }
      },
    };
  }

  // ---- election -----------------------------------------------------------------------------

  election(path: string, data: Buffer): ElectionApi {
    const listeners = new Set<(isLeader: boolean) => void>();
    const stop = new AbortController();
    let own: string | undefined;
    let leading = false;
    const setLeading = (v: boolean): void => {
      if (leading === v) return;
      leading = v;
      for (const l of listeners) l(v);
    };
    return {
      join: async () => {
        if (own !== undefined) return;
        const created = await this.#create(`${path}/${MEMBER}`, data, "ephemeralSequential");
        own = created.path;
        const name = own.slice(path.length + 1);
        const predecessor = (children: string[]): string | undefined => {
          const nodes = children.filter((c) => c.startsWith(MEMBER)).sort(bySeq);
          const i = nodes.indexOf(name);
          if (i === -1) throw new Error(`election node ${created.path} vanished`);
          return i === 0 ? undefined : nodes[i - 1];
        };
        void this.#waitChain(path, predecessor, { signal: stop.signal }, created.path).then(
          () => setLeading(true),
          () => undefined,
        );
      },
      leave: async () => {
        stop.abort(new Error("left the election"));
        const n = own;
        own = undefined;
        setLeading(false);
        if (n !== undefined) await this.#zk.delete(n).catch(() => undefined);
      },
      leader: async () => {
        for (const id of (await this.#zk.getChildren(path)).filter((c) => c.startsWith(MEMBER)).sort(bySeq)) {
          const r = await this.#zk.getData(`${path}/${id}`).catch(() => undefined);
          if (r !== undefined) return { id, data: r.data ?? Buffer.alloc(0) };
        }
        return null;
      },
      isLeader: () => leading,
      onLeadershipChange: (cb) => {
        listeners.add(cb);
        return () => listeners.delete(cb);
      },
    };
  }
}
