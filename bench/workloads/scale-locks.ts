// Scale cases of locks (issue 15, item 4).
// - mutex-many: M independent mutexes, C contenders on each (default 1,000 x 4), the
//   contenders sharing S sessions (default 64: contender k is on session k mod S, so a
//   mutex's contenders are on distinct sessions). Each contender loops acquire - check -
//   release (the lock workloads' cycle, checked by the lock table). Headline: aggregate
//   hand-offs/s. Group commit should carry many chains per fsync.
// - waiters-100k: one lock, N waiters (default 100,000) filed by S sessions (default 16,
//   each filing N/S waits: the API allows many waits per session). A granted waiter
//   checks, releases and files a new wait at once, so the line keeps its length. Phases:
//   (1) 10 waiting: H hand-offs timed (release sent to next grant); (2) filing: the time
//   until the lock's node has N + 1 children (holder and waiters), and the server's RSS
//   and heap (its own `envi`) before and after; (3) N waiting: H hand-offs timed (the
//   measured window). Against ZooKeeper the classic recipe lists the lock's children for
//   every waiter: the filing and each hand-off are bounded in time, and what failed and
//   how far it got are reported.

import { CorrectnessViolation } from "../checks.js";
import type { LockHandle, RecipeClient } from "../recipes/api.js";
import { LatencyHistogram } from "../stats.js";
import { ensurePath, now } from "./driver.js";
import { cycle } from "./locks.js";
import { ConnectionWatch, errorText, memberMemory, pipelined, pollUntil, put, sum } from "./scale-common.js";
import type { CaseContext, CaseSpec, PlanOptions, Workload } from "./types.js";

const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Waiters issued before the filing phase looks at the lock's child count again. */
const FILE_BATCH = 2_000;
const WAITER_SESSION_TIMEOUT_MS = 30_000;
/** Bound of one chain of hand-offs. */
const CHAIN_MS_MAX = 90_000;
/** Setup creates in flight (lock parents). */
const SETUP_IN_FLIGHT = 256;

const isFull = (plan: PlanOptions): boolean => plan.scale.factor >= 0.5;

export const mutexManyWorkload: Workload = {
  name: "mutex-many",
  title: "many independent mutexes (contenders share sessions)",
  group: "scale",
  unit: "grants",
  latency: "acquire (request to grant, each mutex contended by its contenders)",
  headline: "throughput",
  targets: () => [{ metric: "throughput", op: ">=", ratio: 5, source: "issue 15" }],
  cases: (plan): CaseSpec[] => {
    const s = plan.scale;
    return [
      {
        workload: "mutex-many",
        variant: `${s.mutexes}x${s.contendersPerMutex}/${s.mutexSessions}s`,
        clients: s.mutexSessions,
        params: { mutexes: s.mutexes, contenders: s.contendersPerMutex, sessions: s.mutexSessions, waitMs: Math.min(60_000, s.phaseSeconds * 1000) },
      },
    ];
  },
  timing: (_spec, plan) => {
    const durationMs = isFull(plan) ? 5_000 : 1_000;
    const warmupMs = isFull(plan) ? 1_000 : 200;
    return { warmupMs, durationMs, boundMs: warmupMs + durationMs + plan.scale.phaseSeconds * 1000, opsMax: 10_000_000 };
  },
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const m = spec.params["mutexes"]!;
    const c = spec.params["contenders"]!;
    const s = spec.params["sessions"]!;
    const recipes = await Promise.all(Array.from({ length: s }, async () => ctx.recipes(await ctx.connect())));
    const paths = Array.from({ length: m }, (_, i) => `${ctx.root}/m${i}`);
    await ensurePath(ctx.admin, ctx.root);
    const made = await pipelined(m, SETUP_IN_FLIGHT, (i) => ctx.admin.create(paths[i]!).then(() => undefined), { signal: ctx.signal, deadline: now() + 60_000 });
    if (made.done < m) throw new Error(`created ${made.done} of ${m} mutex nodes: ${errorText(made.firstError)}`);
    // A slow server hands each of 1,000 mutexes on a few times a second: a contender may
    // wait well past the default 5 s behind its 3 rivals without anything being wrong.
    const lockCtx: CaseContext = { ...ctx, waitMs: spec.params["waitMs"]! };
    ctx.window.begin();
    const contenders = m * c;
    await Promise.all(
      Array.from({ length: contenders }, async (_, k) => {
        const path = paths[Math.floor(k / c)]!;
        const r = recipes[k % s]!;
        while (ctx.window.running) {
          try {
            await cycle(lockCtx, r, path, "write", `contender-${k}`, "mutex");
          } catch (e) {
            if (ctx.signal.aborted || ctx.violations.messages.length > 0) return;
            ctx.error(e);
          }
        }
      }),
    );
    ctx.extra["contenders"] = contenders;
  },
};

