// The data tree as ZooKeeper clients see it (ZOOKEEPER.md §1.4, §1.5): Stat fields after
// every kind of change, sequence numbering, ephemerals, containers, TTL nodes, the
// reserved /zookeeper subtree and getAllChildrenNumber. Most cases go through the
// in-process pipeline (prep decides sequence names and owners); the deterministic
// apply(entry, effects) contract is also checked directly.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CONTAINER_EPHEMERAL_OWNER,
  CreateMode,
  Err,
  EventType,
  OpCode,
  Perms,
  TTL_EPHEMERAL_OWNER_PREFIX,
  type ACL,
  type Stat,
} from "../../../src/jute/index.js";
import {
  DataTree,
  EffectKind,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  sequenceSuffix,
  invalidPathReason,
  type Effect,
} from "../../../src/tree/index.js";
import type { Txn, TxnEntry } from "../../../src/txn/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";
import { Harness } from "../pipeline/harness.js";

const T0 = 1_700_000_000_000;

function stat(partial: Partial<Stat>): Stat {
  return {
    czxid: 0n,
    mzxid: 0n,
    ctime: 0n,
    mtime: 0n,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 0,
    numChildren: 0,
    pzxid: 0n,
    ...partial,
  };
}

describe("Stat", () => {
  it("a new node's Stat: czxid = mzxid = pzxid = its zxid, times from the txn, versions 0", () => {
    const h = new Harness();
    const c = h.connect(); // createSession is zxid 1
    const r = c.create("/a", "hello");
    expect(r.err).toBe(Err.Ok);
    const want = stat({ czxid: 2n, mzxid: 2n, pzxid: 2n, ctime: BigInt(T0), mtime: BigInt(T0), dataLength: 5 });
    expect(r.stat).toEqual(want);
    expect(c.exists("/a").stat).toEqual(want);
    expect(c.getData("/a")).toEqual({ err: Err.Ok, data: "hello", stat: want });
  });

  it("setData moves mzxid, mtime, version and dataLength only", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "hello");
    h.clock.advance(10);
    const r = c.setData("/a", "hi");
    const want = stat({
      czxid: 2n,
      mzxid: 3n,
      pzxid: 2n,
      ctime: BigInt(T0),
      mtime: BigInt(T0 + 10),
      version: 1,
      dataLength: 2,
    });
    expect(r).toEqual({ err: Err.Ok, stat: want });
    expect(c.exists("/a").stat).toEqual(want);
  });

  it("setACL moves aversion only (not mzxid, mtime or version)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "x");
    c.setData("/a", "yy");
    h.clock.advance(50);
    const r = c.setACL("/a", READ_ACL_UNSAFE);
    expect(r.stat).toEqual(
      stat({ czxid: 2n, mzxid: 3n, pzxid: 2n, ctime: BigInt(T0), mtime: BigInt(T0), version: 1, aversion: 1, dataLength: 2 }),
    );
    expect(c.getACL("/a").acl).toEqual(READ_ACL_UNSAFE);
  });

  it("a child create bumps the parent's cversion and pzxid, not its mzxid or version", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a"); // 2
    c.create("/a/b"); // 3
    const s = c.exists("/a").stat!;
    expect(s).toMatchObject({ czxid: 2n, mzxid: 2n, pzxid: 3n, version: 0, cversion: 1, numChildren: 1 });
  });

  it("deleting a child moves the parent's pzxid, and cversion counts it as a change (DataNode.copyStat)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a"); // 2
    c.create("/a/b"); // 3
    c.create("/a/c"); // 4
    expect(c.delete("/a/b")).toBe(Err.Ok); // 5
    const s = c.exists("/a").stat!;
    // two creates and a delete: three changes to the children
    expect(s).toMatchObject({ cversion: 3, pzxid: 5n, numChildren: 1, mzxid: 2n, version: 0 });
    const root = c.exists("/").stat!;
    // /a created; /zookeeper is built in, so ZooKeeper's formula gives 2*1 - 2 children
    expect(root.cversion).toBe(0);
    expect(root.pzxid).toBe(2n);
  });

  it("clients see an ephemeral's owner as its session id, and 0 for containers and TTL nodes (DataNode.copyStat)", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.create("/e", "", { mode: CreateMode.Ephemeral }).stat!.ephemeralOwner).toBe(c.sessionId);
    expect(c.create("/c", "", { opCode: OpCode.createContainer }).stat!.ephemeralOwner).toBe(0n);
    const ttl = c.create("/t", "", { opCode: OpCode.createTTL, mode: CreateMode.PersistentWithTtl, ttl: 5000n });
    expect(ttl.stat!.ephemeralOwner).toBe(0n);
    expect(c.create("/p").stat!.ephemeralOwner).toBe(0n);
    // inside, the markers that make them containers and TTL nodes are kept
    expect(h.tree.get("/c")!.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
    expect(h.tree.get("/t")!.ephemeralOwner).toBe(TTL_EPHEMERAL_OWNER_PREFIX | 5000n);
  });

  it("a plain create with the container flag makes a persistent node, as ZooKeeper's CreateTxn does", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.create("/notc", "", { mode: CreateMode.Container }).err).toBe(Err.Ok);
    expect(h.tree.get("/notc")!.ephemeralOwner).toBe(0n);
  });

  it("null data reads back as null with dataLength 0", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n", null);
    expect(c.getData("/n")).toMatchObject({ data: null, stat: { dataLength: 0 } });
  });

  it("setData with a matching version succeeds; a stale version is BadVersion and changes nothing", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "0");
    expect(c.setData("/a", "1", 0).err).toBe(Err.Ok);
    expect(c.setData("/a", "2", 0).err).toBe(Err.BadVersion);
    expect(c.getData("/a")).toMatchObject({ data: "1", stat: { version: 1 } });
    expect(c.delete("/a", 0)).toBe(Err.BadVersion);
    expect(c.delete("/a", 1)).toBe(Err.Ok);
  });
});

