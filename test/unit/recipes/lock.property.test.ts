// A read/write lock through the engine under random clients that lock, release, give up,
// lose their connection and re-send, or end their session, and a server that rebuilds its
// engine (closing its waiters' connections): at no point do two clients
// believe they hold it in conflicting modes (a writer with anyone), every belief matches
// the tree, and once everyone releases in turn, every waiter is granted (no waiter is
// stranded behind a node that is gone). fast-check with a fixed seed.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blockerOf, contenders } from "../../../recipes/read-write-lock/rules.js";
import { lock } from "./harness.js";
import { op, run, type HolderRecipe } from "./holder-model.js";

const rwLock: HolderRecipe = {
  acquire: (c, mode, requestId) => lock(c, "/l", mode, requestId),
  check: (h, holding) => {
    const writers = holding.filter((k) => k.state.s === "holding" && k.state.mode === "write");
    expect(writers.length === 0 || holding.length === 1, "a writer holds together with someone").toBe(true);
    const names = contenders(h.tree.get("/l")?.children ?? []);
    return (name) => expect(blockerOf(names, name)).toBeUndefined();
  },
};

describe("a read/write lock under random clients", () => {
  it("never two conflicting holders, beliefs match the tree, no stranded waiter", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => run(ops, rwLock)),
      { seed: 0x10c6, numRuns: 500 },
    );
  });
});
