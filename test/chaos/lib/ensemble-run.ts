/**
 * One ZAB-level fault run (issue 14): a seed and an ensemble size (3 or 5) in, checked
 * properties out. Real `corral server start-foreground` processes, each with its own data
 * dir, whose quorum links pass through fault proxies (quorum-net.ts).
 *
 * 1. Start the ensemble and the writers: Corral clients and node-zookeeper-client clients,
 *    connected straight to the members' client ports. Each writer creates unique znodes
 *    under /zab (data = the path) and, every third call, sets its own register
 *    /zab-reg/<writer> to a unique value; every call and its outcome is recorded.
 * 2. "faults": the seeded injector (ZabFaults, below) kills -9 and restarts members (same
 *    data dir), SIGSTOPs and continues them, and partitions them from the others (cut or
 *    black hole), aiming at the leader or at a follower; with 5 members, two faults may
 *    overlap. A monitor polls every member's `srvr` and currentEpoch file meanwhile.
 * 3. "healed": every fault undone, every member up, one leader; writes go on for a while.
 * 4. "stopped": the writers stop; every call must settle within the liveness bound.
 * 5. Every member is read directly (sync, then a walk of the whole tree outside
 *    /zookeeper), and the checkers (ensemble-checkers.ts) run: acknowledged creates present
 *    on every member, registers holding an allowed value, identical trees, one leader per
 *    epoch, calls settled, no member exited by itself.
 *
 * The seed fixes every choice (fault kinds, victims, durations, pauses) but not the timing
 * of real processes: a replay re-creates the run, not always the same interleaving.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zookeeper from "node-zookeeper-client";
import { connect, type CorralClient } from "../../../src/client/index.js";
import { SeededPrng } from "../../../src/util/clock.js";
import { checkLiveness } from "./checkers.js";
import { ProcCluster, sleep, type Member } from "./cluster.js";
import {
  checkCreates,
  checkDivergence,
  checkLeaders,
  checkRegisters,
  type EnsembleProperty,
  type EnsembleViolation,
  type LeaderSighting,
  type MemberTree,
  type NodeView,
  type Outcome,
} from "./ensemble-checkers.js";
import { History, errName } from "./history.js";
import type { LinkFault } from "./quorum-net.js";
import { fourLetterWord } from "../../helpers/net.js";

export const ZAB_PATHS = { creates: "/zab", registers: "/zab-reg" } as const;

export interface EnsembleRunOptions {
  seed: number;
  members: 3 | 5;
  /** Length of the fault phase. */
  faultMs?: number;
  /** Writes go on this long after healing. */
  recoveryMs?: number;
  sessionTimeoutMs?: number;
  tickTimeMs?: number;
  syncLimitTicks?: number;
  corralWriters?: number;
  nzkWriters?: number;
  /** Fault kinds left out (see KINDS), for narrowing a replay. */
  excludeFaults?: readonly string[];
  /**
   * Faults that may be under way at once (default: 1 with 3 members, 2 with 5, so a quorum
   * can always form); more takes the quorum away at times, which safety must survive too.
   */
  lanes?: number;
}

export interface EnsembleRunResult {
  seed: number;
  members: number;
  violations: EnsembleViolation[];
  byProperty: Partial<Record<EnsembleProperty, number>>;
  /** Harness trouble (the cluster would not settle, ...): the run proves less. */
  errors: string[];
  stats: Record<string, number>;
  faults: Record<string, number>;
  durationMs: number;
  /** Where the record of a failing run was written. */
  recordFile: string | undefined;
}

export const ENSEMBLE_RUN_DEFAULTS = {
  faultMs: 10_000,
  recoveryMs: 1_500,
  sessionTimeoutMs: 2_000,
  tickTimeMs: 100,
  syncLimitTicks: 5,
} as const;

