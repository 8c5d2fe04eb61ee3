// Sanity checks of the recipe fault harness itself, against one real standalone server: a
// client black-holed past its session timeout through its FaultProxies does lose its
// session (so "blackhole-expire" faults mean what they say), and a short black hole does not.

import { afterAll, afterEach, expect, it } from "vitest";
import { connectChaosClient } from "./lib/client-adapter.js";
import { ClientNet, ProcCluster, killAllChildren, sleep } from "./lib/cluster.js";

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

it("black-holing a client past its session timeout expires the session; a short black hole does not", async () => {
  const cluster = await ProcCluster.start({ members: 1, tickTimeMs: 100 });
  const net = new ClientNet(cluster);
  try {
    const lost: string[] = [];
    const short = await connectChaosClient("short", await net.connectString("short"), { sessionTimeoutMs: 1_000, connectTimeoutMs: 5_000 }, { onSessionLost: (s) => lost.push(`short ${s}`) });
    const long = await connectChaosClient("long", await net.connectString("long"), { sessionTimeoutMs: 1_000, connectTimeoutMs: 5_000 }, { onSessionLost: (s) => lost.push(`long ${s}`) });
    const longSession = long.session();
    net.blackhole("short", 300);
    net.blackhole("long", 2_500);
    for (let i = 0; i < 100 && lost.length === 0; i++) await sleep(100);
    expect(lost).toEqual([`long ${longSession}`]);
    expect(short.usable()).toBe(true);
    await short.setData("/", "still here");
    await short.close();
    await long.close().catch(() => undefined);
  } finally {
    await net.closeAll();
    await cluster.stop();
  }
}, 40_000);
