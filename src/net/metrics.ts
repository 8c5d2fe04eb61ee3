// Prometheus metrics (ZOOKEEPER.md §1.12): `/metrics` on metricsProvider.httpHost:httpPort,
// in Prometheus' text format, through prom-client's registry.
//
// Hot-path cost: a reply adds one sample to a fixed-bucket histogram (RequestLatency:
// a map lookup by op code and three array increments, no allocation); bytes are plain
// counters on ServerStats. Everything else (znode count, sessions, watches, recipe
// gauges) is read from its owner at scrape time by collect() callbacks, so it costs
// nothing between scrapes. The histograms are prom-client Histograms whose export reads
// these accumulators instead of prom-client's per-observation label hashing.
//
// Gauge names that ZooKeeper's PrometheusMetricsProvider also exports keep its names
// (znode_count, watch_count, global_sessions, ...), so ZooKeeper dashboards find them;
// metrics ZooKeeper has no equivalent for are prefixed corral_.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValueWithName } from "prom-client";
import { CorralOp, OpCode } from "../jute/index.js";
import type { FourLetterSource } from "./fourletter.js";
import { QUOTA_EXCEEDED_METRIC, QUOTA_METRIC_NAMES, quotaSums, type QuotaGauge, type QuotaMetricName } from "./quota-metrics.js";

export type { QuotaGauge };

/** Upper bounds in seconds: 50 µs .. 10 s (a reply is ~10-100 µs; an fsync ~0.1-20 ms). */
export const LATENCY_BOUNDS_S: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** One histogram's accumulators: non-cumulative bucket counts (the last is +Inf), sum, count. */
class Buckets {
  readonly counts = new Float64Array(LATENCY_BOUNDS_S.length + 1);
  sumS = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BOUNDS_S.length && seconds > LATENCY_BOUNDS_S[i]!) i++;
    this.counts[i]!++;
    this.sumS += seconds;
    this.count++;
  }
}

/** Reply latency by op code. `observe` is called once per reply. */
export class RequestLatency {
  readonly #byOp = new Map<number, Buckets>();

  observe(opCode: number, ms: number): void {
    let b = this.#byOp.get(opCode);
    if (b === undefined) this.#byOp.set(opCode, (b = new Buckets()));
    b.observe(ms / 1000);
  }

  /** Samples so far (tests). */
  count(opCode: number): number {
    return this.#byOp.get(opCode)?.count ?? 0;
  }

  entries(): Iterable<[number, Buckets]> {
    return this.#byOp;
  }
}

/**
 * Durations observed by another layer (the storage's fsyncs): the composition root
 * hands `observeMs` to whoever times the operation.
 */
export class DurationHistogram {
  readonly buckets = new Buckets();
  readonly observeMs = (ms: number): void => this.buckets.observe(ms / 1000);
}

/** What the recipe gauges report, summed over every recipe the engine tracks. */
export interface RecipeGauges {
  lockHolders: number;
  lockWaiters: number;
  queueDepth: number;
  queueWaiters: number;
  electionMembers: number;
}

export interface MetricsSource {
  readonly server: FourLetterSource;
  readonly latency: RequestLatency;
  readonly fsync: DurationHistogram;
  recipes(): RecipeGauges;
  /** Recipe events delivered to waiters (grants, queue items, leadership, barriers) by kind. */
  recipeEvents(): Iterable<[string, number]>;
}

/** ZooKeeper's op names, and Corral's recipe ops as corral.<name>. */
const OP_NAMES = new Map<number, string>([
  ...Object.entries(OpCode).map(([name, code]): [number, string] => [code, name]),
  ...Object.entries(CorralOp).map(([name, code]): [number, string] => [code, `corral.${name}`]),
]);

function opName(code: number): string {
  return OP_NAMES.get(code) ?? `op${code}`;
}

/** prom-client's export shape for one histogram series (cumulative buckets, sum, count). */
function seriesOf(name: string, b: Buckets, labels: Record<string, string>): MetricValueWithName<string>[] {
  const out: MetricValueWithName<string>[] = [];
  let acc = 0;
  LATENCY_BOUNDS_S.forEach((le, i) => {
    acc += b.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: acc });
  });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: b.count });
  out.push({ metricName: `${name}_sum`, labels: { ...labels }, value: b.sumS });
  out.push({ metricName: `${name}_count`, labels: { ...labels }, value: b.count });
  return out;
}

/** A prom-client Histogram exported from accumulators kept outside prom-client. */
class AccumulatedHistogram extends Histogram<string> {
  readonly #name: string;
  readonly #help: string;
  readonly #series: () => MetricValueWithName<string>[];

  constructor(registry: Registry, name: string, help: string, labelNames: string[], series: () => MetricValueWithName<string>[]) {
    super({ name, help, labelNames, buckets: [...LATENCY_BOUNDS_S], registers: [registry] });
    this.#name = name;
    this.#help = help;
    this.#series = series;
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    // prom-client types MetricType as a numeric enum; at run time the type is this string.
    return { name: this.#name, help: this.#help, type: "histogram" as never, aggregator: "sum", collect: () => undefined, values: this.#series() };
  }

  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }
}

