// Transcript tests (STYLE.md "tests as transcripts", after etcd's raft): a text script of
// steps run against real QuorumServers — the production driver, pipeline, tree and
// storage on FakeDisks, wired by a hand-driven network and clock — with what each step
// did written below it: the ZAB messages delivered (elections' NOTIFICATIONs and PINGs
// left out), role changes, txns applied, SNAP and TRUNC on disk. The runner compares that
// with the file; UPDATE_TRANSCRIPTS=1 rewrites the file, and the diff is reviewed.
//
// Script (one step a line; `#` comments and blank lines are kept; expectations are the
// indented lines under a step, which the runner owns):
//   start N                 N participants, empty disks
//   stabilize               deliver and tick until every running member serves under one
//                           leader and nothing is in flight (bounded)
//   write A /path           a client write submitted at member A (a learner forwards it)
//   writes A COUNT PREFIX   COUNT writes at A, each stabilized; one summary line
//   deliver A->B [TYPE]     delivers the first frame in flight from A to B (asserting its type)
//   deliver-all             delivers everything in flight, and what that sends, no ticks
//   drop A->B               drops everything in flight from A to B
//   crash A                 A's machine dies (unsynced disk state may go); channels break
//   restart A               A starts again from what its disk kept
//   wipe A                  A's disk is replaced by an empty one (as a new machine)
//   tick N                  N ZAB ticks (tickTime/20 each) on every running member
//   reconfig A remove B     a reconfig submitted at A removing server B
//   config A                A's /zookeeper/config (servers, version) and the servers its driver acts on
//   trees                   each running member's last zxid, and whether all trees match

import { parseConfig, type CorralConfig } from "../../src/config/index.js";
import { OpCode } from "../../src/jute/index.js";
import type { OutboundStream, QuorumTransportOptions } from "../../src/net/index.js";
import { QuorumServer, type QuorumLink } from "../../src/server/quorum.js";
import type { Timers } from "../../src/server/standalone.js";
import { FakeDisk } from "../../src/storage/index.js";
import { OPEN_ACL_UNSAFE } from "../../src/tree/index.js";
import { ManualClock, SeededPrng, asSessionId, hex64, type Logger } from "../../src/util/index.js";
import type { ZabMsg } from "../../src/zab/index.js";
import { CountingDisk, describeMsg, quietLogger, treeDigest } from "./driver-sim.js";

const TICK_MS = 100;
const ZAB_TICK_MS = 5;
/** Rounds of delivery and ticking `stabilize` may take. */
const STABILIZE_ROUNDS_MAX = 2000;
const SETTLE_TURNS_MAX = 10_000;
/** Committed txns a leader keeps for DIFF: small, so a short script reaches SNAP. */
const COMMITTED_LOG_MAX = 8;

interface Member {
  id: bigint;
  fake: FakeDisk;
  disk: CountingDisk;
  qs: QuorumServer | undefined;
  link: TLink | undefined;
  gen: number;
  up: boolean;
  timers: Map<number, { ms: number; due: number; fn: () => void }>;
}

interface Frame {
  from: bigint;
  to: bigint;
  msg: ZabMsg;
}

class TLink implements QuorumLink {
  readonly opts: QuorumTransportOptions;
  readonly #h: Harness;
  readonly #m: Member;
  readonly #gen: number;
  constructor(h: Harness, m: Member, opts: QuorumTransportOptions) {
    this.#h = h;
    this.#m = m;
    this.#gen = m.gen;
    this.opts = opts;
  }
  async start(): Promise<void> {}
  send(to: bigint, msg: ZabMsg): void {
    if (this.#m.gen === this.#gen && this.#m.up) this.#h.inFlight.push({ from: this.#m.id, to, msg });
  }
  /** A SNAP image: all its messages in flight at once, in order. */
  stream(to: bigint, src: OutboundStream): void {
    if (this.#m.gen !== this.#gen || !this.#m.up) {
      src.abort();
      return;
    }
    for (let msg = src.next(); msg !== undefined; msg = src.next()) this.send(to, msg);
  }
  drop(): void {}
  addPeers(): void {}
  block(): void {}
  unblock(): void {}
  async close(): Promise<void> {}
}

export class Harness {
  readonly members = new Map<bigint, Member>();
  readonly inFlight: Frame[] = [];
  readonly clock = new ManualClock();
  now = 0;
  #timerSeq = 0;
  #writes = 0;
  /** What the current step did, one line each. */
  out: string[] = [];

