// Raw ZooKeeper ops: N clients, each keeping K requests in flight.
// - create: ephemeral znodes with 64-byte data under one parent per client (ephemeral so
//   that closing the sessions removes them: no cleanup load after the window);
// - setData / getData / exists: on one 64-byte node per client.
// Latency is the request's round trip.

import type { ZooKeeperClient } from "../../src/client/index.js";
import { now, PAYLOAD_64, workers } from "./driver.js";
import type { CaseContext, CaseSpec, PlanOptions, Target, Workload } from "./types.js";

type RawOp = (client: ZooKeeperClient, node: string, seq: number) => Promise<unknown>;

/** Issue 4: at 64 clients, write throughput >= 1.2x ZooKeeper's and p99 latency <= ZooKeeper's. */
const WRITE_TARGETS = (c: { clients: number }): Target[] =>
  c.clients !== 64
    ? []
    : [
        { metric: "throughput", op: ">=", ratio: 1.2, source: "issue 4" },
        { metric: "p99", op: "<=", ratio: 1, source: "issue 4" },
      ];

function rawWorkload(name: string, title: string, unit: string, op: RawOp, targets?: Workload["targets"]): Workload {
  return {
    name,
    title,
    group: "raw",
    unit,
    latency: "request round trip",
    headline: "throughput",
    ...(targets === undefined ? {} : { targets }),
    cases: (plan: PlanOptions): CaseSpec[] =>
      plan.rawClients.map((clients) => ({
        workload: name,
        variant: `${clients}x${plan.inFlight}`,
        clients,
        params: { clients, inFlight: plan.inFlight },
      })),
    run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
      const clients = await Promise.all(Array.from({ length: spec.clients }, () => ctx.connect()));
      const nodes = clients.map((_, i) => `${ctx.root}/c${i}`);
      await Promise.all(nodes.map((n, i) => clients[i]!.create(n, PAYLOAD_64)));
      const inFlight = spec.params["inFlight"] ?? 1;
      const seqs = new Array<number>(clients.length).fill(0);
      ctx.window.begin();
      await workers(ctx, clients.length * inFlight, async (w) => {
        const c = w % clients.length;
        const t0 = now();
        await op(clients[c]!, nodes[c]!, seqs[c]!++);
        ctx.window.tick(t0, now() - t0);
      });
    },
  };
}

export const rawWorkloads: Workload[] = [
  rawWorkload("create", "create (ephemeral, 64 B)", "creates", (c, node, seq) => c.create(`${node}/n${seq}`, PAYLOAD_64, { mode: "ephemeral" }), WRITE_TARGETS),
  rawWorkload("setData", "setData (64 B)", "writes", (c, node) => c.setData(node, PAYLOAD_64), WRITE_TARGETS),
  rawWorkload("getData", "getData (64 B)", "reads", (c, node) => c.getData(node)),
  rawWorkload("exists", "exists", "reads", (c, node) => c.exists(node)),
];

