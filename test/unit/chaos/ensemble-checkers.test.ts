// The ZAB-level fault run's checkers (test/chaos/lib/ensemble-checkers.ts) on synthetic
// trees and logs: each property holds on a clean run and each one can fail.

import { describe, expect, it } from "vitest";
import {
  checkCreates,
  checkDivergence,
  checkLeaders,
  checkRegisters,
  type CreateLog,
  type MemberTree,
  type NodeView,
  type Outcome,
} from "../../chaos/lib/ensemble-checkers.js";

const node = (data: string, mzxid = "5", version = 0): NodeView => ({ data, czxid: "5", mzxid, version });
const tree = (member: number, entries: [string, NodeView][]): MemberTree => ({ member, nodes: new Map(entries) });
const creates = (...xs: [string, Outcome][]): CreateLog => new Map(xs.map(([p, outcome]) => [p, { data: p, outcome }]));

describe("checkCreates", () => {
  const log = creates(["/zab/a", "ok"], ["/zab/b", "failed"], ["/zab/c", "pending"]);
  it("holds when every acknowledged create is on every member; unknown outcomes may be either way", () => {
    const t1 = tree(1, [["/zab/a", node("/zab/a")], ["/zab/b", node("/zab/b")]]);
    const t2 = tree(2, [["/zab/a", node("/zab/a")]]);
    expect(checkCreates([t1, t2], "/zab", log)).toEqual([]);
  });
  it("finds an acknowledged create missing on one member, or with other data", () => {
    const v = checkCreates([tree(1, [["/zab/a", node("/zab/a")]]), tree(2, []), tree(3, [["/zab/a", node("x")]])], "/zab", log);
    expect(v.map((x) => x.property)).toEqual(["lost-write", "lost-write"]);
    expect(v[0]!.detail).toContain("member 2");
    expect(v[1]!.detail).toContain("member 3");
  });
  it("finds a node no client created", () => {
    const v = checkCreates([tree(1, [["/zab/a", node("/zab/a")], ["/zab/zz", node("")]])], "/zab", log);
    expect(v).toEqual([{ property: "phantom-write", detail: "member 1 has /zab/zz, which no client created" }]);
  });
});

describe("checkRegisters", () => {
  const writes = new Map([["/r", [{ value: "1", outcome: "ok" as Outcome }, { value: "2", outcome: "ok" as Outcome }, { value: "3", outcome: "failed" as Outcome }]]]);
  it("allows the last acknowledged value or a later one of unknown outcome", () => {
    expect(checkRegisters([tree(1, [["/r", node("2")]]), tree(2, [["/r", node("3")]])], writes)).toEqual([]);
  });
  it("finds an acknowledged value overwritten by an older one", () => {
    const v = checkRegisters([tree(1, [["/r", node("1")]])], writes);
    expect(v.map((x) => x.property)).toEqual(["register"]);
  });
  it("allows the initial value only while nothing was acknowledged", () => {
    const none = new Map([["/r", [{ value: "1", outcome: "failed" as Outcome }]]]);
    expect(checkRegisters([tree(1, [["/r", node("")]])], none)).toEqual([]);
    expect(checkRegisters([tree(1, [["/r", node("")]])], writes)).toHaveLength(1);
  });
});

describe("checkDivergence", () => {
  it("holds on identical trees", () => {
    const a = tree(1, [["/x", node("1")]]);
    expect(checkDivergence([a, tree(2, [["/x", node("1")]])])).toEqual([]);
  });
  it("finds a node with another mzxid, a missing node, an extra node", () => {
    const a = tree(1, [["/x", node("1")], ["/y", node("")]]);
    const v = checkDivergence([a, tree(2, [["/x", node("1", "6")], ["/y", node("")]]), tree(3, [["/x", node("1")], ["/y", node("")], ["/z", node("")]]), tree(4, [["/x", node("1")]])]);
    expect(v.map((x) => x.detail.slice(0, 31))).toEqual(["members 1 and 2 differ at 1 nod", "members 1 and 3 differ at 1 nod", "members 1 and 4 differ at 1 nod"]);
  });
});

describe("checkLeaders", () => {
  it("holds with one leader per epoch, even when an old leader is still seen later", () => {
    expect(checkLeaders([{ t: 1, member: 1, epoch: 1 }, { t: 2, member: 2, epoch: 2 }, { t: 3, member: 1, epoch: 1 }])).toEqual([]);
  });
  it("finds two members leading one epoch, once per member", () => {
    const v = checkLeaders([{ t: 1, member: 1, epoch: 4 }, { t: 2, member: 2, epoch: 4 }, { t: 3, member: 2, epoch: 4 }]);
    expect(v).toEqual([{ property: "two-leaders-in-epoch", detail: "epoch 4: member 1 led at t=1 and member 2 at t=2" }]);
  });
});
