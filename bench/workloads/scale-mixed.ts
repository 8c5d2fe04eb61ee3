// mixed-p999 (issue 15, item 4): the tail under a mixed load. C sessions (default 32),
// each looping one op at a time, chosen by the seeded PRNG: 70% getData of a random
// client's 64-byte znode, 20% setData of its own, 10% a lock cycle (acquire - check -
// release, checked by the lock table) on one of 8 mutexes. The window lasts S seconds
// (default 10) after 1 s of warm-up; p99.9 overall and per kind are in the extras.

import type { ZooKeeperClient } from "../../src/client/index.js";
import type { RecipeClient } from "../recipes/api.js";
import { LatencyHistogram } from "../stats.js";
import { ensurePath, now, PAYLOAD_64, workers } from "./driver.js";
import { cycle } from "./locks.js";
import { put } from "./scale-common.js";
import type { CaseContext, CaseSpec, Workload } from "./types.js";

const LOCKS = 8;
const READ_SHARE = 0.7;
const WRITE_SHARE = 0.2;

export const mixedWorkload: Workload = {
  name: "mixed-p999",
  title: "mixed load (70% reads, 20% writes, 10% lock hand-offs): the tail",
  group: "scale",
  unit: "ops",
  latency: "one op: read or write round trip, or lock acquire",
  headline: "throughput",
  cases: (plan): CaseSpec[] => {
    const s = plan.scale;
    return [{ workload: "mixed-p999", variant: `${s.mixedClients}`, clients: s.mixedClients, params: { clients: s.mixedClients, durationMs: s.mixedSeconds * 1000 } }];
  },
  timing: (spec) => {
    const durationMs = spec.params["durationMs"]!;
    const warmupMs = Math.min(1_000, durationMs / 4);
    return { warmupMs, durationMs, boundMs: warmupMs + durationMs + 30_000, opsMax: 100_000_000 };
  },
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const c = spec.params["clients"]!;
    const clients: ZooKeeperClient[] = await Promise.all(Array.from({ length: c }, () => ctx.connect()));
    const recipes: RecipeClient[] = await Promise.all(clients.map((x) => ctx.recipes(x)));
    await ensurePath(ctx.admin, ctx.root);
    const nodes = clients.map((_, i) => `${ctx.root}/d${i}`);
    await Promise.all(nodes.map((p) => ctx.admin.create(p, PAYLOAD_64)));
    const locks = Array.from({ length: LOCKS }, (_, i) => `${ctx.root}/lock${i}`);
    await Promise.all(locks.map((p) => ctx.admin.create(p)));
    const byKind = { read: new LatencyHistogram(), write: new LatencyHistogram(), lock: new LatencyHistogram() };
    try {
      ctx.window.begin();
      await workers(ctx, c, async (w) => {
        const x = ctx.random();
        const t0 = now();
        if (x < READ_SHARE) {
          await clients[w]!.getData(nodes[Math.floor(ctx.random() * c)]!);
          const ms = now() - t0;
          ctx.window.tick(t0, ms);
          if (ctx.window.measuring) byKind.read.recordMs(ms);
        } else if (x < READ_SHARE + WRITE_SHARE) {
          await clients[w]!.setData(nodes[w]!, PAYLOAD_64);
          const ms = now() - t0;
          ctx.window.tick(t0, ms);
          if (ctx.window.measuring) byKind.write.recordMs(ms);
        } else {
          const before = ctx.window.ops;
          await cycle(ctx, recipes[w]!, locks[Math.floor(ctx.random() * LOCKS)]!, "write", `client-${w}`, "mutex");
          // cycle() ticked the window with the acquire wait; the same wait for the kind.
          if (ctx.window.ops > before) byKind.lock.recordMs(ctx.window.lastTickMs);
        }
      });
      put(ctx, "p999Ms", ctx.window.histogram.percentileMs(99.9));
      put(ctx, "p999ReadMs", byKind.read.percentileMs(99.9));
      put(ctx, "p999WriteMs", byKind.write.percentileMs(99.9));
      put(ctx, "p999LockMs", byKind.lock.percentileMs(99.9));
      put(ctx, "p99LockMs", byKind.lock.percentileMs(99));
    } finally {
      for (const h of Object.values(byKind)) h.destroy();
    }
  },
};
