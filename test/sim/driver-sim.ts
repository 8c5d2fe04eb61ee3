// A deterministic simulation of a Corral ensemble (STYLE.md, after TigerBeetle's VOPR)
// that runs the production code: each member is a real QuorumServer (its ZabPeer, the
// driver that does its Ready batches, its StandaloneServer, Pipeline, DataTree and
// Storage), wired through the driver's seams to
//  - a seeded network of FIFO channels (TCP-like: a broken channel loses what was in
//    flight and tells both ends; while faults are on, a message is now and then delivered
//    twice, as a resend would; partitions cut pairs off), carrying encoded ZAB frames;
//  - a FakeDisk per member (src/storage/fake-disk.ts): ops settle after seeded event-loop
//    turns, and a crash keeps only what was synced plus a random prefix of the rest;
//  - the simulator's clock and timers: the ZAB ticker, the session tick and the container
//    reaper fire from its event queue, never from setInterval.
// Client writes go in through the pipeline (submitInternal, on any serving member: a
// learner forwards them) and count as acknowledged when their callback runs; reconfigs
// (remove a member, add it back as a participant or observer) are injected by seed.
//
// Determinism: events pop by (time, sequence); after each one the simulator lets the
// event loop run a seeded number of setImmediate turns (FakeDisk ops and the driver's
// promise chains settle in them, in an order fixed by the program), so one seed replays
// one run exactly. Nothing here reads the wall clock or arms a real timer, and no socket
// is opened (the client port is off), so no outside event can slip in between.
//
// Checks after every event, on every member whether serving or not (see `check`).

import { parseConfig, type CorralConfig } from "../../src/config/index.js";
import { CreateMode, OpCode } from "../../src/jute/index.js";
import { JuteReader, JuteWriter } from "../../src/jute/index.js";
import type { OutboundStream, QuorumTransportOptions } from "../../src/net/index.js";
import { QuorumServer, type QuorumLink } from "../../src/server/quorum.js";
import type { Timers } from "../../src/server/standalone.js";
import { FakeDisk, type Disk } from "../../src/storage/index.js";
import { OPEN_ACL_UNSAFE, type DataTree } from "../../src/tree/index.js";
import { encodeTxnEntry } from "../../src/txn/index.js";
import { ManualClock, SeededPrng, asSessionId, hex64, type Logger } from "../../src/util/index.js";
import { decodeZabMsg, encodeZabMsg, type ZabMsg } from "../../src/zab/index.js";

export interface DriverSimOptions {
  seed: number;
  voters: number;
  observers: number;
  /** Simulated milliseconds of the fault phase; then everything heals. */
  faultMs: number;
  /** Simulated milliseconds the healed ensemble has to converge. */
  livenessMs: number;
  /** Inject reconfigs (remove a member, add one back) during the fault phase. */
  reconfigs: boolean;
  /**
   * Client sessions too: now and then a write opens a session (timeout 2-6 ticks, never
   * touched again, so the leader's expiry tick closes it) or creates an ephemeral node
   * owned by one; their closes and ephemerals take part in the final tree comparison.
   */
  sessions?: boolean;
}

export class SimFailure extends Error {}

/** ZooKeeper's tickTime for the simulated members: the ZAB tick is tickTime/20 = 5 ms. */
const TICK_MS = 100;
/** During the fault phase, one message in this many is delivered twice. */
const DUPLICATE_ONE_IN = 40;
/** FakeDisk: an op settles after 0..this many event-loop turns. */
const DISK_DELAY_TURNS_MAX = 2;
/** After each event, 1..this many event-loop turns run before the next one. */
const TURNS_PER_EVENT_MAX = 3;
/** Quiescence: this many turns in a row with no disk op in flight. */
const QUIET_TURNS = 3;
/** A bound on turns spent waiting for quiescence (a stuck promise chain is a failure). */
const QUIESCE_TURNS_MAX = 10_000;
const WRITE_NAME = /^w[0-9]+$/;

type Event =
  | { at: number; seq: number; kind: "deliver"; from: bigint; to: bigint; frame: Buffer; channel: number }
  | { at: number; seq: number; kind: "timer"; node: bigint; gen: number; timer: number }
  | { at: number; seq: number; kind: "write" }
  | { at: number; seq: number; kind: "fault" }
  | { at: number; seq: number; kind: "reconfig" };
type NewEvent = Event extends infer E ? (E extends Event ? Omit<E, "seq"> : never) : never;

/** A Disk that counts operations in flight, so the simulator can tell when the disk is idle. */
/**
 * A livelock bound: runs average about 3 events per simulated ms; a message storm (two
 * members answering each other for ever) runs hundreds, and would take hours to reach
 * the end of the run instead of failing.
 */