describe("sequential nodes", () => {
  it("names end in the parent's cversion as %010d", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/q");
    c.create("/q/x"); // cversion 1
    const seq = { mode: CreateMode.PersistentSequential };
    expect(c.create("/q/n-", "", seq).path).toBe("/q/n-0000000001");
    expect(c.create("/q/n-", "", seq).path).toBe("/q/n-0000000002");
    expect(c.create("/q/", "", seq).path).toBe("/q/0000000003");
  });

  it("sequence numbers are never reused after deletes", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/q");
    const seq = { mode: CreateMode.EphemeralSequential };
    const a = c.create("/q/lock-", "", seq).path;
    const b = c.create("/q/lock-", "", seq).path;
    expect(c.delete(b)).toBe(Err.Ok);
    expect(c.delete(a)).toBe(Err.Ok);
    const next = c.create("/q/lock-", "", seq).path;
    expect([a, b, next]).toEqual(["/q/lock-0000000000", "/q/lock-0000000001", "/q/lock-0000000002"]);
  });

  it("the suffix formats like Java's %010d, negative after cversion overflow", () => {
    expect(sequenceSuffix(0)).toBe("0000000000");
    expect(sequenceSuffix(42)).toBe("0000000042");
    expect(sequenceSuffix(2147483647)).toBe("2147483647");
    expect(sequenceSuffix(-5)).toBe("-000000005");
    expect(sequenceSuffix(-2147483648)).toBe("-2147483648");
  });

  it("a sequential path may end in '/', a plain one may not", () => {
    expect(invalidPathReason("/q/", true)).toBeUndefined();
    expect(invalidPathReason("/q/")).toBeDefined();
  });
});

