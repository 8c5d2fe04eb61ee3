/**
 * Real Corral server processes on loopback for fault tests: a standalone server or an
 * ensemble, each member a `corral server start-foreground <cfg>` child with its own data
 * dir (as test/chaos/ensemble-kill.test.ts launches them), plus what the fault suite does to
 * them: kill -9 and restart, SIGSTOP / SIGCONT, and who leads.
 *
 * Every child is registered in one module-level set; `killAllChildren()` (called from the
 * tests' afterEach/afterAll) and a process "exit" hook SIGKILL whatever is left, so a
 * failing test never leaves a server behind.
 *
 * `ClientNet` puts one FaultProxy per (client, member) in front of the members' client
 * ports, so a fault can hit one client's connections and not the others'.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../src/server/index.js";
import { FaultProxy } from "../../helpers/fault-proxy.js";
import { fourLetterWord } from "../../helpers/net.js";
import { QuorumNet } from "./quorum-net.js";

/** The built CLI; CORRAL_CLI_MAIN overrides it (the soak script runs this file compiled elsewhere). */
const MAIN = process.env["CORRAL_CLI_MAIN"] ?? new URL("../../../dist/src/cli/main.js", import.meta.url).pathname;
const HOST = "127.0.0.1";

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** SIGKILLs every server process any cluster of this process started and is still running. */
export function killAllChildren(): void {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

export interface ClusterOptions {
  /** 1 = standalone, else an ensemble of that many voting members. */
  members: number;
  tickTimeMs?: number;
  initLimitTicks?: number;
  syncLimitTicks?: number;
  /** Server side bounds of the session timeout (ZooKeeper's defaults are 2 and 20 ticks). */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Quorum links through fault proxies (quorum-net.ts), so members can be partitioned. */
  proxiedQuorum?: boolean;
}

export interface Member {
  readonly id: number;
  readonly clientPort: number;
  readonly dir: string;
  readonly cfg: string;
  proc: ChildProcess | undefined;
  /** SIGSTOPped and not yet continued. */
  paused: boolean;
  /** Collected stderr tail, for failure reports. */
  stderrTail: string;
}

export class ProcCluster {
  readonly members: Member[] = [];
  readonly opts: Required<ClusterOptions>;
  root = "";
  /** The quorum links' proxies (with `proxiedQuorum`). */
  quorumNet: QuorumNet | undefined;
  /** Members that exited without being killed by the cluster: what they said last. */
  readonly crashes: string[] = [];

  private constructor(opts: ClusterOptions) {
    const tick = opts.tickTimeMs ?? 100;
    this.opts = {
      members: opts.members,
      tickTimeMs: tick,
      initLimitTicks: opts.initLimitTicks ?? 20,
      syncLimitTicks: opts.syncLimitTicks ?? 5,
      minSessionTimeoutMs: opts.minSessionTimeoutMs ?? 2 * tick,
      maxSessionTimeoutMs: opts.maxSessionTimeoutMs ?? 20 * tick,
      proxiedQuorum: opts.proxiedQuorum ?? false,
    };
  }

  get standalone(): boolean {
    return this.opts.members === 1;
  }

  static async start(opts: ClusterOptions): Promise<ProcCluster> {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once("exit", killAllChildren);
    }
    const c = new ProcCluster(opts);
    c.root = await mkdtemp(join(tmpdir(), "corral-recipe-faults-"));
    const n = opts.members;
    const clientPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
    const quorumPorts = n === 1 ? [] : await Promise.all(Array.from({ length: n }, () => freePort()));
    const o = c.opts;
    let seenBy = (_member: number): readonly number[] => quorumPorts;
    if (o.proxiedQuorum && n > 1) {
      const { net, portsSeenBy } = await QuorumNet.start(quorumPorts);
      c.quorumNet = net;
      seenBy = (i) => portsSeenBy[i]!;
    }
    const common = [
      `tickTime=${o.tickTimeMs}`,
      `initLimit=${o.initLimitTicks}`,
      `syncLimit=${o.syncLimitTicks}`,
      `minSessionTimeout=${o.minSessionTimeoutMs}`,
      `maxSessionTimeout=${o.maxSessionTimeoutMs}`,
      `admin.enableServer=false`,
      `4lw.commands.whitelist=*`,
      `snapCount=1000`,
    ];
    for (let i = 0; i < n; i++) {
      const dir = join(c.root, String(i + 1));
      await mkdir(dir, { recursive: true });
      const cfg = join(dir, "zoo.cfg");
      const lines = [...common, `dataDir=${dir}`];
      if (n === 1) lines.push(`clientPort=${clientPorts[0]!}`, `clientPortAddress=${HOST}`);
      else {
        await writeFile(join(dir, "myid"), `${i + 1}\n`);
        lines.push(...seenBy(i).map((q, j) => `server.${j + 1}=${HOST}:${q}:${q};${HOST}:${clientPorts[j]!}`));
      }
      await writeFile(cfg, [...lines, ""].join("\n"));
      c.members.push({ id: i + 1, clientPort: clientPorts[i]!, dir, cfg, proc: undefined, paused: false, stderrTail: "" });
    }
    try {
      for (const m of c.members) c.launch(m);
      await c.settled(30_000);
    } catch (e) {
      // A member that exited while starting says why on stderr: keep it with the error.
      const crashes = c.crashes.join("\n");
      await c.stop();
      if (crashes === "" || !(e instanceof Error)) throw e;
      throw new Error(`${e.message}\n${crashes}`);
    }
    return c;
  }

  launch(m: Member): void {
    if (m.proc !== undefined) throw new Error(`member ${m.id} is already running`);
    const log = process.env["CHAOS_LOG"];
    const p = spawn(process.execPath, [MAIN, "server", "start-foreground", m.cfg], {
      stdio: ["ignore", log === undefined ? "ignore" : "inherit", "pipe"],
      env: { ...process.env, CORRAL_LOG_LEVEL: log ?? "warn" },
    });
    p.stderr?.on("data", (b: Buffer) => {
      m.stderrTail = (m.stderrTail + b.toString("utf8")).slice(-4000);
      if (log !== undefined) process.stderr.write(b);
    });
    children.add(p);
    p.once("exit", (code, signal) => {
      children.delete(p);
      if (m.proc !== p) return; // killed by kill9 (which forgets the process first)
      m.proc = undefined;
      this.crashes.push(`member ${m.id} exited by itself (code ${code}, signal ${signal}): ${m.stderrTail.slice(-1500)}`);
    });
    m.proc = p;
    m.paused = false;
  }

  /** SIGKILL (kill -9) and wait for the exit. */
  async kill9(m: Member): Promise<void> {
    const p = m.proc;
    if (p === undefined) return;
    m.proc = undefined;
    m.paused = false;
    if (p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  }

  /** Launches a stopped member again and waits (bounded) until it answers ruok. */
  async restart(m: Member, timeoutMs = 20_000): Promise<void> {
    this.launch(m);
    await this.waitUp(m, timeoutMs);
  }

  pause(m: Member): void {
    if (m.proc === undefined || m.paused) return;
    m.proc.kill("SIGSTOP");
    m.paused = true;
  }

  resume(m: Member): void {
    if (m.proc === undefined || !m.paused) return;
    m.proc.kill("SIGCONT");
    m.paused = false;
  }

  async waitUp(m: Member, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = "";
    while (performance.now() < deadline) {
      if (m.proc === undefined) throw new Error(`member ${m.id} exited while starting: ${m.stderrTail.slice(-800)}`);
      try {
        if ((await fourLetterWord(HOST, m.clientPort, "ruok", 1000)) === "imok") return;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await sleep(50);
    }
    throw new Error(`member ${m.id} did not answer ruok within ${timeoutMs} ms (${last})`);
  }

  async modeOf(m: Member): Promise<string | undefined> {
    if (m.proc === undefined || m.paused) return undefined;
    try {
      return /Mode: (\w+)/.exec(await fourLetterWord(HOST, m.clientPort, "srvr", 1000))?.[1];
    } catch {
      return undefined;
    }
  }

  /** The member that says it leads (or the standalone server), if one does now. */
  async leader(): Promise<Member | undefined> {
    const live = this.members.filter((m) => m.proc !== undefined && !m.paused);
    const modes = await Promise.all(live.map((m) => this.modeOf(m)));
    const i = modes.findIndex((x) => x === "leader" || x === "standalone");
    return i === -1 ? undefined : live[i];
  }

  /** Waits (bounded) until every running member serves, with exactly one leader. */
  async settled(timeoutMs = 20_000): Promise<Member> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const live = this.members.filter((m) => m.proc !== undefined && !m.paused);
      if (this.members.every((m) => m.proc === undefined) && this.crashes.length > 0) break; // nothing left to wait for
      const modes = await Promise.all(live.map((m) => this.modeOf(m)));
      const leaders = modes.filter((x) => x === "leader" || x === "standalone").length;
      if (live.length > 0 && modes.every((x) => x !== undefined) && leaders === 1) {
        return live[modes.findIndex((x) => x === "leader" || x === "standalone")]!;
      }
      await sleep(50);
    }
    const modes = await Promise.all(this.members.map(async (m) => `${m.id}:${m.proc === undefined ? "down" : m.paused ? "paused" : ((await this.modeOf(m)) ?? "?")}`));
    throw new Error(`cluster did not settle within ${timeoutMs} ms (${modes.join(" ")})`);
  }

  /** Connect string straight to the members (no proxy): for the test's own admin client. */
  get directConnectString(): string {
    return this.members.map((m) => `${HOST}:${m.clientPort}`).join(",");
  }

  /**
   * The epoch member `m` has acknowledged as current: its currentEpoch file, in the data dir
   * (Corral now) or its version-2 folder (where ZooKeeper keeps it).
   */
  async currentEpoch(m: Member): Promise<number | undefined> {
    for (const file of [join(m.dir, "currentEpoch"), join(m.dir, "version-2", "currentEpoch")]) {
      try {
        const n = Number((await readFile(file, "utf8")).trim());
        return Number.isInteger(n) ? n : undefined;
      } catch {
        // not there: the next place
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill9(m)));
    await this.quorumNet?.close();
    if (this.root !== "") await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * One FaultProxy per (client, member): a client named `name` connects through its own
 * proxies, so cutting or black-holing `name` touches only its connections.
 */
export class ClientNet {
  readonly #cluster: ProcCluster;
  readonly #proxies = new Map<string, FaultProxy[]>();
  readonly #dead = new Set<string>();
  /** Per-name bound on proxies: a workload that creates clients without bound is a bug. */
  static readonly CLIENTS_MAX = 400;

  constructor(cluster: ProcCluster) {
    this.#cluster = cluster;
  }

  /** Starts `name`'s proxies (once) and returns the connect string through them. */
  async connectString(name: string): Promise<string> {
    let ps = this.#proxies.get(name);
    if (ps === undefined) {
      if (this.#proxies.size >= ClientNet.CLIENTS_MAX) throw new Error(`more than ${ClientNet.CLIENTS_MAX} proxied clients`);
      ps = await Promise.all(this.#cluster.members.map((m) => FaultProxy.start({ host: HOST, port: m.clientPort })));
      this.#proxies.set(name, ps);
    }
    return ps.map((p) => `${p.host}:${p.port}`).join(",");
  }

  names(): string[] {
    return [...this.#proxies.keys()];
  }

  #each(name: string, fn: (p: FaultProxy) => void): void {
    for (const p of this.#proxies.get(name) ?? []) fn(p);
  }

  cut(name: string): void {
    this.#each(name, (p) => p.cut());
  }

  blackhole(name: string, ms?: number): void {
    this.#each(name, (p) => p.blackhole(ms));
  }

  delay(name: string, ms: number): void {
    this.#each(name, (p) => p.delay(ms));
  }

  heal(name: string): void {
    if (this.#dead.has(name)) return;
    this.#each(name, (p) => p.heal());
  }

  /**
   * `name` dies as a process does: its connections are reset and every new one refused,
   * for good (heal and healAll leave it dead).
   */
  kill(name: string): void {
    this.#dead.add(name);
    this.#each(name, (p) => {
      p.heal();
      p.refuse(true);
      p.cut();
    });
  }

  healAll(): void {
    for (const name of this.#proxies.keys()) this.heal(name);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#proxies.values()].flat();
    this.#proxies.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
