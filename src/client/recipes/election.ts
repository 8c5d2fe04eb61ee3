// Leader election. A member is an ephemeral-sequential node `_c_<requestId>-n_N` holding
// the member's id; the lowest sequence leads. Engine: electionJoin answers leader or
// waiting, and LeaderElected is pushed when the member ahead goes. Fallback: each member
// watches the one just ahead (no herd).
//
// Leadership follows the connection as Curator's LeaderLatch does. By default (policy
// "suspended") it is dropped as soon as the connection is lost (SUSPENDED), since once the
// session could have expired another member may lead; with "lost" it is kept until the
// session is LOST. After RECONNECTED on the same session the join is re-sent with the same
// requestId (the engine answers from the member node the session still has); after LOST
// the member joins again on the new session with a new requestId: it wants to lead until
// leave(). A member whose node is deleted by someone else joins again too.

import { randomUUID } from "node:crypto";
import {
  CorralOp,
  ElectionJoinRequestSchema,
  ElectionJoinResponseSchema,
  Err,
  decodeRecord,
  encodeRecord,
  type RecipeEvent,
} from "../../jute/index.js";
import { MISSING } from "../../../recipes/common/rules.js";
import { MEMBER_PREFIX, members, predecessorOf } from "../../../recipes/election/rules.js";
import { ZooKeeperError } from "../errors.js";
import type { Data } from "../zookeeper.js";
import type { RecipeContext } from "./context.js";
import { untilFiredOrReconnected, watcher } from "./fallback.js";
import { ensurePath, protectedCreate, releaseNode, retrying } from "./nodes.js";
import { isNodeGone } from "./router.js";
import type { ConnectionState, SessionScope } from "./session.js";
import { deferred, delay, isConnectionLoss, raceAbort } from "./signals.js";
import type { Election, ElectionOptions } from "./types.js";