const STORM_WINDOW_MS = 100;
const STORM_STEPS_MAX = 10_000;

export class CountingDisk implements Disk {
  inFlight = 0;
  readonly inner: FakeDisk;
  constructor(inner: FakeDisk) {
    this.inner = inner;
  }
  #count<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    return p.finally(() => this.inFlight--);
  }
  mkdirp(dir: string): Promise<void> {
    return this.#count(this.inner.mkdirp(dir));
  }
  list(dir: string): Promise<string[]> {
    return this.#count(this.inner.list(dir));
  }
  async create(path: string, mode?: number): ReturnType<Disk["create"]> {
    return this.#wrap(await this.#count(this.inner.create(path, mode)));
  }
  async openForWrite(path: string): ReturnType<Disk["openForWrite"]> {
    return this.#wrap(await this.#count(this.inner.openForWrite(path)));
  }
  readFile(path: string): Promise<Buffer> {
    return this.#count(this.inner.readFile(path));
  }
  sizeOf(path: string): Promise<number | undefined> {
    return this.#count(this.inner.sizeOf(path));
  }
  rename(from: string, to: string): Promise<void> {
    return this.#count(this.inner.rename(from, to));
  }
  remove(path: string): Promise<void> {
    return this.#count(this.inner.remove(path));
  }
  syncDir(dir: string): Promise<void> {
    return this.#count(this.inner.syncDir(dir));
  }
  #wrap(f: Awaited<ReturnType<Disk["create"]>>): Awaited<ReturnType<Disk["create"]>> {
    return {
      path: f.path,
      write: (data, position) => this.#count(f.write(data, position)),
      sync: () => this.#count(f.sync()),
      truncate: (length) => this.#count(f.truncate(length)),
      close: () => this.#count(f.close()),
    };
  }
}

interface SimNode {
  readonly id: bigint;
  /** server.N's value, as a reconfig's joiningServers names it (role appended). */
  readonly addr: string;
  fake: FakeDisk;
  disk: CountingDisk;
  qs: QuorumServer | undefined;
  link: SimLink | undefined;
  /** Bumped by a crash: the old incarnation's timers and channel ends go dead. */
  gen: number;
  up: boolean;
  timers: Map<number, { ms: number; fn: () => void }>;
  /** The /wN nodes its tree held at the last walk, and the tree's zxid then. */
  seen: Map<string, bigint>;
  seenZxid: bigint;
}

