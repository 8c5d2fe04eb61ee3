// A deterministic simulation of a ZAB ensemble (STYLE.md, after TigerBeetle's VOPR): the
// real ZabPeer state machines, wired by a seeded simulated network of FIFO channels
// (TCP-like: a broken channel loses what was in flight and tells both ends; while faults
// are injected a message is now and then delivered twice, as a resend would), simulated
// disks whose writes become durable only after a delay (a crash loses what was not yet
// durable), and random client writes. Events pop by (time, sequence), so one seed always
// replays the same run. Invariants are checked after every event.
//
// This is the peer-level simulator: its driver is a model of src/server/quorum.ts, not
// the real one (driver-sim.ts runs that). It stays because it runs ~12x more seeds in
// the same CI time and models fsync latency in simulated time, which FakeDisk does not.

import { SeededPrng } from "../../src/util/index.js";
import { ZabPeer, commitsBeforePersist, type PeerConfig, type PersistedState, type Proposal, type Ready, type ZabMsg } from "../../src/zab/index.js";

export interface SimOptions {
  seed: number;
  voters: number;
  observers: number;
  /** Steps of the fault phase; then everything heals and the liveness phase runs. */
  faultSteps: number;
  livenessBudget: number;
}

interface Disk {
  acceptedEpoch: number;
  currentEpoch: number;
  log: Proposal[];
}

interface Node {
  id: bigint;
  peer: ZabPeer | undefined;
  disk: Disk;
  /** The tree, as the sequence of applied txns. */
  applied: Proposal[];
  /** Ready batches waiting to be persisted, in order. */
  busy: boolean;
  generation: number;
  /** The driver's SNAP receiver: the image streaming in, and a complete one for the persist. */
  imageIn?: { from: bigint; data?: Uint8Array } | undefined;
  imageReady?: { zxid: bigint; data: Uint8Array } | undefined;
}

type Event =
  | { at: number; seq: number; kind: "deliver"; from: bigint; to: bigint; msg: ZabMsg; channel: number }
  | { at: number; seq: number; kind: "tick" }
  | { at: number; seq: number; kind: "persisted"; node: bigint; generation: number; ready: Ready; early: number }
  | { at: number; seq: number; kind: "write" }
  | { at: number; seq: number; kind: "fault" };

/** An event before it gets its sequence number (Omit distributed over the union). */
type NewEvent = Event extends infer E ? (E extends Event ? Omit<E, "seq"> : never) : never;

export class SimFailure extends Error {}

/** During the fault phase, one message in this many is delivered twice. */
const DUPLICATE_ONE_IN = 40;

