// A member of a ZAB ensemble: the standalone server's request path, with its commit step
// handed to ZAB (DESIGN.md "One write, end to end"). This is the driver of the pure
// ZabPeer: it ticks it, carries its messages over the quorum transport, and does each
// Ready batch in the order the peer's contract requires — send sendNow; persist (epochs,
// TRUNC, SNAP, appends); apply commits; send sendAfterPersist — one batch at a time,
// except that a batch which only appends and commits runs ahead of earlier batches'
// fsyncs: its commits apply at once (#runAhead; its ACKs still wait for the disk).
//
// Leader: the pipeline prepares writes (its own clients' and those learners forward)
// and proposes them; they apply when ZAB commits them. Learners forward writes to the
// leader and apply what it commits; reads are answered locally. Sessions are global:
// the leader alone expires them. It pings every learner each tickTime/2, as ZooKeeper's
// Leader does, and a learner answers with the sessions it heard from (any packet of their
// clients) since its last answer; the leader touches those. A client whose connection is
// open but silent is not heard from, and expires on time wherever it is connected.
//
// Dynamic reconfiguration: the configuration lives in the replicated tree, at
// /zookeeper/config (ZooKeeper's dynamic config, `version=` being the zxid of the
// reconfig that wrote it). A reconfig is a setData txn of that node committed through
// ZAB; the tree is in every snapshot and log, so a restarted member recovers the last
// configuration it applied from its own data dir, and zoo.cfg's server lines only seed
// an ensemble that never reconfigured (no zoo.cfg.dynamic.<version> files are written).
// After each batch the driver compares the tree's configuration with the one it acts
// on: the transport learns new servers, and a configuration that arrived in a SNAP image
// or came back after a TRUNC is handed to the peer.
//
// Role, epoch and serving reach the driver only through Ready (as etcd's raft hands its
// application SoftState): #role is what the driver last took from a batch and set the
// pipeline up for (forwarder, zxid base). Everything outside the peer — session expiry,
// the container reaper, the recipe engine, accepting clients, 4lw/admin mode — reads
// #role, never the peer's live fields, which run ahead of the pipeline while a batch is
// being persisted. A proposal the peer refuses in that window (it stopped leading) is left
// in flight, and the batch that carries the change abandons it like any other.
//
// A broken invariant (an assertion in the driver, the peer, a timer) stops the member
// with one log line and settles `failure`; it never runs on half-stopped.

import { createHash } from "node:crypto";
import { dynamicConfigText, parseDynamicConfig, type CorralConfig, type DynamicConfig, type ServerSpec } from "../config/index.js";
import { JuteReader, JuteWriter } from "../jute/index.js";
import { QuorumTransport, type OutboundStream, type QuorumTls, type QuorumTransportOptions } from "../net/index.js";
import { CONFIG_NODE, encodeForward, decodeForward, type CommitLog, type Forwarded, type ReconfigPlanner } from "../pipeline/index.js";
import {
  COMMITTED_CONFIG_FILE,
  ImageDecoder,
  ImageEncoder,
  installImage,
  nodeDisk,
  readCommittedConfig,
  readEpochs,
  writeCommittedConfig,
  writeEpochs,
  type DecodedImage,
  type Storage,
} from "../storage/index.js";
import { decodeTxnEntry, encodeTxnEntry, type TxnEntry } from "../txn/index.js";
import { asSessionId, assert, epochOf, hex64, silentLogger, zxidOf, type Clock, type Logger } from "../util/index.js";
import { PeerState, ZabPeer, commitsBeforePersist, type Member, type Proposal, type Ready, type ZabMsg } from "../zab/index.js";
import { planReconfig, reconfigMembersOf, reconfigServersOf } from "./reconfig.js";
import { StandaloneServer, type StandaloneOptions, type Timers } from "./standalone.js";
import { openTlsContexts } from "./tls.js";

/** What the driver uses of the quorum transport (QuorumTransport; the simulator's network). */
export interface QuorumLink {
  start(): Promise<void>;
  send(to: bigint, msg: ZabMsg): void;
  /** Sends what `src` produces (a SNAP image) in order, before anything sent to `to` after it. */
  stream(to: bigint, src: OutboundStream): void;
  /** Drops the connection to `peer` (it reconnects and syncs again). */
  drop(peer: bigint): void;
  addPeers(peers: QuorumTransportOptions["peers"]): void;
  block(peers: readonly bigint[]): void;
  unblock(): void;
  close(): Promise<void>;
}

export interface QuorumServerOptions {
  config: CorralConfig;
  log?: Logger;
  clock?: Clock;
  reclaimMemory?: StandaloneOptions["reclaimMemory"];
  // Seams for the simulator (test/sim); production leaves them unset.
  /** Builds the quorum transport; default a QuorumTransport on the member's quorum port. */
  transport?: (opts: QuorumTransportOptions) => QuorumLink;
  /** The ZAB ticker's and the standalone server's timers; default setInterval. */
  timers?: Timers;
  /** dataDir's disk: storage and the epoch files; default the real file system. */
  disk?: StandaloneOptions["disk"];
  prng?: StandaloneOptions["prng"];
  listen?: StandaloneOptions["listen"];
  /** Committed txns the leader keeps in memory for DIFF syncs (default 500; transcripts use fewer). */
  committedLogMax?: number;
}

