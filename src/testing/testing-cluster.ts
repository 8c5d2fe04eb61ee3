// TestingCluster: an ensemble of Corral servers, each a child process with its own client
// port, quorum port and data dir, for an application's own tests (corral/testing).

import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../net/index.js";
import { renderConfig, testingConfig, type ConfigValue } from "./config.js";
import { LOOPBACK, ServerProcess, ownTempDir, releaseTempDir, sleep } from "./server-process.js";
import { TESTING_TICK_MS } from "./testing-server.js";

/** Default bound of start(), restart(i) and leaderIndex(). */
const WAIT_MS = 30_000;
/** Between two polls of the members' modes (another process: no event to await). */
const POLL_MS = 25;
/** Largest ensemble a test may start. */
const SIZE_MAX = 9;

/** Options of {@link TestingCluster.start}. */
export interface TestingClusterOptions {
  /** Voting members (default 3). */
  size?: number;
  /** tickTime in ms (default 200). */
  tickTimeMs?: number;
  /** More zoo.cfg keys for every member, or other values for the defaults. */
  config?: Readonly<Record<string, ConfigValue>>;
  /** The servers' log level (default "warn"). */
  logLevel?: string;
  /** "inherit": the servers' logs go to this process's stdout and stderr (default: quiet). */
  output?: "inherit" | "quiet";
  /** How long start(), restart(i) and leaderIndex() wait (default 30 s). */
  timeoutMs?: number;
}

/** One member of a {@link TestingCluster}. */
export interface TestingMember {
  /** Its server id (the `myid` file; `server.<myid>` in zoo.cfg): index + 1. */
  readonly myid: number;
  /** Its client port on 127.0.0.1. */
  readonly clientPort: number;
  /** `127.0.0.1:<clientPort>`: a connect string for this member alone. */
  readonly connectString: string;
  /** Its data directory (and zoo.cfg). */
  readonly dataDir: string;
  /** Whether its process runs. */
  readonly running: boolean;
  /** Its OS process id, while it runs. */
  readonly pid: number | undefined;
}

/**
 * A ZooKeeper-style ensemble of Corral servers for tests: `size` voting members, each a
 * real child process on 127.0.0.1 with its own data dir in a temporary directory. Members
 * can be killed abruptly (SIGKILL, as kill -9) and restarted on the same ports with the same
 * data. `stop()` kills them all and removes the temporary directory; if the test process
 * dies first, the members kill themselves.
 *
 * @example
 * const cluster = await TestingCluster.start({ size: 3 });
 * const client = await connect(cluster.connectString);
 * const leader = await cluster.leaderIndex();
 * await cluster.kill(leader);        // the others elect a new leader; the client moves on
 * await cluster.restart(leader);     // it rejoins as a follower
 * await cluster.stop();
 */
export class TestingCluster {
  /** Every member's `host:port`, in myid order: the connect string for a client. */
  readonly connectString: string;
  /** The members in myid order (index i has myid i + 1). */
  readonly members: readonly TestingMember[];
  readonly #procs: readonly ServerProcess[];
  readonly #root: string;
  readonly #timeoutMs: number;
  /** What members that exited by themselves said last (shared with their onUnexpectedExit). */
  readonly #crashes: string[];
  #stopped = false;

  private constructor(root: string, procs: ServerProcess[], dataDirs: string[], timeoutMs: number, crashes: string[]) {
    this.#root = root;
    this.#crashes = crashes;
    this.#procs = procs;
    this.#timeoutMs = timeoutMs;
    this.members = procs.map((p, i) => ({
      myid: i + 1,
      clientPort: p.clientPort,
      connectString: `${LOOPBACK}:${p.clientPort}`,
      dataDir: dataDirs[i]!,
      get running() {
        return p.running;
      },
      get pid() {
        return p.pid;
      },
    }));
    this.connectString = this.members.map((m) => m.connectString).join(",");
  }