interface Line {
  ctx: CaseContext;
  path: string;
  sessions: RecipeClient[];
  waitMs: number;
  /** Hand-offs still to chain in the current phase (0: the next grantee keeps the lock). */
  handoffsLeft: number;
  /** When the last release was sent (the next grant's hand-off starts there). */
  releasedAt: number | undefined;
  histogram: LatencyHistogram | undefined;
  /** The window counts this phase's hand-offs. */
  windowed: boolean;
  held: LockHandle | undefined;
  /** Marks the held lock released by the chain (its lost listener then does nothing). */
  letGo: (() => void) | undefined;
  holder: string;
  /** Resolves when a phase's last hand-off landed (the grantee keeps the lock). */
  phaseEnded: (() => void) | undefined;
  next: number;
  grants: number;
  /** Grants whose `lost` fired while held (the session was lost): given up, not a violation. */
  lostWhileHeld: number;
  /** Waits that failed (they will never be granted: the filing stops counting on them). */
  failed: number;
  finished: boolean;
}

/** Files one wait on the line; when granted: check, time the hand-off, then pass it on (and file again) or keep it. */
function fileWaiter(line: Line): void {
  const { ctx, path } = line;
  const id = line.next++;
  const holder = `waiter-${id}`;
  const r = line.sessions[id % line.sessions.length]!;
  // No abort signal per wait: 100,000 listeners on one signal cost the driver more than
  // the server (Node's EventTarget adds and removes them in linear time). A stopped run
  // closes the sessions, which ends every wait.
  r.mutex(path, { timeoutMs: line.waitMs })
    .then(async (lock) => {
      const grantedAt = now();
      ctx.locks.acquired(path, "write", lock.token, holder);
      line.grants++;
      // The client says when a held lock can no longer be counted on (its session lost),
      // before anyone else can be granted it: the holder lets go then, as a user would.
      let released = false;
      const onLost = (): void => {
        if (released) return;
        released = true;
        line.lostWhileHeld++;
        ctx.locks.released(path, "write", holder);
        if (!line.finished && !ctx.signal.aborted) ctx.error(new Error(`${holder} lost the lock it held (its session was lost)`));
      };
      if (lock.lost.aborted) onLost();
      else lock.lost.addEventListener("abort", onLost, { once: true });
      if (released) return;
      if (line.releasedAt !== undefined) {
        const ms = grantedAt - line.releasedAt;
        line.histogram?.recordMs(ms);
        if (line.windowed) ctx.window.tick(line.releasedAt, ms);
      }
      await yieldOnce();
      if (released) return;
      ctx.locks.check(path, "write", holder);
      if (line.handoffsLeft > 0 && !line.finished) {
        line.handoffsLeft--;
        released = true;
        lock.lost.removeEventListener("abort", onLost);
        ctx.locks.released(path, "write", holder);
        line.releasedAt = now();
        fileWaiter(line);
        await lock.release();
      } else {
        line.held = lock;
        line.letGo = () => {
          released = true;
          lock.lost.removeEventListener("abort", onLost);
        };
        line.holder = holder;
        line.releasedAt = undefined;
        line.phaseEnded?.();
      }
    })
    .catch((e: unknown) => {
      // A violation is recorded where it was seen (and has aborted the run).
      line.failed++;
      if (!(e instanceof CorrectnessViolation) && !line.finished && !ctx.signal.aborted) ctx.error(e);
    });
}

