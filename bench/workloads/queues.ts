// Queue workloads: P producers offer uniquely named items, C consumers take them.
// Producers keep at most BACKLOG_MAX items waiting (so the run measures consumers, not
// an ever-growing queue). When the window closes producers stop, consumers drain what is
// left (bounded), and the ledger checks delivery: exactly once for the FIFO queue, at
// least once for the job queue (take, then ack), counting items still queued at the end
// as not lost. Latency is take() for the queue and take() + ack() for the job queue.
// Lost races (client-side takes that found their head item gone) are counted.

import { setMaxListeners } from "node:events";
import { DeliveryLedger, type DeliveryGuarantee } from "../checks.js";
import type { RecipeClient } from "../recipes/api.js";
import { ensurePath, now } from "./driver.js";
import type { CaseContext, CaseSpec, PlanOptions, Target, Workload } from "./types.js";
import type { ZooKeeperClient } from "../../src/client/index.js";

const BACKLOG_MAX = 64;
const TAKE_TIMEOUT_MS = 500;
const DRAIN_MS_MAX = 10_000;

/** Wakes producers waiting for room in the backlog. */
class Room {
  #waiters: (() => void)[] = [];
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }
  wakeOne(): void {
    this.#waiters.shift()?.();
  }
  wakeAll(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** Item ids (payloads) still in the queue dir (and its in-flight dir), read directly. */
async function remainingIds(admin: ZooKeeperClient, dir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const readDir = async (d: string): Promise<void> => {
    const children = await admin.getChildren(d).catch(() => [] as string[]);
    await Promise.all(
      children.map(async (name) => {
        const r = await admin.getData(`${d}/${name}`).catch(() => undefined);
        if (r === undefined) return;
        if (r.stat.numChildren > 0) await readDir(`${d}/${name}`);
        else if (r.data !== null && r.data.length > 0) ids.add(r.data.toString("utf8"));
      }),
    );
  };
  await readDir(dir);
  return ids;
}

function queueWorkload(name: "queue" | "jobqueue", guarantee: DeliveryGuarantee): Workload {
  return {
    name,
    title: name === "queue" ? "FIFO queue (exactly once)" : "job queue with acks (at least once)",
    group: "recipe",
    unit: "items",
    latency: name === "queue" ? "take()" : "take() + ack()",
    headline: "throughput",
    // A take is one durable step (the item moves to the taker) and its answer.
    ...(name === "queue" ? { floor: "latency" as const } : {}),
    ...(name === "queue"
      ? {
          targets: (): Target[] => [
            { metric: "throughput", op: ">=", ratio: 10, source: "issue 5" },
            { metric: "lostRaces", op: "<=", ratio: 0, source: "issue 5" },
          ],
        }
      : {}),
    cases: (plan: PlanOptions): CaseSpec[] => [
      {
        workload: name,
        variant: `${plan.producers}p/${plan.consumers}c`,
        clients: plan.producers + plan.consumers,
        params: { producers: plan.producers, consumers: plan.consumers, backlogMax: BACKLOG_MAX },
      },
    ],
    run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
      const p = spec.params["producers"] ?? 1;
      const c = spec.params["consumers"] ?? 1;
      const dir = `${ctx.root}/q`;
      await ensurePath(ctx.admin, dir);
      const producers = await Promise.all(Array.from({ length: p }, async () => ctx.recipes(await ctx.connect())));
      const consumers = await Promise.all(Array.from({ length: c }, async () => ctx.recipes(await ctx.connect())));
      const ledger = new DeliveryLedger(guarantee, ctx.violations);
      const room = new Room();
      const racesBefore = consumers.reduce((s, r) => s + r.lostRaces(), 0);
      let inQueue = 0;
      let producing = true;
      const drain = new AbortController();
      const stop = AbortSignal.any([ctx.signal, drain.signal]);
      setMaxListeners(0, stop);

      const produce = async (r: RecipeClient, i: number): Promise<void> => {
        const q = name === "queue" ? r.queue(dir) : r.jobQueue(dir);
        for (let n = 0; ctx.window.running && !ctx.signal.aborted; n++) {
          while (inQueue >= BACKLOG_MAX && ctx.window.running) await room.wait(ctx.signal);
          if (!ctx.window.running) break;
          const id = `p${i}-${n}`;
          inQueue++;
          ledger.offering(id);
          try {
            await q.offer(Buffer.from(id));
            ledger.produced(id);
          } catch (e) {
            inQueue--;
            ledger.offerFailed(id);
            ctx.error(e);
          }
        }
      };

      const consume = async (r: RecipeClient): Promise<void> => {
        const q = r.queue(dir);
        const jq = r.jobQueue(dir);
        while (!stop.aborted && (producing || ledger.outstanding > 0)) {
          const t0 = now();
          try {
            let id: string;
            if (name === "queue") id = (await q.take({ timeoutMs: TAKE_TIMEOUT_MS, signal: stop })).toString("utf8");
            else {
              const job = await jq.take({ timeoutMs: TAKE_TIMEOUT_MS, signal: stop });
              id = job.data.toString("utf8");
              await job.ack();
            }
            inQueue--;
            room.wakeOne();
            ledger.delivered(id);
            ctx.window.tick(t0, now() - t0);
            if (!producing && ledger.outstanding === 0) drain.abort(new Error("drained"));
          } catch (e) {
            if (stop.aborted || ctx.violations.messages.length > 0) return;
            // A take that timed out on an empty queue is not an error.
            if (!(e instanceof Error && /gave up|timed? ?out|OperationTimeout/i.test(`${e.message} ${(e as { code?: string }).code ?? ""}`))) ctx.error(e);
          }
        }
      };

      ctx.window.begin();
      const producing$ = Promise.all(producers.map((r, i) => produce(r, i))).then(() => {
        producing = false;
        room.wakeAll();
        if (ledger.outstanding === 0) drain.abort(new Error("drained"));
      });
      const consuming$ = Promise.all(consumers.map((r) => consume(r)));
      await producing$;
      const drainTimer = setTimeout(() => drain.abort(new Error("drain time is up")), DRAIN_MS_MAX);
      await consuming$;
      clearTimeout(drainTimer);
      drain.abort(new Error("done"));
      if (ctx.signal.aborted && ctx.violations.messages.length > 0) return;
      ledger.finish(await remainingIds(ctx.admin, dir));
      const races = consumers.reduce((s, r) => s + r.lostRaces(), 0) - racesBefore;
      ctx.extra["lostRaces"] = races;
      ctx.extra["itemsDelivered"] = ledger.deliveredCount;
      ctx.extra["undeliveredAtEnd"] = ledger.outstanding;
      if (guarantee === "at-least-once") ctx.extra["redeliveries"] = ledger.redeliveries;
    },
  };
}

export const queueWorkloads: Workload[] = [queueWorkload("queue", "exactly-once"), queueWorkload("jobqueue", "at-least-once")];
