// A misbehaving client beside well-behaved ones (issue 14, item 3, "Tests and numbers"):
// one client pipelines getData of large nodes (~1 MB each) and never reads a reply, for a
// bounded time and a bounded number of requests; meanwhile 8 well-behaved clients each do
// small reads and writes, one request in flight at a time. Reported per server, Corral
// next to Apache ZooKeeper 3.8 in the same run (each a child process, standalone, loopback
// only, the same zoo.cfg keys from bench/servers):
//   - the server's RSS: before the misbehaving client starts, its peak while it runs
//     (sampled every 100 ms from /proc), and after it disconnects;
//   - the good clients' latency (p50/p99/max) alone first (a baseline window), then while
//     the misbehaving client runs; a request still unanswered when a window closes counts
//     with the time it had waited so far (a lower bound, not dropped);
//   - how many requests the misbehaving client got out, and whether the server closed it.
//
//   npm run bench:misbehave -- [--seconds 15] [--baseline-seconds 5] [--clients 8] [--big-nodes 8]
//        [--node-bytes 1000000] [--max-requests 3000] [--targets corral,zookeeper]
//
// Choose --big-nodes with ZooKeeper's response cache in mind: ZooKeeper 3.8 keeps the
// serialized getData reply of up to 400 nodes (zookeeper.maxResponseCacheSize) and queues
// references to it, so with 8 distinct nodes its unread replies share 8 buffers; with more
// distinct nodes than that (--big-nodes 512 --node-bytes 262144) each unread reply is a copy.
// `recved= / sent=` are each server's own `cons` line for the misbehaving connection at
// the end of the window: requests it read, and replies (Corral counts a reply when it is
// made, ZooKeeper when it has been written to the socket).
//
// Linux only (/proc). The ZooKeeper JVM runs with Debian's zkServer.sh flags (no heap
// flags: the JVM sizes its heap from the machine), as bench/servers/zookeeper.ts does.

import { once } from "node:events";
import { connect as tcpConnect, type Socket } from "node:net";
import { FrameParser, JuteReader, JuteWriter, OpCode, readConnectResponse, readReplyHeader, writeConnectRequest, writeCreateRequest, writeRequestHeader } from "../src/jute/index.js";
import { startCorralProcess } from "./servers/corral.js";
import { fourLetterWord, LOOPBACK } from "./servers/net.js";
import { sampleProcesses } from "./servers/proc.js";
import type { CommonServerSettings, ServerUnderTest, StartOutcome, TargetName } from "./servers/types.js";
import { startZooKeeper } from "./servers/zookeeper.js";
import { LatencyHistogram, type LatencySummary } from "./stats.js";

interface Args {
  seconds: number;
  baselineSeconds: number;
  clients: number;
  nodeBytes: number;
  bigNodes: number;
  maxRequests: number;
  targets: TargetName[];
}

/** Upper bounds on what the command line may ask for: the run stays bounded. */
const SECONDS_MAX = 120;
const CLIENTS_MAX = 64;
const REQUESTS_MAX = 20_000;
const SMALL_BYTES = 100;
const RSS_SAMPLE_MS = 100;
/** After the misbehaving client disconnects, how long to wait before the "after" RSS. */
const SETTLE_MS = 3_000;
const CONNECT_WAIT_MS = 10_000;
const SESSION_TIMEOUT_MS = 30_000;

function parseArgs(argv: readonly string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  const num = (name: string, dflt: number, max: number): number => {
    const v = Number(get(name) ?? dflt);
    if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`--${name}: expected an integer from 1 to ${max}, got ${get(name)}`);
    return v;
  };
  const targets = (get("targets") ?? "corral,zookeeper").split(",").map((t) => t.trim());
  for (const t of targets) if (t !== "corral" && t !== "zookeeper") throw new Error(`--targets: unknown target ${t}`);
  return {
    seconds: num("seconds", 15, SECONDS_MAX),
    baselineSeconds: num("baseline-seconds", 5, SECONDS_MAX),
    clients: num("clients", 8, CLIENTS_MAX),
    // Below jute.maxbuffer (1 MiB - 1) with room for the reply's header and stat.
    nodeBytes: num("node-bytes", 1_000_000, 1_040_000),
    bigNodes: num("big-nodes", 8, 1024),
    maxRequests: num("max-requests", 3_000, REQUESTS_MAX),
    targets: targets as TargetName[],
  };
}

