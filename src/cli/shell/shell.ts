// The shell's state and its line loop, after ZooKeeper's ZooKeeperMain (3.8): one
// session (replaced by `connect`, ended by `close`), zkCli's numbered history, the
// printwatches switch, and the dispatch of a line to a command with zkCli's rules —
// an unknown command prints the usage and fails with 127; commands that need a session
// print "Not connected" (and succeed) when there is none; a failed command prints its
// message on stderr and sets the exit code (1) the shell exits with.
//
// Every watch the shell sets goes to one listener, as zkCli's default watcher, which
// prints events as zkCli does ("\nWATCHER::\n\nWatchedEvent state:... type:... path:...").
// Commands run one at a time, in input order.

import { CorralClient, parseConnectString, type ClientState, type ClientTlsOptions, type WatchEvent, type WatchListener } from "../../client/index.js";
import { isListening } from "../four-letter.js";
import { watcherMessage } from "./format.js";
import { splitLine } from "./options.js";

export interface ShellIo {
  out(text: string): void;
  err(text: string): void;
}

/** A failed command: `message` goes to stderr, `exitCode` becomes the shell's. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Lines typed (or piped) after the current one, for commands that wait for Enter. */
export interface LineSource {
  /** The next line; undefined at end of input, or when `signal` fires first (the line is then left for later). */
  next(signal?: AbortSignal): Promise<string | undefined>;
  /** Puts a line back to be read next. */
  unread(line: string): void;
}

export interface ShellCommand {
  readonly name: string;
  /** zkCli's option string, shown in the usage ("[-s] [-w] path"). */
  readonly usage: string;
  /** Whether it runs without a live session (connect, history, ...). */
  readonly local?: boolean;
  run(sh: Shell, words: string[]): Promise<void> | void;
}

export interface ShellOptions {
  sessionTimeoutMs: number;
  readOnly: boolean;
  io: ShellIo;
  commands: readonly ShellCommand[];
  /** TLS for every session (from -client-configuration); undefined = plain TCP. */
  tls?: ClientTlsOptions | undefined;
}

const PROBE_MS = 2_000;

/** ZooKeeper.States names, for the prompt. */
const STATE_NAMES: Readonly<Record<ClientState, string>> = {
  CONNECTING: "CONNECTING",
  CONNECTED: "CONNECTED",
  CONNECTED_READ_ONLY: "CONNECTEDREADONLY",
  SUSPENDED: "CONNECTING",
  EXPIRED: "CLOSED",
  AUTH_FAILED: "AUTH_FAILED",
  CLOSED: "CLOSED",
};

/** Watcher.Event.KeeperState names for the state events zkCli prints. */
const KEEPER_STATES: Partial<Record<ClientState, string>> = {
  CONNECTED: "SyncConnected",
  CONNECTED_READ_ONLY: "ConnectedReadOnly",
  SUSPENDED: "Disconnected",
  EXPIRED: "Expired",
  AUTH_FAILED: "AuthFailed",
};

export class Shell {
  readonly io: ShellIo;
  readonly opts: ShellOptions;
  /** Input is a terminal: prompts and hints are shown. */
  tty = false;
  readonly commands: ReadonlyMap<string, ShellCommand>;
  host = "";
  client: CorralClient | undefined;
  printWatches = true;
  readonly history = new Map<number, string>();
  commandCount = 0;
  exitCode = 0;
  lines: LineSource = { next: async () => undefined, unread: () => {} };
  /** Aborts the command that is waiting (lock held, take, barrier wait): Ctrl-C. */
  #interrupt: AbortController | undefined;
  #connecting: Promise<void> = Promise.resolve();
  /** The client the user closed (close, connect, quit): it prints Closed, not "Not connected" errors. */
  #closed = new WeakSet<CorralClient>();

  constructor(opts: ShellOptions) {
    this.opts = opts;
    this.io = opts.io;
    this.commands = new Map(opts.commands.map((c) => [c.name, c]));
  }

  /** zkCli's default watcher: every watch the shell sets reports here. */
  readonly watcher: WatchListener = (e: WatchEvent) => {
    const state = this.client?.state === "CONNECTED_READ_ONLY" ? "ConnectedReadOnly" : "SyncConnected";
    this.#printWatch(state, e.type, e.path);
  };

