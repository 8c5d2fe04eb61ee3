// Lock workloads, through the recipe API. Each grant is checked as it arrives (LockTable:
// no two writers, no reader beside a writer, fencing tokens only grow); the holder then
// yields to the event loop once (so a broken lock would let another grant in), checks
// again, marks itself released and only then sends the release.
// - lock: uncontended, every client its own lock;
// - mutex: contended, all clients on one lock (16 and 64 clients);
// - rwlock: 20 clients, each acquisition a read with probability readPercent (90%).
// Latency is the acquire wait: request to grant.

import type { LockHandle, RecipeClient } from "../recipes/api.js";
import { ensurePath, now, workers } from "./driver.js";
import type { CaseContext, CaseSpec, Workload } from "./types.js";

const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One acquire - check - release cycle on `path` by `holder`. */
export async function cycle(ctx: CaseContext, r: RecipeClient, path: string, mode: "read" | "write", holder: string, kind: "mutex" | "rw"): Promise<void> {
  const t0 = now();
  const opts = { timeoutMs: ctx.waitMs, signal: ctx.signal };
  const lock: LockHandle = kind === "mutex" ? await r.mutex(path, opts) : mode === "write" ? await r.writeLock(path, opts) : await r.readLock(path, opts);
  const waitedMs = now() - t0;
  try {
    ctx.locks.acquired(path, mode, lock.token, holder);
    await yieldOnce();
    ctx.locks.check(path, mode, holder);
  } finally {
    ctx.locks.released(path, mode, holder);
    await lock.release();
  }
  ctx.window.tick(t0, waitedMs);
}

async function setup(ctx: CaseContext, count: number): Promise<RecipeClient[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => ctx.connect()));
  return Promise.all(clients.map((c) => ctx.recipes(c)));
}

export const lockWorkloads: Workload[] = [
  {
    name: "lock",
    title: "uncontended lock (each client its own mutex)",
    group: "recipe",
    unit: "grants",
    latency: "acquire (request to grant)",
    headline: "throughput",
    targets: () => [{ metric: "throughput", op: ">=", ratio: 3, source: "issue 5" }],
    cases: (plan): CaseSpec[] => [{ workload: "lock", variant: String(plan.lockClients), clients: plan.lockClients, params: { clients: plan.lockClients } }],
    run: async (ctx, spec) => {
      const recipes = await setup(ctx, spec.clients);
      const paths = recipes.map((_, i) => `${ctx.root}/lock-${i}`);
      for (const p of paths) await ensurePath(ctx.admin, p);
      ctx.window.begin();
      await workers(ctx, recipes.length, (w) => cycle(ctx, recipes[w]!, paths[w]!, "write", `client-${w}`, "mutex"));
    },
  },
  {
    name: "mutex",
    title: "contended mutex (all clients on one lock)",
    group: "recipe",
    unit: "grants",
    latency: "acquire (request to grant, queued behind the others)",
    headline: "throughput",
    // Each grant waits for the holder's release txn: a serial chain of durable hand-offs.
    floor: "chain",
    targets: (c) => (c.clients === 16 ? [{ metric: "throughput", op: ">=", ratio: 5, source: "issue 5" }] : []),
    cases: (plan): CaseSpec[] => plan.mutexClients.map((n) => ({ workload: "mutex", variant: String(n), clients: n, params: { clients: n } })),
    run: async (ctx, spec) => {
      const recipes = await setup(ctx, spec.clients);
      const path = `${ctx.root}/mutex`;
      await ensurePath(ctx.admin, path);
      ctx.window.begin();
      await workers(ctx, recipes.length, (w) => cycle(ctx, recipes[w]!, path, "write", `client-${w}`, "mutex"));
    },
  },
  {
    name: "rwlock",
    title: "read/write lock (90% reads)",
    group: "recipe",
    unit: "grants",
    latency: "acquire (request to grant)",
    headline: "throughput",
    // Write grants and the read batches between them hand off one at a time.
    floor: "chain",
    targets: () => [{ metric: "throughput", op: ">=", ratio: 4, source: "issue 5" }],
    cases: (plan): CaseSpec[] => [
      { workload: "rwlock", variant: String(plan.rwlockClients), clients: plan.rwlockClients, params: { clients: plan.rwlockClients, readPercent: plan.readPercent } },
    ],
    run: async (ctx, spec) => {
      const recipes = await setup(ctx, spec.clients);
      const path = `${ctx.root}/rw`;
      await ensurePath(ctx.admin, path);
      const readShare = (spec.params["readPercent"] ?? 90) / 100;
      ctx.window.begin();
      await workers(ctx, recipes.length, (w) => cycle(ctx, recipes[w]!, path, ctx.random() < readShare ? "read" : "write", `client-${w}`, "rw"));
    },
  },
];