describe("ephemeral nodes", () => {
  it("an ephemeral node disappears when its session closes, with NodeDeleted and NodeChildrenChanged", () => {
    const h = new Harness();
    const owner = h.connect();
    const watcher = h.connect();
    owner.create("/p");
    owner.create("/p/e1", "", { mode: CreateMode.Ephemeral });
    owner.create("/e2", "", { mode: CreateMode.Ephemeral });
    watcher.exists("/e2", true);
    watcher.getData("/p/e1", true);
    watcher.getChildren("/p", true);
    expect(owner.closeSession()).toBe(Err.Ok);
    expect(h.tree.get("/p/e1")).toBeUndefined();
    expect(h.tree.get("/e2")).toBeUndefined();
    expect(h.tree.get("/p")).toBeDefined();
    expect(watcher.conn.eventList()).toEqual([
      [EventType.NodeDeleted, "/e2"],
      [EventType.NodeDeleted, "/p/e1"],
      [EventType.NodeChildrenChanged, "/p"],
    ]);
    expect(h.tree.ephemeralsOf(owner.sessionId).size).toBe(0);
  });

  it("an ephemeral node cannot have children (NoChildrenForEphemerals)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/e", "", { mode: CreateMode.Ephemeral });
    expect(c.create("/e/child").err).toBe(Err.NoChildrenForEphemerals);
    expect(c.create("/e/s-", "", { mode: CreateMode.PersistentSequential }).err).toBe(Err.NoChildrenForEphemerals);
  });

  it("containers and TTL nodes may have children", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/c", "", { opCode: OpCode.createContainer });
    c.create("/t", "", { opCode: OpCode.createTTL, mode: CreateMode.PersistentWithTtl, ttl: 100n });
    expect(c.create("/c/x", "", { mode: CreateMode.Ephemeral }).err).toBe(Err.Ok);
    expect(c.create("/t/x").err).toBe(Err.Ok);
  });

  it("ephemerals of a session whose id has the top bit set (server id >= 128) are still removed", () => {
    const h = new Harness({ serverId: 200n });
    const c = h.connect();
    expect(c.sessionId < 0n).toBe(true);
    c.create("/p");
    c.create("/p/e", "", { mode: CreateMode.Ephemeral });
    expect(c.getEphemerals("/").paths).toEqual(["/p/e"]);
    expect(c.create("/p/e/x").err).toBe(Err.NoChildrenForEphemerals);
    c.closeSession();
    expect(h.tree.get("/p/e")).toBeUndefined();
  });

  it("getEphemerals lists only this session's ephemerals, filtered by prefix", () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    a.create("/x", "", { mode: CreateMode.Ephemeral });
    a.create("/y", "", { mode: CreateMode.Ephemeral });
    b.create("/z", "", { mode: CreateMode.Ephemeral });
    expect(a.getEphemerals("/").paths).toEqual(["/x", "/y"]);
    expect(a.getEphemerals("/y").paths).toEqual(["/y"]);
    expect(b.getEphemerals("").paths).toEqual(["/z"]);
  });
});

