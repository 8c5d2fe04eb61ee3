// Scale cases of the tree (issue 15, item 4).
// - znodes-1m: N znodes (default 1,000,000) of 100 bytes, 1,000 under each parent, loaded
//   by 8 sessions with pipelined async creates (1,000 in flight in all). The window is the
//   load (ops: creates). Then: the count is checked (every acknowledged create is in the
//   tree); each member's RSS and heap (its own `envi`, the least of 5 readings), per
//   znode beyond the 100 bytes of data; the snapshots written meanwhile (files watched
//   in the dataDir: the last one's write time and size); then kill -9 and a restart on
//   the same dataDir, timed from spawn until a new session reads the last znode, and
//   the count checked again (nothing acknowledged may be lost). Last, a kill -9 and a
//   restart on a wiped dataDir, so the next case starts on an empty server.
// - queue-backlog: a FIFO queue through the recipe API. K items offered by 4 producers,
//   then taken by 4 consumers, on an empty queue; then a backlog of N items (default
//   1,000,000) is loaded (pipelined offers); then K offered and K taken again with the
//   backlog there. The window is the last takes. Every item is delivered at most once
//   (the ledger), none is lost (delivered + still queued >= offered), and a spy on the
//   driver's clients reads every reply frame: none may exceed jute.maxbuffer against
//   Corral. ZooKeeper's classic take lists the whole queue: its takes with the backlog
//   are bounded and the failure reported.

import { connect, type ZooKeeperClient } from "../../src/client/index.js";
import { DeliveryLedger } from "../checks.js";
import { fourLetterWord } from "../servers/net.js";
import { ensurePath, now } from "./driver.js";
import { errorText, FrameSpy, JUTE_MAXBUFFER, memberMemory, memberPorts, pipelined, pollUntil, put, SnapshotWatch, sum } from "./scale-common.js";
import type { CaseContext, CaseSpec, PlanOptions, Workload } from "./types.js";

const FANOUT = 1_000;
const LOADERS = 8;
const SETUP_IN_FLIGHT = 256;
const PRODUCERS = 4;
const CONSUMERS = 4;
const RECOVERY_PROBE_MS = 2_000;

const tiny = (plan: PlanOptions): boolean => plan.scale.factor < 0.5;

/** Restarts on a wiped dataDir (a fresh, empty server), when the server can be restarted. */
async function freshServer(ctx: CaseContext): Promise<void> {
  if (ctx.server.kill9AndRestart === undefined) return;
  await ctx.server.kill9AndRestart({ wipe: true });
}

/** ZooKeeper's own snapshot timer (mntr zk_max_snapshottime, ms), if it reports one. */
async function mntrMaxSnapshotMs(ctx: CaseContext): Promise<number | null> {
  const text = await fourLetterWord(memberPorts(ctx.server)[0]!, "mntr", 5_000).catch(() => "");
  const m = /^zk_max_snapshottime\s+(\d+)/m.exec(text);
  return m === null || Number(m[1]) === 0 ? null : Number(m[1]);
}

