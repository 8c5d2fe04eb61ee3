// Per-test standalone servers and clients, stopped after each test (in reverse order of
// creation), for integration files that start their own.

import { afterEach } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";

export interface StandaloneFixture {
  client(connectString: string): Promise<CorralClient>;
  standalone(): Promise<TestServer>;
  /** Runs `stop` after the test, with the fixture's own stops. */
  onCleanup(stop: () => Promise<void>): void;
}

export function standaloneFixture(tickMs: number): StandaloneFixture {
  let stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops = [];
  });
  return {
    onCleanup: (stop) => void stops.push(stop),
    async client(connectString) {
      const c = await connect(connectString, { sessionTimeoutMs: 4000 });
      stops.push(() => c.close());
      return c;
    },
    async standalone() {
      const srv = await startStandaloneForTest({ tickMs });
      stops.push(() => srv.stop());
      return srv;
    },
  };
}

/** Resolves with `path`'s children once it has `n` (a child watch per round, no polling). */
export async function childrenWhen(c: CorralClient, path: string, n: number): Promise<string[]> {
  for (let round = 0; round < 1000; round++) {
    let fire: () => void = () => {};
    const fired = new Promise<void>((resolve) => (fire = resolve));
    const kids = await c.getChildren(path, { watch: () => fire() });
    if (kids.length === n) return kids.sort();
    await fired;
  }
  throw new Error(`never ${n} children under ${path}`);
}