describe("containers and TTL nodes", () => {
  it("a container that had a child and is now empty is reaped; a never-used one is not", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/used", "", { opCode: OpCode.createContainer });
    c.create("/unused", "", { opCode: OpCode.createContainer });
    c.create("/used/x");
    expect(h.pipeline.reapContainers(100)).toEqual([]);
    c.delete("/used/x");
    expect(h.tree.expiredContainersAndTtls(h.clock.nowMs())).toEqual(["/used"]);
    c.getData("/used", true);
    expect(h.pipeline.reapContainers(100)).toEqual(["/used"]);
    expect(h.tree.get("/used")).toBeUndefined();
    expect(h.tree.get("/unused")).toBeDefined();
    expect(c.conn.eventList()).toEqual([[EventType.NodeDeleted, "/used"]]);
  });

  it("a container empties when its last ephemeral child's session ends, then is reaped", () => {
    const h = new Harness();
    const a = h.connect();
    a.create("/locks", "", { opCode: OpCode.createContainer });
    a.create("/locks/l-", "", { mode: CreateMode.EphemeralSequential });
    a.closeSession();
    const b = h.connect();
    expect(h.pipeline.reapContainers(10)).toEqual(["/locks"]);
    expect(b.exists("/locks").err).toBe(Err.NoNode);
  });

  it("reaping deletes at most `max` nodes per pass", () => {
    const h = new Harness();
    const c = h.connect();
    for (const p of ["/c1", "/c2", "/c3"]) {
      c.create(p, "", { opCode: OpCode.createContainer });
      c.create(p + "/x");
      c.delete(p + "/x");
    }
    expect(h.pipeline.reapContainers(2)).toEqual(["/c1", "/c2"]);
    expect(h.pipeline.reapContainers(2)).toEqual(["/c3"]);
  });

  it("a TTL node is reaped once it has no children and now - mtime > ttl", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/t", "", { opCode: OpCode.createTTL, mode: CreateMode.PersistentWithTtl, ttl: 1000n });
    h.clock.advance(1000);
    expect(h.pipeline.reapContainers(10)).toEqual([]); // exactly ttl: not yet
    h.clock.advance(1);
    c.create("/t/child");
    expect(h.pipeline.reapContainers(10)).toEqual([]); // has a child
    c.delete("/t/child");
    // A child's create and delete do not touch the TTL node's mtime.
    expect(h.pipeline.reapContainers(10)).toEqual(["/t"]);
  });

  it("setData on a TTL node restarts its clock (mtime)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/t", "", { opCode: OpCode.createTTL, mode: CreateMode.PersistentSequentialWithTtl, ttl: 100n });
    const path = "/t0000000000";
    expect(h.tree.get(path)).toBeDefined();
    h.clock.advance(90);
    c.setData(path, "x");
    h.clock.advance(90);
    expect(h.pipeline.reapContainers(10)).toEqual([]);
    h.clock.advance(11);
    expect(h.pipeline.reapContainers(10)).toEqual([path]);
  });

  it("TTL nodes need extendedTypesEnabled (else Unimplemented) and 0 < ttl <= 0xFFFFFFFFFF", () => {
    const off = new Harness({ extendedTypesEnabled: false }).connect();
    const ttlCreate = (ttl: bigint, mode: number = CreateMode.PersistentWithTtl) =>
      ({ opCode: OpCode.createTTL, mode, ttl }) as const;
    expect(off.create("/t", "", ttlCreate(10n)).err).toBe(Err.Unimplemented);
    const on = new Harness().connect();
    expect(on.create("/t0", "", ttlCreate(0n)).err).toBe(Err.BadArguments);
    expect(on.create("/t1", "", ttlCreate(0x100_0000_0000n)).err).toBe(Err.BadArguments);
    expect(on.create("/t2", "", ttlCreate(0xff_ffff_ffffn)).err).toBe(Err.Ok);
    expect(on.create("/t3", "", ttlCreate(10n, CreateMode.Ephemeral)).err).toBe(Err.BadArguments);
  });
});

describe("the /zookeeper subtree", () => {
  it("/zookeeper, /zookeeper/quota and /zookeeper/config exist in a new tree", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.getChildren("/").children).toEqual(["zookeeper"]);
    expect(c.getChildren("/zookeeper").children).toEqual(["config", "quota"]);
    expect(c.getACL("/zookeeper/config").acl).toEqual(READ_ACL_UNSAFE);
    expect(c.setData("/zookeeper/config", "x").err).toBe(Err.NoAuth);
  });

  it("deleting /, /zookeeper, /zookeeper/quota or /zookeeper/config is BadArguments", () => {
    const h = new Harness();
    const c = h.connect();
    for (const p of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
      expect(c.delete(p), p).toBe(Err.BadArguments);
    }
    expect(c.create("/").err).toBe(Err.NodeExists);
  });
});

