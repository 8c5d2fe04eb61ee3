// recipes/common rules: the protected token `_c_<requestId>-` read in one place, and the
// sequence order every recipe sorts by.

import { describe, expect, it } from "vitest";
import { MISSING, isRequestId, protectedName, requestIdOf, stripProtected, tokenOf } from "../../../recipes/common/rules.js";
import { SortedNames, indexOfName, sequenceOf, sortBySequence } from "../../../recipes/common/sequence.js";
import { predecessorOf } from "../../../recipes/election/rules.js";
import { blockerOf as rwBlockerOf } from "../../../recipes/read-write-lock/rules.js";
import { permitOf } from "../../../recipes/semaphore/rules.js";

const UUID = "3f2c8a9e-1b7d-4c2e-9f00-0123456789ab";

describe("protected names", () => {
  it("reads the token of every prefix the engine and Curator use", () => {
    for (const prefix of ["write__lock__0000000007", "read__rlock__0000000001", "lease-0000000003", "n_0000000000", "inflight-qn-0000000004~500", "lock-0000000002"]) {
      const name = protectedName(UUID, prefix);
      expect(name).toBe(`_c_${UUID}-${prefix}`);
      expect(tokenOf(name)).toBe(`_c_${UUID}-`);
      expect(requestIdOf(name)).toBe(UUID);
      expect(stripProtected(name)).toBe(prefix);
    }
  });

  it("a request id without dashes, or made of digits only, reads the same", () => {
    expect(stripProtected("_c_0123456789abcdef-n_0000000001")).toBe("n_0000000001");
    expect(requestIdOf("_c_12345678-write__lock__0000000001")).toBe("12345678");
  });

  it("a name without a token is left alone", () => {
    for (const name of ["write-0000000001", "_c_x-lock-0000000001", "_c_-n_0000000001", "qn-0000000001", "_c_1234567-n_1"]) {
      expect(tokenOf(name)).toBeUndefined();
      expect(stripProtected(name)).toBe(name);
    }
  });

  it("request ids are 8-64 characters of [0-9a-f-]", () => {
    expect(isRequestId(UUID)).toBe(true);
    expect(isRequestId("0".repeat(64))).toBe(true);
    for (const bad of ["", "1234567", "0".repeat(65), UUID.toUpperCase(), "abcdefgz"]) expect(isRequestId(bad)).toBe(false);
  });

  it("MISSING is its own answer, never a name or undefined", () => {
    expect(typeof MISSING).toBe("symbol");
  });
});

describe("sequence order", () => {
  it("orders protected and plain names by their sequence alone", () => {
    const names = [`_c_${UUID}-write__lock__0000000003`, "read-0000000001", "__lock__0000000002", "x"];
    expect(sortBySequence(names)).toEqual(["read-0000000001", "__lock__0000000002", `_c_${UUID}-write__lock__0000000003`]);
    expect(sequenceOf("n_-000000005")).toBe(-5);
  });

  it("indexOfName finds a name where indexOf does, by binary search (overflowed sequences and shared sequences too)", () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let round = 0; round < 50; round++) {
      const names: string[] = [];
      for (let i = 0; i < 40; i++) {
        const seq = rand(60) - 10; // some negative: "-000000005", as after the counter overflows
        const digits = seq < 0 ? `-${String(-seq).padStart(9, "0")}` : String(seq).padStart(10, "0");
        names.push(`${["read-", "write-", "__lock__", `_c_${UUID}-write__lock__`][rand(4)]}${digits}`);
      }
      const sorted = sortBySequence(new Set(names));
      for (const n of [...sorted, "read-0000000099", "write-0000000003x", "x"]) expect(indexOfName(sorted, n)).toBe(sorted.indexOf(n));
    }
  });

  it("a SortedNames list matches a plain sorted list through takes at the head, inserts and removes anywhere", () => {
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    const name = (seq: number): string => `qn-${String(seq).padStart(10, "0")}`;
    const s = new SortedNames([name(2), name(0), name(1)], () => true);
    let model = [name(0), name(1), name(2)];
    let next = 3;
    const gone: string[] = [];
    for (let step = 0; step < 2_000; step++) {
      const r = rand(10);
      if (r < 4) {
        const n = name(next++);
        s.insert(n);
        model.push(n);
      } else if (r < 8 || model.length === 0) {
        const head = model[0];
        expect(head === undefined ? false : s.remove(head)).toBe(head !== undefined);
        model = model.slice(1);
        if (head !== undefined) gone.push(head);
      } else if (r === 8 && gone.length > 0) {
        // An item goes back under its own sequence (a requeue): anywhere, the head too.
        const back = gone.splice(rand(gone.length), 1)[0]!;
        s.insert(back);
        model = [...model, back].sort();
      } else {
        const victim = model[rand(model.length)]!;
        expect(s.remove(victim)).toBe(true);
        model = model.filter((m) => m !== victim);
        gone.push(victim);
      }
      expect(s.length).toBe(model.length);
      expect(s.find(() => true)).toBe(model[0]);
      if (step % 97 === 0) expect(s.names).toEqual(model);
    }
    expect(s.names).toEqual(model);
    expect(s.remove(name(next))).toBe(false);
  });

  it("the rules read a line from its live part on as they read that part copied out", () => {
    let seed = 5;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let round = 0; round < 200; round++) {
      const line = sortBySequence(Array.from({ length: 1 + rand(12) }, (_, i) => `${rand(2) === 0 ? "read-" : "write-"}${String(i * 3 + rand(3)).padStart(10, "0")}`));
      const from = rand(line.length);
      const live = line.slice(from);
      for (const me of [...line, "write-0000000999"]) {
        expect(rwBlockerOf(line, me, from)).toBe(rwBlockerOf(live, me));
        expect(predecessorOf(line, me, from)).toBe(predecessorOf(live, me));
        for (const permits of [1, 2, 3]) expect(permitOf(line, permits, me, from)).toBe(permitOf(live, permits, me));
      }
    }
  });

  it("a SortedNames list stays sorted through inserts and removes", () => {
    const s = new SortedNames(["a-0000000005", "a-0000000001"], () => true);
    s.insert("b-0000000003");
    expect(s.names).toEqual(["a-0000000001", "b-0000000003", "a-0000000005"]);
    expect(s.remove("b-0000000003")).toBe(true);
    expect(s.remove("b-0000000003")).toBe(false);
  });
});
