// Handing memory back after the tree shrinks (src/server/reclaim.ts): when the policy
// asks, and that a server asks once a session's many nodes are gone.

import { describe, expect, it } from "vitest";
import { connect } from "../../../src/client/index.js";
import { MemoryReclaimer, gcHook, startStandaloneForTest } from "../../../src/server/index.js";

describe("MemoryReclaimer", () => {
  it("asks once the tree fell by the minimum and to half its peak, then measures from there", () => {
    let asked = 0;
    const r = new MemoryReclaimer(() => asked++, 100);
    for (const n of [10, 150, 300]) expect(r.observe(n)).toBe(false);
    expect(r.observe(160)).toBe(false); // fell by 140 but not to half of 300
    expect(r.observe(150)).toBe(true);
    expect(asked).toBe(1);
    expect(r.observe(100)).toBe(false); // the peak is now 150: only 50 freed since
    expect(r.observe(0)).toBe(true);
    expect(asked).toBe(2);
  });

  it("needs the minimum even when the tree halves", () => {
    const r = new MemoryReclaimer(() => {}, 100);
    r.observe(120);
    expect(r.observe(30)).toBe(false);
    expect(r.requests).toBe(0);
  });

  it("gcHook gives a function that starts a collection without throwing", () => {
    const gc = gcHook();
    expect(gc).toBeTypeOf("function");
    expect(() => gc!()).not.toThrow();
  });
});

describe("a server hands memory back", () => {
  it("after a closed session took most of the tree with it", async () => {
    let reclaimed!: () => void;
    const asked = new Promise<void>((r) => (reclaimed = r));
    const t = await startStandaloneForTest({ tickMs: 20, reclaimMemory: { reclaim: () => reclaimed(), minFreedNodes: 150 } });
    try {
      const c = await connect(t.connectString);
      await c.create("/many", null);
      await Promise.all(Array.from({ length: 200 }, (_, i) => c.create(`/many/e${i}`, null, { mode: "ephemeral" })));
      const nodes = t.server.tree.nodeCount;
      // Let a tick see the peak: the tick is a 20 ms interval started long before this
      // timer, so it fires first even on a late event loop.
      await new Promise((r) => setTimeout(r, 60));
      await c.close();
      await asked;
      expect(t.server.tree.nodeCount).toBeLessThan(nodes / 2);
    } finally {
      await t.stop();
    }
  });
});
