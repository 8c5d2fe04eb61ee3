// Double barrier rounds: N clients enter a fresh barrier (count N), then leave it; a round
// ends when all have left. Checked as it goes: nobody gets through enter() before all N
// have called it, nobody gets through leave() before all N have called it (arrivals are
// staggered by a few event-loop turns so that an early pass would show). Latency is
// one round, first enter() call to last leave() return.

import { ensurePath, now } from "./driver.js";
import type { CaseContext, CaseSpec, Workload } from "./types.js";

const yieldOnce = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const barrierWorkload: Workload = {
  name: "barrier",
  title: "double barrier rounds",
  group: "recipe",
  unit: "rounds",
  latency: "one round (enter + leave, all clients)",
  headline: "throughput",
  targets: () => [{ metric: "throughput", op: ">=", ratio: 3, source: "issue 5" }],
  cases: (plan): CaseSpec[] => [{ workload: "barrier", variant: String(plan.barrierClients), clients: plan.barrierClients, params: { clients: plan.barrierClients } }],
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const n = spec.clients;
    const recipes = await Promise.all(Array.from({ length: n }, async () => ctx.recipes(await ctx.connect())));
    await ensurePath(ctx.admin, `${ctx.root}/b`);
    const opts = { timeoutMs: ctx.waitMs, signal: ctx.signal };
    ctx.window.begin();
    for (let round = 0; ctx.window.running; round++) {
      const path = `${ctx.root}/b/r${round}`;
      let entering = 0;
      let leaving = 0;
      const t0 = now();
      try {
        await Promise.all(
          recipes.map(async (r, i) => {
            const b = r.doubleBarrier(path, n);
            // Staggered arrivals: a barrier that let client 0 through early would be seen.
            for (let k = 0; k < i; k++) await yieldOnce();
            entering++;
            await b.enter(opts);
            if (entering < n) throw ctx.violations.add(`double barrier ${path}: client ${i} entered with only ${entering} of ${n} arrived`);
            for (let k = 0; k < i; k++) await yieldOnce();
            leaving++;
            await b.leave(opts);
            if (leaving < n) throw ctx.violations.add(`double barrier ${path}: client ${i} left with only ${leaving} of ${n} leaving`);
          }),
        );
      } catch (e) {
        if (ctx.signal.aborted) return;
        ctx.error(e);
        continue;
      }
      ctx.extra["roundsChecked"] = (ctx.extra["roundsChecked"] ?? 0) + 1;
      ctx.window.tick(t0, now() - t0);
    }
  },
};