describe("getAllChildrenNumber", () => {
  it("counts every descendant, not the node itself", () => {
    const h = new Harness();
    const c = h.connect();
    for (const p of ["/a", "/a/b", "/a/b/c", "/a/d", "/e"]) c.create(p);
    expect(c.getAllChildrenNumber("/a").n).toBe(3);
    expect(c.getAllChildrenNumber("/a/b/c").n).toBe(0);
    // The root counts everything but itself, the /zookeeper subtree included (as ZooKeeper).
    expect(c.getAllChildrenNumber("/").n).toBe(5 + 3);
    expect(c.getAllChildrenNumber("/nope").err).toBe(Err.NoNode);
  });
});

describe("paths", () => {
  it("rejects relative, empty, trailing-slash and reserved-character paths with BadArguments", () => {
    const h = new Harness();
    const c = h.connect();
    for (const p of ["a", "", "/a/", "//a", "/a/./b", "/a/../b", "/a\u0000b", "/a\u0001", "/a\u007f", "/\ud800x", "/\ufff0"]) {
      expect(c.create(p).err, JSON.stringify(p)).toBe(Err.BadArguments);
    }
    expect(c.create("/a.b").err).toBe(Err.Ok);
    expect(c.create("/..a").err).toBe(Err.Ok);
  });

  it("a create whose parent is missing is NoNode; an existing path is NodeExists", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.create("/x/y").err).toBe(Err.NoNode);
    c.create("/x");
    expect(c.create("/x").err).toBe(Err.NodeExists);
  });
});

