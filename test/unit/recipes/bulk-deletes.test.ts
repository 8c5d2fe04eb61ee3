// A txn that deletes many contenders of one line at once (a session with many waits ends,
// or a multi removes several nodes): the engine drops them from the line in one pass
// (onChildrenDeleting) before it handles each deletion. The line must come out as if each
// deletion were handled alone: the rest keep their order and are granted in turn, the
// waiters whose nodes went are told NodeGone only when another session removed them, and
// nobody is granted twice or skipped.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Err, RecipeEventKind } from "../../../src/jute/index.js";
import { SortedNames } from "../../../recipes/common/sequence.js";
import { rq } from "../pipeline/harness.js";
import { EngineHarness, events, lock, release, semaphore } from "./harness.js";

const seqName = (n: number): string => `_c_${String(n).padStart(8, "0")}-write__lock__${String(n).padStart(10, "0")}`;

describe("SortedNames.removeMany", () => {
  it("leaves exactly the names not removed, in order, after head removals and inserts too", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 59 })), { maxLength: 120 }), (ops) => {
        const sorted = new SortedNames([], () => true);
        let model: number[] = [];
        let next = 0;
        for (const [kind, n] of ops) {
          if (kind === 0) {
            sorted.insert(seqName(next));
            model.push(next++);
          } else if (kind === 1 && model.length > 0) {
            sorted.remove(seqName(model[0]!));
            model = model.slice(1);
          } else {
            const drop = model.filter((x) => (x + n) % 3 === 0);
            sorted.removeMany([...drop.map(seqName), seqName(1000 + n)]);
            model = model.filter((x) => !drop.includes(x));
          }
          expect(sorted.length).toBe(model.length);
          expect([...sorted.names]).toEqual(model.map(seqName));
        }
      }),
      { seed: 77, numRuns: 300 },
    );
  });
});

describe("a txn deleting many contenders of one line", () => {
  it("a session with many waits in a mutex line ends: the others keep their order and are granted in turn, told nothing else", () => {
    const h = new EngineHarness();
    const holder = h.connect();
    const a = h.connect();
    const b = h.connect();
    const held = lock(holder, "/l", "write");
    expect(held.body!.granted).toBe(true);
    // a's and b's waits mixed in the line: some of b's block one of a's, some another of b's.
    const mine: { c: typeof a; node: string; requestId: string }[] = [];
    for (let i = 0; i < 4; i++) {
      for (const c of [a, b, b]) {
        const w = lock(c, "/l", "write");
        expect(w.body!.granted).toBe(false);
        mine.push({ c, node: w.body!.node, requestId: w.requestId });
      }
    }
    expect(b.closeSession()).toBe(Err.Ok);
    expect(events(a)).toEqual([]);
    // Its own waits went with its session: nothing is pushed to it for them.
    expect(events(b)).toEqual([]);
    // The holder lets go: a's waits are granted one at a time, in their order.
    expect(release(holder, held.body!.node)).toBe(Err.Ok);
    const aWaits = mine.filter((m) => m.c === a);
    for (let i = 0; i < aWaits.length; i++) {
      const got = events(a);
      expect(got).toEqual(aWaits.slice(0, i + 1).map((w) => expect.objectContaining({ kind: RecipeEventKind.LockGranted, node: w.node, requestId: w.requestId })));
      expect(release(a, aWaits[i]!.node)).toBe(Err.Ok);
    }
    expect(events(a)).toHaveLength(aWaits.length);
  });

  it("a multi of another session removes several waits: each of their sessions is told NodeGone once; the first left is granted when its turn comes", () => {
    const h = new EngineHarness();
    const holder = h.connect();
    const a = h.connect();
    const b = h.connect();
    const admin = h.connect();
    const held = lock(holder, "/l", "write");
    const w1 = lock(a, "/l", "write");
    const w2 = lock(b, "/l", "write");
    const w3 = lock(a, "/l", "write");
    const w4 = lock(b, "/l", "write");
    const r = admin.multi([rq.delete(w1.body!.node), rq.delete(w2.body!.node), rq.delete(w3.body!.node)]);
    expect(r.err).toBe(Err.Ok);
    const gone = (w: typeof w1) => expect.objectContaining({ kind: RecipeEventKind.NodeGone, node: w.body!.node, requestId: w.requestId });
    expect(events(a)).toEqual([gone(w1), gone(w3)]);
    expect(events(b)).toEqual([gone(w2)]);
    expect(release(holder, held.body!.node)).toBe(Err.Ok);
    expect(events(b)).toEqual([gone(w2), expect.objectContaining({ kind: RecipeEventKind.LockGranted, node: w4.body!.node, requestId: w4.requestId })]);
  });

  it("a semaphore: a session holding some leases and waiting for more ends; the next waiters get its permits", () => {
    const h = new EngineHarness();
    const a = h.connect();
    const b = h.connect();
    const leases = [semaphore(a, "/s", 2), semaphore(a, "/s", 2), semaphore(a, "/s", 2), semaphore(b, "/s", 2), semaphore(b, "/s", 2)];
    expect(leases.map((l) => l.body!.granted)).toEqual([true, true, false, false, false]);
    expect(a.closeSession()).toBe(Err.Ok);
    expect(events(b)).toEqual(leases.slice(3).map((l) => expect.objectContaining({ kind: RecipeEventKind.LockGranted, node: l.body!.node, requestId: l.requestId })));
  });
});
