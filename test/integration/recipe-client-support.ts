// Shared by the recipe-client fault tests (issue 13): a server of either kind (Corral's
// engine or Apache ZooKeeper for the client-side fallback) with short session timeouts, a
// fault proxy in front of it per client that should suffer, and waits on conditions
// rather than sleeps.

import { afterAll, beforeAll, describe } from "vitest";
import { connect, type ClientOptions, type ConnectionState, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest } from "../../src/server/index.js";
import { startApacheZooKeeper } from "../helpers/apache-zk.js";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { findZooKeeperInstall, inCi } from "../helpers/zookeeper-install.js";

export type Kind = "corral" | "zookeeper";

/** Session timeouts may range over 2 to 20 ticks: 400 ms to 4 s. */
export const TICK_MS = 200;

const haveZooKeeper = ((): boolean => {
  const i = findZooKeeperInstall();
  return i.java !== undefined && i.serverClasspath !== undefined;
})();

export interface FaultCtx {
  readonly kind: Kind;
  /** A client straight to the server. */
  direct(opts?: ClientOptions): Promise<CorralClient>;
  /** A client through its own fault proxy. */
  proxied(opts?: ClientOptions): Promise<{ client: CorralClient; proxy: FaultProxy }>;
}

/** Runs `body` against Corral and (when installed, or in CI) Apache ZooKeeper. */
export function describeBoth(title: string, body: (ctx: FaultCtx) => void, kinds: Kind[] = ["corral", "zookeeper"]): void {
  for (const kind of kinds) {
    describe.skipIf(kind === "zookeeper" && !haveZooKeeper && !inCi())(`${title} (${kind})`, () => {
      let target: { host: string; port: number; stop(): Promise<void> } | undefined;
      const clients: CorralClient[] = [];
      const proxies: FaultProxy[] = [];
      beforeAll(async () => {
        target = kind === "corral" ? await startStandaloneForTest({ tickMs: TICK_MS }) : await startApacheZooKeeper({ tickMs: TICK_MS });
      }, 60_000);
      afterAll(async () => {
        await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
        await Promise.all(proxies.map((p) => p.close()));
        await target?.stop();
      });
      const open = async (host: string, port: number, opts: ClientOptions = {}): Promise<CorralClient> => {
        // The first connect to a JVM that just started can take seconds on a busy machine
        // (CI saw 2 s): connecting is not what these suites test, so it gets its own bound.
        const c = await connect(`${host}:${port}`, { sessionTimeoutMs: 2000, connectTimeoutMs: 20_000, ...opts });
        clients.push(c);
        return c;
      };
      body({
        kind,
        direct: (opts) => open(target!.host, target!.port, opts),
        proxied: async (opts) => {
          const proxy = await FaultProxy.start({ host: target!.host, port: target!.port });
          proxies.push(proxy);
          return { client: await open(proxy.host, proxy.port, opts), proxy };
        },
      });
    });
  }
}

/** Resolves at the next announcement of `state` (or at once if the client is in it). */
export function reach(c: CorralClient, state: ConnectionState): Promise<void> {
  if (c.connectionState === state) return Promise.resolve();
  return new Promise((resolve) => {
    const l = (s: ConnectionState): void => {
      if (s !== state) return;
      c.off("connectionState", l);
      resolve();
    };
    c.on("connectionState", l);
  });
}

/** Round trips until `cond` holds (bounded): the effects of others' requests have landed. */
export async function until(c: CorralClient, what: string, cond: () => Promise<boolean> | boolean, tries = 2000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await c.exists("/").catch(() => undefined); // a round trip, or a failed one while disconnected
    if (i > 50) await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never: ${what}`);
}

/** Until `path` has `n` children. */
export function untilChildren(c: CorralClient, path: string, n: number): Promise<void> {
  return until(c, `${path} has ${n} children`, async () => (await c.getChildren(path).catch(() => [])).length === n);
}

let seq = 0;
export const unique = (name: string): string => `/rc${process.pid}-${seq++}-${name}`;

/** Settles with the outcome, never rejects: for asserting on rejections later. */
export function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