/** Passes the held lock down the line `handoffs` times; false if the chain did not finish in time. */
async function chain(line: Line, handoffs: number, histogram: LatencyHistogram | undefined, windowed: boolean, timeoutMs: number): Promise<boolean> {
  const { ctx, path } = line;
  const held = line.held;
  if (held === undefined || held.lost.aborted) return false;
  line.handoffsLeft = handoffs - 1;
  line.histogram = histogram;
  line.windowed = windowed;
  line.held = undefined;
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<boolean>((resolve) => {
    line.phaseEnded = () => resolve(true);
    timer = setTimeout(() => resolve(false), timeoutMs);
    ctx.signal.addEventListener("abort", () => resolve(false), { once: true });
  });
  line.letGo?.();
  line.letGo = undefined;
  ctx.locks.released(path, "write", line.holder);
  line.releasedAt = now();
  fileWaiter(line);
  await held.release();
  const ok = await ended;
  clearTimeout(timer);
  line.phaseEnded = undefined;
  return ok;
}

export const waitersWorkload: Workload = {
  name: "waiters-100k",
  title: "one lock with a long line of waiters",
  group: "scale",
  unit: "hand-offs",
  latency: "hand-off with the whole line waiting (release sent to next grant)",
  headline: "throughput",
  // One lock: each grant waits for the holder's release txn, a serial chain of durable hand-offs.
  floor: "chain",
  targets: () => [{ metric: "extra", key: "p99BigOverBase", versus: "absolute", op: "<=", ratio: 2, source: "issue 15" }],
  cases: (plan): CaseSpec[] => {
    const s = plan.scale;
    return [
      {
        workload: "waiters-100k",
        variant: `${s.waiters}/${s.waiterSessions}s`,
        clients: s.waiterSessions,
        params: { waiters: s.waiters, sessions: s.waiterSessions, base: s.waitersBase, handoffs: s.handoffs, phaseMs: s.phaseSeconds * 1000 },
      },
    ];
  },
  timing: (_spec, plan) => {
    const phaseMs = plan.scale.phaseSeconds * 1000;
    // Base chain, filing, big chain: each bounded by a phase, the window by the last.
    return { warmupMs: 0, durationMs: phaseMs, boundMs: 3 * phaseMs + 60_000, opsMax: 10_000_000 };
  },
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const n = spec.params["waiters"]!;
    const s = spec.params["sessions"]!;
    const base = Math.min(spec.params["base"]!, n);
    const handoffs = spec.params["handoffs"]!;
    const phaseBoundMs = spec.params["phaseMs"]!;
    // A chain of hand-offs runs at hundreds a second even on a slow server: one that has
    // not finished in a minute and a half has stalled (the classic recipe's listing failed).
    const chainBoundMs = Math.min(phaseBoundMs, CHAIN_MS_MAX);
    const path = `${ctx.root}/line`;
    await ensurePath(ctx.admin, path);
    const states = new ConnectionWatch();
    const sessions = await Promise.all(
      Array.from({ length: s }, async () => {
        // Each session carries thousands of waits: a 30 s timeout (pings every 10 s), so a
        // server slow to answer a burst is not taken for a lost session as soon.
        const c = await ctx.connect({ sessionTimeoutMs: WAITER_SESSION_TIMEOUT_MS });
        states.attach(c);
        return ctx.recipes(c);
      }),
    );
    const line: Line = {
      ctx,
      path,
      sessions,
      waitMs: 4 * phaseBoundMs,
      handoffsLeft: 0,
      releasedAt: undefined,
      histogram: undefined,
      windowed: false,
      held: undefined,
      letGo: undefined,
      holder: "",
      next: 0,
      grants: 0,
      lostWhileHeld: 0,
      failed: 0,
      finished: false,
      phaseEnded: undefined,
    };
    // The lock node's stat (O(1) on both servers, unlike a listing or a count of the subtree).
    const children = async (): Promise<number> => (await ctx.admin.exists(path).catch(() => null))?.numChildren ?? -1;
    try {
      // The first holder.
      const first = new Promise<void>((resolve) => (line.phaseEnded = resolve));
      fileWaiter(line);
      await first;
      // (1) A short line.
      for (let i = 0; i < base; i++) fileWaiter(line);
      if (!(await pollUntil(async () => (await children()) >= base + 1, phaseBoundMs, ctx.signal))) throw new Error(`the first ${base} waiters were not filed within ${phaseBoundMs} ms`);
      const small = new LatencyHistogram();
      const baseOk = await chain(line, handoffs, small, false, chainBoundMs);
      const sm = small.summary();
      put(ctx, "handoffP50BaseMs", sm.p50Ms);
      put(ctx, "handoffP99BaseMs", sm.p99Ms);
      small.destroy();
      if (!baseOk) throw new Error(`${handoffs} hand-offs with ${base} waiting did not finish within ${chainBoundMs} ms`);
      // (2) Filing the long line.
      const before = await memberMemory(ctx.server, 3);
      const t0 = now();
      let filed = base;
      let count = base + 1;
      const deadline = t0 + phaseBoundMs;
      while (filed < n && now() < deadline && !ctx.signal.aborted) {
        const batch = Math.min(FILE_BATCH, n - filed);
        for (let i = 0; i < batch; i++) fileWaiter(line);
        filed += batch;
        // Failed waits will not show up: stop waiting for them (and stop filing).
        await pollUntil(async () => (count = await children()) >= filed + 1 - line.failed || line.failed > 0, deadline - now(), ctx.signal, 10);
        if (line.failed > 0) break;
      }
      const fileMs = now() - t0;
      put(ctx, "waitersFiled", Math.max(0, count - 1));
      put(ctx, "fileMs", fileMs);
      if (count < n + 1) throw new Error(`filed ${Math.max(0, count - 1)} of ${n} waiters in ${Math.round(fileMs)} ms (bounded)`);
      put(ctx, "filedPerSec", (n - base) / (fileMs / 1000));
      const after = await memberMemory(ctx.server, 3);
      const rss0 = sum(before.map((x) => x.rssBytes));
      const rss1 = sum(after.map((x) => x.rssBytes));
      const heap0 = sum(before.map((x) => x.heapBytes));
      const heap1 = sum(after.map((x) => x.heapBytes));
      if (rss0 !== null && rss1 !== null) {
        put(ctx, "rssMiBFiled", rss1 / 2 ** 20);
        put(ctx, "rssBytesPerWaiter", (rss1 - rss0) / (n - base));
      }
      if (heap0 !== null && heap1 !== null) {
        put(ctx, "heapMiBFiled", heap1 / 2 ** 20);
        put(ctx, "heapBytesPerWaiter", (heap1 - heap0) / (n - base));
      }
      // (3) Hand-offs with the long line waiting: the measured window.
      const big = new LatencyHistogram();
      ctx.window.begin();
      const bigOk = await chain(line, handoffs, big, true, chainBoundMs);
      ctx.window.close();
      const bm = big.summary();
      put(ctx, "handoffP99Ms", bm.p99Ms);
      if (sm.p99Ms > 0 && bm.count > 0) put(ctx, "p99BigOverBase", bm.p99Ms / sm.p99Ms);
      big.destroy();
      if (!bigOk) throw new Error(`${handoffs} hand-offs with ${n} waiting did not finish within ${chainBoundMs} ms (${bm.count} did)`);
    } finally {
      line.finished = true;
      ctx.extra["waiterGrants"] = line.grants;
      put(ctx, "locksLostWhileHeld", line.lostWhileHeld);
      put(ctx, "waitsFailed", line.failed);
      states.report(ctx);
    }
  },
};

export const scaleLockWorkloads: Workload[] = [mutexManyWorkload, waitersWorkload];