class SimLink implements QuorumLink {
  readonly opts: QuorumTransportOptions;
  readonly #sim: DriverSim;
  readonly #node: SimNode;
  readonly #gen: number;
  dead = false;
  constructor(sim: DriverSim, node: SimNode, opts: QuorumTransportOptions) {
    this.#sim = sim;
    this.#node = node;
    this.#gen = node.gen;
    this.opts = opts;
  }
  async start(): Promise<void> {}
  send(to: bigint, msg: ZabMsg): void {
    if (this.dead || this.#node.gen !== this.#gen) return;
    const w = new JuteWriter(256);
    encodeZabMsg(w, msg);
    this.#sim.send(this.#node.id, to, w.toBuffer());
  }
  /**
   * A SNAP image: produced all at once and sent in order on the channel (its FIFO keeps
   * later messages behind it); a dead link aborts it, as a dropped connection does.
   */
  stream(to: bigint, src: OutboundStream): void {
    if (this.dead || this.#node.gen !== this.#gen) {
      src.abort();
      return;
    }
    for (let msg = src.next(); msg !== undefined; msg = src.next()) this.send(to, msg);
  }
  /** As a destroyed socket: both ends hear of it once the current call is over. */
  drop(peer: bigint): void {
    if (this.dead || this.#node.gen !== this.#gen) return;
    queueMicrotask(() => this.#sim.breakChannel(this.#node.id, peer));
  }
  addPeers(): void {}
  block(): void {}
  unblock(): void {}
  async close(): Promise<void> {
    this.dead = true;
  }
}

export class DriverSim {
  readonly opts: DriverSimOptions;
  readonly rng: SeededPrng;
  readonly clock = new ManualClock();
  readonly nodes = new Map<bigint, SimNode>();
  readonly #events: Event[] = [];
  #seq = 0;
  #timerSeq = 0;
  now = 0;
  steps = 0;
  /** Events run in the current window of STORM_WINDOW_MS (a message storm is a livelock). */
  #windowStart = 0;
  #windowSteps = 0;
  readonly #channels = new Map<string, number>();
  readonly #channelTail = new Map<string, number>();
  readonly #partitioned = new Set<string>();
  #faultsOn = true;
  duplicates = 0;
  crashes = 0;
  reconfigsCommitted = 0;
  snapSyncs = 0;
  /** Commits members applied ahead of their own fsyncs (the driver's run-ahead), crashed incarnations included. */
  #aheadOfGone = 0;
  get aheadCommits(): number {
    let n = this.#aheadOfGone;
    for (const node of this.nodes.values()) n += node.qs?.aheadCommits ?? 0;
    return n;
  }
  readonly trace: string[] = [];
  /** The converged tree (treeDigest) once the run passed. */
  finalDigest = "";

  // ---- the record the checks read -----------------------------------------------------
  /** Every txn any member applied through its pipeline (commits), by zxid: its bytes. */
  readonly committed = new Map<bigint, string>();
  /** /wN created by a committed txn, and at which zxid. */
  readonly committedWrites = new Map<string, bigint>();
  /** Writes acknowledged to their client: name -> zxid. */
  readonly acked = new Map<string, bigint>();
  /** Writes a member held (applied, by commit or by replaying its log) and later lost. */
  readonly truncated: { node: bigint; name: string; zxid: bigint; at: number }[] = [];
  /** Every /wN any member ever held at a zxid (uncommitted replays included). */
  readonly heldAt = new Map<bigint, Set<string>>();
  readonly leadersByEpoch = new Map<number, bigint>();
  readonly failures: string[] = [];
  #writeCounter = 0;
  /** Servers a committed reconfig removed (candidates to add back). */
  readonly #removed = new Set<bigint>();

  constructor(opts: DriverSimOptions) {
    this.opts = opts;
    this.rng = new SeededPrng(opts.seed);
    const n = opts.voters + opts.observers;
    for (let i = 1; i <= n; i++) {
      const id = BigInt(i);
      const fake = new FakeDisk({ prng: new SeededPrng(opts.seed * 31 + i), maxDelayTurns: DISK_DELAY_TURNS_MAX });
      this.nodes.set(id, {
        id,
        addr: `127.0.0.1:${20000 + i}:${21000 + i}`,
        fake,
        disk: new CountingDisk(fake),
        qs: undefined,
        link: undefined,
        gen: 0,
        up: false,
        timers: new Map(),
        seen: new Map(),
        seenZxid: -1n,
      });
    }
  }

  #config(id: bigint): CorralConfig {
    const lines = [...this.nodes.values()].map((s) => {
      const observer = Number(s.id) > this.opts.voters;
      return `server.${s.id}=${s.addr}${observer ? ":observer" : ""};127.0.0.1:${22000 + Number(s.id)}`;
    });
    const text = [
      `tickTime=${TICK_MS}`,
      "initLimit=5",
      "syncLimit=3",
      "snapCount=40",
      // Small preallocation: FakeDisk copies a file's bytes on each write.
      "preAllocSize=16",
      "admin.enableServer=false",
      "skipACL=yes",
      "reconfigEnabled=true",
      "4lw.commands.whitelist=*",
      ...lines,
    ].join("\n");
    const { config } = parseConfig(text, { sourceName: `sim-${id}.cfg` });
    return { ...config, myid: id, dataDir: `/data/${id}`, dataLogDir: `/data/${id}` };
  }

  // ---- event queue ----------------------------------------------------------------------

  #push(e: NewEvent): void {
    const ev = { ...e, seq: this.#seq++ } as Event;
    let lo = 0;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#events[mid]!;
      if (m.at < ev.at || (m.at === ev.at && m.seq < ev.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#events.splice(lo, 0, ev);
  }

  /** The timers a member's QuorumServer gets: fired from the event queue. */
  #timersOf(node: SimNode): Timers {
    const gen = node.gen;
    return {
      every: (ms, fn) => {
        const timer = this.#timerSeq++;
        if (node.gen !== gen) return { cancel: () => {} };
        node.timers.set(timer, { ms, fn });
        this.#push({ at: this.now + ms, kind: "timer", node: node.id, gen, timer });
        return { cancel: () => void node.timers.delete(timer) };
      },
    };
  }

  // ---- network -----------------------------------------------------------------------

  #key(a: bigint, b: bigint): string {
    return `${a}>${b}`;
  }

  #pairKey(a: bigint, b: bigint): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  send(from: bigint, to: bigint, frame: Buffer): void {
    if (!this.nodes.has(to)) return;
    if (this.#partitioned.has(this.#pairKey(from, to))) return;
    const k = this.#key(from, to);
    const channel = this.#channels.get(k) ?? 0;
    const at = Math.max(this.now + 1 + this.rng.nextInt(3), this.#channelTail.get(k) ?? 0);
    this.#channelTail.set(k, at);
    this.#push({ at, kind: "deliver", from, to, frame, channel });
    if (this.#faultsOn && this.rng.nextInt(DUPLICATE_ONE_IN) === 0) {
      this.duplicates++;
      this.#push({ at, kind: "deliver", from, to, frame, channel });
    }
  }

  /** A member dropped its connection to another (QuorumLink.drop). */
  breakChannel(a: bigint, b: bigint): void {
    if (this.nodes.get(a)?.up === true) this.#break(a, b);
  }

  /** Breaks the channel between a and b: in-flight frames are lost, both live ends told. */
  #break(a: bigint, b: bigint): void {
    for (const k of [this.#key(a, b), this.#key(b, a)]) this.#channels.set(k, (this.#channels.get(k) ?? 0) + 1);
    for (const [me, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const n = this.nodes.get(me)!;
      if (n.up) n.link?.opts.onDown(other);
    }
  }

  // ---- members -------------------------------------------------------------------------

  async #start(node: SimNode): Promise<void> {
    const debug = process.env["SIM_DEBUG"] !== undefined;
    const quiet: Logger = quietLogger((obj, msg) => {
      if (msg.startsWith("synced by SNAP")) this.snapSyncs++;
      if (debug && msg !== "zab state") this.trace.push(`t=${this.now} [${node.id}] ${msg} ${JSON.stringify(obj, (_k, v: unknown) => (typeof v === "bigint" ? v.toString(16) : v))}`);
      if (debug && msg === "zab state") this.trace.push(`t=${this.now} [${node.id}] ${JSON.stringify(obj)}`);
    });
    const gen = node.gen;
    const qs = new QuorumServer({
      config: this.#config(node.id),
      log: quiet,
      clock: this.clock,
      disk: node.disk,
      prng: new SeededPrng(this.opts.seed * 7919 + Number(node.id) * 101 + gen),
      listen: false,
      timers: this.#timersOf(node),
      transport: (opts) => {
        const link = new SimLink(this, node, opts);
        node.link = link;
        return link;
      },
    });
    node.qs = qs;
    void qs.failure.then((e) => {
      if (node.qs === qs && node.gen === gen) this.failures.push(`node ${node.id} stopped on a broken invariant: ${e.message}`);
    });
    await qs.start();
    if (node.gen !== gen) return;
    const pipeline = qs.server.pipeline;
    pipeline.subscribe((entry) => this.#onApplied(node, entry));
    node.up = true;
    node.seenZxid = -1n; // walk its recovered tree at the next check
  }

  #crash(node: SimNode): void {
    this.trace.push(`t=${this.now} crash ${node.id}`);
    this.crashes++;
    node.fake.crash();
    node.up = false;
    node.gen++;
    node.timers.clear();
    if (node.link !== undefined) node.link.dead = true;
    this.#aheadOfGone += node.qs?.aheadCommits ?? 0;
    node.qs = undefined;
    for (const other of this.nodes.values()) if (other.id !== node.id) this.#break(node.id, other.id);
  }

  async #restart(node: SimNode): Promise<void> {
    this.trace.push(`t=${this.now} restart ${node.id}`);
    const fake = node.fake.afterCrash(this.rng, { prng: new SeededPrng(this.rng.nextInt(1 << 30)), maxDelayTurns: DISK_DELAY_TURNS_MAX });
    node.fake = fake;
    node.disk = new CountingDisk(fake);
    await this.#start(node);
    const qs = node.qs;
    if (qs !== undefined) this.trace.push(`t=${this.now} node ${node.id} recovered to ${hex64(qs.server.tree.lastProcessedZxid)}`);
    if (process.env["SIM_DEBUG"] !== undefined) this.trace.push(`files: ${[...fake.files()].map(([p, b]) => `${p}:${b.length}`).join(",")}`);
  }

  // ---- client writes and reconfigs -------------------------------------------------------

  #serving(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up && n.qs?.serving === true);
  }

  #leader(): SimNode | undefined {
    return this.#serving().find((n) => n.qs!.mode === "leader");
  }

  #write(): void {
    const serving = this.#serving();
    if (serving.length === 0) return;
    const node = serving[this.rng.nextInt(serving.length)]!;
    if (this.opts.sessions === true && this.#sessionStep(node)) return;
    const name = `w${this.#writeCounter++}`;
    const qs = node.qs!;
    // A session id per member: a learner matches the commit of a write it forwarded by
    // (session, cxid), and internal cxids are per member.
    qs.server.pipeline.submitInternal(
      asSessionId(node.id << 56n),
      OpCode.create,
      { kind: "create", opCode: OpCode.create, path: `/${name}`, data: Buffer.from(name), acl: OPEN_ACL_UNSAFE, flags: 0, ttl: -1n },
      (result) => {
        if (result.err !== 0) return;
        if (result.path !== `/${name}`) this.failures.push(`write ${name} acknowledged by node ${node.id} with the reply of ${result.path}`);
        // Acknowledged: the client hears "created" now, from this member's tree.
        const zxid = qs.server.tree.get(`/${name}`)?.czxid;
        if (zxid === undefined) this.failures.push(`write ${name} acknowledged by node ${node.id} but not in its tree`);
        else this.acked.set(name, zxid);
      },
    );
  }

  /** Sessions opened so far (by the member asked), for ephemeral creates. */
  readonly #sessions: { id: bigint; node: SimNode }[] = [];
  sessionsOpened = 0;
  ephemerals = 0;

  /** Opens a session or creates an ephemeral node; false if this write is a plain one. */
  #sessionStep(node: SimNode): boolean {
    const r = this.rng.nextInt(10);
    const qs = node.qs!;
    if (r === 0) {
      qs.server.pipeline.createSession(TICK_MS * (2 + this.rng.nextInt(5)), (id) => {
        this.sessionsOpened++;
        this.#sessions.push({ id, node });
      });
      return true;
    }
    if (r === 1 && this.#sessions.length > 0) {
      const s = this.#sessions[this.rng.nextInt(this.#sessions.length)]!;
      const owner = s.node.qs;
      if (owner === undefined || !s.node.up || !owner.serving) return true;
      const name = `e${this.#writeCounter++}`;
      owner.server.pipeline.submitInternal(
        asSessionId(s.id),
        OpCode.create,
        { kind: "create", opCode: OpCode.create, path: `/${name}`, data: Buffer.from(name), acl: OPEN_ACL_UNSAFE, flags: CreateMode.Ephemeral, ttl: -1n },
        (result) => {
          if (result.err === 0) this.ephemerals++;
        },
      );
      return true;
    }
    return false;
  }

