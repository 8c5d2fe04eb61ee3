// Composition root of a standalone server: config -> tree, sessions, watches ->
// pipeline -> client port. Nothing else wires layers together. Timers live here: one
// tick drives session expiry, another the container/TTL reaper.

import { createHmac, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { CorralConfig } from "../config/index.js";
import {
  ClientListener,
  ServerStats,
  fourLetterWord,
  type ClientConnection,
  type FourLetterSource,
} from "../net/index.js";
import { Pipeline, memoryCommitLog, type CommitLog } from "../pipeline/index.js";
import { SessionTable } from "../session/index.js";
import { DataTree } from "../tree/index.js";
import { silentLogger, type Clock, type Logger, type SessionId } from "../util/index.js";
import { WatchRegistry } from "../watch/index.js";
import { makeAuthenticator } from "./auth.js";
import { systemClock } from "./clock.js";
import { VERSION_LINE, VERSION_STRING } from "./version.js";

export interface StandaloneOptions {
  config: CorralConfig;
  log?: Logger;
  clock?: Clock;
  /** The commit step; defaults to keeping the tree in memory only. */
  commitLog?: CommitLog;
  /** Key for session passwords; random per start unless given. */
  sessionSecret?: Buffer;
}

export class StandaloneServer implements FourLetterSource {
  readonly config: CorralConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly tree = new DataTree();
  readonly watches = new WatchRegistry();
  readonly sessions: SessionTable;
  readonly pipeline: Pipeline;
  readonly stats = new ServerStats();
  readonly listener: ClientListener;
  readonly mode = "standalone" as const;
  readonly readOnly = false;
  readonly versionString = VERSION_STRING;
  readonly versionLine = VERSION_LINE;
  #timers: NodeJS.Timeout[] = [];
  #address: { host: string; port: number } | undefined;

  constructor(opts: StandaloneOptions) {
    const config = opts.config;
    this.config = config;
    this.log = opts.log ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    const secret = opts.sessionSecret ?? randomBytes(32);
    this.sessions = new SessionTable({
      tickMs: config.tickMs,
      passwordFor: (id) => createHmac("sha256", secret).update(BigInt.asUintN(64, id).toString(16)).digest().subarray(0, 16),
    });
    this.pipeline = new Pipeline({
      tree: this.tree,
      sessions: this.sessions,
      watches: this.watches,
      log: opts.commitLog ?? memoryCommitLog,
      clock: this.clock,
      serverId: config.myid ?? 0n,
      extendedTypesEnabled: config.extendedTypesEnabled,
      outstandingMax: config.globalOutstandingLimit,
    });
    this.listener = new ClientListener(
      {
        pipeline: this.pipeline,
        log: this.log,
        frameBytesMax: config.juteMaxBufferBytes,
        sessionTimeoutMsMin: config.sessionTimeoutMsMin,
        sessionTimeoutMsMax: config.sessionTimeoutMsMax,
        authenticate: makeAuthenticator(config.superDigest),
        fourLetterWord: (word) => fourLetterWord(word, this),
        counters: this.stats,
      },
      { host: config.clientPortAddress, port: config.clientPort, maxClientCnxns: config.maxClientCnxns },
    );
  }

  get whitelist(): ReadonlySet<string> | "*" {
    return this.config.fourLetterWordWhitelist;
  }

  get address(): { host: string; port: number } {
    if (this.#address === undefined) throw new Error("server is not started");
    return this.#address;
  }

  async start(): Promise<{ host: string; port: number }> {
    this.#address = await this.listener.listen();
    const tick = setInterval(() => this.#tick(), this.config.tickMs);
    const reapEveryMs = this.config.containerCheckIntervalMs;
    const reapMax = Math.max(1, Math.floor((this.config.containerMaxPerMinute * reapEveryMs) / 60_000));
    const reap = setInterval(() => this.pipeline.reapContainers(reapMax), reapEveryMs);
    tick.unref();
    reap.unref();
    this.#timers = [tick, reap];
    this.log.info({ ...this.#address, version: VERSION_STRING }, "corral standalone server started");
    return this.#address;
  }

  #tick(): void {
    for (const id of this.pipeline.expireSessions(this.clock.monotonicMs())) {
      this.log.info({ sessionId: `0x${BigInt.asUintN(64, id).toString(16)}` }, "session expired");
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.listener.close();
    this.log.info("corral server stopped");
  }

  // FourLetterSource

  connections(): Iterable<ClientConnection> {
    return this.listener.connections;
  }

  outstandingRequests(): number {
    return this.pipeline.outstandingCount;
  }

  lastZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  nodeCount(): number {
    return this.tree.nodeCount;
  }

  approximateDataBytes(): number {
    return this.tree.approximateDataBytes;
  }

  ephemeralsBySession(): Iterable<[bigint, ReadonlySet<string>]> {
    return this.tree.ephemeralSessions();
  }

  sessionList(): Iterable<{ id: bigint; timeoutMs: number; expiresAtMs: number }> {
    const wallOffset = this.clock.nowMs() - this.clock.monotonicMs();
    return [...this.sessions.all()].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs, expiresAtMs: s.expiresAtMs + wallOffset }));
  }

  watchSummary(): { connections: number; paths: number; watches: number } {
    return { connections: this.watches.targetCount, paths: this.watches.pathCount, watches: this.watches.watchCount };
  }

  watchesByConnection(): Map<bigint, string[]> {
    return new Map([...this.watches.byTarget()].map(([t, paths]) => [t.watchId, paths]));
  }

  watchesByPath(): Map<string, bigint[]> {
    return new Map([...this.watches.byPath()].map(([p, ts]) => [p, ts.map((t) => t.watchId)]));
  }

  configLines(): string[] {
    const c = this.config;
    return [
      `clientPort=${this.#address?.port ?? c.clientPort}`,
      `secureClientPort=-1`,
      `dataDir=${c.dataDir ?? ""}`,
      `dataDirSize=0`,
      `dataLogDir=${c.dataLogDir ?? c.dataDir ?? ""}`,
      `dataLogSize=0`,
      `tickTime=${c.tickMs}`,
      `maxClientCnxns=${c.maxClientCnxns}`,
      `minSessionTimeout=${c.sessionTimeoutMsMin}`,
      `maxSessionTimeout=${c.sessionTimeoutMsMax}`,
      `clientPortListenBacklog=-1`,
      `serverId=${c.myid ?? 0n}`,
    ];
  }

  environmentLines(): string[] {
    return [
      `zookeeper.version=${VERSION_STRING}`,
      `host.name=${hostname()}`,
      `java.version=n/a (corral on node ${process.versions.node})`,
      `java.vendor=n/a`,
      `java.home=n/a`,
      `java.class.path=n/a`,
      `java.library.path=n/a`,
      `java.io.tmpdir=n/a`,
      `java.compiler=<NA>`,
      `os.name=${process.platform === "linux" ? "Linux" : process.platform}`,
      `os.arch=${process.arch}`,
      `os.version=n/a`,
      `user.name=${process.env["USER"] ?? ""}`,
      `user.home=${process.env["HOME"] ?? ""}`,
      `user.dir=${process.cwd()}`,
      `os.memory.free=${Math.round(process.memoryUsage().heapTotal / 1048576 - process.memoryUsage().heapUsed / 1048576)}MB`,
      `os.memory.max=${Math.round(process.memoryUsage().rss / 1048576)}MB`,
      `os.memory.total=${Math.round(process.memoryUsage().heapTotal / 1048576)}MB`,
      `corral.version=${VERSION_STRING}`,
      `node.version=${process.version}`,
    ];
  }

  dataDirs(): { dataDirBytes: number; dataLogDirBytes: number } {
    return { dataDirBytes: 0, dataLogDirBytes: 0 };
  }

  resetConnectionStats(): void {
    for (const c of this.listener.connections) c.stats.reset();
  }

  /** Session ids of the connected clients (tests). */
  connectedSessions(): SessionId[] {
    return [...this.listener.connections].map((c) => c.sessionId);
  }
}
