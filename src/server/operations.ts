// The operator surface of a running server, wired after its client port is up: the
// AdminServer (admin.enableServer, admin.serverAddress:admin.serverPort), the Prometheus
// endpoint (metricsProvider.*), and the session log lines the pipeline cannot write
// itself (it does no I/O). Stopped before the client port closes.

import type { CorralConfig } from "../config/index.js";
import {
  startAdminServer,
  startMetricsEndpoint,
  type DurationHistogram,
  type FourLetterSource,
  type AdminSource,
  type HttpEndpoint,
  type QuorumView,
  type QuotaGauge,
  type RequestLatency,
} from "../net/index.js";
import type { Pipeline } from "../pipeline/index.js";
import type { RecipeEngine } from "../recipe-engine/index.js";
import { accessCheck, type DataTree } from "../tree/index.js";
import { hex64, type Logger } from "../util/index.js";
import { RecipeViews } from "./recipe-views.js";
import { znodeView } from "./znode-view.js";
import { learnersView } from "./learners-view.js";
import type { ZabProgress } from "./standalone.js";

/** A configured endpoint that could not start (port in use, bad address). */
export class EndpointError extends Error {
  override readonly name = "EndpointError";
}

/** What the operator surface reads; StandaloneServer (and later a quorum peer) provides it. */
export interface OperatedServer extends FourLetterSource {
  readonly config: CorralConfig;
  readonly log: Logger;
  readonly tree: DataTree;
  readonly pipeline: Pipeline;
  readonly engine: RecipeEngine;
  readonly requestLatency: RequestLatency;
  readonly fsyncLatency: DurationHistogram;
  /** An ensemble member's current leader, when known. */
  readonly leaderId: bigint | undefined;
  /** An ensemble member's ZAB progress (admin `learners`); undefined standalone. */
  zabProgress?(): ZabProgress | undefined;
}

const EVENT_KINDS: Readonly<Record<number, string>> = {
  1: "lock_granted",
  2: "queue_item",
  3: "barrier_released",
  4: "double_barrier_entered",
  5: "double_barrier_left",
  6: "leader_elected",
};

export class Operations {
  readonly views: RecipeViews;
  admin: HttpEndpoint | undefined;
  metrics: HttpEndpoint | undefined;

  private constructor(views: RecipeViews) {
    this.views = views;
  }

  static async start(server: OperatedServer): Promise<Operations> {
    const ops = new Operations(new RecipeViews(server.engine, server.tree));
    logSessionCloses(server);
    logQuotaWarnings(server);
    const c = server.config;
    try {
      if (c.adminServerEnabled) {
        ops.admin = await listening("AdminServer", c.adminServerAddress, c.adminServerPort, "admin.serverPort or admin.enableServer=false", () =>
          startAdminServer(adminSource(server, ops.views), c.adminServerAddress, c.adminServerPort),
        );
        server.log.info({ host: ops.admin.host, port: ops.admin.port }, "AdminServer started: /commands, web console at /console/");
      }
      if (c.metricsEnabled) {
        const source = {
          server,
          latency: server.requestLatency,
          fsync: server.fsyncLatency,
          recipes: () => ops.views.gauges(),
          recipeEvents: () => [...server.engine.eventsPushedByKind].map(([k, n]): [string, number] => [EVENT_KINDS[k] ?? `kind${k}`, n]),
        };
        ops.metrics = await listening("metrics endpoint", c.metricsHttpHost, c.metricsHttpPort, "metricsProvider.httpPort", () =>
          startMetricsEndpoint(source, c.metricsHttpHost, c.metricsHttpPort),
        );
        server.log.info({ host: ops.metrics.host, port: ops.metrics.port }, "Prometheus metrics started: /metrics");
      }
    } catch (e) {
      await ops.stop();
      throw e;
    }
    return ops;
  }

  async stop(): Promise<void> {
    const endpoints = [this.admin, this.metrics];
    this.admin = undefined;
    this.metrics = undefined;
    await Promise.all(endpoints.map((e) => e?.close()));
  }
}