  /** Removes a member or adds a removed one back (as a participant or an observer). */
  #reconfig(): void {
    const leader = this.#leader();
    if (leader === undefined) return;
    const qs = leader.qs!;
    const members = qs.members;
    let joining = "";
    let leaving = "";
    const back = [...this.#removed].filter((id) => !members.some((m) => m.id === id));
    if (back.length > 0 && this.rng.nextInt(2) === 0) {
      const id = back[this.rng.nextInt(back.length)]!;
      const role = this.rng.nextInt(2) === 0 ? "participant" : "observer";
      joining = `server.${id}=${this.nodes.get(id)!.addr}:${role};127.0.0.1:${22000 + Number(id)}`;
    } else {
      const others = members.filter((m) => m.id !== leader.id);
      if (others.length === 0) return;
      leaving = others[this.rng.nextInt(others.length)]!.id.toString();
    }
    this.trace.push(`t=${this.now} reconfig via ${leader.id}: ${joining !== "" ? `add ${joining}` : `remove ${leaving}`}`);
    qs.server.pipeline.submitInternal(
      asSessionId(0n),
      OpCode.reconfig,
      { kind: "reconfig", joiningServers: joining, leavingServers: leaving, newMembers: "", curConfigId: -1n },
      (result) => {
        if (result.err !== 0) return;
        this.reconfigsCommitted++;
        if (leaving !== "") this.#removed.add(BigInt(leaving));
        this.trace.push(`t=${this.now} reconfig committed: ${joining !== "" ? `add ${joining}` : `remove ${leaving}`}`);
      },
    );
  }

