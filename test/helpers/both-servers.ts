// Runs one suite against Corral and against a real Apache ZooKeeper: the server per
// suite, a client factory that tracks its clients, and teardown. The ZooKeeper half is
// skipped only when ZooKeeper is not installed and CI is not set (in CI it must run).

import { afterAll, beforeAll, describe } from "vitest";
import { connect, type ClientOptions, type CorralClient } from "../../src/client/index.js";
import { findZooKeeperInstall, inCi } from "./zookeeper-install.js";

export type ServerKind = "corral" | "zookeeper";

export interface StartedServer {
  connectString: string;
  stop(): Promise<void>;
}

export interface SuiteContext {
  readonly kind: ServerKind;
  server(): StartedServer;
  /** A connected client (to the server, with an optional chroot suffix), closed after the suite. */
  client(suffix?: string, opts?: ClientOptions): Promise<CorralClient>;
}

const haveZooKeeper = ((): boolean => {
  const i = findZooKeeperInstall();
  return i.java !== undefined && i.serverClasspath !== undefined;
})();

export function describeAgainst(kind: ServerKind, title: string, start: () => Promise<StartedServer>, body: (ctx: SuiteContext) => void): void {
  describe.skipIf(kind === "zookeeper" && !haveZooKeeper && !inCi())(`${title} against ${kind}`, () => {
    let server: StartedServer | undefined;
    const clients: CorralClient[] = [];
    beforeAll(async () => {
      server = await start();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await server?.stop();
    });
    body({
      kind,
      server: () => server!,
      client: async (suffix = "", opts = {}) => {
        const c = await connect(server!.connectString + suffix, { sessionTimeoutMs: 4000, ...opts });
        clients.push(c);
        return c;
      },
    });
  });
}
