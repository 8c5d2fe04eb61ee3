// The watch registry on its own: effects in, events out, with the bookkeeping the
// four-letter words (wchs, wchc, wchp) report.

import { describe, expect, it } from "vitest";
import { EventType, WatcherType } from "../../../src/jute/index.js";
import { EffectKind, type Effect } from "../../../src/tree/index.js";
import { WatchKind, WatchRegistry, type WatchTarget } from "../../../src/watch/index.js";

class Target implements WatchTarget {
  readonly watchId: bigint;
  readonly got: [number, string][] = [];
  constructor(id: bigint) {
    this.watchId = id;
  }
  deliver(type: EventType, path: string): void {
    this.got.push([type, path]);
  }
}

const created = (path: string, parent: string): Effect[] => [
  { kind: EffectKind.Created, path },
  { kind: EffectKind.ChildrenChanged, path: parent },
];
const deleted = (path: string, parent: string): Effect[] => [
  { kind: EffectKind.Deleted, path },
  { kind: EffectKind.ChildrenChanged, path: parent },
];

describe("WatchRegistry", () => {
  it("turns effects into events in effect order", () => {
    const reg = new WatchRegistry();
    const t = new Target(1n);
    reg.add(t, WatchKind.Data, "/a/b");
    reg.add(t, WatchKind.Child, "/a");
    reg.trigger(created("/a/b", "/a"));
    expect(t.got).toEqual([
      [EventType.NodeCreated, "/a/b"],
      [EventType.NodeChildrenChanged, "/a"],
    ]);
  });

  it("one-shot watches are removed when they fire; persistent ones stay", () => {
    const reg = new WatchRegistry();
    const t = new Target(1n);
    reg.add(t, WatchKind.Data, "/n");
    reg.add(t, WatchKind.Persistent, "/n");
    expect(reg.watchCount).toBe(2);
    reg.trigger([{ kind: EffectKind.DataChanged, path: "/n" }]);
    expect(reg.has(t, WatchKind.Data, "/n")).toBe(false);
    expect(reg.has(t, WatchKind.Persistent, "/n")).toBe(true);
    expect(t.got).toEqual([[EventType.NodeDataChanged, "/n"]]);
    reg.trigger([{ kind: EffectKind.DataChanged, path: "/n" }]);
    expect(t.got.length).toBe(2);
  });

  it("a delete fires NodeDeleted once per target and clears its child watch", () => {
    const reg = new WatchRegistry();
    const t = new Target(1n);
    const u = new Target(2n);
    reg.add(t, WatchKind.Data, "/n");
    reg.add(t, WatchKind.Child, "/n");
    reg.add(u, WatchKind.Child, "/n");
    reg.trigger(deleted("/n", "/"));
    expect(t.got).toEqual([[EventType.NodeDeleted, "/n"]]);
    expect(u.got).toEqual([[EventType.NodeDeleted, "/n"]]);
    expect(reg.watchCount).toBe(0);
  });

  it("a recursive watch sees descendants' events under their own path, never NodeChildrenChanged", () => {
    const reg = new WatchRegistry();
    const t = new Target(1n);
    reg.add(t, WatchKind.PersistentRecursive, "/a");
    reg.trigger([...created("/a/b/c", "/a/b"), { kind: EffectKind.DataChanged, path: "/ab" }]);
    expect(t.got).toEqual([[EventType.NodeCreated, "/a/b/c"]]);
  });

  it("kindsOf maps ZooKeeper's WatcherType to registry kinds; unknown types are undefined", () => {
    expect(WatchRegistry.kindsOf(WatcherType.Children)).toEqual([WatchKind.Child]);
    expect(WatchRegistry.kindsOf(WatcherType.Data)).toEqual([WatchKind.Data]);
    expect(WatchRegistry.kindsOf(WatcherType.Any)).toHaveLength(4);
    expect(WatchRegistry.kindsOf(WatcherType.Persistent)).toEqual([WatchKind.Persistent]);
    expect(WatchRegistry.kindsOf(WatcherType.PersistentRecursive)).toEqual([WatchKind.PersistentRecursive]);
    expect(WatchRegistry.kindsOf(9)).toBeUndefined();
  });

  it("counts registrations, paths and targets as wchs/wchc/wchp report them", () => {
    const reg = new WatchRegistry();
    const t = new Target(1n);
    const u = new Target(2n);
    reg.add(t, WatchKind.Data, "/a");
    reg.add(t, WatchKind.Child, "/a");
    reg.add(u, WatchKind.Data, "/b");
    reg.add(u, WatchKind.Data, "/b"); // a second add of the same watch is one registration
    expect(reg.watchCount).toBe(3);
    expect(reg.pathCount).toBe(2);
    expect(reg.targetCount).toBe(2);
    expect([...reg.byTarget()].map(([k, v]) => [k.watchId, v])).toEqual([
      [1n, ["/a"]],
      [2n, ["/b"]],
    ]);
    expect([...reg.byPath()].map(([p, ts]) => [p, ts.map((x) => x.watchId)])).toEqual([
      ["/a", [1n]],
      ["/b", [2n]],
    ]);
    reg.removeTarget(t);
    expect(reg.watchCount).toBe(1);
    expect(reg.targetCount).toBe(1);
    expect(reg.removeKinds(u, [WatchKind.Child], "/b")).toBe(false);
    expect(reg.removeKinds(u, [WatchKind.Data], "/b")).toBe(true);
    expect(reg.watchCount).toBe(0);
    expect(reg.targetCount).toBe(0);
  });
});