  #onApplied(node: SimNode, entry: Parameters<Parameters<QuorumServer["server"]["pipeline"]["subscribe"]>[0]>[0]): void {
    const zxid = entry.hdr.zxid;
    const bytes = encodeTxnEntry(entry).toString("base64");
    const had = this.committed.get(zxid);
    if (had === undefined) this.committed.set(zxid, bytes);
    else if (had !== bytes) this.failures.push(`node ${node.id} applied a different txn at ${hex64(zxid)} than another member did`);
    const txn = entry.txn;
    if (txn.type === "create" && txn.path.startsWith("/w") && WRITE_NAME.test(txn.path.slice(1))) {
      const name = txn.path.slice(1);
      const at = this.committedWrites.get(name);
      if (at !== undefined && at !== zxid) this.failures.push(`${name} committed at ${hex64(at)} and at ${hex64(zxid)}`);
      this.committedWrites.set(name, zxid);
    }
  }

  // ---- faults ---------------------------------------------------------------------------

  async #fault(): Promise<void> {
    const ids = [...this.nodes.keys()];
    const pick = (): SimNode => this.nodes.get(ids[this.rng.nextInt(ids.length)]!)!;
    const r = this.rng.nextInt(10);
    if (r < 3) {
      const n = pick();
      if (n.up) this.#crash(n);
      else if (n.qs === undefined) await this.#restart(n);
    } else if (r < 5) {
      const a = pick();
      const b = pick();
      if (a.id !== b.id) {
        this.trace.push(`t=${this.now} partition ${a.id}|${b.id}`);
        this.#partitioned.add(this.#pairKey(a.id, b.id));
        this.#break(a.id, b.id);
      }
    } else if (r < 7) {
      if (this.#partitioned.size > 0) {
        this.trace.push(`t=${this.now} heal partitions`);
        this.#partitioned.clear();
      }
    } else if (r < 8) {
      const a = pick();
      const b = pick();
      if (a.id !== b.id) this.#break(a.id, b.id);
    }
  }

  // ---- running ----------------------------------------------------------------------------

  /** Lets the event loop run `turns` setImmediate turns (FakeDisk ops, promise chains). */
  async #turns(turns: number): Promise<void> {
    for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Runs turns until no member's disk has had an op in flight for QUIET_TURNS turns. */
  async quiesce(): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < QUIESCE_TURNS_MAX; i++) {
      await this.#turns(1);
      const busy = [...this.nodes.values()].some((n) => n.up && n.disk.inFlight > 0);
      quiet = busy ? 0 : quiet + 1;
      if (quiet >= QUIET_TURNS) return;
    }
    throw new SimFailure(`the disks never went idle in ${QUIESCE_TURNS_MAX} turns`);
  }

  async step(): Promise<boolean> {
    const e = this.#events.shift();
    if (e === undefined) return false;
    if (e.at > this.now) this.clock.advance(e.at - this.now);
    this.now = e.at;
    this.steps++;
    if (this.now - this.#windowStart >= STORM_WINDOW_MS) {
      this.#windowStart = this.now;
      this.#windowSteps = 0;
    }
    if (++this.#windowSteps > STORM_STEPS_MAX) throw new SimFailure(`livelock: over ${STORM_STEPS_MAX} events in ${STORM_WINDOW_MS} ms from t=${this.#windowStart} (a message storm)`);
    switch (e.kind) {
      case "deliver": {
        const to = this.nodes.get(e.to)!;
        const from = this.nodes.get(e.from)!;
        if (!to.up || !from.up || (this.#channels.get(this.#key(e.from, e.to)) ?? 0) !== e.channel) break;
        const msg = decodeZabMsg(new JuteReader(e.frame));
        if (TRACE_MESSAGES && msg.type !== "PING") this.trace.push(`t=${this.now} ${e.from}->${e.to} ${describeMsg(msg)}`);
        to.link?.opts.onMessage(e.from, msg);
        break;
      }
      case "timer": {
        const n = this.nodes.get(e.node)!;
        const t = n.timers.get(e.timer);
        if (n.gen !== e.gen || t === undefined) break;
        this.#push({ at: this.now + t.ms, kind: "timer", node: n.id, gen: e.gen, timer: e.timer });
        t.fn();
        break;
      }
      case "write":
        if (this.#faultsOn) {
          this.#write();
          this.#push({ at: this.now + 2 + this.rng.nextInt(8), kind: "write" });
        }
        break;
      case "fault":
        if (this.#faultsOn) {
          await this.#fault();
          this.#push({ at: this.now + 20 + this.rng.nextInt(150), kind: "fault" });
        }
        break;
      case "reconfig":
        if (this.#faultsOn) {
          this.#reconfig();
          this.#push({ at: this.now + 100 + this.rng.nextInt(400), kind: "reconfig" });
        }
        break;
    }
    await this.#turns(1 + this.rng.nextInt(TURNS_PER_EVENT_MAX));
    this.check();
    return true;
  }

  /**
   * Safety, on every member (serving or not), after every event:
   *  - no member's driver stopped on a broken invariant;
   *  - no two members committed different txns at one zxid (`committed`, from every
   *    pipeline's apply stream);
   *  - at most one established (serving) leader per epoch;
   *  - a write a member held and then lost (TRUNC, SNAP, a restart) is recorded in
   *    `truncated`, and must never have been acknowledged or committed;
   *  - a serving member whose tree is past an acknowledged write's zxid holds that write.
   */
  check(): void {
    if (this.failures.length > 0) throw new SimFailure(this.failures.join("; "));
    for (const n of this.nodes.values()) {
      const qs = n.qs;
      if (!n.up || qs === undefined) continue;
      if (qs.mode === "leader" && qs.serving) {
        const had = this.leadersByEpoch.get(qs.epoch);
        if (had !== undefined && had !== n.id) throw new SimFailure(`two leaders in epoch ${qs.epoch}: ${had} and ${n.id}`);
        this.leadersByEpoch.set(qs.epoch, n.id);
      }
      // TRUNC rebuilds the tree from disk (reset, then recovery's reads): a member with
      // disk ops in flight may be mid-rebuild, so it is walked once its disk is idle.
      const tree = qs.server.tree;
      // The log may hold appends it has not written yet (a batch is taken once the event
      // loop's turn is over): a txn applied ahead of its own append being durable (a
      // follower applies commits without waiting for its fsync) is the member's only once
      // durable, so it is walked once the log is idle too.
      if (tree.lastProcessedZxid !== n.seenZxid && n.disk.inFlight === 0 && qs.server.storage?.logIdle !== false) this.#walk(n, tree, qs.serving);
    }
  }

  #walk(n: SimNode, tree: DataTree, serving: boolean): void {
    const now = new Map<string, bigint>();
    for (const name of tree.get("/")!.children ?? []) {
      if (!WRITE_NAME.test(name)) continue;
      const zxid = tree.get(`/${name}`)!.czxid;
      now.set(name, zxid);
      let held = this.heldAt.get(zxid);
      if (held === undefined) this.heldAt.set(zxid, (held = new Set()));
      held.add(name);
      const c = this.committedWrites.get(name);
      if (c !== undefined && c !== zxid) throw new SimFailure(`node ${n.id} holds ${name} at ${hex64(zxid)}, committed at ${hex64(c)}`);
    }
    for (const [name, zxid] of n.seen) {
      if (now.get(name) === zxid) continue;
      this.truncated.push({ node: n.id, name, zxid, at: this.now });
      this.trace.push(`t=${this.now} node ${n.id} lost ${name}@${hex64(zxid)}`);
      if (this.acked.has(name)) throw new SimFailure(`node ${n.id} lost acknowledged write ${name}@${hex64(zxid)}`);
      if (this.committedWrites.has(name)) throw new SimFailure(`node ${n.id} lost committed write ${name}@${hex64(zxid)}`);
    }
    n.seen = now;
    n.seenZxid = tree.lastProcessedZxid;
    if (!serving) return;
    for (const [name, zxid] of this.acked) {
      if (zxid <= tree.lastProcessedZxid && now.get(name) !== zxid) {
        throw new SimFailure(`serving node ${n.id} at ${hex64(tree.lastProcessedZxid)} lacks acknowledged write ${name}@${hex64(zxid)}`);
      }
    }
  }

  /** Safety phase with faults, then heal and require convergence within the budget. */
  async run(): Promise<void> {
    for (const n of this.nodes.values()) await this.#start(n);
    this.#push({ at: this.now + 1, kind: "write" });
    this.#push({ at: this.now + 5, kind: "fault" });
    if (this.opts.reconfigs) this.#push({ at: this.now + 50 + this.rng.nextInt(200), kind: "reconfig" });
    while (this.now < this.opts.faultMs) if (!(await this.step())) break;
    this.#faultsOn = false;
    this.#partitioned.clear();
    this.trace.push(`t=${this.now} heal all`);
    for (const n of this.nodes.values()) if (!n.up) await this.#restart(n);
    const deadline = this.now + this.opts.livenessMs;
    let probe: { name: string; leader: SimNode } | undefined;
    while (this.now < deadline) {
      await this.step();
      if (probe !== undefined && probe.leader.qs?.mode !== "leader") probe = undefined;
      if (probe === undefined) {
        probe = this.#probeWrite();
      } else if (this.#converged(probe.name)) {
        // Txns committed after the probe (writes still in flight at the heal) may not have
        // reached every member yet: compare once all are at the leader's zxid, disks idle.
        await this.quiesce();
        this.check();
        if (!this.#caughtUp()) continue;
        this.#checkFinal();
        return;
      }
    }
    throw new SimFailure(`no convergence within ${this.opts.livenessMs} ms: ${this.describe()}`);
  }

  /** The members of the leader's configuration, once all serve under it: it takes one write. */
  #probeWrite(): { name: string; leader: SimNode } | undefined {
    const leader = this.#leader();
    if (leader === undefined) return undefined;
    const members = leader.qs!.members.map((m) => this.nodes.get(m.id)!);
    if (!members.every((n) => n.up && n.qs!.serving && (n === leader || n.qs!.server.leaderId === leader.id))) return undefined;
    const name = `w${this.#writeCounter++}`;
    let done = false;
    leader.qs!.server.pipeline.submitInternal(
      asSessionId(0n),
      OpCode.create,
      { kind: "create", opCode: OpCode.create, path: `/${name}`, data: Buffer.from("probe"), acl: OPEN_ACL_UNSAFE, flags: 0, ttl: -1n },
      (result) => {
        done = result.err === 0;
        if (done) this.acked.set(name, leader.qs!.server.tree.get(`/${name}`)!.czxid);
      },
    );
    return { name, leader };
  }

  /** Every member of the leader's configuration serves and holds the probe. */
  #converged(probe: string): boolean {
    const leader = this.#leader();
    if (leader === undefined) return false;
    return leader.qs!.members.every((m) => {
      const n = this.nodes.get(m.id)!;
      return n.up && n.qs!.serving && n.qs!.server.tree.get(`/${probe}`) !== undefined;
    });
  }

  /** Every member of the leader's configuration is at the leader's zxid. */
  #caughtUp(): boolean {
    const leader = this.#leader();
    if (leader === undefined) return false;
    const at = leader.qs!.server.tree.lastProcessedZxid;
    return leader.qs!.members.every((m) => this.nodes.get(m.id)!.qs?.server.tree.lastProcessedZxid === at);
  }

  /**
   * After healing: every member of the final configuration holds the same tree (every
   * node, every field) with every acknowledged write at its zxid; of the writes members
   * ever held at one zxid, at most one was not lost again.
   */
  #checkFinal(): void {
    const leader = this.#leader()!;
    const members = leader.qs!.members.map((m) => this.nodes.get(m.id)!);
    const digests = members.map((n) => ({ id: n.id, digest: treeDigest(n.qs!.server.tree) }));
    this.finalDigest = digests[0]!.digest;
    for (const d of digests) {
      if (d.digest !== digests[0]!.digest) {
        throw new SimFailure(`trees differ after healing: node ${digests[0]!.id} and node ${d.id}\n${firstDifference(digests[0]!.digest, d.digest)}`);
      }
    }
    for (const n of members) {
      const tree = n.qs!.server.tree;
      for (const [name, zxid] of this.acked) {
        if (tree.get(`/${name}`)?.czxid !== zxid) throw new SimFailure(`node ${n.id} lost acknowledged write ${name}@${hex64(zxid)} after healing`);
      }
    }
    const lost = new Set(this.truncated.map((t) => `${t.name}@${t.zxid}`));
    for (const [zxid, names] of this.heldAt) {
      const kept = [...names].filter((name) => !lost.has(`${name}@${zxid}`) || this.committedWrites.get(name) === zxid);
      if (kept.length > 1) throw new SimFailure(`members held different writes at ${hex64(zxid)}: ${kept.join(", ")}`);
    }
  }

  describe(): string {
    return [...this.nodes.values()]
      .map((n) => {
        const qs = n.qs;
        if (!n.up || qs === undefined) return `${n.id}:down`;
        const p = qs.peer;
        return `${n.id}:${qs.mode}${qs.serving ? "*" : ""}e${qs.epoch}@${hex64(qs.server.tree.lastProcessedZxid)} (peer ${p.state} e${p.epoch} cfg ${p.members().map((m) => `${m.id}${m.role[0]}`).join("")} v${hex64(p.configVersion)}, disk ops ${n.disk.inFlight})`;
      })
      .join(" ");
  }
}