export class ZabSim {
  readonly opts: SimOptions;
  readonly rng: SeededPrng;
  readonly nodes = new Map<bigint, Node>();
  readonly #events: Event[] = [];
  #seq = 0;
  now = 0;
  /** Channel generation per ordered pair: bumping it breaks the channel. */
  readonly #channels = new Map<string, number>();
  /** Last delivery time per channel, to keep FIFO. */
  readonly #channelTail = new Map<string, number>();
  /** Messages delivered twice so far. */
  duplicates = 0;
  /** Commits applied before their batch's persist (their txns were already durable). */
  earlyCommits = 0;
  readonly #partitioned = new Set<string>();
  /** Writes acknowledged to clients: zxid -> payload. */
  readonly acked = new Map<bigint, string>();
  readonly leadersByEpoch = new Map<number, bigint>();
  #writeCounter = 0;
  steps = 0;
  readonly log: string[] = [];
  trace = false;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.rng = new SeededPrng(opts.seed);
    const servers = [
      ...Array.from({ length: opts.voters }, (_, i) => ({ id: BigInt(i + 1), role: "participant" as const })),
      ...Array.from({ length: opts.observers }, (_, i) => ({ id: BigInt(opts.voters + i + 1), role: "observer" as const })),
    ];
    this.servers = servers;
    for (const s of servers) {
      const node: Node = { id: s.id, peer: undefined, disk: { acceptedEpoch: 0, currentEpoch: 0, log: [] }, applied: [], busy: false, generation: 0 };
      this.nodes.set(s.id, node);
      this.#start(node);
    }
    this.#push({ at: 1, kind: "tick" });
    this.#push({ at: 3, kind: "write" });
    this.#push({ at: 5, kind: "fault" });
  }

  readonly servers: { id: bigint; role: "participant" | "observer" }[];

  get quorum(): number {
    return Math.floor(this.opts.voters / 2) + 1;
  }

  #config(id: bigint): PeerConfig {
    return { myId: id, servers: this.servers, initLimitTicks: 10, syncLimitTicks: 5, finalizeTicks: 1, committedLogMax: 8 };
  }

  #start(node: Node): void {
    node.generation++;
    node.busy = false;
    node.imageIn = undefined;
    node.imageReady = undefined;
    // On start a server replays its whole log, as ZooKeeper does; TRUNC cuts it back.
    node.applied = [...node.disk.log];
    const last = node.disk.log.at(-1)?.zxid ?? 0n;
    const persisted: PersistedState = {
      acceptedEpoch: node.disk.acceptedEpoch,
      currentEpoch: node.disk.currentEpoch,
      lastZxid: last,
      lastCommitted: last,
      recent: node.disk.log.slice(-8),
    };
    node.peer = new ZabPeer(this.#config(node.id), persisted);
    this.#pump(node);
  }

  #push(e: NewEvent): void {
    const ev = { ...e, seq: this.#seq++ } as Event;
    // binary insert by (at, seq)
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

  #key(a: bigint, b: bigint): string {
    return `${a}>${b}`;
  }

  #pairKey(a: bigint, b: bigint): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  #send(from: bigint, to: bigint, msg: ZabMsg): void {
    if (this.#partitioned.has(this.#pairKey(from, to))) return;
    const k = this.#key(from, to);
    const channel = this.#channels.get(k) ?? 0;
    const at = Math.max(this.now + 1 + this.rng.nextInt(3), this.#channelTail.get(k) ?? 0);
    this.#channelTail.set(k, at);
    this.#push({ at, kind: "deliver", from, to, msg, channel });
    // While faults are injected, now and then a message arrives twice (as if resent).
    if (this.#writesOn && this.rng.nextInt(DUPLICATE_ONE_IN) === 0) {
      this.duplicates++;
      this.#push({ at, kind: "deliver", from, to, msg, channel });
    }
  }

  /** Breaks the channel between a and b: in-flight messages are lost, both ends told. */
  #break(a: bigint, b: bigint): void {
    for (const k of [this.#key(a, b), this.#key(b, a)]) this.#channels.set(k, (this.#channels.get(k) ?? 0) + 1);
    // A stream cut short is dropped by the driver, as the server's is on onDown.
    if (this.nodes.get(a)!.imageIn?.from === b) this.nodes.get(a)!.imageIn = undefined;
    if (this.nodes.get(b)!.imageIn?.from === a) this.nodes.get(b)!.imageIn = undefined;
    this.nodes.get(a)!.peer?.disconnected(b);
    this.nodes.get(b)!.peer?.disconnected(a);
    this.#pump(this.nodes.get(a)!);
    this.#pump(this.nodes.get(b)!);
  }

  /** Takes the node's ready batches: sends now, then persists after a delay. */
  #pump(node: Node): void {
    const peer = node.peer;
    if (peer === undefined || node.busy) return;
    const r = peer.ready();
    if (r === undefined) return;
    if (r.state !== undefined && this.trace) this.log.push(`t=${this.now} ${node.id} ${r.state.state}${r.state.serving ? "*" : ""} leader=${r.state.leader} e=${r.state.epoch}`);
    for (const o of r.sendNow) for (const m of this.#fill(node, o.msg)) this.#send(node.id, o.to, m);
    // The driver answers the leader's pings (a real server adds its sessions' touches).
    for (const d of r.delivered) if (d.msg.type === "PING" && peer.state !== "LEADING") peer.sendToLeader({ type: "PING", sessions: new Uint8Array(0) });
    // As the server's driver does: commits of txns earlier batches made durable are
    // applied at once; the rest wait for this batch's persist.
    const early = commitsBeforePersist(r);
    const durable = node.disk.log.at(-1)?.zxid ?? 0n;
    for (const c of r.commit.slice(0, early)) {
      if (c.zxid > durable) throw new SimFailure(`node ${node.id} applies ${c.zxid} before it is durable (log ends at ${durable})`);
    }
    this.#apply(node, r.commit.slice(0, early));
    this.earlyCommits += early;
    node.busy = true;
    this.#push({ at: this.now + 1 + this.rng.nextInt(2), kind: "persisted", node: node.id, generation: node.generation, ready: r, early });
  }

  #apply(node: Node, commits: readonly Proposal[]): void {
    for (const c of commits) {
      const last = node.applied.at(-1)?.zxid ?? 0n;
      if (c.zxid <= last) continue; // already applied by the start-up replay
      node.applied.push(c);
      const payload = new TextDecoder().decode(c.data);
      if (node.peer?.state === "LEADING" && payload.startsWith("w")) this.acked.set(c.zxid, payload);
    }
  }

  /** The driver's job for SNAP: the leader's tree at that zxid, streamed (one chunk here) and ended. */
  #fill(node: Node, msg: ZabMsg): ZabMsg[] {
    if (msg.type !== "SNAP") return [msg];
    const upTo = node.applied.filter((p) => p.zxid <= msg.zxid);
    if (upTo.at(-1)?.zxid !== msg.zxid && msg.zxid !== 0n) throw new SimFailure(`SNAP at ${msg.zxid} but tree is at ${node.applied.at(-1)?.zxid}`);
    const data = new TextEncoder().encode(JSON.stringify(upTo.map((p) => [p.zxid.toString(), new TextDecoder().decode(p.data)])));
    return [msg, { type: "SNAPCHUNK", data }, { type: "SNAPEND", zxid: msg.zxid }];
  }

  /** The driver's SNAP receiver (QuorumServer#receiveImage): false for a message ZAB is not to see. */
  #receiveImage(node: Node, from: bigint, msg: ZabMsg): boolean {
    if (msg.type === "SNAP") node.imageIn = { from };
    else if (msg.type === "SNAPCHUNK" && node.imageIn?.from === from) node.imageIn.data = msg.data;
    else if (msg.type === "SNAPEND") {
      const into = node.imageIn;
      node.imageIn = undefined;
      if (into?.from !== from || into.data === undefined) return false;
      node.imageReady = { zxid: msg.zxid, data: into.data };
    }
    return true;
  }

  #persisted(node: Node, r: Ready, early: number): void {
    const d = node.disk;
    const p = r.persist;
    if (p.acceptedEpoch !== undefined) d.acceptedEpoch = p.acceptedEpoch;
    if (p.currentEpoch !== undefined) d.currentEpoch = p.currentEpoch;
    if (p.snapshot !== undefined) {
      const image = node.imageReady;
      if (image?.zxid !== p.snapshot.zxid) throw new SimFailure(`node ${node.id} installs SNAP ${p.snapshot.zxid} but its image is at ${image?.zxid}`);
      node.imageReady = undefined;
      const entries = JSON.parse(new TextDecoder().decode(image.data)) as [string, string][];
      d.log = entries.map(([z, v]) => ({ zxid: BigInt(z), data: new TextEncoder().encode(v) }));
      node.applied = [...d.log];
    }
    if (this.trace && (p.snapshot !== undefined || p.truncateTo !== undefined || p.append.length > 0)) {
      this.log.push(`t=${this.now} ${node.id} persist snap=${p.snapshot?.zxid} trunc=${p.truncateTo} append=${p.append.map((x) => x.zxid).join(",")} commit=${r.commit.map((x) => x.zxid).join(",")}`);
    }
    if (p.truncateTo !== undefined) {
      const t = p.truncateTo;
      d.log = d.log.filter((x) => x.zxid <= t);
      node.applied = node.applied.filter((x) => x.zxid <= t);
    }
    for (const x of p.append) {
      const last = d.log.at(-1)?.zxid ?? 0n;
      if (x.zxid <= last) throw new SimFailure(`node ${node.id} logs ${x.zxid} after ${last}`);
      d.log.push(x);
    }
    this.#apply(node, r.commit.slice(early));
    for (const o of r.sendAfterPersist) for (const m of this.#fill(node, o.msg)) this.#send(node.id, o.to, m);
    if (r.state !== undefined && r.state.state === "LEADING" && r.state.serving) {
      const had = this.leadersByEpoch.get(r.state.epoch);
      if (had !== undefined && had !== node.id) throw new SimFailure(`two leaders in epoch ${r.state.epoch}: ${had} and ${node.id}`);
      this.leadersByEpoch.set(r.state.epoch, node.id);
    }
    node.peer!.advance(r);
    node.busy = false;
    this.#pump(node);
  }

  #crash(node: Node): void {
    this.log.push(`t=${this.now} crash ${node.id}`);
    node.peer = undefined;
    node.generation++;
    for (const other of this.nodes.values()) if (other.id !== node.id) this.#break(node.id, other.id);
  }

  #fault(): void {
    const ids = [...this.nodes.keys()];
    const pick = (): Node => this.nodes.get(ids[this.rng.nextInt(ids.length)]!)!;
    const r = this.rng.nextInt(10);
    if (r < 3) {
      const n = pick();
      if (n.peer !== undefined) this.#crash(n);
      else {
        this.log.push(`t=${this.now} restart ${n.id}`);
        this.#start(n);
      }
    } else if (r < 5) {
      const a = pick();
      const b = pick();
      if (a.id !== b.id) {
        this.log.push(`t=${this.now} partition ${a.id}|${b.id}`);
        this.#partitioned.add(this.#pairKey(a.id, b.id));
        this.#break(a.id, b.id);
      }
    } else if (r < 7) {
      if (this.#partitioned.size > 0) {
        this.log.push(`t=${this.now} heal`);
        this.#partitioned.clear();
      }
    } else if (r < 8) {
      const a = pick();
      const b = pick();
      if (a.id !== b.id) this.#break(a.id, b.id);
    }
  }

  /** Client writes flow during the fault phase; after healing only the final probe write. */
  #writesOn = true;

  #write(): void {
    if (!this.#writesOn) return;
    for (const n of this.nodes.values()) {
      const p = n.peer;
      if (p?.state === "LEADING" && p.serving) {
        const payload = `w${this.#writeCounter++}`;
        p.propose(() => new TextEncoder().encode(payload));
        this.#pump(n);
        return;
      }
    }
  }

  #healAll(): void {
    this.#partitioned.clear();
    for (const n of this.nodes.values()) if (n.peer === undefined) this.#start(n);
  }

  step(): boolean {
    const e = this.#events.shift();
    if (e === undefined) return false;
    this.now = e.at;
    this.steps++;
    switch (e.kind) {
      case "deliver": {
        const to = this.nodes.get(e.to)!;
        if (to.peer === undefined || (this.#channels.get(this.#key(e.from, e.to)) ?? 0) !== e.channel) break;
        if (this.nodes.get(e.from)!.peer === undefined) break;
        if (this.trace && e.msg.type !== "PING" && e.msg.type !== "NOTIFICATION" && e.msg.type !== "PROPOSAL" && e.msg.type !== "ACK" && e.msg.type !== "COMMIT") this.log.push(`t=${this.now} ${e.from}->${e.to} ${e.msg.type} ${"zxid" in e.msg ? e.msg.zxid : ""}`);
        if (!this.#receiveImage(to, e.from, e.msg)) break;
        to.peer.step(e.from, e.msg);
        this.#pump(to);
        break;
      }
      case "tick":
        for (const n of this.nodes.values()) {
          n.peer?.tick();
          this.#pump(n);
        }
        this.#push({ at: this.now + 4, kind: "tick" });
        break;
      case "persisted": {
        const n = this.nodes.get(e.node)!;
        if (n.generation === e.generation && n.peer !== undefined) this.#persisted(n, e.ready, e.early);
        break;
      }
      case "write":
        this.#write();
        this.#push({ at: this.now + 1 + this.rng.nextInt(4), kind: "write" });
        break;
      case "fault":
        if (this.steps < this.opts.faultSteps) {
          this.#fault();
          this.#push({ at: this.now + 5 + this.rng.nextInt(40), kind: "fault" });
        }
        break;
    }
    this.check(this.steps % 16 === 0);
    return true;
  }

  /** Safety invariants: the cheap ones after every event, all of them every few events. */
  check(full: boolean): void {
    const serving = [...this.nodes.values()].filter((n) => n.peer?.serving === true);
    for (const n of this.nodes.values()) {
      for (let i = 1; i < n.applied.length; i++) {
        if (n.applied[i]!.zxid <= n.applied[i - 1]!.zxid) throw new SimFailure(`node ${n.id} applied out of order`);
      }
    }
    // Serving replicas agree: one's applied history is a prefix of the other's.
    for (const a of serving) {
      for (const b of serving) {
        const len = Math.min(a.applied.length, b.applied.length);
        for (let i = 0; i < len; i++) {
          if (a.applied[i]!.zxid !== b.applied[i]!.zxid) {
            throw new SimFailure(`serving nodes ${a.id} and ${b.id} disagree at index ${i}: ${a.applied[i]!.zxid} vs ${b.applied[i]!.zxid}`);
          }
        }
      }
    }
    if (!full) return;
    // No acknowledged write is lost: it is durable on a quorum of voters, and every
    // serving replica that has reached its zxid has it.
    for (const [zxid, payload] of this.acked) {
      let durable = 0;
      for (const n of this.nodes.values()) {
        if (n.id > BigInt(this.opts.voters)) continue;
        if (n.disk.log.some((p) => p.zxid === zxid)) durable++;
      }
      if (durable < this.quorum) throw new SimFailure(`acked ${payload}@${zxid} durable on ${durable} < ${this.quorum} voters`);
      for (const n of serving) {
        const last = n.applied.at(-1)?.zxid ?? 0n;
        if (last >= zxid && !n.applied.some((p) => p.zxid === zxid && new TextDecoder().decode(p.data) === payload)) {
          throw new SimFailure(`serving node ${n.id} lost acked ${payload}@${zxid}`);
        }
      }
    }
  }

  /** Safety phase with faults, then heal and require convergence within the budget. */
  run(): void {
    while (this.steps < this.opts.faultSteps) if (!this.step()) break;
    this.#healAll();
    this.#writesOn = false;
    this.log.push(`t=${this.now} heal all`);
    const budget = this.steps + this.opts.livenessBudget;
    let probe: { zxid: bigint; leader: Node } | undefined;
    while (this.steps < budget) {
      this.step();
      // A probe proposed by a leader that lost its place may be truncated away: ask again.
      if (probe !== undefined && probe.leader.peer?.state !== "LEADING" && !this.#converged(probe.zxid)) probe = undefined;
      if (probe === undefined) probe = this.#probeWrite();
      else if (this.#converged(probe.zxid)) {
        this.check(true);
        return;
      }
    }
    throw new SimFailure(`no convergence within ${this.opts.livenessBudget} steps: ${this.#describe()}`);
  }

  /** Once every server serves under one leader, one write proves the ensemble makes progress. */
  #probeWrite(): { zxid: bigint; leader: Node } | undefined {
    const nodes = [...this.nodes.values()];
    if (!nodes.every((n) => n.peer?.serving === true)) return undefined;
    // Exactly one leader, which everyone else follows (a deposed one may still think it leads).
    const leaders = nodes.filter((n) => n.peer!.state === "LEADING");
    if (leaders.length !== 1) return undefined;
    const leader = leaders[0]!;
    if (!nodes.every((n) => n === leader || n.peer!.leader === leader.id)) return undefined;
    const zxid = leader.peer!.propose(() => new TextEncoder().encode("probe"));
    if (zxid === undefined) return undefined;
    this.#pump(leader);
    return { zxid, leader };
  }

  /** Every server applied the probe write, and all agree on everything up to it. */
  #converged(probe: bigint): boolean {
    const nodes = [...this.nodes.values()];
    return nodes.every((n) => n.peer?.serving === true && n.applied.some((p) => p.zxid === probe));
  }

  #describe(): string {
    return [...this.nodes.values()]
      .map((n) => `${n.id}:${n.peer?.state ?? "down"}${n.peer?.serving ? "*" : ""}@${n.applied.at(-1)?.zxid ?? 0n}`)
      .join(" ");
  }
}
