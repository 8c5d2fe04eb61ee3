// An in-process standalone server on an ephemeral loopback port, for tests and
// benchmarks: real sockets, real pipeline, no files.

import { defaultConfig, type CorralConfig } from "../config/index.js";
import type { Logger } from "../util/index.js";
import { StandaloneServer } from "./standalone.js";

export interface TestServerOptions {
  host?: string;
  clientPort?: number;
  superDigest?: string;
  extendedTypesEnabled?: boolean;
  tickMs?: number;
  fourLetterWordWhitelist?: "*" | string[];
  maxClientCnxns?: number;
  juteMaxBufferBytes?: number;
  containerCheckIntervalMs?: number;
  log?: Logger;
}

export interface TestServer {
  host: string;
  port: number;
  connectString: string;
  server: StandaloneServer;
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
    fourLetterWordWhitelist: wl === "*" ? "*" : new Set(wl),
    maxClientCnxns: opts.maxClientCnxns ?? base.maxClientCnxns,
    juteMaxBufferBytes: opts.juteMaxBufferBytes ?? base.juteMaxBufferBytes,
    containerCheckIntervalMs: opts.containerCheckIntervalMs ?? base.containerCheckIntervalMs,
  };
  const server = new StandaloneServer(opts.log === undefined ? { config } : { config, log: opts.log });
  const { port } = await server.start();
  const host = config.clientPortAddress!;
  return { host, port, connectString: `${host}:${port}`, server, stop: () => server.stop() };
}