function framed(build: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(64);
  w.int(0);
  build(w);
  const b = w.toBuffer();
  b.writeInt32BE(b.length - 4, 0);
  return b;
}

const OPEN_ACL = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

/** A bare wire client: one session, requests matched to replies by xid. */
class WireClient {
  readonly socket: Socket;
  readonly #parser = new FrameParser(64 << 20);
  readonly #pending = new Map<number, { resolve: (err: number) => void; reject: (e: Error) => void }>();
  #xid = 0;
  #handshaken = false;
  #onHandshake: ((sessionId: bigint) => void) | undefined;
  closedBy: string | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (e) => this.#fail(`error: ${e.message}`));
    socket.on("close", () => this.#fail("closed"));
  }

  static async open(port: number): Promise<WireClient> {
    const socket = tcpConnect({ host: LOOPBACK, port });
    socket.setNoDelay(true);
    const c = new WireClient(socket);
    const handshake = new Promise<bigint>((ok) => (c.#onHandshake = ok));
    await withTimeout(once(socket, "connect"), "connect");
    socket.write(framed((w) => writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: SESSION_TIMEOUT_MS, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false })));
    const sid = await withTimeout(handshake, "handshake");
    if (sid === 0n) throw new Error("session refused");
    return c;
  }

  #onData(chunk: Buffer): void {
    for (const f of this.#parser.push(chunk)) {
      const r = new JuteReader(f);
      if (!this.#handshaken) {
        this.#handshaken = true;
        this.#onHandshake?.(readConnectResponse(r).sessionId);
        continue;
      }
      const h = readReplyHeader(r);
      const p = this.#pending.get(h.xid);
      if (p === undefined) continue; // a ping or watch event
      this.#pending.delete(h.xid);
      p.resolve(h.err);
    }
  }

  #fail(why: string): void {
    this.closedBy ??= why;
    for (const p of this.#pending.values()) p.reject(new Error(`connection ${why}`));
    this.#pending.clear();
  }

  /** Sends one request; resolves with the reply's error code. */
  request(op: number, body: (w: JuteWriter) => void): Promise<number> {
    const xid = ++this.#xid;
    return new Promise((resolve, reject) => {
      if (this.closedBy !== undefined) return reject(new Error(`connection ${this.closedBy}`));
      this.#pending.set(xid, { resolve, reject });
      this.socket.write(framed((w) => {
        writeRequestHeader(w, xid, op);
        body(w);
      }));
    });
  }

  create(path: string, data: Buffer): Promise<number> {
    return this.request(OpCode.create, (w) => writeCreateRequest(w, { path, data, acl: OPEN_ACL, flags: 0 }));
  }

  getData(path: string): Promise<number> {
    return this.request(OpCode.getData, (w) => {
      w.ustring(path);
      w.bool(false);
    });
  }

  setData(path: string, data: Buffer): Promise<number> {
    return this.request(OpCode.setData, (w) => {
      w.ustring(path);
      w.buffer(data);
      w.int(-1);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withTimeout<T>(p: Promise<T>, what: string, ms = CONNECT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The good clients' loop: getData of a shared small node, setData of its own, repeat. */
class GoodClients {
  readonly #clients: WireClient[];
  #hist = new LatencyHistogram();
  #inFlightSince: (number | undefined)[];
  #running = true;
  #loops: Promise<void>[] = [];
  errors = 0;

  constructor(clients: WireClient[]) {
    this.#clients = clients;
    this.#inFlightSince = clients.map(() => undefined);
    this.#loops = clients.map((c, i) => this.#loop(c, i));
  }

  async #loop(c: WireClient, i: number): Promise<void> {
    const mine = `/good-${i}`;
    const payload = Buffer.alloc(SMALL_BYTES, i);
    for (let n = 0; this.#running; n++) {
      const t0 = performance.now();
      this.#inFlightSince[i] = t0;
      try {
        const err = await (n % 2 === 0 ? c.getData("/small") : c.setData(mine, payload));
        if (err !== 0) this.errors++;
      } catch {
        this.errors++;
        this.#inFlightSince[i] = undefined;
        return;
      }
      this.#inFlightSince[i] = undefined;
      this.#hist.recordMs(performance.now() - t0);
    }
  }

  /** Closes the current window: requests still in flight count with their wait so far. */
  cut(): { latency: LatencySummary; cutOff: number } {
    const now = performance.now();
    let cutOff = 0;
    for (let i = 0; i < this.#inFlightSince.length; i++) {
      const since = this.#inFlightSince[i];
      if (since === undefined) continue;
      this.#hist.recordMs(now - since);
      this.#inFlightSince[i] = now; // the next window counts from here
      cutOff++;
    }
    const latency = this.#hist.summary();
    this.#hist = new LatencyHistogram();
    return { latency, cutOff };
  }

  async stop(): Promise<void> {
    this.#running = false;
    await withTimeout(Promise.allSettled(this.#loops), "good clients stopping", 30_000).catch(() => undefined);
    for (const c of this.#clients) c.close();
  }
}

/**
 * Pipelines getData of the big nodes, never reading a reply, while the socket takes them.
 * writeBlocked: its writes stopped draining (the server stopped reading and the kernel
 * buffers between filled); with small requests the cap on requests often comes first.
 */
async function misbehave(port: number, a: Args, untilMs: number): Promise<Misbehaving> {
  const c = await WireClient.open(port);
  c.socket.pause(); // never read again: replies pile up in the kernel, then in the server
  let sent = 0;
  let writeBlocked = false;
  try {
    while (sent < a.maxRequests && performance.now() < untilMs && c.closedBy === undefined) {
      const path = `/big-${sent % a.bigNodes}`;
      const ok = c.socket.write(framed((w) => {
        writeRequestHeader(w, sent + 1, OpCode.getData);
        w.ustring(path);
        w.bool(false);
      }));
      sent++;
      if (!ok) {
        // The server has stopped reading: wait for drain, or the end of the window.
        const drained = await Promise.race([once(c.socket, "drain").then(() => true), sleep(Math.max(0, untilMs - performance.now())).then(() => false), once(c.socket, "close").then(() => false)]);
        if (!drained) writeBlocked = c.closedBy === undefined;
      }
    }
    if (performance.now() < untilMs && c.closedBy === undefined) {
      await Promise.race([sleep(untilMs - performance.now()), once(c.socket, "close")]);
    }
    const seen = c.closedBy === undefined ? await serverView(port, c.socket.localPort) : undefined;
    return { sent, closedByServer: c.closedBy !== undefined, writeBlocked, serverView: seen };
  } finally {
    c.close();
  }
}

interface Misbehaving {
  sent: number;
  closedByServer: boolean;
  writeBlocked: boolean;
  /** The server's `cons` line for the connection at the end of the window (both servers print recved= and sent=). */
  serverView: string | undefined;
}

/** The `cons` line the server prints for the connection from local port `localPort`. */
async function serverView(port: number, localPort: number | undefined): Promise<string | undefined> {
  const cons = await fourLetterWord(port, "cons", 10_000).catch(() => "");
  return cons.split("\n").find((l) => l.includes(`:${localPort}[`))?.trim();
}

/** A field of a `cons` line, e.g. sent=123. */
function consField(line: string | undefined, name: string): string {
  return (line === undefined ? undefined : new RegExp(`[(,]${name}=([^,)]+)`).exec(line)?.[1]) ?? "-";
}

interface Report {
  target: TargetName;
  version: string;
  rssBeforeMiB: number;
  rssPeakDuringMiB: number;
  rssGrowthMiB: number;
  rssAfterMiB: number;
  goodAlone: LatencySummary & { cutOff: number };
  goodBeside: LatencySummary & { cutOff: number };
  goodErrors: number;
  misbehaving: Misbehaving;
  serverAlive: boolean;
}

const mib = (b: number): number => Math.round((b / (1024 * 1024)) * 10) / 10;

async function runOne(s: ServerUnderTest, a: Args): Promise<Report> {
  const port = Number(s.connectString.split(",")[0]!.split(":")[1]);
  const rss = (): number => sampleProcesses(s.pids)?.rssBytes ?? Number.NaN;
  const setup = await WireClient.open(port);
  const big = Buffer.alloc(a.nodeBytes, 7);
  for (let i = 0; i < a.bigNodes; i++) await withTimeout(setup.create(`/big-${i}`, big), "create big node");
  await setup.create("/small", Buffer.alloc(SMALL_BYTES, 1));
  for (let i = 0; i < a.clients; i++) await setup.create(`/good-${i}`, Buffer.alloc(SMALL_BYTES, 2));
  setup.close();

  const good = new GoodClients(await Promise.all(Array.from({ length: a.clients }, () => WireClient.open(port))));
  await sleep(a.baselineSeconds * 1000);
  const alone = good.cut();
  const rssBefore = rss();

  let peak = rssBefore;
  const sampler = setInterval(() => {
    const v = rss();
    if (v > peak) peak = v;
  }, RSS_SAMPLE_MS);
  const misbehaving = await misbehave(port, a, performance.now() + a.seconds * 1000);
  clearInterval(sampler);
  const beside = good.cut();
  await good.stop();
  await sleep(SETTLE_MS);
  const rssAfter = rss();
  const serverAlive = s.pids.every((pid) => sampleProcesses([pid]) !== undefined);
  return {
    target: s.target,
    version: s.version,
    rssBeforeMiB: mib(rssBefore),
    rssPeakDuringMiB: mib(peak),
    rssGrowthMiB: mib(peak - rssBefore),
    rssAfterMiB: mib(rssAfter),
    goodAlone: { ...alone.latency, cutOff: alone.cutOff },
    goodBeside: { ...beside.latency, cutOff: beside.cutOff },
    goodErrors: good.errors,
    misbehaving,
    serverAlive,
  };
}

const SETTINGS: CommonServerSettings = { tickMs: 2000, forceSync: true };

async function start(target: TargetName): Promise<StartOutcome> {
  return target === "corral" ? startCorralProcess("standalone", SETTINGS) : startZooKeeper("standalone", SETTINGS);
}

function table(reports: readonly Report[]): string {
  const rows: [string, (r: Report) => string][] = [
    ["server", (r) => r.version],
    ["RSS before (MiB)", (r) => String(r.rssBeforeMiB)],
    ["RSS peak while misbehaving (MiB)", (r) => String(r.rssPeakDuringMiB)],
    ["RSS growth (MiB)", (r) => String(r.rssGrowthMiB)],
    ["RSS 3 s after it left (MiB)", (r) => String(r.rssAfterMiB)],
    ["good p50 / p99 / max alone (ms)", (r) => `${r.goodAlone.p50Ms.toFixed(2)} / ${r.goodAlone.p99Ms.toFixed(2)} / ${r.goodAlone.maxMs.toFixed(1)} (${r.goodAlone.count} ops)`],
    ["good p50 / p99 / max beside (ms)", (r) => `${r.goodBeside.p50Ms.toFixed(2)} / ${r.goodBeside.p99Ms.toFixed(2)} / ${r.goodBeside.maxMs.toFixed(1)} (${r.goodBeside.count} ops, ${r.goodBeside.cutOff} cut off)`],
    ["good client errors", (r) => String(r.goodErrors)],
    ["misbehaving requests sent", (r) => String(r.misbehaving.sent)],
    ["misbehaving: closed by the server", (r) => (r.misbehaving.closedByServer ? "yes" : "no")],
    ["misbehaving: server's cons recved= / sent=", (r) => `${consField(r.misbehaving.serverView, "recved")} / ${consField(r.misbehaving.serverView, "sent")}`],
    ["server alive after", (r) => (r.serverAlive ? "yes" : "no")],
  ];
  return rows.map(([label, f]) => `${label.padEnd(48)} ${reports.map((r) => f(r).padEnd(44)).join(" ")}`).join("\n");
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const reports: Report[] = [];
  for (const target of a.targets) {
    const outcome = await start(target);
    if (!outcome.ok) {
      console.error(`${target}: not run: ${outcome.reason}`);
      continue;
    }
    try {
      reports.push(await runOne(outcome.server, a));
    } finally {
      await outcome.server.stop();
    }
  }
  console.log(JSON.stringify({ args: a, reports }, null, 2));
  console.log(`\n${a.clients} good clients (getData/setData of ${SMALL_BYTES} B, one in flight each); one client pipelining getData of ${a.bigNodes} x ${a.nodeBytes} B nodes without reading, for ${a.seconds} s or ${a.maxRequests} requests\n`);
  console.log(table(reports));
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
