// Why the ZAB-level run's nzk writer fails its own call on EXPIRED (ensemble-run.ts,
// NzkWriter): node-zookeeper-client never calls back a request made while disconnected
// when the reconnect finds the session expired. Shown against a standalone server behind
// a FaultProxy: refuse connections past the session timeout, create, heal.

import zookeeper from "node-zookeeper-client";
import { afterAll, expect, it } from "vitest";
import { FaultProxy } from "../helpers/fault-proxy.js";
import { ProcCluster, killAllChildren, sleep } from "./lib/cluster.js";

afterAll(() => killAllChildren());

it("node-zookeeper-client drops a request queued while disconnected once its session expires", async () => {
  const cluster = await ProcCluster.start({ members: 1 });
  const proxy = await FaultProxy.start({ host: "127.0.0.1", port: cluster.members[0]!.clientPort });
  const c = zookeeper.createClient(`127.0.0.1:${proxy.port}`, { sessionTimeout: 1_000, spinDelay: 20 });
  try {
    await new Promise<void>((resolve) => {
      c.once("connected", () => resolve());
      c.connect();
    });
    const expired = new Promise<void>((resolve) => c.once("expired", () => resolve()));
    proxy.refuse(true);
    proxy.cut();
    await sleep(100);
    let settled = false;
    c.create("/queued", Buffer.from("x"), () => {
      settled = true;
    });
    await sleep(2_500); // past the session timeout, still cut off
    proxy.refuse(false);
    await expired;
    await sleep(1_000);
    expect(settled).toBe(false); // never called back: the writer must fail it itself
  } finally {
    c.close();
    await proxy.close();
    await cluster.stop();
  }
}, 30_000);