  /** Starts the ensemble and resolves once every member serves under one leader. */
  static async start(opts: TestingClusterOptions = {}): Promise<TestingCluster> {
    const size = opts.size ?? 3;
    if (!Number.isInteger(size) || size < 1 || size > SIZE_MAX) throw new Error(`corral/testing: cluster size ${size} is not in 1..${SIZE_MAX}`);
    const root = await mkdtemp(join(tmpdir(), "corral-testing-cluster-"));
    ownTempDir(root);
    let cluster: TestingCluster | undefined;
    try {
      const clientPorts: number[] = [];
      const quorumPorts: number[] = [];
      for (let i = 0; i < size; i++) clientPorts.push(await freePort());
      for (let i = 0; i < size; i++) quorumPorts.push(await freePort());
      const crashes: string[] = [];
      const procs: ServerProcess[] = [];
      const dataDirs: string[] = [];
      for (let i = 0; i < size; i++) {
        const myid = i + 1;
        const dir = join(root, String(myid));
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, "myid"), `${myid}\n`);
        const base = testingConfig(opts.tickTimeMs ?? TESTING_TICK_MS);
        base.set("dataDir", dir);
        // A 1-member "cluster" is still an ensemble member (a leader of one), not standalone.
        if (size === 1) base.set("standaloneEnabled", false);
        for (let j = 0; j < size; j++) base.set(`server.${j + 1}`, `${LOOPBACK}:${quorumPorts[j]!}:${quorumPorts[j]!};${LOOPBACK}:${clientPorts[j]!}`);
        const confPath = join(dir, "zoo.cfg");
        await writeFile(confPath, renderConfig(base, opts.config));
        dataDirs.push(dir);
        procs.push(
          new ServerProcess({
            confPath,
            clientPort: clientPorts[i]!,
            ownedDir: root,
            ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
            ...(opts.output === undefined ? {} : { output: opts.output }),
            onUnexpectedExit: (why) => crashes.push(`member ${myid} ${why}`),
          }),
        );
      }
      cluster = new TestingCluster(root, procs, dataDirs, opts.timeoutMs ?? WAIT_MS, crashes);
      for (const p of procs) p.launch();
      await cluster.#settled();
      return cluster;
    } catch (e) {
      if (cluster !== undefined) await cluster.stop();
      else releaseTempDir(root);
      throw e;
    }
  }

  /**
   * The index (into `members`) of the member that leads now, waiting (bounded) until the
   * running members agree on one: after `kill(leader)` this resolves once a new one is elected.
   */
  async leaderIndex(): Promise<number> {
    const deadline = performance.now() + this.#timeoutMs;
    while (performance.now() < deadline) {
      const modes = await this.#modes();
      const leaders = modes.flatMap((m, i) => (m === "leader" ? [i] : []));
      if (leaders.length === 1) return leaders[0]!;
      await sleep(POLL_MS);
    }
    throw new Error(`corral/testing: no leader within ${this.#timeoutMs} ms (${await this.#describe()})`);
  }

  /** Kills member `i` abruptly (SIGKILL, as kill -9) and resolves once its process is gone. */
  async kill(i: number): Promise<void> {
    this.#assertNotStopped();
    await this.#proc(i).kill();
  }

  /**
   * Starts member `i` again (killed or not: a running member is stopped cleanly first) on
   * the same ports with the same data dir; resolves once it serves again (it has rejoined
   * the ensemble and synced with the leader).
   */
  async restart(i: number): Promise<void> {
    this.#assertNotStopped();
    const p = this.#proc(i);
    await p.stop();
    p.launch();
    await p.waitServing(this.#timeoutMs);
  }

  /** Kills every member and removes the temporary directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.#procs.map((p) => p.kill()));
    releaseTempDir(this.#root);
  }

  #proc(i: number): ServerProcess {
    const p = this.#procs[i];
    if (p === undefined) throw new Error(`corral/testing: no member at index ${i} (members are 0..${this.#procs.length - 1})`);
    return p;
  }

  async #modes(): Promise<(string | undefined)[]> {
    return Promise.all(this.#procs.map((p) => p.mode()));
  }

  /** Every member serves, exactly one leads; fails at once when a member crashed. */
  async #settled(): Promise<void> {
    const deadline = performance.now() + this.#timeoutMs;
    while (performance.now() < deadline) {
      if (this.#crashes.length > 0) throw new Error(`corral/testing: a member exited while starting:\n${this.#crashes.join("\n")}`);
      const modes = await this.#modes();
      if (modes.every((m) => m !== undefined) && modes.filter((m) => m === "leader").length === 1) return;
      await sleep(POLL_MS);
    }
    throw new Error(`corral/testing: the cluster did not settle within ${this.#timeoutMs} ms (${await this.#describe()})`);
  }

  async #describe(): Promise<string> {
    const modes = await this.#modes();
    return modes.map((m, i) => `${i + 1}:${this.#procs[i]!.running ? (m ?? "not serving") : "down"}`).join(" ");
  }

  #assertNotStopped(): void {
    if (this.#stopped) throw new Error("corral/testing: the cluster was stopped");
  }
}