describe("DataTree.apply", () => {
  const S = asSessionId(77n);
  let zxid = 0n;
  const entry = (txn: Txn, timeMs = 5, sessionId = S): TxnEntry => ({
    hdr: { sessionId, cxid: 1, zxid: asZxid(++zxid), timeMs, opCode: 0 },
    txn,
  });
  const create = (path: string, owner = 0n): Txn => ({
    type: "create",
    path,
    data: Buffer.from("d"),
    acl: OPEN_ACL_UNSAFE,
    ephemeralOwner: owner,
    parentCVersion: -1,
  });

  it("reports effects in the order they happen and the same txns give the same tree", () => {
    zxid = 0n;
    const txns: Txn[] = [
      create("/a"),
      create("/a/e", S),
      { type: "setData", path: "/a", data: Buffer.from("xyz"), version: 1 },
      { type: "setACL", path: "/a", acl: READ_ACL_UNSAFE, version: 1 },
      { type: "closeSession" },
    ];
    const entries = txns.map((t) => entry(t));
    const run = (): { tree: DataTree; effects: Effect[] } => {
      const tree = new DataTree();
      const effects: Effect[] = [];
      for (const e of entries) expect(tree.apply(e, effects).err).toBe(Err.Ok);
      return { tree, effects };
    };
    const one = run();
    expect(one.effects.map(({ kind, path }) => ({ kind, path }))).toEqual([
      { kind: EffectKind.Created, path: "/a" },
      { kind: EffectKind.ChildrenChanged, path: "/" },
      { kind: EffectKind.Created, path: "/a/e" },
      { kind: EffectKind.ChildrenChanged, path: "/a" },
      { kind: EffectKind.DataChanged, path: "/a" },
      { kind: EffectKind.Deleted, path: "/a/e" },
      { kind: EffectKind.ChildrenChanged, path: "/a" },
    ]);
    const two = run();
    const dump = (t: DataTree) => [...t.paths()].sort().map((p) => [p, t.statOf(t.get(p)!), t.get(p)!.data, t.get(p)!.acl]);
    expect(dump(two.tree)).toEqual(dump(one.tree));
    expect(one.tree.lastProcessedZxid).toBe(5n);
  });

  it("takes the parent's cversion from the txn (parentCVersion) when given", () => {
    zxid = 0n;
    const tree = new DataTree();
    tree.apply(entry(create("/a")), []);
    tree.apply(entry({ ...create("/a/b"), parentCVersion: 7 } as Txn), []);
    // seven creations recorded, one child present: 2*7 - 1 changes
    expect(tree.statOf(tree.get("/a")!).cversion).toBe(13);
  });

  it("nodes with equal ACLs share one array, whichever request's copy came first", () => {
    zxid = 0n;
    const tree = new DataTree();
    const world = (perms: number) => [{ perms, id: { scheme: "world", id: "anyone" } }];
    const digest = () => [{ perms: Perms.All, id: { scheme: "digest", id: "u:h" } }];
    const withAcl = (path: string, acl: ACL[]) => ({ ...create(path), acl }) as Txn;
    for (const [p, acl] of [
      ["/w1", world(Perms.All)],
      ["/w2", world(Perms.All)],
      ["/r1", world(Perms.Read)],
      ["/r2", world(Perms.Read)],
      ["/d1", digest()],
      ["/d2", digest()],
    ] as [string, ACL[]][]) {
      expect(tree.apply(entry(withAcl(p, acl)), []).err).toBe(Err.Ok);
    }
    const aclOf = (p: string) => tree.get(p)!.acl;
    expect(aclOf("/w2")).toBe(aclOf("/w1"));
    expect(aclOf("/r2")).toBe(aclOf("/r1"));
    expect(aclOf("/d2")).toBe(aclOf("/d1"));
    expect(aclOf("/r1")).not.toBe(aclOf("/w1"));
    expect(aclOf("/r1")).toEqual(world(Perms.Read));
    expect(aclOf("/d1")).toEqual(digest());
  });

  it("an error txn or a multi of error txns changes nothing", () => {
    zxid = 0n;
    const tree = new DataTree();
    tree.apply(entry(create("/a")), []);
    const before = [...tree.paths()].sort();
    const effects: Effect[] = [];
    expect(tree.apply(entry({ type: "error", err: Err.NodeExists }), effects).err).toBe(Err.NodeExists);
    const r = tree.apply(
      entry({ type: "multi", txns: [{ type: "error", err: 0 }, { type: "error", err: Err.NoNode }] }),
      effects,
    );
    expect(r.multi!.map((m) => m.err)).toEqual([0, Err.NoNode]);
    expect(effects).toEqual([]);
    expect([...tree.paths()].sort()).toEqual(before);
  });

  it("refuses a txn whose zxid is not after the last one applied", () => {
    const tree = new DataTree();
    const e = { hdr: { sessionId: S, cxid: 0, zxid: asZxid(5n), timeMs: 0, opCode: 0 }, txn: create("/a") };
    tree.apply(e, []);
    expect(() => tree.apply({ ...e, txn: create("/b") }, [])).toThrow();
  });
});


describe("restoring from snapshot records", () => {
  it("children land under their parent as restored last, also when a fuzzy snapshot restores the parent again between them", () => {
    const from = new DataTree();
    let zxid = 0n;
    const mk = (path: string) =>
      from.apply({ hdr: { sessionId: asSessionId(1n), cxid: 1, zxid: asZxid(++zxid), timeMs: 1, opCode: OpCode.create2 }, txn: { type: "create", path, data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: 0n, parentCVersion: -1 } }, []);
    for (const p of ["/a", "/a/x", "/a/y", "/b", "/b/z", "/a/x/deep"]) expect(mk(p).err).toBe(Err.Ok);
    const rec = (p: string) => from.get(p)!.toRecord();
    const to = new DataTree();
    // Siblings together, then a second record of /a (fuzzy), more of /a's children, another dir, back to /a.
    for (const p of ["/a", "/a/x", "/a", "/a/y", "/b", "/b/z", "/a/x/deep"]) expect(to.restoreNode(p, rec(p))).toBe(true);
    expect([...to.get("/a")!.children!].sort()).toEqual(["x", "y"]);
    expect([...to.get("/b")!.children!]).toEqual(["z"]);
    expect([...to.get("/a/x")!.children!]).toEqual(["deep"]);
    // A record whose parent is missing is refused, whatever came just before.
    expect(to.restoreNode("/c/orphan", rec("/b/z"))).toBe(false);
    expect(to.restoreNode("/b/w", rec("/b/z"))).toBe(true);
    expect([...to.get("/b")!.children!].sort()).toEqual(["w", "z"]);
  });
});