export const znodesWorkload: Workload = {
  name: "znodes-1m",
  title: "a big tree: load, memory, snapshot, recovery after kill -9",
  group: "scale",
  unit: "creates",
  latency: "one create while loading (1,000 in flight)",
  headline: "throughput",
  targets: () => [
    { metric: "extra", key: "heapBeyondDataPerZnode", versus: "absolute", op: "<=", ratio: 300, source: "issue 15" },
    { metric: "extra", key: "rssMiBLoaded", versus: "zookeeper", op: "<=", ratio: 0.25, source: "issue 15" },
    { metric: "extra", key: "recoveryMs", versus: "zookeeper", op: "<=", ratio: 0.5, source: "issue 15" },
  ],
  cases: (plan): CaseSpec[] => {
    const s = plan.scale;
    return [
      {
        workload: "znodes-1m",
        variant: `${s.znodes}x${s.znodeBytes}B`,
        clients: LOADERS,
        params: { znodes: s.znodes, bytes: s.znodeBytes, inFlight: s.createsInFlight, phaseMs: s.phaseSeconds * 1000 },
      },
    ];
  },
  timing: (_spec, plan) => {
    const phaseMs = plan.scale.phaseSeconds * 1000;
    // Load, then recovery (bounded by restart.ts) and a fresh restart.
    return { warmupMs: 0, durationMs: phaseMs, boundMs: phaseMs + (tiny(plan) ? 60_000 : 700_000), opsMax: 100_000_000 };
  },
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const n = spec.params["znodes"]!;
    const bytes = spec.params["bytes"]!;
    const phaseMs = spec.params["phaseMs"]!;
    const parents = Math.ceil(n / FANOUT);
    const dir = `${ctx.root}/t`;
    const pathOf = (i: number): string => `${dir}/p${Math.floor(i / FANOUT)}/n${i % FANOUT}`;
    const loaders = await Promise.all(Array.from({ length: LOADERS }, () => ctx.connect()));
    await ensurePath(ctx.admin, dir);
    const made = await pipelined(parents, SETUP_IN_FLIGHT, (i) => ctx.admin.create(`${dir}/p${i}`).then(() => undefined), { signal: ctx.signal, deadline: now() + phaseMs });
    if (made.done < parents) throw new Error(`created ${made.done} of ${parents} parents: ${errorText(made.firstError)}`);
    const before = await memberMemory(ctx.server, 3);
    const snaps = ctx.server.dataDirs === undefined ? undefined : await new SnapshotWatch(ctx.server.dataDirs).start();
    const payload = Buffer.alloc(bytes, "z");
    try {
      ctx.window.begin();
      const t0 = now();
      const load = await pipelined(
        n,
        spec.params["inFlight"]!,
        async (i) => {
          const t = now();
          await loaders[i % LOADERS]!.create(pathOf(i), payload);
          ctx.window.tick(t, now() - t);
        },
        { signal: ctx.signal, deadline: t0 + phaseMs, stopOnError: true },
      );
      const loadMs = now() - t0;
      ctx.window.close();
      put(ctx, "loaded", load.done);
      put(ctx, "loadMs", loadMs);
      if (load.done < n) throw new Error(`created ${load.done} of ${n} znodes in ${Math.round(loadMs)} ms: ${load.failed > 0 ? errorText(load.firstError) : "out of time"}`);
      const count = await ctx.admin.getAllChildrenNumber(dir);
      if (count !== parents + n) throw ctx.violations.add(`znodes-1m: ${n} creates acknowledged under ${dir}, but it has ${count - parents} znodes (+${parents} parents)`);

      const after = await memberMemory(ctx.server, 5, 400);
      const rss0 = sum(before.map((m) => m.rssBytes));
      const rss1 = sum(after.map((m) => m.rssBytes));
      const heap0 = sum(before.map((m) => m.heapBytes));
      const heap1 = sum(after.map((m) => m.heapBytes));
      const members = after.length;
      if (rss1 !== null) put(ctx, "rssMiBLoaded", rss1 / 2 ** 20);
      if (rss0 !== null && rss1 !== null) put(ctx, "rssBytesPerZnode", (rss1 - rss0) / members / n);
      if (heap1 !== null) put(ctx, "heapMiBLoaded", heap1 / 2 ** 20);
      if (heap0 !== null && heap1 !== null) {
        put(ctx, "heapBytesPerZnode", (heap1 - heap0) / members / n);
        put(ctx, "heapBeyondDataPerZnode", (heap1 - heap0) / members / n - bytes);
      }
    } finally {
      await snaps?.stop();
    }
    const written = snaps?.snapshots() ?? [];
    if (written.length > 0) {
      const last = written[written.length - 1]!;
      put(ctx, "snapshots", written.length);
      put(ctx, "lastSnapshotMs", last.ms);
      put(ctx, "lastSnapshotMiB", last.bytes / 2 ** 20);
    }
    put(ctx, "mntrMaxSnapshotMs", await mntrMaxSnapshotMs(ctx));

    if (ctx.server.kill9AndRestart === undefined) return;
    // Recovery after kill -9: from spawn until a new session reads the last znode.
    const last = pathOf(n - 1);
    const { spawnedAt } = await ctx.server.kill9AndRestart({ wipe: false });
    let probe: ZooKeeperClient | undefined;
    try {
      const served = await pollUntil(
        async () => {
          probe ??= await connect(ctx.server.connectString, { sessionTimeoutMs: 10_000, connectTimeoutMs: RECOVERY_PROBE_MS }).catch(() => undefined);
          return probe !== undefined && (await probe.exists(last).catch(() => null)) !== null;
        },
        phaseMs,
        ctx.signal,
        10,
      );
      const recoveryMs = now() - spawnedAt;
      if (!served) throw new Error(`the restarted server did not serve ${last} within ${phaseMs} ms`);
      put(ctx, "recoveryMs", recoveryMs);
      const count = await probe!.getAllChildrenNumber(dir);
      if (count !== parents + n) throw ctx.violations.add(`znodes-1m: after kill -9 and restart ${dir} has ${count - parents} of the ${n} acknowledged znodes`);
      const recovered = await memberMemory(ctx.server, 3);
      const rss = sum(recovered.map((m) => m.rssBytes));
      if (rss !== null) put(ctx, "rssMiBRecovered", rss / 2 ** 20);
    } finally {
      await probe?.close().catch(() => undefined);
      await freshServer(ctx);
    }
  },
};

