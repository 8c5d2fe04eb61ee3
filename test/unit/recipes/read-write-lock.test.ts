// The read/write lock's rules: who holds, who blocks whom, the names of every client-side
// recipe, and fail-closed answers for a contender that is not in the list.

import { describe, expect, it } from "vitest";
import { MISSING } from "../../../recipes/common/rules.js";
import { NODE_PREFIX, blockerOf, contenders, modeOf } from "../../../recipes/read-write-lock/rules.js";

const id = "0a1b2c3d-0000-4000-8000-000000000001";
const w = (n: number, token = true) => `${token ? `_c_${id}-` : ""}${NODE_PREFIX.write}${String(n).padStart(10, "0")}`;
const r = (n: number, token = true) => `${token ? `_c_${id}-` : ""}${NODE_PREFIX.read}${String(n).padStart(10, "0")}`;

describe("read/write lock rules", () => {
  it("knows the modes of ours (with and without the protected token), kazoo's, Curator's and the docs' names", () => {
    expect(modeOf(w(1))).toBe("write");
    expect(modeOf(r(1))).toBe("read");
    expect(modeOf(w(1, false))).toBe("write");
    expect(modeOf("f81d4fae7dec11d0a76500a0c91e6bf6__lock__0000000001")).toBe("write");
    expect(modeOf("f81d4fae7dec11d0a76500a0c91e6bf6__rlock__0000000001")).toBe("read");
    expect(modeOf(`_c_${id}-lock-0000000001`)).toBe("write");
    expect(modeOf(`_c_${id}-__READ__0000000001`)).toBe("read");
    expect(modeOf(`_c_${id}-__WRIT__0000000001`)).toBe("write");
    expect(modeOf("read-0000000001")).toBe("read");
    expect(modeOf(`_c_${id}-read-0000000001`)).toBe("read");
    expect(modeOf(`_c_${id}-write-0000000001`)).toBe("write");
    expect(modeOf("write-x")).toBeUndefined();
    expect(modeOf("other-0000000001")).toBeUndefined();
  });

  it("a writer waits for its immediate predecessor, a reader for the nearest writer ahead", () => {
    const sorted = contenders([w(4), r(1), r(2), w(3), r(5)]);
    expect(sorted).toEqual([r(1), r(2), w(3), w(4), r(5)]);
    expect(blockerOf(sorted, r(1))).toBeUndefined();
    expect(blockerOf(sorted, r(2))).toBeUndefined();
    expect(blockerOf(sorted, w(3))).toBe(r(2));
    expect(blockerOf(sorted, w(4))).toBe(w(3));
    expect(blockerOf(sorted, r(5))).toBe(w(4));
  });

  it("fails closed: a contender missing from the list is MISSING, never 'holds the lock'", () => {
    expect(blockerOf([], w(1))).toBe(MISSING);
    expect(blockerOf([w(2), w(3)], w(1))).toBe(MISSING);
    expect(blockerOf([r(2)], r(9))).toBe(MISSING);
  });

  it("non-contenders among the children are ignored", () => {
    expect(contenders(["lock-meta", "qn-0000000001", w(2), "config"])).toEqual([w(2)]);
  });
});
