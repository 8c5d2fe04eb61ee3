// examples/service-discovery/discovery.mjs as users run it, against a real standalone
// server with short sessions: a watching client sees each instance appear when it
// registers, an instance killed with SIGKILL disappear once its session expires, and one
// stopped with SIGTERM disappear at once (it closes its session), and one paused past its
// session's expiry register again once resumed; all of them exit 0 on SIGTERM.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { ExampleProcess } from "./run-example.js";

const SCRIPT = "service-discovery/discovery.mjs";
/** Sessions of at most 20 ticks (3 s): a killed instance's session expires quickly. */
const TICK_MS = 150;

describe.skipIf(process.platform === "win32")("examples/service-discovery", () => {
  let srv: TestServer;
  const procs: ExampleProcess[] = [];

  beforeAll(async () => {
    srv = await startStandaloneForTest({ tickMs: TICK_MS });
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await srv?.stop();
  });

  const run = (args: string[]): ExampleProcess => {
    const p = new ExampleProcess(SCRIPT, [...args, srv.connectString]);
    procs.push(p);
    return p;
  };

  it("lists instances as they register, drops a killed one when its session expires and a stopped one at once, and a paused one registers again", async () => {
    const watcher = run(["watch", "api"]);
    await watcher.line(/^watching \/services\/api$/);
    expect(watcher.lines[0]).toBe("instances api: (none)");

    const a = run(["register", "api", "127.0.0.1:9001"]);
    await a.line(/^registered \/services\/api\/127\.0\.0\.1:9001$/);
    await watcher.line(/^instances api: 127\.0\.0\.1:9001$/);
    const b = run(["register", "api", "127.0.0.1:9002"]);
    await b.line(/^registered /);
    await watcher.line(/^instances api: 127\.0\.0\.1:9001, 127\.0\.0\.1:9002$/);
    const other = run(["register", "billing", "127.0.0.1:9100"]); // another service: not listed
    await other.line(/^registered \/services\/billing\/127\.0\.0\.1:9100$/);

    // Killed: no goodbye; the server expires its session, and the ephemeral node goes.
    // (No bound on when: on a loaded machine the killed process may have gone unheard for
    // most of its session timeout before the kill.)
    a.proc.kill("SIGKILL");
    await watcher.line(/^instances api: 127\.0\.0\.1:9002$/);
    const client = await connect(srv.connectString);
    try {
      expect(await client.getChildren("/services/api")).toEqual(["127.0.0.1:9002"]);
    } finally {
      await client.close();
    }

    // Stopped: it closes its session, so it is gone at once, and it exits 0.
    b.proc.kill("SIGTERM");
    expect(await b.exit()).toEqual({ code: 0, signal: null });
    expect(b.lines.slice(-2)).toEqual(["deregistered /services/api/127.0.0.1:9002", "stopped"]);
    await watcher.line(/^instances api: \(none\)$/);

    expect(watcher.lines.filter((l) => l.startsWith("instances"))).toEqual([
      "instances api: (none)",
      "instances api: 127.0.0.1:9001",
      "instances api: 127.0.0.1:9001, 127.0.0.1:9002",
      "instances api: 127.0.0.1:9002",
      "instances api: (none)",
    ]);
    // Paused past its session's expiry (SIGSTOP: a GC pause, a stalled VM): the server
    // drops it; resumed, its client finds the session LOST, opens a new one, and the
    // instance registers again.
    const billing = run(["watch", "billing"]);
    await billing.line(/^instances billing: 127\.0\.0\.1:9100$/);
    other.proc.kill("SIGSTOP");
    await billing.line(/^instances billing: \(none\)$/);
    other.proc.kill("SIGCONT");
    await other.line(/^registered \/services\/billing\/127\.0\.0\.1:9100 again, on a new session$/);
    await billing.until("the instance back", (lines) => lines.filter((l) => l === "instances billing: 127.0.0.1:9100").length === 2);

    for (const p of [watcher, other, billing]) {
      p.proc.kill("SIGTERM");
      expect(await p.exit()).toEqual({ code: 0, signal: null });
      expect(p.lines.at(-1)).toBe("stopped");
    }
  });
});