/** The registry with every Corral metric; `metrics()` renders the text format. */
export function buildRegistry(src: MetricsSource): Registry {
  const registry = new Registry();
  const s = src.server;
  new AccumulatedHistogram(registry, "corral_request_latency_seconds", "Time from a request's arrival to its reply, by op", ["op"], () =>
    [...src.latency.entries()].flatMap(([op, b]) => seriesOf("corral_request_latency_seconds", b, { op: opName(op) })),
  );
  new AccumulatedHistogram(registry, "corral_fsync_seconds", "Duration of the storage layer's fsyncs (transaction log and snapshots)", [], () =>
    seriesOf("corral_fsync_seconds", src.fsync.buckets, {}),
  );
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The total lives with its owner; the export is set to it at each scrape.
        this.reset();
        this.inc(read());
      },
    });
  };
  gauge("outstanding_requests", "Requests received and not yet answered", () => s.outstandingRequests());
  gauge("znode_count", "Znodes in the data tree", () => s.nodeCount());
  gauge("watch_count", "Watches registered (data and child tables)", () => s.watchCount());
  gauge("ephemerals_count", "Ephemeral znodes", () => s.ephemeralCount());
  gauge("global_sessions", "Live sessions", () => [...s.sessionList()].length);
  gauge("num_alive_connections", "Open client connections", () => [...s.connections()].length);
  gauge("approximate_data_size", "Bytes of znode data and paths", () => s.approximateDataBytes());
  gauge("uptime", "Milliseconds since the server started", () => s.stats.uptimeMs);
  // Gauges, as ZooKeeper exports them (srst resets them).
  gauge("packets_received", "Packets received from clients since the last stat reset", () => s.stats.packetsReceived);
  gauge("packets_sent", "Packets sent to clients since the last stat reset", () => s.stats.packetsSent);
  counter("corral_bytes_received_total", "Bytes read from client connections", () => s.stats.bytesReceived);
  counter("corral_bytes_sent_total", "Bytes written to client connections", () => s.stats.bytesSent);
  // The recipe gauges share one walk of the engine's state per scrape: every collect()
  // of a scrape runs in the same synchronous turn, so the cache lives until the next microtask.
  let recipes: RecipeGauges | undefined;
  const recipe = (pick: (g: RecipeGauges) => number) => (): number => {
    if (recipes === undefined) {
      recipes = src.recipes();
      queueMicrotask(() => (recipes = undefined));
    }
    return pick(recipes);
  };
  gauge("corral_lock_holders", "Lock and semaphore holders the recipe engine tracks", recipe((g) => g.lockHolders));
  gauge("corral_lock_waiters", "Contenders waiting for a lock or semaphore", recipe((g) => g.lockWaiters));
  gauge("corral_queue_depth", "Items waiting in every queue in the tree (qn- children), taken from or not", recipe((g) => g.queueDepth));
  gauge("corral_queue_waiters", "Consumers waiting on an empty queue", recipe((g) => g.queueWaiters));
  gauge("corral_election_members", "Members of the elections the recipe engine runs", recipe((g) => g.electionMembers));
  new Counter({
    name: "corral_recipe_grants_total",
    help: "Grants the recipe engine pushed to waiters (locks and semaphores, queue items, leadership, barrier releases), by kind",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of src.recipeEvents()) this.inc({ kind }, n);
    },
  });
  quotaMetrics(registry, src);
  return registry;
}

/**
 * ZooKeeper's quota metrics, with its names and its `key` label (the namespace), summed
 * over the quotas of a namespace as quota-metrics.ts says; mntr prints the same sums.
 */
function quotaMetrics(registry: Registry, src: MetricsSource): void {
  let quotas: QuotaGauge[] | undefined;
  const gauge = (field: QuotaMetricName, help: string): void => {
    new Gauge({
      name: QUOTA_METRIC_NAMES[field],
      help,
      labelNames: ["key"],
      registers: [registry],
      collect() {
        if (quotas === undefined) {
          quotas = [...(src.server.quotaGauges?.() ?? [])];
          queueMicrotask(() => (quotas = undefined));
        }
        this.reset();
        for (const [key, v] of quotaSums(quotas, field)) this.set({ key }, v);
      },
    });
  };
  gauge("countLimit", "Znode count limit of the quotas in a namespace");
  gauge("bytesLimit", "Data bytes limit of the quotas in a namespace");
  gauge("countUsage", "Znodes under the quotas of a namespace");
  gauge("bytesUsage", "Data bytes under the quotas of a namespace");
  new Counter({
    name: QUOTA_EXCEEDED_METRIC,
    help: "Creates and setData refused for a quota's hard limit (enforceQuota), by namespace",
    labelNames: ["key"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of src.server.quotaExceeded?.() ?? []) this.inc({ key }, n);
    },
  });
}

export interface HttpEndpoint {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `handler` on host:port (port 0: any free port); resolves once listening. */
export function listenHttp(
  host: string,
  port: number,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpEndpoint> {
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address();
      if (addr === null || typeof addr === "string") throw new Error("HTTP endpoint has no TCP address");
      resolve({
        host: addr.address,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** The `/metrics` endpoint. */
export function startMetricsEndpoint(src: MetricsSource, host: string, port: number): Promise<HttpEndpoint> {
  const registry = buildRegistry(src);
  return listenHttp(host, port, (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (path !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found; metrics are at /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(req.method === "HEAD" ? undefined : text),
      (e: unknown) => res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end(`${(e as Error).message}\n`),
    );
  });
}
