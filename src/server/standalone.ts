// Composition root of a standalone server: config -> tree, sessions, watches ->
// pipeline -> client port. Nothing else wires layers together. Timers live here: one
// tick drives session expiry, another the container/TTL reaper.

import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { homedir, hostname, release, tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { getHeapStatistics } from "node:v8";
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
import { WatchKind, WatchRegistry } from "../watch/index.js";
import { RecipeEngine } from "../recipe-engine/index.js";
import { allBindings } from "../../recipes/index.js";
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
  readonly engine: RecipeEngine;
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
    this.engine = new RecipeEngine(this.pipeline, { ownsExpiry: true });
    for (const b of allBindings()) this.engine.register(b);
    this.tree.setSystemData("/zookeeper", RecipeEngine.capability());
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
      `clientPort=${this.#address?.port ?? c.clientPort}`,
      `secureClientPort=-1`,
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
