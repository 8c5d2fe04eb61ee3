// Composition root of a standalone server: config -> storage -> recovery -> tree,
// sessions, watches -> pipeline -> client port. Nothing else wires layers together.
// Timers live here: one tick drives session expiry, another the container/TTL reaper,
// a third autopurge. With config.dataDir set the server is durable: start() recovers
// the tree and sessions from dataDir/dataLogDir first and only then builds the
// pipeline (whose zxid counter starts after the recovered zxid) and listens.

import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { homedir, hostname, release, tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { getHeapStatistics } from "node:v8";
import type { CorralConfig } from "../config/index.js";
import {
  ClientListener,
  DurationHistogram,
  RequestLatency,
  ServerStats,
  fourLetterWord,
  type ClientConnection,
  type FourLetterSource,
  type QuorumStats,
  type QuotaGauge,
} from "../net/index.js";
import { Pipeline, memoryCommitLog, type CommitLog } from "../pipeline/index.js";
import { SessionTable } from "../session/index.js";
import { DataTree, accessCheck, type AccessCheck } from "../tree/index.js";
import { Storage, loadZkSessionIds, nodeDisk, zooKeeperPassword, type Disk } from "../storage/index.js";
import { silentLogger, type Clock, type Logger, type Prng, type SessionId } from "../util/index.js";
import { WatchKind, WatchRegistry } from "../watch/index.js";
import { RecipeEngine } from "../recipe-engine/index.js";
import { allBindings } from "../../recipes/index.js";
import { makeAuthenticator, x509Ids } from "./auth.js";
import { openTlsContexts } from "./tls.js";
import { Operations, quotaGaugesOf } from "./operations.js";
import { MemoryReclaimer } from "./reclaim.js";
import { timedDisk } from "./timed-disk.js";
import { cryptoPrng, systemClock } from "./clock.js";
import { VERSION_LINE, VERSION_STRING } from "./version.js";
import type { LearnerProgress } from "../zab/index.js";

/**
 * How an ensemble member changes the standalone server (src/server/quorum.ts): its commit
 * step goes through ZAB, its mode comes from its ZAB role, and only the leader expires
 * sessions and reaps containers. Role answers are the driver's: what it last took from a
 * Ready batch (and set the pipeline up for), never the ZAB peer's fields between batches.
 */
export interface RoleHooks {
  commitLog(storage: Storage | undefined): CommitLog;
  mode(): "standalone" | "leader" | "follower" | "observer" | "read-only";
  ownsExpiry(): boolean;
  /** Whether client connections are accepted now. */
  serving(): boolean;
  /** A leader's learners, for mntr. */
  quorumStats(): QuorumStats | undefined;
  /** The current leader's server id, if one is known (AdminServer `leader`). */
  leaderId?(): bigint | undefined;
  /** ZAB's view of the ensemble's progress (AdminServer `learners`); undefined before start. */
  zabProgress?(): ZabProgress | undefined;
}

/** What a member knows of the ensemble's progress (read from its ZAB peer). */
export interface ZabProgress {
  /** This member leads (as of the last Ready batch done). */
  leading: boolean;
  /** Leader: its last proposal; learner: the last proposal (or commit) it heard from its leader. */
  lastLogged: bigint;
  /** Leader: each connected learner; learner: none. */
  learners: LearnerProgress[];
  /** A ZAB tick, to turn ticks into ms. */
  tickMs: number;
}

/**
 * Where the server's periodic work gets its timer (the session-expiry tick, the container
 * reaper, autopurge; an ensemble member's ZAB ticker). Production uses setInterval; the
 * simulator (test/sim) fires them from its own event queue so that it owns time.
 */
export interface Timers {
  every(ms: number, fn: () => void): { cancel(): void };
}

/** setInterval, unref'd: these timers alone do not keep the process alive. */
export const unrefTimers: Timers = {
  every: (ms, fn) => {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};

export interface StandaloneOptions {
  config: CorralConfig;
  role?: RoleHooks;
  log?: Logger;
  clock?: Clock;
  /** The commit step; defaults to keeping the tree in memory only. */
  commitLog?: CommitLog;
  /** Key for session passwords; random per start unless given (durable: kept in dataDir). */
  sessionSecret?: Buffer;
  /** The disk a durable server (config.dataDir set) uses; default the real file system. */
  disk?: Disk;
  /** Timers for the tick, the reaper and autopurge; default setInterval (unref'd). */
  timers?: Timers;
  /** Draws storage's snapshot points; default crypto randomness (the simulator seeds it). */
  prng?: Prng;
  /** false: no client port is opened (the simulator submits through the pipeline). Default true. */
  listen?: boolean;
  /**
   * Asked on the tick when the tree has shrunk a lot, to hand the memory back (reclaim.ts;
   * the CLI passes gcHook()). minFreedNodes: for tests.
   */
  reclaimMemory?: { reclaim: () => void; minFreedNodes?: number } | undefined;
  /**
   * A timer callback threw (a broken invariant): who stops the server. An ensemble member
   * passes its driver's failure path; by default this server logs one line and stops.
   */
  onFailure?: ((e: Error, where: string) => void) | undefined;
}

export class StandaloneServer implements FourLetterSource {
  readonly config: CorralConfig;
  readonly log: Logger;
  readonly clock: Clock;
  readonly tree = new DataTree();
  readonly watches: WatchRegistry;
  readonly sessions: SessionTable;
  readonly stats = new ServerStats();
  /** Reply latency by op and fsync latency, exported on /metrics. */
  readonly requestLatency = new RequestLatency();
  readonly fsyncLatency = new DurationHistogram();
  #operations: Operations | undefined;
  /** Serving requests: in the quorum, or (read-only mode) serving reads on its own. */
  serving(): boolean {
    return (this.#opts.role?.serving() ?? true) || this.readOnly;
  }

  quorumStats(): QuorumStats | undefined {
    return this.#opts.role?.quorumStats();
  }

  get mode(): "standalone" | "leader" | "follower" | "observer" | "read-only" {
    return this.#opts.role?.mode() ?? "standalone";
  }

  /** An ensemble member's ZAB progress (undefined standalone). */
  zabProgress(): ZabProgress | undefined {
    return this.#opts.role?.zabProgress?.();
  }

  /** An ensemble member's current leader (undefined standalone, or during an election). */
  get leaderId(): bigint | undefined {
    return this.#opts.role?.leaderId?.();
  }
  get readOnly(): boolean {
    return this.pipeline.readOnly;
  }
  readonly versionString = VERSION_STRING;
  readonly versionLine = VERSION_LINE;
  #timers: { cancel(): void }[] = [];
  /** Settles if a timer callback fails: the server has stopped and its process should exit. */
  readonly failure: Promise<Error>;
  #settleFailure: (e: Error) => void = () => {};
  #failed = false;
  #address: { host: string; port: number } | undefined;
  readonly #opts: StandaloneOptions;
  #secret: Buffer;
  /** Session ids imported from Apache ZooKeeper (<dataDir>/zookeeper-sessions). */
  #zkSessionIds: ReadonlySet<bigint> = new Set();
  #storage: Storage | undefined;
  #pipeline: Pipeline | undefined;
  #engine: RecipeEngine | undefined;
  #listener: ClientListener | undefined;
  readonly #reclaimer: MemoryReclaimer | undefined;
  /** skipACL's ACL check, the one the pipeline and the watch registry both use. */
  readonly #allows: AccessCheck;

  constructor(opts: StandaloneOptions) {
    const config = opts.config;
    this.config = config;
    this.#opts = opts;
    this.failure = new Promise<Error>((resolve) => (this.#settleFailure = resolve));
    const r = opts.reclaimMemory;
    this.#reclaimer = r === undefined ? undefined : new MemoryReclaimer(r.reclaim, r.minFreedNodes);
    this.log = opts.log ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.#allows = accessCheck(config.skipAcl);
    this.watches = new WatchRegistry(this.#allows);
    this.#secret = opts.sessionSecret ?? randomBytes(32);
    this.sessions = new SessionTable({
      tickMs: config.tickMs,
      // Sessions carried over from Apache ZooKeeper (corral import-zookeeper) keep its passwords.
      passwordFor: (id) =>
        this.#zkSessionIds.has(id) ? zooKeeperPassword(id) : createHmac("sha256", this.#secret).update(BigInt.asUintN(64, id).toString(16)).digest().subarray(0, 16),
    });
    if (config.dataDir === undefined) this.#wire(opts.role?.commitLog(undefined) ?? opts.commitLog ?? memoryCommitLog, undefined);
  }

  get pipeline(): Pipeline {
    return this.#wired(this.#pipeline);
  }

  get engine(): RecipeEngine {
    return this.#wired(this.#engine);
  }

  get listener(): ClientListener {
    return this.#wired(this.#listener);
  }

  /** The durable storage (undefined for an in-memory server, or before start()). */
  get storage(): Storage | undefined {
    return this.#storage;
  }

  #wired<T>(v: T | undefined): T {
    if (v === undefined) throw new Error("a durable server builds its pipeline in start(), after recovery");
    return v;
  }

  /** Recovers tree and sessions from dataDir (durable mode), before anything is wired. */
  async #openStorage(dataDir: string): Promise<void> {
    const c = this.config;
    const storage = await Storage.open(
      {
        disk: timedDisk(this.#opts.disk ?? nodeDisk, this.fsyncLatency.observeMs),
        dataDir,
        dataLogDir: c.dataLogDir,
        snapCount: c.snapCount,
        forceSync: c.forceSync,
        txnLogSizeLimitBytes: c.txnLogSizeLimitBytes,
        preallocBytes: c.preAllocSizeBytes,
        prng: this.#opts.prng ?? cryptoPrng,
        log: this.log,
        nowMs: () => this.clock.nowMs(),
      },
      this.tree,
    );
    this.#storage = storage;
    if (this.#opts.sessionSecret === undefined) this.#secret = storage.secret;
    this.#zkSessionIds = await loadZkSessionIds(this.#opts.disk ?? nodeDisk, dataDir);
    // Recovered sessions get a full timeout from now, as ZooKeeper's do after a restart.
    const now = this.clock.monotonicMs();
    for (const [id, timeoutMs] of storage.recovered.sessions) this.sessions.add(id, timeoutMs, now);
    this.#wire(this.#opts.role?.commitLog(storage) ?? storage, storage.highestSessionId);
    this.pipeline.subscribe((entry, _result, effects) => storage.applied(entry, effects));
    storage.setSessionSource(() => this.sessions.all());
  }

  #wire(commitLog: CommitLog, sessionIdFloor: bigint | undefined): void {
    const config = this.config;
    this.#pipeline = new Pipeline({
      tree: this.tree,
      sessions: this.sessions,
      watches: this.watches,
      log: commitLog,
      clock: this.clock,
      serverId: config.myid ?? 0n,
      extendedTypesEnabled: config.extendedTypesEnabled,
      enforceQuota: config.enforceQuota,
      allows: this.#allows,
      outstandingMax: config.globalOutstandingLimit,
      reconfigEnabled: config.reconfigEnabled,
      sessionIdFloor,
    });
    const role = this.#opts.role;
    this.#engine = new RecipeEngine(this.pipeline, { ownsExpiry: () => role?.ownsExpiry() ?? true });
    for (const b of allBindings()) this.engine.register(b);
    this.tree.setSystemData("/zookeeper", RecipeEngine.capability());
    this.#listener = new ClientListener(
      {
        pipeline: this.pipeline,
        log: this.log,
        frameBytesMax: config.juteMaxBufferBytes,
        outboundBytesSoftMax: config.clientOutboundBytesSoftMax,
        outboundBytesHardMax: config.clientOutboundBytesHardMax,
        handshakeTimeoutMs: config.clientHandshakeTimeoutMs,
        sessionTimeoutMsMin: config.sessionTimeoutMsMin,
        sessionTimeoutMsMax: config.sessionTimeoutMsMax,
        authenticate: makeAuthenticator(config.superDigest),
        fourLetterWord: (word) => fourLetterWord(word, this),
        counters: this.stats,
        observeRequest: (opCode, ms) => this.requestLatency.observe(opCode, ms),
      },
      {
        host: config.clientPortAddress,
        port: config.clientPort,
        maxClientCnxns: config.maxClientCnxns,
        acceptWhen: this.#opts.role === undefined ? undefined : () => this.#opts.role!.serving(),
        plain: config.plainClientPortEnabled,
        handshakeTimeoutMs: config.clientHandshakeTimeoutMs,
        tls: !this.servesTls ? undefined : {
          port: config.secureClientPort,
          host: config.secureClientPortAddress ?? config.clientPortAddress,
          unified: config.clientPortUnification,
          idsOf: (dn) => x509Ids(dn, config.x509SuperUser),
        },
      },
    );
  }

  /** Whether clients may connect with TLS (secureClientPort or client.portUnification). */
  get servesTls(): boolean {
    return this.config.secureClientPort !== undefined || this.config.clientPortUnification;
  }

  /** secureClientPort's address once started; undefined when there is none. */
  get secureAddress(): { host: string; port: number } | undefined {
    return this.#listener?.secureAddress;
  }

  get whitelist(): ReadonlySet<string> | "*" {
    return this.config.fourLetterWordWhitelist;
  }

  get address(): { host: string; port: number } {
    if (this.#address === undefined) throw new Error("server is not started");
    return this.#address;
  }

  async start(): Promise<{ host: string; port: number }> {
    // Bad TLS stores (missing file, wrong password) fail the start before anything is opened.
    const listen = this.#opts.listen !== false;
    const tls = listen && this.servesTls ? await openTlsContexts(this.config.clientTls, this.log) : undefined;
    if (this.#pipeline === undefined && this.config.dataDir !== undefined) await this.#openStorage(this.config.dataDir);
    if (!listen) {
      this.#address = { host: this.config.clientPortAddress ?? "127.0.0.1", port: 0 };
    } else {
      this.#address = await this.listener.listen(tls);
      if (this.secureAddress !== undefined) this.log.info({ ...this.secureAddress }, "serving TLS clients on secureClientPort");
    }
    const timers = this.#opts.timers ?? unrefTimers;
    const tick = timers.every(this.config.tickMs, () => this.#guarded("session expiry tick", () => this.#tick()));
    const reap = timers.every(this.config.containerCheckIntervalMs, () => this.#guarded("container reaper", () => this.#reap()));
    this.#timers = [tick, reap];
    this.#startAutopurge();
    try {
      this.#operations = await Operations.start(this);
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.log.info({ ...this.#address, version: VERSION_STRING }, "corral standalone server started");
    return this.#address;
  }

  /**
   * Runs a timer's work. An exception there is a broken invariant: the server stops with
   * one log line (through the role's failure path in an ensemble) rather than dying inside
   * setInterval with a stack trace, or running on with one timer's work half done.
   */
  #guarded(where: string, fn: () => void): void {
    if (this.#failed) return;
    try {
      fn();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.#failed = true; // no timer does more work until the server has stopped
      const onFailure = this.#opts.onFailure;
      if (onFailure !== undefined) {
        onFailure(err, where);
        return;
      }
      this.log.error({ err: err.message, stack: err.stack }, `${where} failed; stopping`);
      this.#settleFailure(err);
      void this.stop().catch(() => undefined);
    }
  }

  /** Tests: runs the session-expiry tick and the container reaper once, as their timers do. */
  fireTimersForTest(): void {
    this.#guarded("session expiry tick", () => this.#tick());
    this.#guarded("container reaper", () => this.#reap());
  }

  #reap(): void {
    // The leader alone deletes containers and TTL nodes (its txns carry its epoch's zxids).
    if (this.#opts.role?.ownsExpiry() === false) return;
    const reapEveryMs = this.config.containerCheckIntervalMs;
    this.pipeline.reapContainers(Math.max(1, Math.floor((this.config.containerMaxPerMinute * reapEveryMs) / 60_000)));
  }

  #tick(): void {
    if (this.#reclaimer?.observe(this.tree.nodeCount) === true) {
      this.log.info({ nodes: this.tree.nodeCount }, "the tree shrank by half or more: asked V8 to collect and hand the memory back");
    }
    this.#engine?.tick(this.clock.nowMs());
    if (this.#opts.role?.ownsExpiry() === false) {
      // The leader expires global sessions; local ones are this server's to expire.
      this.pipeline.expireLocalSessions(this.clock.monotonicMs());
      return;
    }
    for (const id of this.pipeline.expireSessions(this.clock.monotonicMs())) {
      this.log.info({ sessionId: `0x${BigInt.asUintN(64, id).toString(16)}` }, "session expired");
    }
  }

  /** autopurge.purgeInterval hours (0 = off): purge once now, then every interval. */
  #startAutopurge(): void {
    const storage = this.#storage;
    const hours = this.config.autopurgePurgeIntervalHours;
    if (storage === undefined || !(hours > 0)) return;
    const run = (): void => {
      storage.purge(this.config.autopurgeSnapRetainCount).catch((e: unknown) => {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, "autopurge failed");
      });
    };
    run();
    this.#timers.push((this.#opts.timers ?? unrefTimers).every(hours * 3_600_000, run));
  }

  /** The AdminServer and metrics endpoints, when configured and started. */
  get operations(): Operations | undefined {
    return this.#operations;
  }

  async stop(): Promise<void> {
    await this.#operations?.stop();
    this.#operations = undefined;
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    if (this.#listener !== undefined) await this.#listener.close();
    await this.#storage?.close();
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

  ephemeralCount(): number {
    return this.tree.ephemeralCount();
  }

  quotaGauges(): QuotaGauge[] {
    return quotaGaugesOf(this.tree);
  }

  quotaExceeded(): Iterable<[string, number]> {
    return this.pipeline.quotaExceededByNamespace();
  }

  sessionList(): Iterable<{ id: bigint; timeoutMs: number; expiresAtMs: number }> {
    const wallOffset = this.clock.nowMs() - this.clock.monotonicMs();
    return [...this.sessions.all()].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs, expiresAtMs: s.expiresAtMs + wallOffset }));
  }

  watchSummary(): { connections: number; paths: number; watches: number } {
    const byConnection = this.watchesByConnection();
    let watches = 0;
    for (const paths of byConnection.values()) watches += paths.length;
    return { connections: byConnection.size, paths: this.watchesByPath().size, watches };
  }

  watchesByConnection(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    for (const [t, paths] of this.watches.byTarget()) {
      const data = paths.filter((p) => this.watches.holds(t, DATA_TABLE, p));
      if (data.length > 0) out.set(t.watchId, data);
    }
    return out;
  }

  watchesByPath(): Map<string, bigint[]> {
    const out = new Map<string, bigint[]>();
    for (const [p, ts] of this.watches.byPath()) {
      const data = ts.filter((t) => this.watches.holds(t, DATA_TABLE, p));
      if (data.length > 0) out.set(p, data.map((t) => t.watchId));
    }
    return out;
  }

  watchCount(): number {
    let n = 0;
    for (const [t, paths] of this.watches.byTarget()) {
      for (const p of paths) {
        if (this.watches.holds(t, DATA_TABLE, p)) n++;
        if (this.watches.holds(t, CHILD_TABLE, p)) n++;
      }
    }
    return n;
  }

  configLines(): string[] {
    const c = this.config;
    const dataDir = c.dataDir === undefined ? "" : resolve(c.dataDir);
    const dataLogDir = c.dataLogDir === undefined ? dataDir : resolve(c.dataLogDir);
    const sizes = this.dataDirs();
    return [
      `clientPort=${!c.plainClientPortEnabled ? -1 : (this.#address?.port ?? c.clientPort)}`,
      `secureClientPort=${this.secureAddress?.port ?? c.secureClientPort ?? -1}`,
      `dataDir=${dataDir}`,
      `dataDirSize=${sizes.dataDirBytes}`,
      `dataLogDir=${dataLogDir}`,
      `dataLogSize=${sizes.dataLogDirBytes}`,
      `tickTime=${c.tickMs}`,
      `maxClientCnxns=${c.maxClientCnxns}`,
      `minSessionTimeout=${c.sessionTimeoutMsMin}`,
      `maxSessionTimeout=${c.sessionTimeoutMsMax}`,
      `clientPortListenBacklog=-1`,
      `serverId=${c.myid ?? 0n}`,
    ];
  }

  environmentLines(): string[] {
    // ZooKeeper's Environment.list(): the same keys in the same order. Java-only
    // properties print ZooKeeper's own "<NA>"; the JVM's memory figures are V8's heap.
    const heap = getHeapStatistics();
    const mb = 1024 * 1024;
    let user = "<NA>";
    try {
      user = userInfo().username;
    } catch {
      // no passwd entry for this uid
    }
    return [
      `zookeeper.version=${this.versionLine.replace(/^Zookeeper version: /, "")}`,
      `host.name=${hostname()}`,
      `java.version=<NA> (corral on node ${process.versions.node})`,
      `java.vendor=<NA>`,
      `java.home=<NA>`,
      `java.class.path=<NA>`,
      `java.library.path=<NA>`,
      `java.io.tmpdir=${tmpdir()}`,
      `java.compiler=<NA>`,
      `os.name=${JAVA_OS_NAMES[process.platform] ?? process.platform}`,
      `os.arch=${JAVA_OS_ARCHS[process.arch] ?? process.arch}`,
      `os.version=${release()}`,
      `user.name=${user}`,
      `user.home=${homedir()}`,
      `user.dir=${process.cwd()}`,
      `os.memory.free=${Math.floor((heap.total_heap_size - heap.used_heap_size) / mb)}MB`,
      `os.memory.max=${Math.floor(heap.heap_size_limit / mb)}MB`,
      `os.memory.total=${Math.floor(heap.total_heap_size / mb)}MB`,
    ];
  }

  dataDirs(): { dataDirBytes: number; dataLogDirBytes: number } {
    if (this.#storage !== undefined) return this.#storage.sizes();
    const c = this.config;
    return {
      dataDirBytes: c.dataDir === undefined ? 0 : dirBytes(c.dataDir),
      dataLogDirBytes: dirBytes(c.dataLogDir ?? c.dataDir ?? ""),
    };
  }

  resetConnectionStats(): void {
    // ZooKeeper's ServerCnxn.resetStats.
    for (const c of this.listener.connections) {
      c.stats.reset();
      c.packetsReceived = 0;
      c.packetsSent = 0;
      c.lastOp = "NA";
      c.lastCxid = -1;
      c.lastZxid = -1n;
      c.lastResponseAtMs = 0;
      c.lastLatencyMs = 0;
    }
  }

  /** Session ids of the connected clients (tests). */
  /**
   * The recipe engine's caches cannot be trusted any more (the tree was replaced or cut,
   * or the ensemble's roles changed): they are rebuilt from the tree, and the client
   * connections of the sessions that had waits filed here are closed (not the sessions),
   * so their clients reconnect and re-send their waits with the same request ids.
   */
  rebuildRecipes(reason: string): number {
    const engine = this.#engine;
    if (engine === undefined) return 0;
    let closed = 0;
    for (const sid of engine.rebuild()) {
      const q = this.pipeline.queueOf(sid as SessionId);
      if (q === undefined || q.closed) continue;
      q.conn.close(reason);
      closed++;
    }
    if (closed > 0) this.log.info({ connections: closed, reason }, "recipe engine rebuilt from the tree; closed the connections of its waiters");
    return closed;
  }

  connectedSessions(): SessionId[] {
    return [...this.listener.connections].map((c) => c.sessionId);
  }
}

/** ZooKeeper's data-watch table holds these kinds; its child-watch table the next. */
const DATA_TABLE = [WatchKind.Data, WatchKind.Persistent, WatchKind.PersistentRecursive] as const;
const CHILD_TABLE = [WatchKind.Child, WatchKind.Persistent, WatchKind.PersistentRecursive] as const;

/** Java's os.name and os.arch for Node's platform and arch. */
const JAVA_OS_NAMES: Readonly<Record<string, string>> = {
  linux: "Linux", darwin: "Mac OS X", win32: "Windows", freebsd: "FreeBSD", openbsd: "OpenBSD", sunos: "SunOS", aix: "AIX",
};
const JAVA_OS_ARCHS: Readonly<Record<string, string>> = { x64: "amd64", arm64: "aarch64", ia32: "x86", ppc64: "ppc64le" };

/** Bytes of the files under `dir`, recursively, as ZooKeeper's getDirSize counts them; 0 if it is missing. */
function dirBytes(dir: string): number {
  if (dir === "") return 0;
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    try {
      total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
    } catch {
      // removed while we looked
    }
  }
  return total;
}
