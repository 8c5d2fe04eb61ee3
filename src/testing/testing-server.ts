// TestingServer: one standalone Corral server in a child process, on a free loopback port,
// durable in a temporary data dir, for an application's own tests (corral/testing).

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../net/index.js";
import { renderConfig, testingConfig, type ConfigValue } from "./config.js";
import { LOOPBACK, ServerProcess, ownTempDir, releaseTempDir } from "./server-process.js";

/** Default tick of testing servers: sessions can be as short as 2 ticks. */
export const TESTING_TICK_MS = 200;
/** Default bound of start() and restart(). */
const START_TIMEOUT_MS = 30_000;

/** Options of {@link TestingServer.start}. */
export interface TestingServerOptions {
  /** The client port (default: a free one). */
  port?: number;
  /**
   * The data directory (default: `data/` in a new temporary directory). A directory given
   * here is kept by stop(); the temporary one is removed.
   */
  dataDir?: string;
  /** tickTime in ms (default 200; sessions may be as short as 2 ticks and as long as 60 s). */
  tickTimeMs?: number;
  /** More zoo.cfg keys, or other values for the defaults (e.g. `{ extendedTypesEnabled: true }`). */
  config?: Readonly<Record<string, ConfigValue>>;
  /** The server's log level (default "warn"). */
  logLevel?: string;
  /** "inherit": the server's log goes to this process's stdout and stderr (default: quiet). */
  output?: "inherit" | "quiet";
  /** How long start() and restart() wait for the server to serve (default 30 s). */
  startTimeoutMs?: number;
}

/**
 * A standalone Corral server for tests: a real server in a child process (so it has its
 * own event loop, unaffected by fake timers in the test, and `restart()` is a real process
 * restart), listening on 127.0.0.1 on a free port, durable in a temporary data dir.
 *
 * After `stop()` the process is gone and the temporary directory removed. A running server
 * does not keep the test process alive: one not stopped is killed (and its temporary
 * directory removed) when the test process exits, and kills itself if the test process is
 * killed.
 *
 * @example
 * import { connect } from "corral";
 * import { TestingServer } from "corral/testing";
 *
 * const server = await TestingServer.start();
 * const client = await connect(server.connectString);
 * await client.create("/app", "v1");
 * await client.close();
 * await server.stop();
 */
export class TestingServer {
  /** 127.0.0.1 */
  readonly host: string = LOOPBACK;
  /** The client port. */
  readonly port: number;
  /** `127.0.0.1:<port>`, for `connect()`. */
  readonly connectString: string;
  /** Where the server keeps its snapshots and transaction log. */
  readonly dataDir: string;
  /** The zoo.cfg the server runs. */
  readonly confPath: string;
  readonly #process: ServerProcess;
  readonly #tempDir: string;
  readonly #startTimeoutMs: number;
  #stopped = false;

  private constructor(port: number, dataDir: string, confPath: string, tempDir: string, proc: ServerProcess, startTimeoutMs: number) {
    this.port = port;
    this.connectString = `${LOOPBACK}:${port}`;
    this.dataDir = dataDir;
    this.confPath = confPath;
    this.#tempDir = tempDir;
    this.#process = proc;
    this.#startTimeoutMs = startTimeoutMs;
  }

  /** Starts a server and resolves once it serves clients. */
  static async start(opts: TestingServerOptions = {}): Promise<TestingServer> {
    const tempDir = await mkdtemp(join(tmpdir(), "corral-testing-"));
    ownTempDir(tempDir);
    let proc: ServerProcess | undefined;
    try {
      const port = opts.port ?? (await freePort());
      const dataDir = opts.dataDir === undefined ? join(tempDir, "data") : resolve(opts.dataDir);
      const base = testingConfig(opts.tickTimeMs ?? TESTING_TICK_MS);
      base.set("dataDir", dataDir);
      base.set("clientPort", port);
      base.set("clientPortAddress", LOOPBACK);
      const confPath = join(tempDir, "zoo.cfg");
      await writeFile(confPath, renderConfig(base, opts.config));
      proc = new ServerProcess({
        confPath,
        clientPort: port,
        ownedDir: tempDir,
        ...(opts.logLevel === undefined ? {} : { logLevel: opts.logLevel }),
        ...(opts.output === undefined ? {} : { output: opts.output }),
      });
      const server = new TestingServer(port, dataDir, confPath, tempDir, proc, opts.startTimeoutMs ?? START_TIMEOUT_MS);
      proc.launch();
      await proc.waitServing(server.#startTimeoutMs);
      return server;
    } catch (e) {
      await proc?.kill();
      releaseTempDir(tempDir);
      throw e;
    }
  }

  /** Whether the server process runs. */
  get running(): boolean {
    return this.#process.running;
  }

  /** The server's OS process id, while it runs. */
  get pid(): number | undefined {
    return this.#process.pid;
  }

  /**
   * Stops the server cleanly (SIGTERM) and starts it again on the same port with the same
   * data dir; resolves once it serves. Sessions survive if clients reconnect in time.
   */
  async restart(): Promise<void> {
    this.#assertNotStopped();
    await this.#process.stop();
    this.#process.launch();
    await this.#process.waitServing(this.#startTimeoutMs);
  }

  /** Kills the server abruptly (SIGKILL, as kill -9); `restart()` starts it again. */
  async kill(): Promise<void> {
    this.#assertNotStopped();
    await this.#process.kill();
  }

  /** Kills the server and removes its temporary directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#process.kill();
    releaseTempDir(this.#tempDir);
  }

  #assertNotStopped(): void {
    if (this.#stopped) throw new Error("corral/testing: the server was stopped");
  }
}
