// A counting semaphore (2 permits) through the engine under random clients that acquire,
// release, give up, lose their connection and re-send, or end their session, and a server
// that rebuilds its engine (closing its waiters' connections): at no point do more than
// `permits` clients believe they hold a permit, every belief matches the tree, and once
// everyone releases in turn, every waiter is granted. fast-check with a fixed seed. (The
// ops and the driver are the lock property's, in holder-model.ts; a lock's mode means
// nothing here.)

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { holders } from "../../../recipes/semaphore/rules.js";
import { semaphore } from "./harness.js";
import { op, run, type HolderRecipe } from "./holder-model.js";

const PERMITS = 2;

const twoPermits: HolderRecipe = {
  acquire: (c, _mode, requestId) => semaphore(c, "/l", PERMITS, requestId),
  check: (h, holding) => {
    expect(holding.length).toBeLessThanOrEqual(PERMITS);
    const held = holders(h.tree.get("/l")?.children ?? [], PERMITS);
    return (name) => expect(held).toContain(name);
  },
};

describe("a semaphore under random clients", () => {
  it("never more holders than permits, beliefs match the tree, no stranded waiter", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => run(ops, twoPermits)),
      { seed: 0x5e3a, numRuns: 500 },
    );
  });
});