  #printWatch(state: string, type: string, path: string | null): void {
    if (this.printWatches) this.io.out(watcherMessage(state, type, path));
  }

  /** `[zk: host(STATE) n] `, zkCli's JLine prompt. */
  prompt(): string {
    const state = this.client === undefined ? "CLOSED" : this.#closed.has(this.client) ? "CLOSED" : STATE_NAMES[this.client.state];
    return `[zk: ${this.host}(${state}) ${this.commandCount}] `;
  }

  /** ZooKeeper.getState().isAlive(): not closed, expired or refused. */
  get alive(): boolean {
    const c = this.client;
    return c !== undefined && !this.#closed.has(c) && c.state !== "EXPIRED" && c.state !== "AUTH_FAILED";
  }

  /** Opens a session to `host` (a connect string), closing the current one. */
  async connect(host: string): Promise<void> {
    await this.closeSession();
    this.host = host;
    const hosts = parseConnectString(host).hosts;
    const c = new CorralClient(host, {
      sessionTimeoutMs: this.opts.sessionTimeoutMs,
      connectTimeoutMs: this.opts.sessionTimeoutMs,
      canBeReadOnly: this.opts.readOnly,
      ...(this.opts.tls === undefined ? {} : { tls: this.opts.tls }),
      // zkCli's handle is dead once its session is lost (Expired), not renewed.
      afterLost: "close",
    });
    this.client = c;
    c.on("state", (s: ClientState) => {
      if (this.#closed.has(c)) return;
      const keeper = KEEPER_STATES[s];
      if (keeper !== undefined) this.#printWatch(keeper, "None", null);
    });
    c.on("error", () => {});
    this.#connecting = (async () => {
      // The Java client fails queued requests with ConnectionLoss as soon as no server
      // can be reached; without a server the shell does the same instead of waiting.
      const reachable = await Promise.all(hosts.map((h) => isListening(h.host, h.port, PROBE_MS)));
      if (!reachable.includes(true)) {
        this.#closed.add(c);
        await c.close();
        this.#closed.delete(c);
        return;
      }
      await c.start().catch(() => undefined);
    })();
  }

  /** Closes the session (its ephemerals go); prints zkCli's Closed event unless `quiet`. */
  async closeSession(quiet = false): Promise<void> {
    const c = this.client;
    if (c === undefined || this.#closed.has(c)) return;
    await this.#connecting;
    this.#closed.add(c);
    const wasAlive = c.state !== "EXPIRED" && c.state !== "AUTH_FAILED" && c.state !== "CLOSED";
    await c.close().catch(() => undefined);
    if (wasAlive && !quiet) this.#printWatch("Closed", "None", null);
  }

  /** The live client, after the connection attempt has settled. */
  async zk(): Promise<CorralClient> {
    await this.#connecting;
    return this.client!;
  }

  /** Waits for the connection attempt (so its SyncConnected prints before a command's output). */
  settled(): Promise<void> {
    return this.#connecting;
  }

  /** An abort signal for a command that waits; Ctrl-C fires it. */
  waitSignal(): AbortSignal {
    this.#interrupt = new AbortController();
    return this.#interrupt.signal;
  }

  /** Ctrl-C: aborts a waiting command; false when none was waiting. */
  interrupt(): boolean {
    const i = this.#interrupt;
    if (i === undefined || i.signal.aborted) return false;
    i.abort(new CliError("Interrupted"));
    return true;
  }

  doneWaiting(): void {
    this.#interrupt = undefined;
  }

  /** ZooKeeperMain.executeLine: records it in the history and runs it; "quit" ends the shell. */
  async executeLine(line: string): Promise<"quit" | undefined> {
    if (line.trim() === "") return undefined;
    this.history.set(this.commandCount, line);
    const r = await this.run(splitLine(line));
    this.commandCount++;
    return r;
  }

  /** ZooKeeperMain.processCmd: one command's words; sets exitCode. */
  async run(words: string[]): Promise<"quit" | undefined> {
    try {
      const r = await this.#dispatch(words);
      if (r !== "quit") this.exitCode = 0;
      return r;
    } catch (e) {
      // zkCli dies on an unexpected exception; the shell reports it and goes on.
      const err = e instanceof CliError ? e : new CliError(e instanceof Error ? e.message : String(e));
      this.exitCode = err.exitCode;
      this.io.err(`${err.message}\n`);
      return undefined;
    }
  }

  usage(): string {
    const lines = [...this.commands.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((c) => `\t${c.name} ${c.usage}\n`);
    return `ZooKeeper -server host:port -client-configuration properties-file cmd args\n${lines.join("")}`;
  }

  async #dispatch(words: string[]): Promise<"quit" | undefined> {
    const name = words[0];
    if (name === undefined) {
      this.io.err(this.usage());
      throw new CliError("No command entered");
    }
    const cmd = this.commands.get(name);
    if (cmd === undefined) {
      this.io.err(this.usage());
      throw new CliError(`Command not found: Command not found ${name}`, 127);
    }
    if (name === "quit") {
      await this.closeSession();
      return "quit";
    }
    await this.#connecting;
    if (cmd.local === true) {
      await cmd.run(this, words);
      // The commands zkCli handles itself still end with its connection check.
      if (!this.alive) this.io.out("Not connected\n");
      return undefined;
    }
    if (!this.alive) {
      this.io.out("Not connected\n");
      return undefined;
    }
    await cmd.run(this, words);
    return undefined;
  }
}