export function election(ctx: RecipeContext, path: string, data: Data, opts: ElectionOptions = {}): Election {
  const payload = data === null || data === undefined ? null : typeof data === "string" ? Buffer.from(data) : data;
  const policy = opts.leadershipPolicy ?? "suspended";
  const listeners = new Set<(isLeader: boolean) => void>();
  let leading = false;
  let member: Member | undefined;
  const setLeading = (v: boolean): void => {
    if (leading === v) return;
    leading = v;
    for (const l of [...listeners]) l(v);
  };
  return {
    join: () => {
      if (member === undefined) {
        const m = new Member(ctx, path, payload, policy, setLeading);
        member = m;
        // A join refused for good (bad path, no rights, closed) may be tried again.
        m.joined.catch(() => {
          if (member === m) member = undefined;
        });
      }
      return member.joined;
    },
    leave: async () => {
      const m = member;
      member = undefined;
      setLeading(false);
      await m?.stop();
    },
    leader: async () => {
      for (const node of members(await ctx.zk.getChildren(path))) {
        const r = await ctx.zk.getData(`${path}/${node}`).catch(() => undefined);
        if (r !== undefined) return { id: idOf(r.data), data: r.data ?? Buffer.alloc(0) };
      }
      return null;
    },
    members: async () => {
      const nodes = members(await ctx.zk.getChildren(path));
      const datas = await Promise.all(nodes.map((n) => ctx.zk.getData(`${path}/${n}`).catch(() => undefined)));
      return datas.filter((d) => d !== undefined).map((d) => idOf(d.data));
    },
    isLeader: () => leading,
    onLeadershipChange: (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
}

const idOf = (data: Buffer | null): string => data?.toString("utf8") ?? "";

/** A member whose node keeps going re-joins at once, then after 40, 80, ... up to 1,280 ms. */
const REJOIN_BACKOFF_BASE_MS = 10;
const REJOIN_BACKOFF_STEPS_MAX = 7;

/** One joined member: a loop that (re)joins and follows the connection until stop(). */
class Member {
  readonly joined: Promise<void>;
  readonly #ctx: RecipeContext;
  readonly #path: string;
  readonly #payload: Buffer | null;
  readonly #policy: "suspended" | "lost";
  readonly #setLeading: (v: boolean) => void;
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;
  #markJoined: (e?: Error) => void = () => {};
  /** Re-joins in a row after the member's node went (reset once it leads or waits again). */
  #rejoins = 0;
  /** The member node (server path) on the current session, once known. */
  #node: string | undefined;
  #nodeScope: SessionScope | undefined;

  constructor(ctx: RecipeContext, path: string, payload: Buffer | null, policy: "suspended" | "lost", setLeading: (v: boolean) => void) {
    this.#ctx = ctx;
    this.#path = path;
    this.#payload = payload;
    this.#policy = policy;
    this.#setLeading = setLeading;
    const joined = deferred<void>();
    this.joined = joined.promise;
    let settled = false;
    this.#markJoined = (e) => {
      if (settled) return;
      settled = true;
      if (e === undefined) joined.resolve();
      else joined.reject(e);
    };
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort(new ZooKeeperError(Err.OperationTimeout));
    await this.#done;
  }

  /** Leading only while connected, unless the policy keeps it through SUSPENDED. */
  #lead(v: boolean): void {
    if (v && !this.#ctx.session.connected) return;
    this.#setLeading(v);
  }

  #onState(s: ConnectionState): void {
    if (s === "LOST" || s === "CLOSED" || (s === "SUSPENDED" && this.#policy === "suspended")) this.#setLeading(false);
  }

  async #run(): Promise<void> {
    const ctx = this.#ctx;
    const stop = this.#stop.signal;
    const unlisten = ctx.session.listen((s) => this.#onState(s));
    const hold = ctx.session.holdOpen();
    try {
      while (!stop.aborted) {
        const scope = ctx.session.scope();
        try {
          if (ctx.session.closed) throw scope.endReason;
          const mode = await ctx.mode(scope, stop);
          if (mode === "engine") await this.#engineMember(scope);
          else await this.#clientMember(scope);
        } catch (e) {
          if (stop.aborted) break;
          if (ctx.session.closed) {
            this.#markJoined(e as Error);
            break;
          }
          if (scope.ended) {
            this.#setLeading(false);
            continue; // LOST: join again on the next session
          }
          if (ZooKeeperError.is(e, "NoNode")) {
            this.#setLeading(false);
            // Our node is gone: join again; backing off if it keeps going (bounded).
            const n = (this.#rejoins = Math.min(this.#rejoins + 1, REJOIN_BACKOFF_STEPS_MAX));
            if (n > 1) await raceAbort(delay(REJOIN_BACKOFF_BASE_MS * 2 ** n), stop).catch(() => undefined);
            continue;
          }
          // A refusal (bad path, no rights): the join fails, for good.
          this.#markJoined(e as Error);
          break;
        } finally {
          if (this.#nodeScope !== scope) scope.dispose();
        }
      }
    } finally {
      unlisten();
      this.#setLeading(false);
      await this.#removeNode();
      hold();
    }
  }

  async #removeNode(): Promise<void> {
    const node = this.#node;
    const scope = this.#nodeScope;
    this.#node = undefined;
    this.#nodeScope = undefined;
    if (node === undefined || scope === undefined) return;
    await releaseNode(this.#ctx, scope, node).catch(() => undefined);
    scope.dispose();
  }

  /** The member node is `node` on `scope`'s session (removed on leave). */
  #joinedWith(scope: SessionScope, node: string): void {
    if (this.#nodeScope !== undefined && this.#nodeScope !== scope) this.#nodeScope.dispose();
    this.#node = node;
    this.#nodeScope = scope;
  }

  /** The member is in, leading or waiting: the next loss of its node re-joins at once. */
  #settledIn(): void {
    this.#rejoins = 0;
    this.#markJoined();
  }

  async #engineMember(scope: SessionScope): Promise<void> {
    const ctx = this.#ctx;
    const stop = this.#stop.signal;
    const sp = ctx.sp(this.#path);
    const requestId = randomUUID();
    let route = ctx.router.expect(requestId);
    let pending: Promise<{ node: string; leader: boolean }> | undefined;
    try {
      for (;;) {
        await scope.usable(stop);
        const sentAt = ctx.session.reconnects;
        pending = ctx.request(
          CorralOp.electionJoin,
          this.#path,
          (w) => encodeRecord(w, ElectionJoinRequestSchema, { path: sp, data: this.#payload, requestId }),
          (r) => decodeRecord(r, ElectionJoinResponseSchema),
        );
        pending.catch(() => undefined);
        let r: { node: string; leader: boolean };
        try {
          r = await raceAbort(pending, scope, stop);
        } catch (e) {
          if (isConnectionLoss(e) && !scope.ended && !stop.aborted) continue;
          throw e;
        }
        pending = undefined;
        this.#joinedWith(scope, r.node);
        this.#lead(r.leader);
        this.#settledIn();
        // The engine tells a waiting member its node is gone (NodeGone); a leader watches
        // its own node, so one deleted by someone else stops leading before the next leads.
        let ownGone = r.leader ? this.#gone(r.node) : undefined;
        // Until the next reconnect (then the join is sent again): the grant, or NodeGone.
        while (ctx.session.reconnects === sentAt) {
          const e: RecipeEvent | "gone" | undefined = await raceAbort(
            Promise.race([route.event, ctx.session.changed().then(() => undefined), ...(ownGone === undefined ? [] : [ownGone])]),
            scope,
            stop,
          );
          if (e === undefined) continue;
          if (e === "gone" || isNodeGone(e)) throw new ZooKeeperError(Err.NoNode, ctx.cp(r.node));
          route = ctx.router.expect(requestId);
          this.#lead(true);
          ownGone ??= this.#gone(r.node);
        }
      }
    } finally {
      route.close();
      // Stopped with a join in flight: the node it makes is removed too.
      if (stop.aborted && pending !== undefined && this.#node === undefined) {
        const r = await pending.catch(() => undefined);
        if (r !== undefined) this.#joinedWith(scope, r.node);
      }
    }
  }

  /** Resolves "gone" once the member node (server path) is deleted; never on a lost connection. */
  #gone(node: string): Promise<"gone"> {
    const ctx = this.#ctx;
    return (async () => {
      for (;;) {
        const w = watcher();
        const stat = await ctx.zk.exists(ctx.cp(node), { watch: w.listener }).catch(() => undefined);
        if (stat === null) return "gone" as const;
        // undefined (the call failed): the watch was not set; the join is re-sent on reconnect.
        if (stat === undefined) return new Promise<never>(() => {});
        await w.fired;
      }
    })();
  }

  async #clientMember(scope: SessionScope): Promise<void> {
    const ctx = this.#ctx;
    const stop = this.#stop.signal;
    const path = this.#path;
    await ensurePath(ctx, scope, path, null, stop);
    const created = await protectedCreate(ctx, scope, path, MEMBER_PREFIX, this.#payload, "ephemeralSequential", stop);
    const name = created.path.slice(path.length + 1);
    this.#joinedWith(scope, ctx.sp(created.path));
    for (;;) {
      const children = await retrying(scope, () => ctx.zk.getChildren(path), stop);
      const ahead = predecessorOf(members(children), name);
      if (ahead === MISSING) throw new ZooKeeperError(Err.NoNode, created.path);
      // The leader watches its own node (deleted by someone else: join again); the others
      // the member just ahead.
      const w = watcher();
      const watched = ahead === undefined ? created.path : `${path}/${ahead}`;
      const stat = await retrying(scope, () => ctx.zk.exists(watched, { watch: w.listener }), stop);
      if (stat === null) continue;
      this.#lead(ahead === undefined);
      this.#settledIn(); // join() resolves once it is known whether the member leads
      await untilFiredOrReconnected(ctx, scope, w.fired, stop);
    }
  }
}
