// The semaphore's rules: leases (ours, protected; Curator's share the name), holders of
// the first `permits` places, the permit count in the node's data, fail-closed answers.

import { describe, expect, it } from "vitest";
import { MISSING } from "../../../recipes/common/rules.js";
import { holders, isContender, isHolder, parsePermits, permitOf } from "../../../recipes/semaphore/rules.js";

const l = (n: number, id = "aaaa0000") => `_c_${id}-lease-${String(n).padStart(10, "0")}`;

describe("semaphore rules", () => {
  it("leases are lease- nodes, protected or not", () => {
    expect(isContender(l(1))).toBe(true);
    expect(isContender("lease-0000000001")).toBe(true);
    expect(isContender("locks")).toBe(false);
  });

  it("the first `permits` leases by sequence hold", () => {
    const children = [l(3), "lease-0000000001", l(2, "bbbb1111"), "x"];
    expect(holders(children, 2)).toEqual(["lease-0000000001", l(2, "bbbb1111")]);
    expect(isHolder(children, 2, l(3))).toBe(false);
    expect(permitOf(["lease-0000000001", l(2), l(3)], 2, l(2))).toBe("holds");
    expect(permitOf(["lease-0000000001", l(2), l(3)], 2, l(3))).toBe("waits");
  });

  it("fails closed: a lease missing from the list is MISSING", () => {
    expect(permitOf([], 5, l(1))).toBe(MISSING);
    expect(permitOf([l(2)], 5, l(1))).toBe(MISSING);
  });

  it("reads the permit count as kazoo stores it", () => {
    expect(parsePermits(Buffer.from("3"))).toBe(3);
    for (const bad of [null, Buffer.alloc(0), Buffer.from("0"), Buffer.from("-1"), Buffer.from("2.5"), Buffer.from("x")]) expect(parsePermits(bad)).toBeUndefined();
  });
});
