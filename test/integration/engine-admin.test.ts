// Admin `queues` and corral_queue_depth show every queue in the tree (issue 13, item 9):
// also a backlog nobody has taken from since the server started, e.g. with every consumer
// down across a restart. A durable server, fed with plain creates over a raw connection.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpCode } from "../../src/jute/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.js";
import { RawClient } from "./engine-raw-client.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "corral-engine-admin-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function queuesOf(t: TestServer): Promise<unknown> {
  const r = await fetch(`${t.adminUrl}/commands/queues`);
  return ((await r.json()) as { queues: unknown }).queues;
}

async function depthOf(t: TestServer): Promise<number | undefined> {
  const r = await fetch(`${t.metricsUrl}/metrics`);
  return sampleValue(parsePrometheusText(await r.text()), "corral_queue_depth");
}

describe("every queue in the tree shows in admin and metrics", () => {
  it("a backlog nobody took from, before and after a restart", async () => {
    const opts = { dataDir: dir, adminServer: true, metrics: true } as const;
    let t = await startStandaloneForTest(opts);
    try {
      const c = await RawClient.open(t.host, t.port);
      await c.create("/jobs", "", 0);
      await c.create("/jobs/sub", "", 0);
      for (let i = 0; i < 3; i++) await c.create("/jobs/qn-", String(i), 2);
      await c.create("/jobs/sub/qn-", "x", 2);
      expect(await queuesOf(t)).toEqual([
        { path: "/jobs", depth: 3, waiters: 0, in_flight: 0, in_flight_items: [] },
        { path: "/jobs/sub", depth: 1, waiters: 0, in_flight: 0, in_flight_items: [] },
      ]);
      expect(await depthOf(t)).toBe(4);
      await c.call(OpCode.delete, undefined, (w) => {
        w.ustring("/jobs/sub/qn-0000000000");
        w.int(-1);
      });
      expect(await queuesOf(t)).toEqual([{ path: "/jobs", depth: 3, waiters: 0, in_flight: 0, in_flight_items: [] }]);
      await c.close();
    } finally {
      await t.stop();
    }
    // Every consumer down, the server restarted: the backlog is still there to see.
    t = await startStandaloneForTest(opts);
    try {
      expect(await queuesOf(t)).toEqual([{ path: "/jobs", depth: 3, waiters: 0, in_flight: 0, in_flight_items: [] }]);
      expect(await depthOf(t)).toBe(3);
      // A rebuild (SNAP, TRUNC, new leader) keeps the index: it is read from the tree.
      t.server.rebuildRecipes("test");
      expect(await depthOf(t)).toBe(3);
    } finally {
      await t.stop();
    }
  });
});
