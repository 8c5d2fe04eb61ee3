// An in-process standalone server on an ephemeral loopback port, for tests and
// benchmarks: real sockets, real pipeline, no files unless `dataDir` is given (then it
// is durable: it recovers from dataDir on start and logs every write there).

import { defaultConfig, type CorralConfig } from "../config/index.js";
import type { Logger } from "../util/index.js";
import { StandaloneServer, type StandaloneOptions } from "./standalone.js";

export interface TestServerOptions {
  host?: string;
  clientPort?: number;
  superDigest?: string;
  extendedTypesEnabled?: boolean;
  /** enforceQuota: creates and setData past a quota's hard limit are refused. */
  enforceQuota?: boolean;
  /** skipACL=yes: no ACL is checked. */
  skipAcl?: boolean;
  reconfigEnabled?: boolean;
  tickMs?: number;
  fourLetterWordWhitelist?: "*" | string[];
  maxClientCnxns?: number;
  juteMaxBufferBytes?: number;
  containerCheckIntervalMs?: number;
  /** Makes the server durable in this directory (default: in memory only). */
  dataDir?: string;
  /** Only with dataDir; defaults are ZooKeeper's. */
  snapCount?: number;
  forceSync?: boolean;
  /** Serve the AdminServer on host, any free port (default off, unlike a real server). */
  adminServer?: boolean;
  /** Serve /metrics on host, any free port (default off). */
  metrics?: boolean;
  log?: Logger;
  reclaimMemory?: StandaloneOptions["reclaimMemory"];
}

export interface TestServer {
  host: string;
  port: number;
  connectString: string;
  server: StandaloneServer;
  /** `http://host:port` of the AdminServer, when `adminServer` was asked for. */
  adminUrl?: string;
  /** `http://host:port` of the metrics endpoint, when `metrics` was asked for. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export async function startStandaloneForTest(opts: TestServerOptions = {}): Promise<TestServer> {
  const base = defaultConfig();
  const tickMs = opts.tickMs ?? base.tickMs;
  const wl = opts.fourLetterWordWhitelist ?? "*";
  const config: CorralConfig = {
    ...base,
    tickMs,
    sessionTimeoutMsMin: 2 * tickMs,
    sessionTimeoutMsMax: 20 * tickMs,
    clientPort: opts.clientPort ?? 0,
    clientPortAddress: opts.host ?? "127.0.0.1",
    superDigest: opts.superDigest,
    extendedTypesEnabled: opts.extendedTypesEnabled ?? false,
    enforceQuota: opts.enforceQuota ?? false,
    skipAcl: opts.skipAcl ?? false,
    reconfigEnabled: opts.reconfigEnabled ?? false,
    fourLetterWordWhitelist: wl === "*" ? "*" : new Set(wl),
    maxClientCnxns: opts.maxClientCnxns ?? base.maxClientCnxns,
    juteMaxBufferBytes: opts.juteMaxBufferBytes ?? base.juteMaxBufferBytes,
    containerCheckIntervalMs: opts.containerCheckIntervalMs ?? base.containerCheckIntervalMs,
    // defaultConfig() points at ./data; a test server stays in memory unless asked.
    dataDir: opts.dataDir,
    dataLogDir: opts.dataDir,
    snapCount: opts.snapCount ?? base.snapCount,
    forceSync: opts.forceSync ?? base.forceSync,
    adminServerEnabled: opts.adminServer ?? false,
    adminServerAddress: opts.host ?? "127.0.0.1",
    adminServerPort: 0,
    metricsEnabled: opts.metrics ?? false,
    metricsHttpHost: opts.host ?? "127.0.0.1",
    metricsHttpPort: 0,
  };
  const server = new StandaloneServer({
    config,
    ...(opts.log === undefined ? {} : { log: opts.log }),
    ...(opts.reclaimMemory === undefined ? {} : { reclaimMemory: opts.reclaimMemory }),
  });
  const { port } = await server.start();
  const host = config.clientPortAddress!;
  const url = (e: { host: string; port: number } | undefined): string | undefined => (e === undefined ? undefined : `http://${e.host}:${e.port}`);
  const adminUrl = url(server.operations?.admin);
  const metricsUrl = url(server.operations?.metrics);
  return {
    host,
    port,
    connectString: `${host}:${port}`,
    server,
    ...(adminUrl === undefined ? {} : { adminUrl }),
    ...(metricsUrl === undefined ? {} : { metricsUrl }),
    stop: () => server.stop(),
  };
}