  #config(id: bigint): CorralConfig {
    const lines = [...this.members.keys()].map((i) => `server.${i}=127.0.0.1:${20000 + Number(i)}:${21000 + Number(i)};127.0.0.1:${22000 + Number(i)}`);
    const text = [`tickTime=${TICK_MS}`, "initLimit=5", "syncLimit=3", "snapCount=40", "preAllocSize=16", "admin.enableServer=false", "skipACL=yes", "reconfigEnabled=true", ...lines].join("\n");
    const { config } = parseConfig(text, { sourceName: `transcript-${id}.cfg` });
    return { ...config, myid: id, dataDir: `/data/${id}`, dataLogDir: `/data/${id}` };
  }

  #timersOf(m: Member): Timers {
    const gen = m.gen;
    return {
      every: (ms, fn) => {
        const id = this.#timerSeq++;
        if (m.gen !== gen) return { cancel: () => {} };
        m.timers.set(id, { ms, due: this.now + ms, fn });
        return { cancel: () => void m.timers.delete(id) };
      },
    };
  }

  async #start(m: Member): Promise<void> {
    const log: Logger = quietLogger((obj, msg) => {
      const o = obj as Record<string, unknown>;
      if (msg === "zab state") {
        const leader = o["leader"] === undefined ? "" : ` leader=${String(o["leader"])}`;
        this.out.push(`${m.id} ${String(o["state"])}${leader} epoch=${String(o["epoch"])}${o["serving"] === true ? " serving" : ""}`);
      } else if (msg.startsWith("synced by SNAP")) {
        this.out.push(`${m.id} synced by SNAP at ${String(o["zxid"])}`);
      } else if (msg.startsWith("log truncated")) {
        this.out.push(`${m.id} log truncated to ${String(o["zxid"])}`);
      } else if (msg === "recovered") {
        this.out.push(`${m.id} recovered to ${String(o["lastZxid"])}`);
      }
    });
    const qs = new QuorumServer({
      config: this.#config(m.id),
      log,
      clock: this.clock,
      disk: m.disk,
      prng: new SeededPrng(Number(m.id) * 101 + m.gen),
      listen: false,
      committedLogMax: COMMITTED_LOG_MAX,
      timers: this.#timersOf(m),
      transport: (opts) => (m.link = new TLink(this, m, opts)),
    });
    m.qs = qs;
    void qs.failure.then((e) => this.out.push(`${m.id} FAILED: ${e.message}`));
    m.up = true;
    await qs.start();
    qs.server.pipeline.subscribe((entry) => {
      const t = entry.txn;
      const what = "path" in t ? `${t.type} ${t.path}` : t.type;
      this.out.push(`${m.id} applied ${hex64(entry.hdr.zxid)} ${what}`);
    });
    await this.settle();
  }

  /** Runs event-loop turns until no member's disk has an op in flight (three turns in a row). */
  async settle(): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < SETTLE_TURNS_MAX && quiet < 3; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = [...this.members.values()].some((m) => m.up && m.disk.inFlight > 0) ? 0 : quiet + 1;
    }
  }

  #member(id: string): Member {
    const m = this.members.get(BigInt(id));
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  #newDisk(): FakeDisk {
    return new FakeDisk({ prng: new SeededPrng(1) });
  }

  /** Delivers one frame; records it unless it is election or liveness chatter. */
  #deliver(f: Frame): void {
    const to = this.members.get(f.to);
    if (to === undefined || !to.up) return;
    if (f.msg.type !== "PING" && f.msg.type !== "NOTIFICATION") this.out.push(`${f.from}->${f.to} ${describeMsg(f.msg)}`);
    to.link?.opts.onMessage(f.from, f.msg);
  }

  async #deliverAll(): Promise<number> {
    let n = 0;
    for (let f = this.inFlight.shift(); f !== undefined; f = this.inFlight.shift()) {
      this.#deliver(f);
      n++;
      await this.settle();
    }
    return n;
  }

  async #tick(): Promise<void> {
    this.now += ZAB_TICK_MS;
    this.clock.advance(ZAB_TICK_MS);
    for (const m of this.members.values()) {
      if (!m.up) continue;
      for (const t of [...m.timers.values()]) {
        if (t.due > this.now) continue;
        t.due += t.ms;
        t.fn();
      }
    }
    await this.settle();
  }

  #stable(): boolean {
    const up = [...this.members.values()].filter((m) => m.up);
    const leaders = up.filter((m) => m.qs!.mode === "leader" && m.qs!.serving);
    if (leaders.length !== 1) return false;
    const leader = leaders[0]!.id;
    return up.every((m) => m.qs!.serving && (m.id === leader || m.qs!.server.leaderId === leader)) && this.inFlight.length === 0;
  }

  async #stabilize(): Promise<void> {
    for (let i = 0; i < STABILIZE_ROUNDS_MAX; i++) {
      await this.#deliverAll();
      if (this.#stable()) return;
      await this.#tick();
    }
    throw new Error("did not stabilize");
  }

  #write(m: Member, path: string, onDone?: () => void): void {
    const qs = m.qs;
    if (qs === undefined || !m.up) throw new Error(`member ${m.id} is down`);
    qs.server.pipeline.submitInternal(
      asSessionId(m.id << 56n),
      OpCode.create,
      { kind: "create", opCode: OpCode.create, path, data: Buffer.from(`w${this.#writes++}`), acl: OPEN_ACL_UNSAFE, flags: 0, ttl: -1n },
      (result) => {
        this.out.push(`${m.id} acknowledged ${path}${result.err === 0 ? "" : ` err=${result.err}`}`);
        onDone?.();
      },
    );
  }

  #crash(m: Member): void {
    m.fake.crash();
    m.up = false;
    m.gen++;
    m.timers.clear();
    m.qs = undefined;
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const f = this.inFlight[i]!;
      if (f.from === m.id || f.to === m.id) this.inFlight.splice(i, 1);
    }
    for (const o of this.members.values()) if (o.up && o !== m) o.link?.opts.onDown(m.id);
  }

  async step(line: string): Promise<void> {
    const [cmd, ...args] = line.trim().split(/\s+/);
    const channel = (s: string): [bigint, bigint] => {
      const [a, b] = s.split("->");
      return [BigInt(a!), BigInt(b!)];
    };
    switch (cmd) {
      case "start": {
        const n = Number(args[0]);
        for (let i = 1; i <= n; i++) {
          const fake = this.#newDisk();
          this.members.set(BigInt(i), { id: BigInt(i), fake, disk: new CountingDisk(fake), qs: undefined, link: undefined, gen: 0, up: false, timers: new Map() });
        }
        for (const m of this.members.values()) await this.#start(m);
        return;
      }
      case "stabilize":
        await this.#stabilize();
        return;
      case "write":
        this.#write(this.#member(args[0]!), args[1]!);
        await this.settle();
        return;
      case "writes": {
        const m = this.#member(args[0]!);
        const count = Number(args[1]);
        const out = this.out;
        this.out = [];
        for (let i = 0; i < count; i++) {
          this.#write(m, `/${args[2]!}${i}`);
          await this.#stabilize();
        }
        this.out = out;
        this.out.push(`${count} writes acknowledged; member ${m.id} at ${hex64(m.qs!.server.tree.lastProcessedZxid)}`);
        return;
      }
      case "deliver": {
        const [from, to] = channel(args[0]!);
        const i = this.inFlight.findIndex((f) => f.from === from && f.to === to);
        if (i < 0) throw new Error(`nothing in flight ${args[0]}`);
        const f = this.inFlight.splice(i, 1)[0]!;
        if (args[1] !== undefined && f.msg.type !== args[1]) throw new Error(`${args[0]}: next is ${f.msg.type}, not ${args[1]}`);
        this.#deliver(f);
        await this.settle();
        return;
      }
      case "deliver-all":
        await this.#deliverAll();
        return;
      case "drop": {
        const [from, to] = channel(args[0]!);
        const dropped: string[] = [];
        for (let i = this.inFlight.length - 1; i >= 0; i--) {
          const f = this.inFlight[i]!;
          if (f.from === from && f.to === to) dropped.unshift(f.msg.type);
          if (f.from === from && f.to === to) this.inFlight.splice(i, 1);
        }
        this.out.push(`dropped ${dropped.filter((t) => t !== "PING").join(" ") || "nothing"}`);
        return;
      }
      case "crash":
        this.#crash(this.#member(args[0]!));
        await this.settle();
        return;
      case "restart":
      case "wipe": {
        const m = this.#member(args[0]!);
        if (m.up) throw new Error(`${cmd} ${m.id}: it is running (crash it first)`);
        m.fake = cmd === "wipe" ? this.#newDisk() : m.fake.afterCrash(new SeededPrng(Number(m.id)));
        m.disk = new CountingDisk(m.fake);
        m.gen++;
        await this.#start(m);
        return;
      }
      case "tick":
        for (let i = 0; i < Number(args[0] ?? 1); i++) await this.#tick();
        return;
      case "reconfig": {
        // reconfig A remove B: a reconfig submitted at A that removes server B.
        const m = this.#member(args[0]!);
        if (args[1] !== "remove") throw new Error(`reconfig ${args[1]}: only remove is scripted`);
        m.qs!.server.pipeline.submitInternal(
          asSessionId(m.id << 56n),
          OpCode.reconfig,
          { kind: "reconfig", joiningServers: "", leavingServers: args[2]!, newMembers: "", curConfigId: -1n },
          (result) => this.out.push(`${m.id} reconfig ${result.err === 0 ? "committed" : `err=${result.err}`}`),
        );
        await this.settle();
        return;
      }
      case "config": {
        // config A: A's /zookeeper/config as clients read it, and the servers its driver acts on.
        const qs = this.#member(args[0]!).qs!;
        const node = qs.server.tree.get("/zookeeper/config")!;
        const text = (node.data ?? Buffer.alloc(0)).toString("utf8").split("\n").filter((l) => l.startsWith("server.") || l.startsWith("version="));
        const servers = text.filter((l) => l.startsWith("server.")).map((l) => l.slice("server.".length, l.indexOf("=")));
        const version = text.find((l) => l.startsWith("version="));
        this.out.push(`/zookeeper/config: servers ${servers.join(",") || "(none)"} ${version ?? "(no version)"} mzxid=${hex64(node.mzxid)}; in force: ${qs.members.map((s) => s.id).join(",")}`);
        return;
      }
      case "trees": {
        const up = [...this.members.values()].filter((m) => m.up);
        const digests = new Set(up.map((m) => treeDigest(m.qs!.server.tree)));
        this.out.push(`${up.map((m) => `${m.id}@${hex64(m.qs!.server.tree.lastProcessedZxid)}`).join(" ")} ${digests.size === 1 ? "trees match" : "TREES DIFFER"}`);
        return;
      }
      default:
        throw new Error(`unknown step: ${line}`);
    }
  }
}

/** Runs a script; returns it with each step's expectations (as the runner writes them). */
export async function runTranscript(text: string): Promise<string> {
  const h = new Harness();
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (/^\s+\S/.test(line)) continue; // an expectation: recomputed
    out.push(line);
    if (line.trim() === "" || line.startsWith("#")) continue;
    h.out = [];
    try {
      await h.step(line);
    } catch (e) {
      h.out.push(`ERROR ${(e as Error).message}`);
    }
    for (const l of h.out) out.push(`    ${l}`);
  }
  return out.join("\n");
}