/** The command that replays one seed, printed with every failure. */
export function ensembleReplayCommand(seed: number, members: number, o: { lanes?: number | undefined; exclude?: readonly string[]; faultMs?: number | undefined } = {}): string {
  const env = (prefix: string): string =>
    (o.lanes === undefined ? "" : `${prefix}_LANES=${o.lanes} `) +
    (o.faultMs === undefined ? "" : `${prefix}_FAULT_MS=${o.faultMs} `) +
    (o.exclude === undefined || o.exclude.length === 0 ? "" : `${prefix}_EXCLUDE=${o.exclude.join(",")} `);
  return `${env("CHAOS")}CHAOS_SEEDS=${seed} CHAOS_MEMBERS=${members} npx vitest run --project main test/chaos/ensemble-faults.test.ts   # or: ${env("SOAK")}SOAK_FROM=${seed} SOAK_SEEDS=1 SOAK_MEMBERS=${members} npm run soak:ensemble`;
}

/** Bounds whatever the timing. */
const WRITER_CALLS_MAX = 200_000;
const FAULTS_PER_LANE_MAX = 500;
const MONITOR_POLLS_MAX = 100_000;
const WALK_NODES_MAX = 1_000_000;
const WALK_BATCH = 256;

export async function runEnsembleFaults(o: EnsembleRunOptions): Promise<EnsembleRunResult> {
  const faultMs = o.faultMs ?? ENSEMBLE_RUN_DEFAULTS.faultMs;
  const recoveryMs = o.recoveryMs ?? ENSEMBLE_RUN_DEFAULTS.recoveryMs;
  const sessionTimeoutMs = o.sessionTimeoutMs ?? ENSEMBLE_RUN_DEFAULTS.sessionTimeoutMs;
  const tickTimeMs = o.tickTimeMs ?? ENSEMBLE_RUN_DEFAULTS.tickTimeMs;
  const syncLimitTicks = o.syncLimitTicks ?? ENSEMBLE_RUN_DEFAULTS.syncLimitTicks;
  const livenessBoundMs = 2 * sessionTimeoutMs;
  const t0 = performance.now();
  const errors: string[] = [];

  const cluster = await ProcCluster.start({ members: o.members, tickTimeMs, syncLimitTicks, proxiedQuorum: true });
  const h = new History();
  const log = new WriteLog();
  const monitor = new LeaderMonitor(cluster, h);
  const lanes = o.lanes ?? (o.members >= 5 ? 2 : 1);
  const faults = new ZabFaults(cluster, h, o.seed, { tickTimeMs, syncLimitTicks, lanes, exclude: o.excludeFaults ?? [] });
  const writers: Writer[] = [];
  let recordFile: string | undefined;
  try {
    const admin = await connect(cluster.directConnectString, { sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
    const corralN = o.corralWriters ?? (o.members === 5 ? 3 : 2);
    const nzkN = o.nzkWriters ?? (o.members === 5 ? 2 : 1);
    const names = [...Array.from({ length: corralN }, (_, i) => `c${i + 1}`), ...Array.from({ length: nzkN }, (_, i) => `z${i + 1}`)];
    await admin.create(ZAB_PATHS.creates);
    await admin.create(ZAB_PATHS.registers);
    for (const n of names) await admin.create(`${ZAB_PATHS.registers}/${n}`, "");
    await admin.close();

    const wopts = { connectString: cluster.directConnectString, sessionTimeoutMs, h, log };
    for (const n of names) writers.push(n.startsWith("c") ? new CorralWriter(n, wopts) : new NzkWriter(n, wopts));
    const loops = Promise.allSettled(writers.map((w) => w.run()));
    const portToMember = Object.fromEntries(cluster.members.map((m) => [m.clientPort, m.id]));
    const watching = monitor.run();

    h.record({ k: "phase", phase: "faults" });
    await faults.run(performance.now() + faultMs);
    try {
      await faults.heal();
    } catch (e) {
      errors.push(`heal: ${message(e)}`);
    }
    h.record({ k: "phase", phase: "healed" });
    await sleep(recoveryMs);
    h.record({ k: "phase", phase: "stopped" });
    for (const w of writers) w.stop();
    await Promise.race([loops, sleep(livenessBoundMs + 1_000)]);
    monitor.stop();
    await watching;
    h.record({ k: "phase", phase: "end" });
    // A call still in flight: what every member says of its connections, for the record.
    const cons: Record<number, string> = {};
    if (h.events.some((e) => e.k === "call-start") && checkLiveness(h.events, livenessBoundMs).length > 0) {
      for (const m of cluster.members) cons[m.id] = await fourLetterWord("127.0.0.1", m.clientPort, "cons", 2_000).catch((e: unknown) => message(e));
    }
    await Promise.race([Promise.allSettled(writers.map((w) => w.close())), sleep(3_000)]);

    const trees: MemberTree[] = [];
    for (const m of cluster.members) {
      try {
        trees.push({ member: m.id, nodes: await readTree(m, sessionTimeoutMs) });
      } catch (e) {
        errors.push(`reading member ${m.id}: ${message(e)}`);
      }
    }
    const violations: EnsembleViolation[] = [
      ...checkCreates(trees, ZAB_PATHS.creates, log.creates),
      ...checkRegisters(trees, log.registers),
      ...checkDivergence(trees),
      ...checkLeaders(monitor.sightings),
      ...checkLiveness(h.events, livenessBoundMs).map((v) => ({ property: "liveness" as const, detail: v.detail })),
      ...cluster.crashes.map((c) => ({ property: "crash" as const, detail: c })),
    ];
    errors.push(...faults.errors);
    // Without sightings the one-leader-per-epoch check proves nothing (srvr's format or the
    // epoch file moved): the run says so rather than pass.
    if (monitor.sightings.length === 0) errors.push("the leader monitor never saw a serving leader with its currentEpoch file");
    const byProperty: Partial<Record<EnsembleProperty, number>> = {};
    for (const v of violations) byProperty[v.property] = (byProperty[v.property] ?? 0) + 1;
    if (violations.length > 0 || errors.length > 0) {
      const dir = await mkdtemp(join(tmpdir(), "corral-zab-faults-"));
      recordFile = join(dir, `seed-${o.seed}-n${o.members}.json`);
      const inFlight = liveCalls(h);
      const record = {
        seed: o.seed,
        members: o.members,
        violations,
        errors,
        sightings: monitor.sightings,
        clientPorts: portToMember,
        cons,
        events: h.events.filter((e) => e.k === "fault" || e.k === "phase" || e.k === "conn" || (e.k === "call-start" && inFlight.has(e.id))),
      };
      await writeFile(recordFile, JSON.stringify(record, null, 1));
    }
    return {
      seed: o.seed,
      members: o.members,
      violations,
      byProperty,
      errors,
      stats: { ...log.stats(), leaderEpochs: new Set(monitor.sightings.map((s) => s.epoch)).size, nodes: trees[0]?.nodes.size ?? 0 },
      faults: { ...faults.counts },
      durationMs: Math.round(performance.now() - t0),
      recordFile,
    };
  } finally {
    monitor.stop();
    faults.dispose();
    for (const w of writers) w.stop();
    await Promise.race([Promise.allSettled(writers.map((w) => w.close())), sleep(3_000)]);
    await cluster.stop();
  }
}

/** One line per run, for logs and the soak's output. */
export function describeEnsembleResult(r: EnsembleRunResult): string {
  const v = r.violations.length === 0 ? "ok" : `VIOLATIONS ${JSON.stringify(r.byProperty)}`;
  const e = r.errors.length === 0 ? "" : ` harness-errors=${r.errors.length}`;
  const s = r.stats;
  return `seed=${r.seed} members=${r.members} ${v}${e} ${r.durationMs}ms creates=${s["createsOk"]}/${s["creates"]} sets=${s["setsOk"]}/${s["sets"]} nodes=${s["nodes"]} epochs=${s["leaderEpochs"]} faults=${JSON.stringify(r.faults)}`;
}

/** Ids of the calls that never ended. */
function liveCalls(h: History): Set<number> {
  const ids = new Set<number>();
  for (const e of h.events) {
    if (e.k === "call-start") ids.add(e.id);
    else if (e.k === "call-end") ids.delete(e.id);
  }
  return ids;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Every write the writers issued, with its outcome as the client reported it. */
class WriteLog {
  readonly creates = new Map<string, { data: string; outcome: Outcome }>();
  readonly registers = new Map<string, { value: string; outcome: Outcome }[]>();

  create(path: string, data: string): { outcome: Outcome } {
    const w = { data, outcome: "pending" as Outcome };
    this.creates.set(path, w);
    return w;
  }

  set(path: string, value: string): { outcome: Outcome } {
    const w = { value, outcome: "pending" as Outcome };
    let list = this.registers.get(path);
    if (list === undefined) this.registers.set(path, (list = []));
    list.push(w);
    return w;
  }

  stats(): Record<string, number> {
    const sets = [...this.registers.values()].flat();
    const count = (xs: { outcome: Outcome }[], o: Outcome): number => xs.filter((x) => x.outcome === o).length;
    const creates = [...this.creates.values()];
    return { creates: creates.length, createsOk: count(creates, "ok"), sets: sets.length, setsOk: count(sets, "ok"), pending: count(creates, "pending") + count(sets, "pending") };
  }
}

interface WriterOptions {
  connectString: string;
  sessionTimeoutMs: number;
  h: History;
  log: WriteLog;
}

/** A client that writes until stopped: creates of unique znodes, and its own register. */
abstract class Writer {
  readonly name: string;
  protected readonly o: WriterOptions;
  #running = true;

  constructor(name: string, o: WriterOptions) {
    this.name = name;
    this.o = o;
  }

  stop(): void {
    this.#running = false;
  }

  async run(): Promise<void> {
    for (let n = 0; this.#running && n < WRITER_CALLS_MAX; n++) {
      try {
        await this.ensureClient();
      } catch {
        await sleep(100);
        continue;
      }
      const register = n % 3 === 2;
      const path = register ? `${ZAB_PATHS.registers}/${this.name}` : `${ZAB_PATHS.creates}/${this.name}-${n}`;
      const value = register ? `${this.name}:${n}` : path;
      const w = register ? this.o.log.set(path, value) : this.o.log.create(path, value);
      try {
        await this.o.h.call(this.name, register ? "setData" : "create", false, () => (register ? this.setData(path, value) : this.create(path, value)));
        w.outcome = "ok";
      } catch (e) {
        w.outcome = "failed";
        this.onError(e);
        await sleep(20); // no tight loop while no member serves
      }
    }
  }

  protected abstract ensureClient(): Promise<void>;
  protected abstract create(path: string, data: string): Promise<void>;
  protected abstract setData(path: string, data: string): Promise<void>;
  protected abstract onError(e: unknown): void;
  abstract close(): Promise<void>;
}

const CORRAL_FINAL = new Set(["EXPIRED", "CLOSED", "AUTH_FAILED"]);

class CorralWriter extends Writer {
  #c: CorralClient | undefined;

  protected async ensureClient(): Promise<void> {
    if (this.#c !== undefined && !CORRAL_FINAL.has(this.#c.state)) return;
    const old = this.#c;
    this.#c = undefined;
    void old?.close().catch(() => undefined);
    const { connectString, sessionTimeoutMs } = this.o;
    this.#c = await this.o.h.call(this.name, "connect", false, () => connect(connectString, { sessionTimeoutMs, connectTimeoutMs: sessionTimeoutMs }));
  }

  protected async create(path: string, data: string): Promise<void> {
    await this.#c!.create(path, data);
  }

  protected async setData(path: string, data: string): Promise<void> {
    await this.#c!.setData(path, data);
  }

  protected onError(): void {}

  async close(): Promise<void> {
    await this.#c?.close();
  }
}

/**
 * node-zookeeper-client holds a request made while disconnected in a queue it sends from
 * only once connected; when the reconnect finds the session expired, that queue is never
 * sent nor failed, and the request's callback never runs (lib/ConnectionManager.js). Such
 * a request never reached a server, so the writer fails it itself on EXPIRED (outcome
 * unknown to the checkers all the same), rather than count a library hang as a server one.
 */
class NzkWriter extends Writer {
  #c: zookeeper.Client | undefined;
  #dead = false;
  /** Rejects the call in flight (see the class comment). */
  #failInFlight: ((e: Error) => void) | undefined;

  protected async ensureClient(): Promise<void> {
    if (this.#c !== undefined && !this.#dead) return;
    this.#c?.close();
    this.#c = undefined;
    const c = zookeeper.createClient(this.o.connectString, { sessionTimeout: this.o.sessionTimeoutMs, spinDelay: 20 });
    this.#dead = false;
    c.on("state", (s: { name?: string }) => {
      if (s.name === "EXPIRED" || s.name === "AUTH_FAILED") {
        this.#dead = true;
        this.#failInFlight?.(new Error(`${s.name}: the client dropped the request`));
      }
      // Which member the client is on (for a call that never settles): the library's socket.
      const port = (c as unknown as { connectionManager?: { socket?: { remotePort?: number } } }).connectionManager?.socket?.remotePort;
      this.o.h.record({ k: "conn", client: this.name, session: `0x${c.getSessionId().toString("hex")}`, state: `${s.name ?? "?"} port=${port ?? "-"}` });
    });
    this.#c = c;
    await this.o.h.call(this.name, "connect", false, async () => {
      const connected = new Promise<void>((resolve) => c.once("connected", () => resolve()));
      c.connect();
      const timedOut = Symbol("timeout");
      if ((await Promise.race([connected, sleep(this.o.sessionTimeoutMs).then(() => timedOut)])) === timedOut) {
        this.#dead = true;
        throw new Error("connect timed out");
      }
    });
  }

  protected create(path: string, data: string): Promise<void> {
    return this.#call((done) => this.#c!.create(path, Buffer.from(data), done));
  }

  protected setData(path: string, data: string): Promise<void> {
    return this.#call((done) => this.#c!.setData(path, Buffer.from(data), -1, done));
  }

  #call(issue: (done: (e: Error | null) => void) => void): Promise<void> {
    if (this.#dead) return Promise.reject(new Error("EXPIRED: the client's session is gone"));
    return new Promise<void>((resolve, reject) => {
      this.#failInFlight = reject;
      issue((e) => (e === null ? resolve() : reject(e)));
    }).finally(() => {
      this.#failInFlight = undefined;
    });
  }

  protected onError(e: unknown): void {
    if (/EXPIRED/i.test(errName(e))) this.#dead = true;
  }

  async close(): Promise<void> {
    this.#c?.close();
    this.#c = undefined;
  }
}

/**
 * Polls every running member: a member serving as leader (srvr answers only when serving)
 * is recorded with its currentEpoch, read before and after the srvr (a sighting whose two
 * reads differ is dropped: the member changed role in between).
 */
class LeaderMonitor {
  readonly sightings: LeaderSighting[] = [];
  readonly #cluster: ProcCluster;
  readonly #h: History;
  #running = true;

  constructor(cluster: ProcCluster, h: History) {
    this.#cluster = cluster;
    this.#h = h;
  }

  stop(): void {
    this.#running = false;
  }

  async run(): Promise<void> {
    for (let i = 0; this.#running && i < MONITOR_POLLS_MAX; i++) {
      await Promise.all(this.#cluster.members.map((m) => this.#poll(m)));
      await sleep(100);
    }
  }

  async #poll(m: Member): Promise<void> {
    const before = await this.#cluster.currentEpoch(m);
    const mode = await this.#cluster.modeOf(m);
    if (mode !== "leader") return;
    const after = await this.#cluster.currentEpoch(m);
    if (before === undefined || before !== after) return;
    const last = this.sightings.findLast((s) => s.member === m.id);
    if (last?.epoch === before) return; // one sighting per (member, epoch) run is enough
    this.sightings.push({ t: this.#h.now(), member: m.id, epoch: before });
  }
}

/** Reads member `m`'s whole tree (outside /zookeeper) straight from it, after a sync. */
async function readTree(m: Member, sessionTimeoutMs: number): Promise<Map<string, NodeView>> {
  const c = await connect(`127.0.0.1:${m.clientPort}`, { sessionTimeoutMs, connectTimeoutMs: 10_000 });
  try {
    await c.sync("/");
    const nodes = new Map<string, NodeView>();
    let level = ["/"];
    while (level.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += WALK_BATCH) {
        await Promise.all(
          level.slice(i, i + WALK_BATCH).map(async (path) => {
            const [{ data, stat }, children] = await Promise.all([c.getData(path), c.getChildren(path)]);
            nodes.set(path, { data: data?.toString("utf8") ?? "", czxid: String(stat.czxid), mzxid: String(stat.mzxid), version: stat.version });
            for (const child of children) {
              const p = path === "/" ? `/${child}` : `${path}/${child}`;
              if (p !== "/zookeeper") next.push(p);
            }
          }),
        );
      }
      if (nodes.size + next.length > WALK_NODES_MAX) throw new Error(`member ${m.id}: more than ${WALK_NODES_MAX} nodes`);
      level = next;
    }
    return nodes;
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** The ZAB-level fault kinds, with their weights. */
const KINDS = {
  "kill-leader": 2,
  "kill-follower": 2,
  "pause-leader": 2,
  "pause-follower": 1,
  "cut-leader": 2,
  "cut-follower": 2,
  "blackhole-leader": 2,
  "blackhole-follower": 2,
} as const satisfies Record<string, number>;
type Kind = keyof typeof KINDS;

export interface FaultDraw {
  /** Pause before the fault. */
  gapMs: number;
  kind: Kind;
  /** Picks the victim among the candidates at the time. */
  victimDraw: number;
  /** 0..1: where the fault's duration falls in its kind's range. */
  frac: number;
}

/**
 * The endless stream of one lane's fault draws: a function of (seed, lane, exclusions)
 * only, whatever the run's timing, so a seed replays the same choices. Every draw is made
 * whether or not its fault can be applied then.
 */
export function* faultDraws(seed: number, lane: number, exclude: readonly string[]): Generator<FaultDraw, never> {
  const prng = new SeededPrng((seed * 2654435761 + lane * 40503) >>> 0);
  const kinds = (Object.keys(KINDS) as Kind[]).filter((k) => !exclude.includes(k));
  if (kinds.length === 0) throw new Error("every fault kind is excluded");
  const total = kinds.reduce((s, k) => s + KINDS[k], 0);
  for (;;) {
    const gapMs = 200 + prng.nextInt(800);
    let r = prng.nextInt(total);
    const kind = kinds.find((k) => (r -= KINDS[k]) < 0) ?? kinds[0]!;
    const victimDraw = prng.nextInt(1_000_000);
    const frac = prng.nextInt(1_000_000) / 1_000_000;
    yield { gapMs, kind, victimDraw, frac };
  }
}

interface ZabFaultOptions {
  lanes: number;
  tickTimeMs: number;
  syncLimitTicks: number;
  exclude: readonly string[];
}

/**
 * The seeded fault injector of a ZAB-level run. Each lane (by default one with 3 members,
 * two with 5, so a quorum is always possible) draws, in turn, a pause before its next fault, a kind,
 * a victim and a duration, from its own PRNG seeded from the run's seed; it applies the
 * fault, waits the duration and undoes it (restart with the same data dir, SIGCONT,
 * heal). The victim is the member serving as leader at that moment, or a follower chosen
 * by the draw among those no other lane is hitting.
 */
class ZabFaults {
  readonly errors: string[] = [];
  readonly counts: Partial<Record<Kind | "skipped", number>> = {};
  readonly #cluster: ProcCluster;
  readonly #h: History;
  readonly #seed: number;
  readonly #o: ZabFaultOptions;
  readonly #busy = new Set<number>();
  #stopped = false;
  #lanes: Promise<void> | undefined;

  constructor(cluster: ProcCluster, h: History, seed: number, o: ZabFaultOptions) {
    this.#cluster = cluster;
    this.#h = h;
    this.#seed = seed;
    this.#o = o;
  }

  async run(untilMs: number): Promise<void> {
    this.#lanes = Promise.all(Array.from({ length: this.#o.lanes }, (_, i) => this.#lane(i, untilMs))).then(() => undefined);
    await this.#lanes;
  }

  async #lane(lane: number, untilMs: number): Promise<void> {
    const draws = faultDraws(this.#seed, lane, this.#o.exclude);
    for (let i = 0; i < FAULTS_PER_LANE_MAX && !this.#stopped; i++) {
      const { gapMs, kind, victimDraw, frac } = draws.next().value;
      await sleep(gapMs);
      if (this.#stopped || performance.now() >= untilMs) return;
      try {
        await this.#apply(lane, kind, victimDraw, frac);
      } catch (e) {
        this.errors.push(`${kind}: ${message(e)}`);
      }
    }
  }

  async #apply(lane: number, kind: Kind, victimDraw: number, frac: number): Promise<void> {
    const c = this.#cluster;
    const leader = await c.leader();
    const free = c.members.filter((m) => m.proc !== undefined && !m.paused && !this.#busy.has(m.id) && c.quorumNet?.isolated(m.id) === undefined);
    const atLeader = kind.endsWith("-leader");
    const followers = free.filter((m) => m !== leader);
    const victim = atLeader ? (leader !== undefined && free.includes(leader) ? leader : undefined) : followers[victimDraw % Math.max(1, followers.length)];
    if (victim === undefined) {
      this.counts.skipped = (this.counts.skipped ?? 0) + 1;
      return;
    }
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    const role = atLeader ? "leader" : "follower";
    const syncLimitMs = this.#o.syncLimitTicks * this.#o.tickTimeMs;
    this.#busy.add(victim.id);
    try {
      if (kind.startsWith("kill")) {
        const downMs = Math.round(100 + 1900 * frac);
        this.#fault(lane, `kill -9 ${role} ${victim.id}, restart after ${downMs}ms`);
        await c.kill9(victim);
        await sleep(downMs);
        this.#fault(lane, `restart member ${victim.id}`);
        await c.restart(victim);
      } else if (kind.startsWith("pause")) {
        const ms = Math.round(syncLimitMs * (0.3 + 2.7 * frac));
        this.#fault(lane, `SIGSTOP ${role} ${victim.id} for ${ms}ms (syncLimit ${syncLimitMs}ms)`);
        c.pause(victim);
        await sleep(ms);
        this.#fault(lane, `SIGCONT member ${victim.id}`);
        c.resume(victim);
      } else {
        const how: LinkFault = kind.startsWith("cut") ? "cut" : "blackhole";
        const ms = Math.round(300 + 3700 * frac);
        this.#fault(lane, `partition (${how}) ${role} ${victim.id} from the others for ${ms}ms`);
        c.quorumNet!.isolate(victim.id, how);
        await sleep(ms);
        this.#fault(lane, `heal member ${victim.id}'s links`);
        c.quorumNet!.heal(victim.id);
      }
    } finally {
      this.#busy.delete(victim.id);
    }
  }

  #fault(lane: number, what: string): void {
    this.#h.record({ k: "fault", what: `lane ${lane}: ${what}` });
  }

  /** Stops injecting, lets the faults under way undo themselves, then undoes the rest. */
  async heal(): Promise<void> {
    this.#stopped = true;
    await this.#lanes;
    const c = this.#cluster;
    c.quorumNet?.healAll();
    for (const m of c.members) {
      if (m.paused) c.resume(m);
      if (m.proc === undefined) await c.restart(m);
    }
    await c.settled(30_000);
  }

  dispose(): void {
    this.#stopped = true;
  }
}