const TRACE_MESSAGES = process.env["SIM_DEBUG"] === "messages";

/** A ZAB message in one short line (its type and zxids/epochs, no payloads). */
export function describeMsg(msg: ZabMsg): string {
  const fields = Object.entries(msg)
    .filter(([k, v]) => k !== "type" && !(v instanceof Uint8Array))
    .map(([k, v]) => `${k}=${typeof v === "bigint" ? hex64(v) : typeof v === "object" ? JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? hex64(x) : x)) : String(v)}`);
  return [msg.type, ...fields].join(" ");
}

/** Every node of the tree, every field but the children sets, in path order. */
export function treeDigest(tree: DataTree): string {
  const lines: string[] = [];
  for (const [path, n] of tree.nodes()) {
    lines.push(
      `${path} ${n.data?.toString("hex") ?? "-"} c=${n.czxid} m=${n.mzxid} p=${n.pzxid} v=${n.version} cv=${n.cversion} av=${n.aversion} eo=${n.ephemeralOwner} ct=${n.ctimeMs} mt=${n.mtimeMs}`,
    );
  }
  return lines.sort().join("\n");
}

function firstDifference(a: string, b: string): string {
  const la = a.split("\n");
  const lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) if (la[i] !== lb[i]) return `  ${la[i] ?? "(none)"}\n  ${lb[i] ?? "(none)"}`;
  return "";
}

/** A logger that drops everything but tells `onInfo` each info message. */
export function quietLogger(onInfo: (obj: unknown, msg: string) => void): Logger {
  const tell = (o: unknown, msg?: string): void => {
    if (typeof o === "string") onInfo({}, o);
    else if (typeof msg === "string") onInfo(o, msg);
  };
  const l: Logger = {
    debug: () => {},
    info: tell,
    warn: tell,
    error: tell,
    child: () => l,
  } as unknown as Logger;
  return l;
}
