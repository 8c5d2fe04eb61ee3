// examples/config-watch/config-watch.mjs as users run it, against a real server
// (corral/testing's TestingServer): it loads the config tree, then prints every change
// below it (one persistent recursive watch), each one, in the order the server applied
// them, and nothing outside the tree; changes made while its connection was down (which
// fire no event) are printed once it is back; SIGTERM stops it with exit 0.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { FaultProxy, TestingServer } from "../../src/testing/index.js";
import { ExampleProcess } from "./run-example.js";

const COUNTER_SETS = 20;

describe("examples/config-watch", () => {
  let srv: TestingServer;
  let client: CorralClient;
  let watcher: ExampleProcess | undefined;
  let proxy: FaultProxy | undefined;

  beforeAll(async () => {
    srv = await TestingServer.start();
    client = await connect(srv.connectString);
  });

  afterAll(async () => {
    await watcher?.kill();
    await proxy?.close();
    await client?.close();
    await srv?.stop();
  });

  it("prints the loaded config, then every change below the path in order, and exits 0 on SIGTERM", async () => {
    await client.create("/app");
    await client.create("/app/config");
    await client.create("/app/config/db", "v0");
    await client.create("/app/config/counter", "0");

    const w = (watcher = new ExampleProcess("config-watch/config-watch.mjs", [srv.connectString]));
    await w.line(/^watching \/app\/config \(2 keys\)$/);
    expect(w.lines).toContain("loaded /app/config/db = v0");
    expect(w.lines).toContain("loaded /app/config/counter = 0");

    // Changes, made as fast as the server answers (each write awaited, none waits for the
    // watcher): every one gets its own event.
    await client.setData("/app/config/db", "v1");
    await client.create("/app/config/cache", "on");
    await client.create("/app/other", "not config"); // outside the watched tree
    await client.create("/app/config/feature");
    await client.create("/app/config/feature/x", "1");
    await client.delete("/app/config/cache");
    for (let i = 1; i <= COUNTER_SETS; i++) await client.setData("/app/config/counter", String(i));
    await client.setData("/app/config/db", "v2");
    await client.delete("/app/config/feature/x");

    const expected = [
      "NodeDataChanged /app/config/db",
      "NodeCreated /app/config/cache",
      "NodeCreated /app/config/feature",
      "NodeCreated /app/config/feature/x",
      "NodeDeleted /app/config/cache",
      ...Array.from({ length: COUNTER_SETS }, () => "NodeDataChanged /app/config/counter"),
      "NodeDataChanged /app/config/db",
      "NodeDeleted /app/config/feature/x",
    ];
    const events = (): string[] => w.lines.filter((l) => l.startsWith("Node")).map((l) => l.split(" ").slice(0, 2).join(" "));
    await w.until(`${expected.length} changes`, () => events().length >= expected.length);
    expect(events()).toEqual(expected);
    expect(w.lines.some((l) => l.includes("/app/other"))).toBe(false);

    // A value is read after its event, so it may already be a later one, never an earlier.
    const counterValues = w.lines.filter((l) => l.startsWith("NodeDataChanged /app/config/counter = ")).map((l) => Number(l.split(" = ")[1]));
    expect(counterValues).toEqual([...counterValues].sort((a, b) => a - b));
    expect(counterValues.at(-1)).toBe(COUNTER_SETS);
    expect(w.lines.filter((l) => l.startsWith("NodeDataChanged /app/config/db = ")).at(-1)).toBe("NodeDataChanged /app/config/db = v2");

    w.proc.kill("SIGTERM");
    expect(await w.exit()).toEqual({ code: 0, signal: null });
    expect(w.lines.at(-1)).toBe("stopped");
  });

  it("prints what changed while its connection was down once it is back", async () => {
    await client.create("/svc");
    await client.create("/svc/config");
    await client.create("/svc/config/db", "v0");
    await client.create("/svc/config/gone", "x");
    const p = (proxy = await FaultProxy.start({ host: srv.host, port: srv.port }));
    const w = (watcher = new ExampleProcess("config-watch/config-watch.mjs", [`${srv.host}:${p.port}`], { CONFIG_PATH: "/svc/config" }));
    await w.line(/^watching \/svc\/config \(2 keys\)$/);

    p.refuse(true);
    p.cut(); // the watcher's connection is gone, and it cannot come back yet
    await client.setData("/svc/config/db", "v-missed");
    await client.delete("/svc/config/gone");
    await client.create("/svc/config/new", "n");
    p.refuse(false); // back on the same session: the watch is armed again, the changes had no event

    await w.until("the resync", (lines) => lines.filter((l) => l.startsWith("resynced")).length === 3);
    expect(w.lines.filter((l) => l.startsWith("resynced"))).toEqual([
      "resynced /svc/config/db = v-missed",
      "resynced /svc/config/new = n",
      "resynced, deleted /svc/config/gone",
    ]);
    // And the watch works again.
    await client.setData("/svc/config/db", "v2");
    await w.line(/^NodeDataChanged \/svc\/config\/db = v2$/);
    w.proc.kill("SIGTERM");
    expect(await w.exit()).toEqual({ code: 0, signal: null });
  });
});
