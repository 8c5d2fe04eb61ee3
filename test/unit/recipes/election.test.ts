// Leader election's rules: members with and without the protected token, the leader,
// each member's predecessor, and fail-closed answers.

import { describe, expect, it } from "vitest";
import { MISSING } from "../../../recipes/common/rules.js";
import { isMember, leaderOf, members, predecessorOf } from "../../../recipes/election/rules.js";

const m = (n: number, id = "1234abcd") => `_c_${id}-n_${String(n).padStart(10, "0")}`;

describe("election rules", () => {
  it("members are n_ nodes, protected or not; the lowest sequence leads", () => {
    const children = [m(5), "n_0000000003", "other", m(9, "ffffeeee-1111")];
    expect(isMember(m(1))).toBe(true);
    expect(isMember("n_0000000001")).toBe(true);
    expect(isMember("other")).toBe(false);
    expect(isMember("_c_1234abcd-lease-0000000001")).toBe(false);
    expect(members(children)).toEqual(["n_0000000003", m(5), m(9, "ffffeeee-1111")]);
    expect(leaderOf(children)).toBe("n_0000000003");
    expect(leaderOf([])).toBeUndefined();
  });

  it("each member waits on the one just ahead; the leader on nobody", () => {
    const sorted = [m(1), m(2), m(3)];
    expect(predecessorOf(sorted, m(1))).toBeUndefined();
    expect(predecessorOf(sorted, m(3))).toBe(m(2));
  });

  it("fails closed: a member missing from the list is MISSING, never the leader", () => {
    expect(predecessorOf([], m(1))).toBe(MISSING);
    expect(predecessorOf([m(2)], m(1))).toBe(MISSING);
  });
});