/** What the AdminServer's commands read from a server. */
export function adminSource(server: OperatedServer, views: RecipeViews = new RecipeViews(server.engine, server.tree)): AdminSource {
  const allows = accessCheck(server.config.skipAcl);
  return {
    server,
    recipeView: (name) => views.json(name),
    quorum: () => quorumView(server),
    learners: () => learnersView(server, server.zabProgress?.()),
    znode: (path, credentials) => znodeView(server.tree, allows, server.config.superDigest, path, credentials),
  };
}

/** ZooKeeper's LeaderCommand and VotingViewCommand fields; undefined on a standalone server. */
function quorumView(server: OperatedServer): QuorumView | undefined {
  const c = server.config;
  if (server.mode === "standalone" || c.servers.length === 0) return undefined;
  const leaderId = server.leaderId;
  const leader = c.servers.find((s) => s.id === leaderId);
  const voting = new Map<bigint, { serverAddresses: string[]; electionAddresses: string[]; clientAddress: string; learnerType: string }>();
  for (const s of c.servers) {
    if (s.role !== "participant") continue;
    voting.set(s.id, {
      serverAddresses: [`${s.host}:${s.quorumPort}`],
      electionAddresses: [`${s.host}:${s.electionPort}`],
      clientAddress: `${s.clientHost ?? "0.0.0.0"}:${s.clientPort ?? c.clientPort}`,
      learnerType: "participant",
    });
  }
  // QuorumPeer.getLeaderId() is -1 while there is no leader.
  return { isLeader: server.mode === "leader", leaderId: leaderId ?? -1n, leaderIp: leader?.host ?? "", voting };
}

async function listening(what: string, host: string, port: number, hint: string, start: () => Promise<HttpEndpoint>): Promise<HttpEndpoint> {
  try {
    return await start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "EADDRINUSE" ? "the address is already in use" : err.message;
    throw new EndpointError(`cannot start the ${what} on ${host}:${port}: ${why} (see ${hint})`, { cause: e });
  }
}

/**
 * One info line per session closed by its client. Opening ("session established") and
 * expiry ("session expired") are logged where they happen; an expiry is followed by this
 * line too, when its closeSession txn is applied.
 */
function logSessionCloses(server: OperatedServer): void {
  server.pipeline.subscribe((entry) => {
    if (entry.txn.type === "closeSession") server.log.info({ sessionId: hex64(entry.hdr.sessionId) }, "session closed");
  });
}

/** Each quota of `tree` as mntr and /metrics report it (the server's quotaGauges). */
export function quotaGaugesOf(tree: DataTree): QuotaGauge[] {
  const out: QuotaGauge[] = [];
  for (const { root, limits, usage } of tree.quotas()) {
    out.push({
      namespace: root.split("/")[1] ?? "",
      countLimit: limits.countHardLimit > -1 ? limits.countHardLimit : limits.count,
      bytesLimit: limits.byteHardLimit > -1 ? limits.byteHardLimit : limits.bytes,
      countUsage: usage?.count ?? 0,
      bytesUsage: usage?.bytes ?? 0,
    });
  }
  return out;
}

/**
 * A warning per quota limit passed by an applied txn (ZooKeeper logs "Quota exceeded"
 * on apply): soft limits, and hard ones without enforceQuota. The tree keeps at most
 * QUOTA_WARNINGS_MAX between two txns; the rest are counted in one line.
 */
function logQuotaWarnings(server: OperatedServer): void {
  server.pipeline.subscribe(() => {
    const { warnings, dropped } = server.tree.takeQuotaWarnings();
    for (const w of warnings) {
      server.log.warn({ quota: w.root, [w.what]: w.usage, limit: w.limit, hard: w.hard }, `Quota exceeded: ${w.root} ${w.what}=${w.usage} ${w.hard ? "hard" : "soft"} limit=${w.limit}`);
    }
    if (dropped > 0) server.log.warn({ dropped }, "more quota warnings in the same txn were not logged");
  });
}
