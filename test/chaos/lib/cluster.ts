/**
 * Real Corral server processes on loopback for fault tests: a standalone server or an
 * ensemble, each member a `corral server start-foreground <cfg>` child with its own data
 * dir (as test/chaos/ensemble-kill.test.ts launches them), plus what the fault suite does to
 * them: kill -9 and restart, SIGSTOP / SIGCONT, and who leads.
 *
 * Each member is a ServerProcess of corral/testing (src/testing/server-process.ts): the same
 * child processes TestingCluster runs, which die with this process; `killAllChildren()`
 * (called from the tests' afterEach/afterAll) and a process "exit" hook SIGKILL whatever is
 * left, so a failing test never leaves a server behind.
 *
 * `ClientNet` puts one FaultProxy per (client, member) in front of the members' client
 * ports, so a fault can hit one client's connections and not the others'.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../src/server/index.js";
import { ConnectionFaults } from "../../../src/testing/faults.js";
import { ServerProcess, killAllServerProcesses } from "../../../src/testing/server-process.js";
import { fourLetterWord } from "../../helpers/net.js";
import { QuorumNet } from "./quorum-net.js";

const HOST = "127.0.0.1";

/** SIGKILLs every server process any cluster (or corral/testing server) of this process started and is still running. */
export function killAllChildren(): void {
  killAllServerProcesses();
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

export class Member {
  readonly id: number;
  readonly clientPort: number;
  readonly dir: string;
  readonly cfg: string;
  /** The server's process, whether it runs or not. */
  readonly server: ServerProcess;

  constructor(id: number, clientPort: number, dir: string, cfg: string, server: ServerProcess) {
    this.id = id;
    this.clientPort = clientPort;
    this.dir = dir;
    this.cfg = cfg;
    this.server = server;
  }

  /** The server's process while it runs (launched, not killed nor crashed). */
  get proc(): ServerProcess | undefined {
    return this.server.running ? this.server : undefined;
  }

  /** SIGSTOPped and not yet continued. */
  get paused(): boolean {
    return this.server.paused;
  }

  /** Collected stderr tail, for failure reports. */
  get stderrTail(): string {
    return this.server.stderrTail;
  }
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
      const log = process.env["CHAOS_LOG"];
      const server = new ServerProcess({
        confPath: cfg,
        clientPort: clientPorts[i]!,
        ownedDir: c.root,
        logLevel: log ?? "warn",
        output: log === undefined ? "quiet" : "inherit",
        onUnexpectedExit: (why) => c.crashes.push(`member ${i + 1} ${why}`),
      });
      c.members.push(new Member(i + 1, clientPorts[i]!, dir, cfg, server));
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
    m.server.launch();
  }

  /** SIGKILL (kill -9) and wait for the exit. */
  async kill9(m: Member): Promise<void> {
    await m.server.kill();
  }

  /** Launches a stopped member again and waits (bounded) until it answers ruok. */
  async restart(m: Member, timeoutMs = 20_000): Promise<void> {
    this.launch(m);
    await this.waitUp(m, timeoutMs);
  }

  pause(m: Member): void {
    m.server.pause();
  }

  resume(m: Member): void {
    m.server.resume();
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
    return m.server.mode();
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
  readonly #nets = new Map<string, ConnectionFaults>();
  readonly #dead = new Set<string>();
  /** Per-name bound on proxies: a workload that creates clients without bound is a bug. */
  static readonly CLIENTS_MAX = 400;

  constructor(cluster: ProcCluster) {
    this.#cluster = cluster;
  }

  /** Starts `name`'s proxies (once) and returns the connect string through them. */
  async connectString(name: string): Promise<string> {
    let net = this.#nets.get(name);
    if (net === undefined) {
      if (this.#nets.size >= ClientNet.CLIENTS_MAX) throw new Error(`more than ${ClientNet.CLIENTS_MAX} proxied clients`);
      net = await ConnectionFaults.start(this.#cluster.directConnectString);
      this.#nets.set(name, net);
    }
    return net.connectString;
  }

  names(): string[] {
    return [...this.#nets.keys()];
  }

  cut(name: string): void {
    this.#nets.get(name)?.cut();
  }

  blackhole(name: string, ms?: number): void {
    this.#nets.get(name)?.blackhole(ms);
  }

  delay(name: string, ms: number): void {
    this.#nets.get(name)?.delay(ms);
  }

  heal(name: string): void {
    if (this.#dead.has(name)) return;
    this.#nets.get(name)?.heal();
  }

  /**
   * `name` dies as a process does: its connections are reset and every new one refused,
   * for good (heal and healAll leave it dead).
   */
  kill(name: string): void {
    this.#dead.add(name);
    const net = this.#nets.get(name);
    net?.heal();
    net?.refuse(true);
    net?.cut();
  }

  healAll(): void {
    for (const name of this.#nets.keys()) this.heal(name);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#nets.values()];
    this.#nets.clear();
    await Promise.all(all.map((n) => n.close()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
