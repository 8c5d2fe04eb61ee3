/**
 * The one place the recipe fault suite touches Corral's client API, so the suite can follow
 * the client as it changes (protocol v2, connection states) by editing this file only.
 *
 * It is written against the API the v2 client describes and falls back to the older one:
 * - connection states: `client.on("connectionState", (state, info) => …)` with Curator's
 *   names (CONNECTED, SUSPENDED, RECONNECTED, LOST, CLOSED) when the client has
 *   `connectionStates()`, else the older `"state"` events (…, SUSPENDED, EXPIRED, CLOSED);
 *   LOST / EXPIRED is reported as the loss of the session it was about;
 * - locks: the handle's `token` (fencing) and `lost` AbortSignal;
 * - elections: `onLeadershipChange` and `isLeader()`;
 * - queues: `queue(p)` (FIFO; the v2 client acks a take by itself) and `jobQueue(p)` with
 *   `ack()`.
 * A client the suite can no longer use (old API: EXPIRED or CLOSED, final; v2: CLOSED) is
 * replaced by the workloads with a new one.
 */
import { connect, type CorralClient } from "../../../src/client/index.js";

export type SessionHex = string;

export interface Held {
  readonly token: bigint;
  /** Fires if the lock is lost while held. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface ChaosElection {
  join(): Promise<void>;
  isLeader(): boolean;
  onLeadershipChange(cb: (isLeader: boolean) => void): () => void;
}

export interface ChaosJob {
  readonly data: string;
  ack(): Promise<void>;
}

export interface ClientHooks {
  /** Every connection state change, with the session it was about. */
  onState?(state: string, session: SessionHex): void;
  /** The session `session` is gone (LOST / EXPIRED as the client announced it). */
  onSessionLost?(session: SessionHex, why: string): void;
}

export interface ChaosClient {
  readonly name: string;
  /** The session the client is on now (hex). */
  session(): SessionHex;
  /** False once the client can never serve again: it must be replaced. */
  usable(): boolean;
  lock(path: string, mode: "write" | "read", signal: AbortSignal): Promise<Held>;
  fifoOffer(path: string, data: string): Promise<void>;
  fifoTake(path: string, signal: AbortSignal): Promise<string>;
  jobOffer(path: string, data: string): Promise<void>;
  jobTake(path: string, signal: AbortSignal): Promise<ChaosJob>;
  election(path: string, id: string): ChaosElection;
  setData(path: string, data: string): Promise<void>;
  /** The children of `path` with their data (utf8) and ephemeral owner (hex; "0x0" if none). */
  children(path: string): Promise<{ name: string; data: string; owner: string }[]>;
  ensure(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
}

/** Old client states after which it never serves again. */
const FINAL_OLD = new Set(["EXPIRED", "CLOSED", "AUTH_FAILED"]);

export function sessionHex(id: bigint): SessionHex {
  return `0x${id.toString(16)}`;
}

export async function connectChaosClient(name: string, connectString: string, opts: ConnectOptions, hooks: ClientHooks = {}): Promise<ChaosClient> {
  // Options the v2 client may understand (an operation timeout) are passed as well; the old
  // client ignores what it does not know.
  const clientOpts = { sessionTimeoutMs: opts.sessionTimeoutMs, connectTimeoutMs: opts.connectTimeoutMs } as Parameters<typeof connect>[1];
  const raw = await connect(connectString, clientOpts);
  return new Adapted(name, raw, hooks);
}

interface V2Like {
  connectionStates?: unknown;
  connectionState?: unknown;
}

class Adapted implements ChaosClient {
  readonly name: string;
  readonly #raw: CorralClient;
  readonly #v2: boolean;
  #closedByUs = false;
  #final = false;

  constructor(name: string, raw: CorralClient, hooks: ClientHooks) {
    this.name = name;
    this.#raw = raw;
    this.#v2 = typeof (raw as unknown as V2Like).connectionStates === "function";
    const emitter = raw as unknown as { on(ev: string, fn: (...args: unknown[]) => void): unknown };
    if (this.#v2) {
      emitter.on("connectionState", (...args: unknown[]) => {
        const state = String(args[0]);
        const info = (args[1] ?? {}) as { sessionId?: bigint; reason?: unknown };
        const session = sessionHex(typeof info.sessionId === "bigint" ? info.sessionId : raw.sessionId);
        if (state === "CLOSED") this.#final = true;
        hooks.onState?.(state, session);
        if (state === "LOST") hooks.onSessionLost?.(session, `LOST ${errText(info.reason)}`);
      });
    } else {
      emitter.on("state", (...args: unknown[]) => {
        const state = String(args[0]);
        const session = sessionHex(raw.sessionId);
        if (FINAL_OLD.has(state)) this.#final = true;
        hooks.onState?.(state, session);
        if (state === "EXPIRED") hooks.onSessionLost?.(session, "EXPIRED");
      });
    }
  }

  session(): SessionHex {
    return sessionHex(this.#raw.sessionId);
  }

  usable(): boolean {
    return !this.#final && !this.#closedByUs;
  }

  async lock(path: string, mode: "write" | "read", signal: AbortSignal): Promise<Held> {
    const h = mode === "write" ? await this.#raw.writeLock(path, { signal }) : await this.#raw.readLock(path, { signal });
    return { token: h.token, lost: h.lost, release: () => h.release() };
  }

  async fifoOffer(path: string, data: string): Promise<void> {
    await this.#raw.queue(path).offer(data);
  }

  async fifoTake(path: string, signal: AbortSignal): Promise<string> {
    return (await this.#raw.queue(path).take({ signal })).toString("utf8");
  }

  async jobOffer(path: string, data: string): Promise<void> {
    await this.#raw.jobQueue(path).offer(data);
  }

  async jobTake(path: string, signal: AbortSignal): Promise<ChaosJob> {
    const j = await this.#raw.jobQueue(path).take({ signal });
    return { data: j.data.toString("utf8"), ack: () => j.ack() };
  }

  election(path: string, id: string): ChaosElection {
    const e = this.#raw.election(path, id);
    return { join: () => e.join(), isLeader: () => e.isLeader(), onLeadershipChange: (cb) => e.onLeadershipChange(cb) };
  }

  async setData(path: string, data: string): Promise<void> {
    await this.#raw.setData(path, data);
  }

  async children(path: string): Promise<{ name: string; data: string; owner: string }[]> {
    const out: { name: string; data: string; owner: string }[] = [];
    for (const name of await this.#raw.getChildren(path)) {
      const got = await this.#raw.getData(`${path}/${name}`).catch(() => undefined);
      if (got !== undefined) out.push({ name, data: got.data?.toString("utf8") ?? "", owner: sessionHex(got.stat.ephemeralOwner) });
    }
    return out;
  }

  async ensure(path: string): Promise<void> {
    let at = "";
    for (const part of path.split("/").filter((p) => p !== "")) {
      at += `/${part}`;
      await this.#raw.create(at, null).catch((e: unknown) => {
        if ((e as { code?: unknown }).code !== "NodeExists") throw e;
      });
    }
  }

  async close(): Promise<void> {
    this.#closedByUs = true;
    await this.#raw.close();
  }
}

function errText(e: unknown): string {
  if (e === undefined) return "";
  if (e instanceof Error) return (e as { code?: string }).code ?? e.message;
  return String(e);
}