/** The ZAB ticker keeps the process alive, as it always did (not unref'd). */
const refTimers: Timers = {
  every: (ms, fn) => {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
};
/** ZAB ticks per ZooKeeper tick: timeouts keep tickTime's meaning, detection is finer. */
const ZAB_TICKS_PER_TICK = 20;
const FINALIZE_WAIT_MS = 60;

/**
 * Whether a batch may be done ahead of the batches before it (#runAhead): it only appends
 * proposals, commits txns and sends, and changes nothing else (no epoch, truncation,
 * image, role or configuration, each of which must come after everything before it).
 */
function canRunAhead(r: Ready): boolean {
  const p = r.persist;
  return (
    p.acceptedEpoch === undefined &&
    p.currentEpoch === undefined &&
    p.truncateTo === undefined &&
    p.snapshot === undefined &&
    r.state === undefined &&
    r.config === undefined
  );
}

type ZabMsgTo = Ready["sendNow"][number];

/** The peer's role as the driver last took it from a Ready batch. */
type RoleView = NonNullable<Ready["state"]>;
const NOT_STARTED: RoleView = { state: PeerState.LOOKING, leader: undefined, serving: false, epoch: 0 };

export class QuorumServer {
  readonly config: CorralConfig;
  readonly log: Logger;
  readonly me: ServerSpec;
  readonly server: StandaloneServer;
  #peer: ZabPeer | undefined;
  #transport: QuorumLink | undefined;
  #ticker: { cancel(): void } | undefined;
  readonly #seams: QuorumServerOptions;
  /** Leader: resolvers of the pipeline's proposals, by zxid. */
  readonly #pendingCommits = new Map<bigint, () => void>();
  /** Txns logged but not yet applied, decoded once (a proposal's bytes are not parsed again to apply it). */
  readonly #logged = new Map<bigint, TxnEntry>();
  #chain: Promise<void> = Promise.resolve();
  #pumpScheduled = false;
  /** Batches taken that are to be done in order and are not done yet (see #takeBatches). */
  #inOrderQueued = 0;
  /** Servers that batches run ahead still have messages for, sent once their persist is done. */
  readonly #sendsHeld = new Map<bigint, number>();
  #stopped = false;
  #storage: Storage | undefined;
  #syncsBySnapshot = 0;
  /** Leader: images being streamed to learners (each notes the txns applied meanwhile). */
  readonly #imagesOut = new Map<ImageEncoder, bigint>();
  #imageTapped = false;
  /** Learner: the image streaming in from the leader, decoded as it arrives. */
  #imageIn: { from: bigint; decoder: ImageDecoder; startedMs: number } | undefined;
  /** Learner: a complete image, for the batch whose persist.snapshot names its zxid. */
  #imageReady: DecodedImage | undefined;
  readonly zabTickMs: number;

  /** Times this member was brought up to date with a leader's full image (SNAP), not a DIFF. */
  get syncsBySnapshot(): number {
    return this.#syncsBySnapshot;
  }
  /** Commits applied ahead of this member's own fsyncs (#runAhead), for tests and metrics. */
  aheadCommits = 0;
  /** Settles if the driver fails: the member has stopped and its process should exit. */
  readonly failure: Promise<Error>;
  #fail: (e: Error) => void = () => {};
  /** The configuration this driver acts on: the tree's /zookeeper/config, parsed. */
  #members: readonly ServerSpec[] = [];
  #configVersion = 0n;
  /** The /zookeeper/config data #members was parsed from (identity: unchanged if the same). */
  /** /zookeeper/config's bytes (latin1) when last read: see #treeConfigIfChanged. */
  #configData: string | null = null;
  /** The configuration the peer put in force in the batch being done (from Ready.config). */
  #committedSpec: DynamicConfig | undefined;
  /** The pending configuration found at start (its servers' addresses are known from it). */
  #startPending: DynamicConfig | undefined;
  /** Role, leader, serving and epoch as of the last Ready batch done (see the header). */
  #role: RoleView = NOT_STARTED;
  #failed = false;
  /** Tests: a Ready batch to hold before any of it is done (holdReadyForTest). */
  #hold: { match: (r: Ready) => boolean; gate: Promise<void>; onHeld: (r: Ready) => void } | undefined;
  /** Releases the batch holdReadyForTest holds (stop() does, so a test cannot hang it). */
  #releaseHold: () => void = () => {};

  constructor(opts: QuorumServerOptions) {
    const config = opts.config;
    this.config = config;
    this.log = opts.log ?? silentLogger;
    this.#seams = opts;
    const myid = config.myid;
    if (myid === undefined) throw new Error("an ensemble member needs a myid file in dataDir");
    const me = config.servers.find((s) => s.id === myid);
    if (me === undefined) throw new Error(`no server.${myid} line for this server's myid`);
    this.me = me;
    this.zabTickMs = Math.max(5, Math.floor(config.tickMs / ZAB_TICKS_PER_TICK));
    this.failure = new Promise<Error>((resolve) => (this.#fail = resolve));
    const clientPort = me.clientPort ?? config.clientPort;
    const clientPortAddress = me.clientHost ?? config.clientPortAddress;
    this.server = new StandaloneServer({
      config: { ...config, clientPort, clientPortAddress },
      log: this.log,
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      reclaimMemory: opts.reclaimMemory,
      ...(opts.timers === undefined ? {} : { timers: opts.timers }),
      ...(opts.disk === undefined ? {} : { disk: opts.disk }),
      ...(opts.prng === undefined ? {} : { prng: opts.prng }),
      ...(opts.listen === undefined ? {} : { listen: opts.listen }),
      sessionSecret: ENSEMBLE_SESSION_SECRET,
      onFailure: (e, where) => this.#stopOnFailure(e, where),
      role: {
        commitLog: (storage) => {
          this.#storage = storage;
          return this.#commitLog;
        },
        mode: () => this.mode,
        ownsExpiry: () => this.#role.state === PeerState.LEADING && this.#role.serving,
        serving: () => this.#role.serving,
        leaderId: () => this.#role.leader,
        zabProgress: () => {
          const peer = this.#peer;
          if (peer === undefined) return undefined;
          return { leading: this.#role.state === PeerState.LEADING, lastLogged: peer.lastLogged, learners: peer.learnerProgress(), tickMs: this.zabTickMs };
        },
        quorumStats: () => {
          const peer = this.#peer;
          // Whether this member leads is the driver's view; the learner counts are the peer's.
          if (peer === undefined || this.#role.state !== PeerState.LEADING) return undefined;
          const synced = peer.syncedLearners();
          return {
            learners: synced.length + peer.pendingSyncs(),
            syncedFollowers: synced.filter((l) => l.role === "participant").length,
            syncedObservers: synced.filter((l) => l.role === "observer").length,
            pendingSyncs: peer.pendingSyncs(),
          };
        },
      },
    });
  }

  get peer(): ZabPeer {
    assert(this.#peer !== undefined, "quorum server is not started");
    return this.#peer;
  }

  /** The role as of the last Ready batch done (not the peer's, which may be ahead of it). */
  get mode(): "leader" | "follower" | "observer" | "standalone" {
    switch (this.#role.state) {
      case PeerState.LEADING:
        return "leader";
      case PeerState.OBSERVING:
        return "observer";
      default:
        return "follower";
    }
  }

  /** Serving as of the last Ready batch done: the pipeline is set up for it. */
  get serving(): boolean {
    return this.#role.serving;
  }

  /** The epoch as of the last Ready batch done (the simulator's one-leader-per-epoch check). */
  get epoch(): number {
    return this.#role.epoch;
  }

  /** The configuration in force here (ZooKeeper's QuorumVerifier) and its version. */
  get members(): readonly ServerSpec[] {
    return this.#members;
  }

  get configVersion(): bigint {
    return this.#configVersion;
  }

  async start(): Promise<{ host: string; port: number }> {
    // Bad ssl.quorum.* stores fail the start (ConfigError naming the key) before anything opens.
    const quorumTls = await this.#openQuorumTls();
    const address = await this.server.start();
    // /zookeeper/config holds the ensemble's configuration as ZooKeeper 3.5+ publishes
    // it. A reconfig wrote it (mzxid != 0) and recovery brought it back, or it is the
    // static one from zoo.cfg: version 0, identical on every member.
    const tree = this.server.tree;
    this.#seedStaticConfig();
    const inTree = this.#treeConfigIfChanged();
    assert(inTree !== undefined, "the tree holds a readable /zookeeper/config at start");
    this.#members = inTree.servers;
    this.#configVersion = inTree.version;
    const pendingConfig = await this.#settleStartConfig();
    // Until ZAB says this server serves, nothing is prepared or committed here.
    this.server.pipeline.setForwarder(() => undefined);
    this.server.pipeline.setReconfigPlanner(this.#planner);
    this.server.pipeline.setLocalSessions(this.config.localSessionsEnabled, this.config.localSessionsUpgradingEnabled);
    const epochs = await this.#readEpochs();
    const last = tree.lastProcessedZxid;
    const c = this.config;
    this.#peer = new ZabPeer(
      {
        myId: this.me.id,
        servers: this.#members.map((s) => ({ id: s.id, role: s.role })),
        configVersion: this.#configVersion,
        reconfigOf: reconfigMembersOf,
        initLimitTicks: c.initLimitTicks * ZAB_TICKS_PER_TICK,
        syncLimitTicks: c.syncLimitTicks * ZAB_TICKS_PER_TICK,
        finalizeTicks: Math.max(1, Math.round(FINALIZE_WAIT_MS / this.zabTickMs)),
        committedLogMax: this.#seams.committedLogMax ?? 500,
        pingEveryTicks: Math.max(1, Math.round(c.tickMs / 2 / this.zabTickMs)),
      },
      {
        acceptedEpoch: epochs.acceptedEpoch,
        currentEpoch: epochs.currentEpoch,
        lastZxid: last,
        lastCommitted: last,
        // The newest logged txns, so a restarted leader can still DIFF a lagging learner.
        recent: recentProposals(this.#storage?.recovered.recent ?? [], last),
        ...(pendingConfig === undefined ? {} : { pendingConfig: { servers: pendingConfig.servers.map((s) => ({ id: s.id, role: s.role })), version: pendingConfig.version } }),
      },
    );
    const transportOptions: QuorumTransportOptions = {
      myId: this.me.id,
      listen: { host: this.me.host, port: this.me.quorumPort },
      // zoo.cfg's servers too: a joiner reaches the ensemble through them.
      peers: quorumPeers([...c.servers, ...this.#members, ...(pendingConfig?.servers ?? [])], this.me.id),
      log: this.log,
      tls: quorumTls,
      frameBytesMax: Math.max(c.juteMaxBufferBytes * 4, 64 * 1024 * 1024),
      onMessage: (from, msg) =>
        this.#guarded("ZAB step", () => {
          if (!this.#receiveImage(from, msg)) return;
          this.#peer?.step(from, msg);
          this.#schedulePump();
        }),
      onDown: (peer) =>
        this.#guarded("ZAB step", () => {
          if (this.#imageIn?.from === peer) this.#imageIn = undefined;
          this.#peer?.disconnected(peer);
          this.#schedulePump();
        }),
    };
    this.#transport = this.#seams.transport?.(transportOptions) ?? new QuorumTransport(transportOptions);
    await this.#transport.start();
    this.#ticker = (this.#seams.timers ?? refTimers).every(this.zabTickMs, () =>
      this.#guarded("ZAB tick", () => {
        this.#peer?.tick();
        this.#schedulePump();
      }),
    );
    this.#schedulePump();
    this.log.info({ myid: this.me.id.toString(), client: address, quorumPort: this.me.quorumPort }, "corral ensemble member started");
    return address;
  }

  /** sslQuorum / portUnification: the quorum certificates (undefined = plain TCP only). */
  async #openQuorumTls(): Promise<QuorumTls | undefined> {
    const c = this.config;
    if (!c.sslQuorum && !c.quorumPortUnification) return undefined;
    const contexts = await openTlsContexts(c.quorumTls, this.log);
    return { secure: c.sslQuorum, unified: c.quorumPortUnification, contexts, hostnameVerification: c.quorumTls.hostnameVerification };
  }

  /**
   * The configuration to start with: the committed one from dataDir's committedConfig
   * (storage/committed-config.ts), not the tree's, whose /zookeeper/config may come from
   * a reconfig txn replayed from the log that was never committed: that one is returned,
   * to be the peer's pending configuration. A data directory without the file (a fresh
   * one, or one written before the file existed) takes the tree's and records it.
   */
  async #settleStartConfig(): Promise<DynamicConfig | undefined> {
    const dir = this.config.dataDir;
    if (dir === undefined) return undefined;
    const disk = this.#seams.disk ?? nodeDisk;
    const text = await readCommittedConfig(disk, dir);
    if (text === undefined) {
      await writeCommittedConfig(disk, dir, dynamicConfigText(this.#members, this.#configVersion, this.config.clientPortAddress));
      return undefined;
    }
    const parsed = parseDynamicConfig(text);
    if (!parsed.ok) throw new Error(`${dir}/${COMMITTED_CONFIG_FILE}: ${parsed.problem}`);
    const committed = parsed.value;
    if (committed.version >= this.#configVersion) {
      // The tree cannot be behind a commit this member recorded (its txn was logged first).
      if (committed.version > this.#configVersion) {
        this.log.warn({ committed: hex64(committed.version), tree: hex64(this.#configVersion) }, "committedConfig is newer than the tree's configuration; using committedConfig");
        this.#members = committed.servers;
        this.#configVersion = committed.version;
      }
      return undefined;
    }
    const pending: DynamicConfig = { servers: this.#members, version: this.#configVersion };
    this.#startPending = pending;
    this.#members = committed.servers;
    this.#configVersion = committed.version;
    this.log.info(
      { committed: hex64(committed.version), pending: hex64(pending.version) },
      "the log holds a reconfig with no recorded commit: it is pending until the leader's sync settles it",
    );
    return pending;
  }

  /** Records the configuration the peer now has in force (Ready.config) before anything else of its batch persists. */
  async #recordCommittedConfig(r: Ready): Promise<void> {
    const c = r.config;
    if (c === undefined) return;
    const spec = this.#specOfConfig(c.servers, c.version, r);
    this.#committedSpec = spec;
    const dir = this.config.dataDir;
    if (dir === undefined) return;
    await writeCommittedConfig(this.#seams.disk ?? nodeDisk, dir, dynamicConfigText(spec.servers, spec.version, this.config.clientPortAddress));
  }

  /**
   * The full server specs (addresses too) of a configuration the peer names by ids and
   * roles: from the reconfig txn committed in `r`, else the tree's /zookeeper/config,
   * else the specs this member already knows.
   */
  #specOfConfig(members: readonly Member[], version: bigint, r: Ready): DynamicConfig {
    const txn = r.commit.find((c) => c.zxid === version);
    const fromTxn = txn === undefined ? undefined : reconfigServersOf(txn.data);
    if (fromTxn !== undefined) return { servers: fromTxn, version };
    const treeData = this.server.tree.get(CONFIG_NODE)?.data;
    const fromTree = treeData === undefined || treeData === null ? undefined : parseDynamicConfig(treeData.toString("utf8"));
    if (fromTree?.ok === true && fromTree.value.version === version) return fromTree.value;
    const known = new Map<bigint, ServerSpec>();
    for (const s of [...this.config.servers, ...this.#members, ...(this.#startPending?.servers ?? [])]) known.set(s.id, s);
    const servers = members.map((m) => {
      const s = known.get(m.id);
      assert(s !== undefined, `configuration ${hex64(version)} names server ${m.id}, whose address this member does not know`);
      return { ...s, role: m.role };
    });
    return { servers, version };
  }

  /**
   * /zookeeper/config as zoo.cfg gives it (version 0), unless a reconfig in the tree wrote
   * it. Again after a TRUNC rebuilt the tree: if the start-up tree held a reconfig (an
   * uncommitted one, replayed from the log) the static text was never set, and the
   * rebuilt tree would otherwise hold an empty node.
   */
  #seedStaticConfig(): void {
    const tree = this.server.tree;
    if (tree.get(CONFIG_NODE)!.mzxid === 0n) {
      tree.setSystemData(CONFIG_NODE, Buffer.from(dynamicConfigText(this.config.servers, 0n, this.config.clientPortAddress), "utf8"));
    }
  }

  /** Cuts this member off from `peers` until healForTest() (partition tests). */
  partitionForTest(peers: readonly bigint[]): void {
    this.#transport?.block(peers);
  }

  healForTest(): void {
    this.#transport?.unblock();
  }

  /**
   * Tests: the next Ready batch `match` accepts waits, before any of it is done, until
   * release() — as a slow fsync of the batch before it would make it wait. Meanwhile the
   * peer runs on (ticks, messages) and may change role while the driver has not seen it.
   */
  holdReadyForTest(match: (r: Ready) => boolean): { held: Promise<Ready>; release: () => void } {
    assert(this.#hold === undefined, "one held batch at a time");
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.#releaseHold = release;
    let onHeld = (_r: Ready): void => {};
    const held = new Promise<Ready>((resolve) => (onHeld = resolve));
    this.#hold = { match, gate, onHeld };
    return { held, release };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#releaseHold();
    this.#ticker?.cancel();
    await this.#transport?.close();
    await this.#chain.catch(() => undefined);
    await this.server.stop();
  }

  /**
   * The commit step of this server's pipeline: a proposal, resolved when ZAB commits it.
   * The pipeline prepares txns here only while #role is a serving leader (else it forwards
   * them), with zxids of #role's epoch. A broken invariant stops the member.
   */
  readonly #commitLog: CommitLog = {
    append: (entry: TxnEntry): Promise<void> => {
      try {
        return this.#propose(entry);
      } catch (e) {
        this.#stopOnFailure(e instanceof Error ? e : new Error(String(e)), "quorum driver");
        throw e;
      }
    },
  };

  #propose(entry: TxnEntry): Promise<void> {
    const role = this.#role;
    const zxid: bigint = entry.hdr.zxid;
    assert(role.state === PeerState.LEADING && role.serving, `a txn was prepared at ${hex64(zxid)} while this member is ${role.state}, serving=${role.serving}`);
    assert(epochOf(entry.hdr.zxid) === role.epoch, `a txn was prepared at ${hex64(zxid)} in epoch ${role.epoch}`);
    const data = encodeTxnEntry(entry);
    const proposed = this.peer.propose((z) => {
      assert(z === zxid, `the peer proposes ${hex64(z)} for the txn prepared at ${hex64(zxid)}`);
      return data;
    });
    if (proposed === undefined) {
      // The peer stopped leading and the batch saying so is not done yet: the txn stays in
      // flight, and that batch abandons it with the rest (its client's connection drops).
      return new Promise<void>(() => {});
    }
    this.#logged.set(zxid, entry);
    const committed = new Promise<void>((resolve) => this.#pendingCommits.set(zxid, resolve));
    this.#schedulePump();
    return committed;
  }

  /** Runs a callback of a timer or the transport; an exception in it stops the member. */
  #guarded(where: string, fn: () => void): void {
    if (this.#failed) return;
    try {
      fn();
    } catch (e) {
      this.#stopOnFailure(e instanceof Error ? e : new Error(String(e)), where);
    }
  }

  /** One log line, `failure` settles, the member stops: never left half-running. */
  #stopOnFailure(e: Error, where: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.log.error({ err: e.message, stack: e.stack }, `${where} failed; stopping`);
    this.#fail(e);
    void this.stop().catch(() => undefined);
  }

  /**
   * Takes the peer's batches as soon as they form (a microtask after the message or tick
   * that made them), not when the batch before is done: a batch that only appends
   * proposals and commits them may run ahead of earlier batches' fsyncs (#runAhead).
   * Everything else of every batch is done strictly in order on #chain.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled || this.#stopped) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#guarded("quorum driver", () => this.#takeBatches());
    });
  }

  #takeBatches(): void {
    for (let r = this.#peer?.ready(); r !== undefined && !this.#stopped; r = this.#peer?.ready()) {
      const batch = r;
      const held = this.#hold?.match(batch) === true;
      if (!held && this.#inOrderQueued === 0 && canRunAhead(batch)) {
        const ahead = this.#runAhead(batch);
        this.#chain = this.#chain.then(() => this.#finishRunAhead(batch, ahead));
      } else {
        this.#inOrderQueued++;
        this.#chain = this.#chain.then(() => this.#process(batch)).finally(() => this.#inOrderQueued--);
      }
      this.#chain = this.#chain.catch((e: unknown) => this.#stopOnFailure(e instanceof Error ? e : new Error(String(e)), "quorum driver"));
    }
  }

  /**
   * A batch that only appends and commits, taken while no batch before it waits to be done
   * in order: its appends go to the log now (behind the earlier ones: the log keeps their
   * order and group-commits them) and its commits are applied now, without waiting for
   * this member's fsyncs. A committed txn is durable on a quorum already; this member's
   * copy only has to be logged before it ACKs, which still waits (#finishRunAhead). That
   * is ZooKeeper's rule: a follower's CommitProcessor applies committed txns whatever its
   * SyncRequestProcessor is doing, so a read after a write never waits for a follower's
   * disk. Every txn applied here was handed to the log first (in this batch or an earlier
   * one), so a snapshot's fuzzy window is always in the log (Storage waits for it).
   */
  #runAhead(r: Ready): { persisted: Promise<void>; deferred: ZabMsgTo[]; holds: bigint[] } {
    // Messages to a server that an earlier batch still has messages for (sent after its
    // persist) wait for those: what goes to one server keeps the peer's order.
    const deferred: ZabMsgTo[] = [];
    for (const o of r.sendNow) {
      if (this.#sendsHeld.has(o.to)) deferred.push(o);
      else this.#send(o.to, o.msg);
    }
    const holds: bigint[] = [];
    const hold = (o: ZabMsgTo): void => {
      if (holds.includes(o.to)) return;
      holds.push(o.to);
      this.#sendsHeld.set(o.to, (this.#sendsHeld.get(o.to) ?? 0) + 1);
    };
    deferred.forEach(hold);
    r.sendAfterPersist.forEach(hold);
    const storage = this.#storage;
    let persisted: Promise<unknown> = Promise.resolve();
    if (storage !== undefined && r.persist.append.length > 0) {
      persisted = Promise.all(r.persist.append.map((x) => storage.append(this.#entryOf(x.zxid, x.data), x.data)));
      // Awaited on #chain in turn; until then a failure must not count as unhandled.
      persisted.catch(() => undefined);
    }
    this.#applyCommits(r, 0, r.commit.length);
    this.aheadCommits += r.commit.length;
    return { persisted: persisted.then(() => undefined), deferred, holds };
  }

  /** The rest of a batch #runAhead started, in order: after its and every earlier batch's persist. */
  async #finishRunAhead(r: Ready, ahead: { persisted: Promise<void>; deferred: ZabMsgTo[]; holds: bigint[] }): Promise<void> {
    try {
      await ahead.persisted;
    } finally {
      for (const to of ahead.holds) {
        const n = this.#sendsHeld.get(to)! - 1;
        if (n === 0) this.#sendsHeld.delete(to);
        else this.#sendsHeld.set(to, n);
      }
    }
    if (this.#stopped) return;
    for (const o of ahead.deferred) this.#send(o.to, o.msg);
    for (const o of r.sendAfterPersist) this.#send(o.to, o.msg);
    for (const d of r.delivered) this.#onDelivered(d.from, d.msg);
    this.peer.advance(r);
  }

  async #process(r: Ready): Promise<void> {
    if (this.#stopped) return;
    const peer = this.peer;
    const hold = this.#hold;
    if (hold?.match(r) === true) {
      this.#hold = undefined;
      hold.onHeld(r);
      await hold.gate;
      if (this.#stopped) return;
    }
    for (const o of r.sendNow) this.#send(o.to, o.msg);
    // Commits of txns that earlier batches already made durable need not wait for this
    // batch's persist (an epoch, a truncation or an image come before anything after them).
    const early = commitsBeforePersist(r);
    this.#applyCommits(r, 0, early);
    await this.#persist(r);
    this.#applyCommits(r, early, r.commit.length);
    this.#followConfig();
    for (const o of r.sendAfterPersist) this.#send(o.to, o.msg);
    for (const d of r.delivered) this.#onDelivered(d.from, d.msg);
    if (r.state !== undefined) this.#onStateChange(r.state);
    peer.advance(r);
  }

  #send(to: bigint, msg: ZabMsg): void {
    if (msg.type === "SNAP") this.#streamImage(to, msg.zxid);
    else this.#transport?.send(to, msg);
  }

  // ---- SNAP: the image streamed (storage/image.ts has the format and why it is exact) ----

  /**
   * Leader: streams the tree to `to` as SNAP, SNAPCHUNK*, SNAPEND. The image starts where
   * the tree is now: at the zxid ZAB chose, or past it when later commits of this same
   * batch were applied first; it is cut from the live tree a chunk per turn while this
   * member keeps serving, and ends at Z1 (SNAPEND), where the learner's replay of the txns
   * applied meanwhile leaves it. What ZAB sends the learner after SNAP (the proposals
   * after Z, NEWLEADER, broadcast) the transport keeps behind SNAPEND; the learner skips
   * the proposals the image already holds.
   */
  #streamImage(to: bigint, zxid: bigint): void {
    const transport = this.#transport;
    if (transport === undefined) return;
    const tree = this.server.tree;
    assert(tree.lastProcessedZxid >= zxid, `SNAP at ${hex64(zxid)} but the tree is only at ${hex64(tree.lastProcessedZxid)}`);
    if (!this.#imageTapped) {
      // Every txn the tree applies while an image is being cut goes into that image's tail.
      this.#imageTapped = true;
      this.server.pipeline.subscribe((entry, _result, effects) => {
        for (const e of this.#imagesOut.keys()) e.noteApplied(entry, effects);
      });
    }
    const enc = new ImageEncoder(tree, this.server.sessions.all());
    this.#imagesOut.set(enc, to);
    const startedMs = this.server.clock.monotonicMs();
    let state: "header" | "chunks" | "done" = "header";
    transport.stream(to, {
      next: () => {
        if (state === "header") {
          state = "chunks";
          return { type: "SNAP", zxid: enc.zxid };
        }
        if (state === "done") return undefined;
        if (!this.#imagesOut.has(enc)) return undefined; // cancelled: its connection is being dropped
        const chunk = enc.next();
        if (chunk !== undefined) return { type: "SNAPCHUNK", data: chunk };
        state = "done";
        this.#imagesOut.delete(enc);
        const z1 = enc.lastZxid!;
        this.log.info(
          { peer: to.toString(), zxid: hex64(enc.zxid), lastZxid: hex64(z1), nodes: enc.nodeRecords, chunks: enc.chunks, bytes: enc.bytes, ms: Math.round(this.server.clock.monotonicMs() - startedMs) },
          "SNAP image streamed",
        );
        return { type: "SNAPEND", zxid: z1 };
      },
      abort: () => {
        this.#imagesOut.delete(enc);
        this.log.info({ peer: to.toString(), zxid: hex64(enc.zxid), chunks: enc.chunks }, "SNAP image stream cut short: the learner's connection went");
      },
    });
  }

  /**
   * Learner: decodes an image stream as it arrives into a fresh tree (the live one is
   * untouched until ZAB's batch installs it); false for a message ZAB is not to see.
   * A stream cut short (the connection goes, a new SNAP) is dropped; a chunk that does not
   * decode drops the connection, and the learner syncs again.
   */
  #receiveImage(from: bigint, msg: ZabMsg): boolean {
    switch (msg.type) {
      case "SNAP":
        this.#imageIn = { from, decoder: new ImageDecoder(msg.zxid), startedMs: this.server.clock.monotonicMs() };
        return true;
      case "SNAPCHUNK":
      case "SNAPEND": {
        const into = this.#imageIn;
        if (into === undefined || into.from !== from) return msg.type === "SNAPCHUNK"; // ZAB drops a stray end
        try {
          if (msg.type === "SNAPCHUNK") {
            into.decoder.push(msg.data);
            return true;
          }
          this.#imageIn = undefined;
          this.#imageReady = into.decoder.finish(msg.zxid);
          this.log.info(
            { leader: from.toString(), zxid: hex64(msg.zxid), nodes: this.#imageReady.nodeRecords, bytes: this.#imageReady.bytes, ms: Math.round(this.server.clock.monotonicMs() - into.startedMs) },
            "SNAP image received",
          );
          return true;
        } catch (e) {
          this.#imageIn = undefined;
          this.log.warn({ leader: from.toString(), err: (e as Error).message }, "SNAP image does not decode; dropping the connection to the leader");
          this.#transport?.drop(from);
          return false;
        }
      }
      default:
        return true;
    }
  }

  /**
   * Ends every image this member is cutting, dropping those learners' connections (they
   * sync again): its tree is about to be cut back (TRUNC) or replaced (SNAP), which no
   * image in progress may see — its walk and its txn tail describe the tree as it was.
   */
  #cancelImagesOut(): void {
    for (const [enc, to] of this.#imagesOut) {
      this.#imagesOut.delete(enc);
      this.log.warn({ peer: to.toString(), zxid: hex64(enc.zxid) }, "SNAP image stream cancelled: this member's tree is being replaced; the learner syncs again");
      this.#transport?.drop(to);
    }
  }

  async #persist(r: Ready): Promise<void> {
    const p = r.persist;
    if (p.snapshot !== undefined || p.truncateTo !== undefined) this.#cancelImagesOut();
    // The configuration committed in this batch is recorded before any txn after it is logged.
    await this.#recordCommittedConfig(r);
    if (p.acceptedEpoch !== undefined || p.currentEpoch !== undefined) await this.#writeEpochs(p.acceptedEpoch, p.currentEpoch);
    if (p.snapshot !== undefined) await this.#installImage(p.snapshot.zxid);
    if (p.truncateTo !== undefined) await this.#truncate(p.truncateTo);
    const storage = this.#storage;
    if (storage !== undefined && p.append.length > 0) {
      // A proposal's data is the txn as the log encodes it: logged as it came.
      await Promise.all(p.append.map((x) => storage.append(this.#entryOf(x.zxid, x.data), x.data)));
    }
  }

  #applyCommits(r: Ready, from: number, to: number): void {
    const pipeline = this.server.pipeline;
    for (let i = from; i < to; i++) {
      const c = r.commit[i]!;
      const resolve = this.#pendingCommits.get(c.zxid);
      if (resolve !== undefined) {
        // Our own proposal: apply it now, before anything else in this batch (a state
        // change must not find it still waiting), then settle its promise.
        this.#pendingCommits.delete(c.zxid);
        this.#logged.delete(c.zxid);
        pipeline.commitThrough(c.zxid);
        resolve();
        continue;
      }
      if (c.zxid > this.server.tree.lastProcessedZxid) pipeline.applyRemote(this.#entryOf(c.zxid, c.data));
      this.#logged.delete(c.zxid);
    }
  }

  /** A learner's PING answer: the sessions it heard from; ours are touched, not "heard". */
  #touchReported(from: bigint, report: Uint8Array): void {
    if (report.length === 0) return;
    const sessions = this.server.sessions;
    const now = this.server.clock.monotonicMs();
    try {
      const r = new JuteReader(Buffer.from(report.buffer, report.byteOffset, report.byteLength));
      const n = r.count(8);
      for (let i = 0; i < n; i++) sessions.touch(asSessionId(r.long()), now, false);
    } catch (e) {
      this.log.warn({ from: from.toString(), err: (e as Error).message }, "bad session report in a PING dropped");
    }
  }

  /**
   * The global sessions heard from since the last report, as a PING answer (int count,
   * longs). Local sessions (localSessionsEnabled) are this server's to expire: not listed.
   */
  #heardReport(): Uint8Array {
    const pipeline = this.server.pipeline;
    const w = this.#reportWriter;
    w.reset();
    w.int(0);
    let n = 0;
    this.server.sessions.drainHeard((id) => {
      if (pipeline.isLocalSession(id)) return;
      w.long(id);
      n++;
    });
    w.intAt(0, n);
    return w.toBuffer();
  }

  readonly #reportWriter = new JuteWriter(1024);

  #entryOf(zxid: bigint, data: Uint8Array): TxnEntry {
    let entry = this.#logged.get(zxid);
    if (entry === undefined) {
      entry = decodeTxnEntry(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      this.#logged.set(zxid, entry);
    }
    return entry;
  }

  #onDelivered(from: bigint, msg: ZabMsg): void {
    const peer = this.peer;
    // As the driver last set up the pipeline (this batch's own state change comes after):
    // a leader that has not served yet has no zxid base to prepare forwarded writes with.
    const leading = this.#role.state === PeerState.LEADING;
    if (msg.type === "REQUEST" && leading) {
      // Not serving yet, there is no zxid base to prepare with. Learners forward only after
      // UPTODATE, which follows the batch that makes this leader serve: a stale request.
      if (!this.#role.serving) return;
      let f: Forwarded;
      try {
        f = decodeForward(msg.data);
      } catch (e) {
        this.log.warn({ from: from.toString(), err: (e as Error).message }, "bad forwarded request dropped");
        return;
      }
      this.server.pipeline.submitForwarded(f);
    } else if (msg.type === "PING" && leading) {
      this.#touchReported(from, msg.sessions);
    } else if (msg.type === "PING") {
      // Tell the leader which sessions this server heard from since the last ping.
      peer.sendToLeader({ type: "PING", sessions: this.#heardReport() });
      this.#schedulePump();
    }
  }

  // ---- dynamic reconfiguration -----------------------------------------------------------

  /**
   * The tree's /zookeeper/config, parsed, if it changed since the last call. Compared by
   * value (the node's bytes as a string): a node's `data` is a new Buffer on every read,
   * so comparing those by identity saw a change after every batch, and the first batch
   * after a restart adopted a reconfig replayed from the log but never committed as the
   * configuration in force (driver simulator seed 26049: the member then advertised it in
   * its votes and the election never ended).
   */
  #treeConfigIfChanged(): DynamicConfig | undefined {
    const data = this.server.tree.get(CONFIG_NODE)?.dataLatin1 ?? null;
    if (data === this.#configData) return undefined;
    this.#configData = data;
    const parsed = parseDynamicConfig(data === null ? "" : Buffer.from(data, "latin1").toString("utf8"));
    if (!parsed.ok) {
      // Only reconfig writes the node, with text prep produced: this cannot happen.
      this.log.error({ problem: parsed.problem }, "unreadable /zookeeper/config; keeping the configuration in force");
      return undefined;
    }
    return parsed.value;
  }

  /** `c` is the configuration in force here from now on. */
  #useConfig(c: DynamicConfig): void {
    this.#members = c.servers;
    this.#configVersion = c.version;
    this.log.info({ version: hex64(c.version), servers: c.servers.map((s) => `${s.id}:${s.role}`).join(",") }, "configuration changed");
    this.#transport?.addPeers(quorumPeers(c.servers, this.me.id));
  }

  /**
   * After a batch: the configuration the peer put in force (a committed reconfig, or a
   * pending one its sync settled), then one the tree now holds that the peer did not see
   * committed txn by txn (a SNAP image, a TRUNC rebuild), which the peer adopts.
   */
  #followConfig(): void {
    const committed = this.#committedSpec;
    this.#committedSpec = undefined;
    if (committed !== undefined && committed.version !== this.#configVersion) this.#useConfig(committed);
    const inTree = this.#treeConfigIfChanged();
    if (inTree === undefined || inTree.version === this.#configVersion) return;
    this.#useConfig(inTree);
    this.peer.adoptConfig(
      inTree.servers.map((s) => ({ id: s.id, role: s.role })),
      inTree.version,
    );
  }

  /** The leader's prep asks this what a reconfig request makes of the configuration. */
  readonly #planner: ReconfigPlanner = {
    plan: (req, zxid) => {
      const peer = this.peer;
      const plan = planReconfig(req, zxid, {
        servers: this.#members,
        version: this.#configVersion,
        // A reconfig ZAB committed whose txn this driver has not applied yet is still in progress.
        pending: peer.reconfigPending || peer.configVersion !== this.#configVersion,
        standaloneEnabled: this.config.standaloneEnabled,
        isQuorumSynced: (voters) => peer.isQuorumSynced(voters),
      });
      if (!plan.ok) {
        this.log.info({ err: plan.err, reason: plan.reason }, "reconfig refused");
        return plan;
      }
      this.log.info({ zxid: hex64(zxid), servers: plan.servers.map((s) => `${s.id}:${s.role}`).join(",") }, "reconfig proposed");
      return { ok: true, data: plan.data };
    },
  };

  #onStateChange(s: RoleView): void {
    const pipeline = this.server.pipeline;
    const was = this.#role;
    this.#role = { ...s };
    this.log.info({ state: s.state, leader: s.leader?.toString(), serving: s.serving, epoch: s.epoch }, "zab state");
    const sameTerm = was.state === s.state && was.leader === s.leader && was.epoch === s.epoch;
    // A new term always passes through a batch that does not serve: a peer serves again
    // only after acks that leave in sendAfterPersist of the batch that stopped it serving.
    assert(!was.serving || !s.serving || sameTerm, `served ${was.state} in epoch ${was.epoch}, now ${s.state} in epoch ${s.epoch} with no batch between`);
    if (was.serving && s.serving) return; // nothing the pipeline acts on changed
    if (!s.serving) {
      this.#abandonTerm();
      const wasReadOnly = pipeline.readOnly;
      pipeline.setReadOnly(this.config.readOnlyModeEnabled);
      if (!wasReadOnly) this.server.listener.dropConnections("server is not serving: an election is under way");
      return;
    }
    if (pipeline.readOnly) {
      // Back in the quorum: read-only clients reconnect, as read-write ones now can.
      pipeline.setReadOnly(false);
      this.server.listener.dropConnections("server rejoined the quorum; reconnect read-write");
    }
    // A new term: waiters filed under the old one may be stale (txns truncated, a new
    // leader's history): the engine starts again from the tree.
    this.server.rebuildRecipes("the ensemble changed leaders: re-send recipe waits");
    if (s.state === PeerState.LEADING) {
      pipeline.setForwarder(undefined);
      pipeline.resetZxid(zxidOf(s.epoch, 0));
      // Sessions get a fresh timeout under a new leader, as they do after a restart.
      for (const session of [...this.server.sessions.all()]) pipeline.touchSession(session.id);
      return;
    }
    pipeline.setForwarder((f) => {
      if (this.#peer?.sendToLeader({ type: "REQUEST", data: encodeForward(f) }) === true) this.#schedulePump();
    });
  }

  /**
   * Not serving (or serving in another term): nothing may be prepared here and nothing
   * can reach a leader; txns in flight are no longer this term's to apply (the next
   * leader commits or truncates them, and sync tells this member which).
   */
  #abandonTerm(): void {
    const pipeline = this.server.pipeline;
    pipeline.setForwarder(() => undefined);
    pipeline.abandonOutstanding();
    this.#pendingCommits.clear();
    this.#logged.clear();
  }

  /** SNAP: the learner's tree and sessions become the leader's image, received whole. */
  async #installImage(zxid: bigint): Promise<void> {
    const image = this.#imageReady;
    assert(image !== undefined && image.zxid === zxid, `SNAP to ${hex64(zxid)} but the image received is at ${image === undefined ? "none" : hex64(image.zxid)}`);
    this.#imageReady = undefined;
    this.#syncsBySnapshot++;
    this.#logged.clear();
    installImage(this.server.tree, image);
    const sessions = image.sessions;
    // As ZooKeeper's learner logs "Getting a snapshot from leader": an operator (and the
    // fault suite) can tell a SNAP sync from a DIFF.
    this.log.info({ zxid: hex64(zxid), nodes: this.server.tree.nodeCount, sessions: sessions.length, bytes: image.bytes }, "synced by SNAP: the tree is the leader's image");
    const table = this.server.sessions;
    for (const s of [...table.all()]) table.remove(s.id);
    for (const s of sessions) table.add(asSessionId(s.id), s.timeoutMs, this.server.clock.monotonicMs());
    this.server.pipeline.resetZxid(zxid);
    this.server.rebuildRecipes("the tree was replaced by the leader's image (SNAP): re-send recipe waits");
    await this.#storage?.resetTo(zxid);
  }

  /** TRUNC: drop logged txns the quorum never committed. */
  async #truncate(zxid: bigint): Promise<void> {
    for (const z of [...this.#logged.keys()]) if (z > zxid) this.#logged.delete(z);
    const tree = this.server.tree;
    const recovered = await this.#storage?.truncateAfter(zxid, tree);
    if (recovered !== undefined) {
      // The tree was rebuilt from disk: so is the session table.
      const table = this.server.sessions;
      for (const s of [...table.all()]) table.remove(s.id);
      for (const [id, timeoutMs] of recovered.sessions) table.add(id, timeoutMs, this.server.clock.monotonicMs());
      this.#seedStaticConfig();
    }
    assert(tree.lastProcessedZxid <= zxid, `TRUNC to ${hex64(zxid)} left the tree at ${hex64(tree.lastProcessedZxid)}`);
    this.server.rebuildRecipes("the tree was cut back (TRUNC): re-send recipe waits");
  }

  async #readEpochs(): Promise<{ acceptedEpoch: number; currentEpoch: number }> {
    const dir = this.config.dataDir;
    if (dir === undefined) return { acceptedEpoch: 0, currentEpoch: 0 };
    return readEpochs(this.#seams.disk ?? nodeDisk, dir);
  }

  /** Epoch files are replaced atomically (src/storage/epochs.ts), as ZooKeeper does. */
  async #writeEpochs(accepted: number | undefined, current: number | undefined): Promise<void> {
    const dir = this.config.dataDir;
    if (dir === undefined) return;
    await writeEpochs(this.#seams.disk ?? nodeDisk, dir, {
      ...(accepted === undefined ? {} : { acceptedEpoch: accepted }),
      ...(current === undefined ? {} : { currentEpoch: current }),
    });
  }
}

/**
 * Session passwords must verify on every member, and keep verifying across reconfigs
 * (a session may move to a server that joined later), so the key cannot come from the
 * member list. ZooKeeper derives passwords from the session id and a fixed constant
 * (ZooKeeperServer.superSecret); Corral likewise uses one fixed key for ensembles. The
 * password is a check against clients that mix up sessions, not a secret from peers.
 */
const ENSEMBLE_SESSION_SECRET = createHash("sha256").update("corral-ensemble-session-v2").digest();

/** The quorum addresses of `servers` but `myId`, one per id (the last wins). */
function quorumPeers(servers: readonly ServerSpec[], myId: bigint): { id: bigint; host: string; port: number }[] {
  const byId = new Map<bigint, { id: bigint; host: string; port: number }>();
  for (const s of servers) if (s.id !== myId) byId.set(s.id, { id: s.id, host: s.host, port: s.quorumPort });
  return [...byId.values()];
}

/**
 * Recovery's last txns as ZAB's in-memory history: only a run that ends at `last` and
 * has no gap (the tree may have been rebuilt from a snapshot past the log's end).
 */
function recentProposals(entries: readonly TxnEntry[], last: bigint): Proposal[] {
  const tail = entries[entries.length - 1];
  if (tail === undefined || tail.hdr.zxid !== last) return [];
  return entries.map((e) => ({ zxid: e.hdr.zxid, data: encodeTxnEntry(e) }));
}
