// The standalone server's periodic work (session expiry, container reaper) runs on the
// timers it is given (StandaloneOptions.timers), so a simulator owns time: nothing fires
// on its own, and firing the tick with the clock past a session's timeout expires it.

import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../../src/config/index.js";
import { StandaloneServer, type Timers } from "../../../src/server/standalone.js";
import { ManualClock, type SessionId } from "../../../src/util/index.js";

describe("injected timers", () => {
  it("a session expires when the injected tick fires past its timeout, and not before", async () => {
    const armed: { ms: number; fn: () => void; cancelled: boolean }[] = [];
    const timers: Timers = {
      every: (ms, fn) => {
        const t = { ms, fn, cancelled: false };
        armed.push(t);
        return { cancel: () => void (t.cancelled = true) };
      },
    };
    const clock = new ManualClock();
    const config = { ...defaultConfig(), tickMs: 100, dataDir: undefined, dataLogDir: undefined, adminServerEnabled: false, metricsEnabled: false };
    const server = new StandaloneServer({ config, clock, timers, listen: false });
    const address = await server.start();
    expect(address.port).toBe(0); // no client port was opened
    expect(armed.map((t) => t.ms)).toEqual([100, config.containerCheckIntervalMs]);
    const id = await new Promise<SessionId>((resolve) => server.pipeline.createSession(4000, resolve));
    const fire = (): void => {
      for (const t of armed) if (!t.cancelled) t.fn();
    };
    clock.advance(3000);
    fire();
    expect(server.sessions.get(id)).toBeDefined();
    clock.advance(2000);
    fire();
    await new Promise((r) => setImmediate(r));
    expect(server.sessions.get(id)).toBeUndefined();
    await server.stop();
    expect(armed.every((t) => t.cancelled)).toBe(true);
  });
});