export const queueBacklogWorkload: Workload = {
  name: "queue-backlog",
  title: "FIFO queue with a big backlog: offer and take rates vs an empty queue",
  group: "scale",
  unit: "items",
  latency: "take() with the backlog there",
  headline: "throughput",
  // A take is one durable step (the item's delete) and its answer, as in `queue`.
  floor: "latency",
  targets: () => [
    { metric: "extra", key: "offerBacklogOverEmpty", versus: "absolute", op: ">=", ratio: 0.8, source: "issue 15" },
    { metric: "extra", key: "takeBacklogOverEmpty", versus: "absolute", op: ">=", ratio: 0.8, source: "issue 15" },
  ],
  cases: (plan): CaseSpec[] => {
    const s = plan.scale;
    return [
      {
        workload: "queue-backlog",
        variant: `${s.backlog}`,
        clients: PRODUCERS + CONSUMERS,
        params: { backlog: s.backlog, items: s.queueItems, inFlight: s.createsInFlight, phaseMs: s.phaseSeconds * 1000 },
      },
    ];
  },
  timing: (_spec, plan) => {
    const phaseMs = plan.scale.phaseSeconds * 1000;
    // Empty-queue offers and takes, the load, backlog offers and takes (the window).
    return { warmupMs: 0, durationMs: phaseMs, boundMs: 3 * phaseMs + (tiny(plan) ? 60_000 : 400_000), opsMax: 100_000_000 };
  },
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const n = spec.params["backlog"]!;
    const k = spec.params["items"]!;
    const phaseMs = spec.params["phaseMs"]!;
    const dir = `${ctx.root}/q`;
    await ensurePath(ctx.admin, dir);
    const producers = await Promise.all(Array.from({ length: PRODUCERS }, async () => ctx.recipes(await ctx.connect())));
    const consumers = await Promise.all(Array.from({ length: CONSUMERS }, async () => ctx.recipes(await ctx.connect())));
    const ledger = new DeliveryLedger("exactly-once", ctx.violations);
    const spy = new FrameSpy().install();
    const offer = async (id: string, i: number): Promise<void> => {
      ledger.offering(id);
      try {
        await producers[i % PRODUCERS]!.queue(dir).offer(Buffer.from(id));
        ledger.produced(id);
      } catch (e) {
        ledger.offerFailed(id);
        throw e;
      }
    };
    /** K offers by the producers (one at a time each): offers/s. */
    const offers = async (tag: string): Promise<number> => {
      const t0 = now();
      const r = await pipelined(k, PRODUCERS, (i) => offer(`${tag}-${i}`, i), { signal: ctx.signal, deadline: t0 + phaseMs, stopOnError: true });
      if (r.done < k) throw new Error(`${tag}: offered ${r.done} of ${k}: ${r.failed > 0 ? errorText(r.firstError) : "out of time"}`);
      return k / ((now() - t0) / 1000);
    };
    /** K takes by the consumers (one at a time each): takes/s. */
    const takes = async (tag: string, windowed: boolean): Promise<number> => {
      const t0 = now();
      const takeMs = Math.min(phaseMs, 30_000);
      const r = await pipelined(
        k,
        CONSUMERS,
        async (i) => {
          const t = now();
          const item = await consumers[i % CONSUMERS]!.queue(dir).take({ timeoutMs: takeMs, signal: ctx.signal });
          if (windowed) ctx.window.tick(t, now() - t);
          ledger.delivered(item.toString("utf8"));
        },
        { signal: ctx.signal, deadline: t0 + phaseMs, stopOnError: true },
      );
      put(ctx, `taken${tag}`, r.done);
      if (r.done < k) throw new Error(`${tag}: took ${r.done} of ${k}: ${r.failed > 0 ? errorText(r.firstError) : "out of time"}`);
      return k / ((now() - t0) / 1000);
    };
    try {
      const offerEmpty = await offers("empty");
      put(ctx, "offerPerSecEmpty", offerEmpty);
      const takeEmpty = await takes("Empty", false);
      put(ctx, "takePerSecEmpty", takeEmpty);
      // The backlog.
      const t0 = now();
      const load = await pipelined(n, spec.params["inFlight"]!, (i) => offer(`b-${i}`, i), { signal: ctx.signal, deadline: t0 + phaseMs, stopOnError: true });
      put(ctx, "backlogLoaded", load.done);
      put(ctx, "backlogLoadMs", now() - t0);
      if (load.done < n) throw new Error(`loaded ${load.done} of ${n} backlog items: ${load.failed > 0 ? errorText(load.firstError) : "out of time"}`);
      const offerBacklog = await offers("backlog");
      put(ctx, "offerPerSecBacklog", offerBacklog);
      put(ctx, "offerBacklogOverEmpty", offerBacklog / offerEmpty);
      ctx.window.begin();
      let takeBacklog: number;
      try {
        takeBacklog = await takes("Backlog", true);
      } finally {
        ctx.window.close();
      }
      put(ctx, "takePerSecBacklog", takeBacklog);
      put(ctx, "takeBacklogOverEmpty", takeBacklog / takeEmpty);
      // Nothing lost: what was offered and not taken is still there.
      const left = await ctx.admin.getAllChildrenNumber(dir);
      put(ctx, "leftInQueue", left);
      if (left < ledger.outstanding) throw ctx.violations.add(`queue-backlog: ${ledger.outstanding} items offered and not taken, but ${dir} holds ${left}`);
      ctx.extra["itemsDelivered"] = ledger.deliveredCount;
    } finally {
      spy.uninstall();
      put(ctx, "maxReplyFrameKiB", spy.maxFrameBytes / 1024);
      put(ctx, "framesOverMaxbuffer", spy.overMaxbuffer + spy.refused);
      if (ctx.server.target === "corral" && spy.overMaxbuffer + spy.refused > 0) {
        ctx.violations.add(`queue-backlog: ${spy.overMaxbuffer + spy.refused} reply frame(s) over jute.maxbuffer (${JUTE_MAXBUFFER} bytes) from Corral; largest taken ${spy.maxFrameBytes}`);
      }
      await freshServer(ctx);
    }
  },
};

export const scaleTreeWorkloads: Workload[] = [znodesWorkload, queueBacklogWorkload];