describe("the per-session ephemeral index", () => {
  // Random creates, deletes, re-creates under another owner, and closeSessions, checked
  // against a model after every txn: ephemeralsOf, ephemeralCount and ephemeralSessions
  // must always say exactly which nodes each session owns (closeSession deletes by it).
  it("always names exactly each session's ephemeral nodes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 39 })), { minLength: 1, maxLength: 400 }),
        (ops) => {
          const tree = new DataTree();
          let zxid = 0n;
          const apply = (txn: Txn, sessionId: bigint) =>
            tree.apply({ hdr: { sessionId: asSessionId(sessionId), cxid: 1, zxid: asZxid(++zxid), timeMs: 1, opCode: OpCode.create2 }, txn }, []);
          const model = new Map<string, bigint>(); // path -> owner
          for (const [kind, session, n] of ops) {
            const sid = BigInt(session);
            const path = `/n${n}`;
            if (kind <= 5) {
              const r = apply({ type: "create", path, data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: sid, parentCVersion: -1 }, sid);
              if (r.err === Err.Ok) model.set(path, sid);
            } else if (kind <= 8) {
              if (apply({ type: "delete", path }, sid).err === Err.Ok) model.delete(path);
            } else {
              apply({ type: "closeSession" }, sid);
              for (const [p, o] of model) if (o === sid) model.delete(p);
            }
            for (const s of [1n, 2n, 3n]) {
              const want = [...model].filter(([, o]) => o === s).map(([p]) => p).sort();
              expect([...tree.ephemeralsOf(s)].sort()).toEqual(want);
            }
            expect(tree.ephemeralCount()).toBe(model.size);
            const sessions = [...tree.ephemeralSessions()].map(([s, paths]) => [s, paths.size]);
            expect(sessions.every(([, size]) => Number(size) > 0)).toBe(true);
            expect(sessions.reduce((sum, [, size]) => sum + Number(size), 0)).toBe(model.size);
          }
        },
      ),
      { seed: 4242, numRuns: 200 },
    );
  });

  it("indexes ephemerals by <parent>/<protected token>: exactly the live ones, through deletes, closes, adoption and reset", () => {
    const ids = ["0123abcd-0000-4000-8000-00000000beef", "0123abcd-0000-4000-8000-00000000cafe"];
    const keys = ids.flatMap((id) => ["/", "/d/"].map((dir) => `${dir}_c_${id}-`));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 300 }),
        (ops) => {
          const tree = new DataTree();
          let zxid = 0n;
          const apply = (txn: Txn, sessionId: bigint) =>
            tree.apply({ hdr: { sessionId: asSessionId(sessionId), cxid: 1, zxid: asZxid(++zxid), timeMs: 1, opCode: OpCode.create2 }, txn }, []);
          apply({ type: "create", path: "/d", data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: 0n, parentCVersion: -1 }, 1n);
          // Two nodes may share a token (names differ after it); n % 4 === 3 is persistent: never indexed.
          const pathOf = (n: number): string => `${n % 2 === 0 ? "/" : "/d/"}_c_${ids[(n >> 1) % 2]}-node-${n >> 2}`;
          const model = new Map<string, bigint>(); // path -> owner (ephemerals only)
          const check = (t: DataTree): void => {
            for (const key of keys) {
              const got = t.protectedPathsOf(key);
              const want = [...model.keys()].filter((p) => p.startsWith(key) && !p.slice(key.length).includes("/")).sort();
              expect((typeof got === "string" ? [got] : [...got]).sort()).toEqual(want);
            }
          };
          for (const [kind, session, n] of ops) {
            const sid = BigInt(session);
            const path = pathOf(n);
            if (kind <= 5) {
              const owner = n % 4 === 3 ? 0n : sid;
              const r = apply({ type: "create", path, data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: owner, parentCVersion: -1 }, sid);
              if (r.err === Err.Ok && owner !== 0n) model.set(path, sid);
            } else if (kind <= 8) {
              if (apply({ type: "delete", path }, sid).err === Err.Ok) model.delete(path);
            } else {
              apply({ type: "closeSession" }, sid);
              for (const [p, o] of model) if (o === sid) model.delete(p);
            }
            check(tree);
          }
          // A learner's SNAP install takes the index with the nodes; the tree it came from is empty.
          const adopted = new DataTree();
          adopted.adoptContent(tree);
          check(adopted);
          for (const key of keys) expect(tree.protectedPathsOf(key)).toEqual([]);
          adopted.reset();
          for (const key of keys) expect(adopted.protectedPathsOf(key)).toEqual([]);
        },
      ),
      { seed: 4243, numRuns: 200 },
    );
  });

  it("a long-lived session that creates and deletes many ephemerals still names just its live ones", () => {
    const tree = new DataTree();
    let zxid = 0n;
    const apply = (txn: Txn) => tree.apply({ hdr: { sessionId: asSessionId(9n), cxid: 1, zxid: asZxid(++zxid), timeMs: 1, opCode: OpCode.create2 }, txn }, []);
    apply({ type: "create", path: "/keep", data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: 9n, parentCVersion: -1 });
    for (let i = 0; i < 10_000; i++) {
      expect(apply({ type: "create", path: `/lock-${i}`, data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: 9n, parentCVersion: -1 }).err).toBe(Err.Ok);
      expect(apply({ type: "delete", path: `/lock-${i}` }).err).toBe(Err.Ok);
    }
    expect([...tree.ephemeralsOf(9n)]).toEqual(["/keep"]);
    expect(tree.ephemeralCount()).toBe(1);
    apply({ type: "closeSession" });
    expect(tree.get("/keep")).toBeUndefined();
    expect(tree.ephemeralCount()).toBe(0);
  });

  it("a session with thousands of live ephemerals (kept in a set past 4,096) still names exactly them", () => {
    const tree = new DataTree();
    let zxid = 0n;
    const apply = (txn: Txn, sid: bigint) => tree.apply({ hdr: { sessionId: asSessionId(sid), cxid: 1, zxid: asZxid(++zxid), timeMs: 1, opCode: OpCode.create2 }, txn }, []);
    const create = (path: string, owner: bigint) => apply({ type: "create", path, data: null, acl: OPEN_ACL_UNSAFE, ephemeralOwner: owner, parentCVersion: -1 }, owner);
    for (let i = 0; i < 5_000; i++) expect(create(`/k${i}`, 9n).err).toBe(Err.Ok);
    for (let i = 0; i < 5_000; i += 2) expect(apply({ type: "delete", path: `/k${i}` }, 9n).err).toBe(Err.Ok);
    expect(create("/k0", 8n).err).toBe(Err.Ok); // re-created by another session
    expect(create("/k2", 9n).err).toBe(Err.Ok); // and by the same one
    const want = ["/k2", ...Array.from({ length: 2_500 }, (_, j) => `/k${2 * j + 1}`)].sort();
    expect([...tree.ephemeralsOf(9n)].sort()).toEqual(want);
    expect([...tree.ephemeralsOf(8n)]).toEqual(["/k0"]);
    expect(tree.ephemeralCount()).toBe(2_502);
    apply({ type: "closeSession" }, 9n);
    expect(tree.ephemeralCount()).toBe(1);
    expect(tree.get("/k1")).toBeUndefined();
    expect(tree.get("/k0")?.ephemeralOwner).toBe(8n);
  });
});
