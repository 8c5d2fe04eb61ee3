// Watches as ZooKeeper clients rely on them (ZOOKEEPER.md §1.6), driven through the
// in-process pipeline: one-shot data/exist/child watches fire once; NodeDeleted reaches a
// connection once even when it watched data and children; persistent watches fire every
// time; persistent-recursive watches cover the subtree and never see NodeChildrenChanged;
// removeWatches/checkWatches; setWatches replay after a reconnect; a closed connection's
// watches are gone.

import { describe, expect, it } from "vitest";
import { AddWatchMode, Err, EventType, Perms, WatcherType, Xid } from "../../../src/jute/index.js";
import { Harness, rq } from "../pipeline/harness.js";

const { NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged } = EventType;

describe("one-shot watches", () => {
  it("a data watch fires NodeDataChanged once, then must be set again", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    c.create("/n", "0");
    w.getData("/n", true);
    c.setData("/n", "1");
    c.setData("/n", "2");
    expect(w.conn.eventList()).toEqual([[NodeDataChanged, "/n"]]);
    w.getData("/n", true);
    c.setData("/n", "3");
    expect(w.conn.eventList()).toEqual([
      [NodeDataChanged, "/n"],
      [NodeDataChanged, "/n"],
    ]);
  });

  it("a data watch fires NodeDeleted when the node goes", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n");
    c.getData("/n", true);
    c.delete("/n");
    expect(c.conn.eventList()).toEqual([[NodeDeleted, "/n"]]);
  });

  it("an exists watch on a missing node fires NodeCreated once", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    expect(w.exists("/later", true).err).toBe(Err.NoNode);
    c.create("/later");
    c.setData("/later", "x");
    expect(w.conn.eventList()).toEqual([[NodeCreated, "/later"]]);
  });

  it("an exists watch on an existing node fires on change or delete", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a");
    c.create("/b");
    c.exists("/a", true);
    c.exists("/b", true);
    c.setData("/a", "x");
    c.delete("/b");
    expect(c.conn.eventList()).toEqual([
      [NodeDataChanged, "/a"],
      [NodeDeleted, "/b"],
    ]);
  });

  it("getData on a missing node sets no watch (NoNode)", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.getData("/x", true).err).toBe(Err.NoNode);
    expect(c.getChildren("/x", true).err).toBe(Err.NoNode);
    c.create("/x");
    c.create("/x/y");
    expect(c.conn.events()).toEqual([]);
  });

  it("a child watch fires NodeChildrenChanged on a child's create and delete, not on a grandchild or a child's data", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    c.create("/p");
    w.getChildren("/p", true);
    c.create("/p/a");
    expect(w.conn.eventList()).toEqual([[NodeChildrenChanged, "/p"]]);
    w.getChildren2("/p", true);
    c.create("/p/a/grandchild");
    c.setData("/p/a", "data");
    expect(w.conn.events().length).toBe(1);
    c.delete("/p/a/grandchild");
    c.delete("/p/a");
    expect(w.conn.eventList()).toEqual([
      [NodeChildrenChanged, "/p"],
      [NodeChildrenChanged, "/p"],
    ]);
  });

  it("a child watch fires NodeDeleted when its node is deleted", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/p");
    c.getChildren("/p", true);
    c.delete("/p");
    expect(c.conn.eventList()).toEqual([[NodeDeleted, "/p"]]);
  });

  it("NodeDeleted reaches a connection once even with data, exists and child watches on the node", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    c.create("/n");
    w.getData("/n", true);
    w.exists("/n", true);
    w.getChildren("/n", true);
    c.delete("/n");
    expect(w.conn.eventList()).toEqual([[NodeDeleted, "/n"]]);
    expect(h.watches.watchCount).toBe(0);
  });

  it("each connection watching a node gets its own event", () => {
    const h = new Harness();
    const c = h.connect();
    const [w1, w2] = [h.connect(), h.connect()];
    c.create("/n");
    w1.getData("/n", true);
    w2.getData("/n", true);
    c.setData("/n", "x");
    expect(w1.conn.eventList()).toEqual([[NodeDataChanged, "/n"]]);
    expect(w2.conn.eventList()).toEqual([[NodeDataChanged, "/n"]]);
  });

  it("setACL fires no watch", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n");
    c.getData("/n", true);
    c.setACL("/n", [{ perms: 31, id: { scheme: "world", id: "anyone" } }]);
    expect(c.conn.events()).toEqual([]);
  });
});

describe("persistent watches (addWatch)", () => {
  it("a persistent watch fires every time, NodeChildrenChanged included, and outlives a delete", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    expect(w.addWatch("/p", AddWatchMode.Persistent).err).toBe(Err.Ok);
    c.create("/p");
    c.setData("/p", "1");
    c.setData("/p", "2");
    c.create("/p/kid");
    c.create("/p/kid/grandkid");
    c.delete("/p/kid/grandkid");
    c.delete("/p/kid");
    c.delete("/p");
    c.create("/p");
    expect(w.conn.eventList()).toEqual([
      [NodeCreated, "/p"],
      [NodeDataChanged, "/p"],
      [NodeDataChanged, "/p"],
      [NodeChildrenChanged, "/p"],
      [NodeChildrenChanged, "/p"],
      [NodeDeleted, "/p"],
      [NodeCreated, "/p"],
    ]);
  });

  it("a persistent-recursive watch fires for the whole subtree and never NodeChildrenChanged", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    w.addWatch("/r", AddWatchMode.PersistentRecursive);
    c.create("/r");
    c.create("/r/a");
    c.create("/r/a/b");
    c.setData("/r/a/b", "x");
    c.delete("/r/a/b");
    c.create("/rx"); // a sibling whose name starts with /r is not in the subtree
    expect(w.conn.eventList()).toEqual([
      [NodeCreated, "/r"],
      [NodeCreated, "/r/a"],
      [NodeCreated, "/r/a/b"],
      [NodeDataChanged, "/r/a/b"],
      [NodeDeleted, "/r/a/b"],
    ]);
  });

  it("persistent watches tell a connection only about nodes it may read (CVE-2024-23944)", () => {
    const h = new Harness();
    const c = h.connect();
    const alice = { scheme: "digest", id: "alice:h4sh" };
    const w = h.connect();
    const a = h.connect({ authIds: [alice] });
    c.create("/app");
    for (const x of [w, a]) {
      x.addWatch("/app", AddWatchMode.PersistentRecursive);
      x.addWatch("/app/secret", AddWatchMode.Persistent);
    }
    const onlyAlice = [{ perms: Perms.All, id: alice }];
    expect(c.create("/app/secret", "s", { acl: onlyAlice }).err).toBe(Err.Ok);
    c.create("/app/public", "p");
    c.setData("/app/public", "q");
    a.setData("/app/secret", "t");
    c.delete("/app/secret");
    // The unauthenticated watcher learns nothing of /app/secret, not even its path.
    expect(w.conn.eventList()).toEqual([
      [NodeCreated, "/app/public"],
      [NodeDataChanged, "/app/public"],
    ]);
    // Alice may read it, so she hears of all of it.
    expect(a.conn.eventList()).toEqual([
      [NodeCreated, "/app/secret"],
      [NodeCreated, "/app/public"],
      [NodeDataChanged, "/app/public"],
      [NodeDataChanged, "/app/secret"],
      [NodeDeleted, "/app/secret"],
    ]);
  });

  it("a recursive watch on / sees every change", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    w.addWatch("/", AddWatchMode.PersistentRecursive);
    c.create("/a");
    c.create("/a/b");
    expect(w.conn.eventList()).toEqual([
      [NodeCreated, "/a"],
      [NodeCreated, "/a/b"],
    ]);
  });

  it("a connection gets one event per change however many of its watches match", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    c.create("/p");
    w.addWatch("/p", AddWatchMode.Persistent);
    w.addWatch("/p", AddWatchMode.PersistentRecursive);
    w.addWatch("/", AddWatchMode.PersistentRecursive);
    w.getData("/p", true);
    w.getChildren("/p", true);
    c.setData("/p", "x");
    c.create("/p/k");
    expect(w.conn.eventList()).toEqual([
      [NodeDataChanged, "/p"],
      [NodeCreated, "/p/k"],
      [NodeChildrenChanged, "/p"],
    ]);
  });

  it("an unknown addWatch mode is BadArguments", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.addWatch("/", 7).err).toBe(Err.BadArguments);
  });

  it("a successful addWatch reply carries ErrorResponse{err: 0}, which Java clients read", () => {
    // FinalRequestProcessor answers addWatch with rsp = new ErrorResponse(0); the Java
    // client deserializes that record and fails on an empty body.
    const h = new Harness();
    const c = h.connect();
    const r = c.addWatch("/", AddWatchMode.Persistent);
    expect(r.body.length).toBe(4);
    expect(r.body.readInt32BE(0)).toBe(0);
  });
});

describe("removeWatches and checkWatches", () => {
  it("checkWatches is Ok for a watch the connection holds and NoWatcher otherwise", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n");
    c.getData("/n", true);
    expect(c.call(rq.checkWatches("/n", WatcherType.Data)).err).toBe(Err.Ok);
    expect(c.call(rq.checkWatches("/n", WatcherType.Any)).err).toBe(Err.Ok);
    expect(c.call(rq.checkWatches("/n", WatcherType.Children)).err).toBe(Err.NoWatcher);
    expect(c.call(rq.checkWatches("/other", WatcherType.Any)).err).toBe(Err.NoWatcher);
    // checkWatches leaves the watch in place.
    c.setData("/n", "x");
    expect(c.conn.eventList()).toEqual([[NodeDataChanged, "/n"]]);
  });

  it("removeWatches removes only the named kind; a second remove is NoWatcher", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n");
    c.getData("/n", true);
    c.getChildren("/n", true);
    expect(c.call(rq.removeWatches("/n", WatcherType.Data)).err).toBe(Err.Ok);
    expect(c.call(rq.removeWatches("/n", WatcherType.Data)).err).toBe(Err.NoWatcher);
    c.setData("/n", "x");
    c.create("/n/k");
    expect(c.conn.eventList()).toEqual([[NodeChildrenChanged, "/n"]]);
  });

  it("another connection's watch is not removed, and removing it is NoWatcher", () => {
    const h = new Harness();
    const c = h.connect();
    const other = h.connect();
    c.create("/n");
    c.getData("/n", true);
    expect(other.call(rq.removeWatches("/n", WatcherType.Any)).err).toBe(Err.NoWatcher);
    c.setData("/n", "x");
    expect(c.conn.events().length).toBe(1);
  });

  it("Any removes every kind; Persistent and PersistentRecursive remove addWatch watches", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n");
    c.addWatch("/n", AddWatchMode.Persistent);
    c.addWatch("/n", AddWatchMode.PersistentRecursive);
    c.getData("/n", true);
    expect(c.call(rq.removeWatches("/n", WatcherType.Persistent)).err).toBe(Err.Ok);
    expect(c.call(rq.checkWatches("/n", WatcherType.Persistent)).err).toBe(Err.NoWatcher);
    expect(c.call(rq.checkWatches("/n", WatcherType.PersistentRecursive)).err).toBe(Err.Ok);
    expect(c.call(rq.removeWatches("/n", WatcherType.Any)).err).toBe(Err.Ok);
    c.setData("/n", "x");
    c.create("/n/k");
    expect(c.conn.events()).toEqual([]);
    expect(h.watches.watchCount).toBe(0);
  });
});

describe("setWatches after a reconnect", () => {
  it("fires at once what changed after relativeZxid and re-registers the rest", () => {
    const h = new Harness();
    const c = h.connect();
    for (const p of ["/d", "/same", "/gone", "/kids", "/quiet"]) c.create(p);
    const seen = h.tree.lastProcessedZxid; // the client's lastZxid when it lost the connection
    c.setData("/d", "changed");
    c.create("/e");
    c.create("/kids/k");
    c.delete("/gone");
    const a = h.attach(h.connect().sessionId);
    const xid = a.send(
      rq.setWatches2(seen, {
        dataWatches: ["/d", "/same", "/gone"],
        existWatches: ["/e", "/still-missing"],
        childWatches: ["/kids", "/quiet", "/gone"],
        persistentWatches: ["/pw"],
        persistentRecursiveWatches: ["/rw"],
      }),
    );
    expect(xid).toBe(Xid.setWatches);
    expect(a.replyTo(Xid.setWatches)?.err).toBe(Err.Ok);
    expect(a.conn.eventList()).toEqual([
      [NodeDataChanged, "/d"],
      [NodeDeleted, "/gone"],
      [NodeCreated, "/e"],
      [NodeChildrenChanged, "/kids"],
      [NodeDeleted, "/gone"],
    ]);
    // Events come before the setWatches reply.
    expect(a.conn.out[a.conn.out.length - 1]!.kind).toBe("reply");
    a.conn.clearEvents();
    c.setData("/same", "x");
    c.create("/still-missing");
    c.create("/quiet/k");
    c.create("/pw");
    c.create("/rw");
    c.create("/rw/deep");
    expect(a.conn.eventList()).toEqual([
      [NodeDataChanged, "/same"],
      [NodeCreated, "/still-missing"],
      [NodeChildrenChanged, "/quiet"],
      [NodeCreated, "/pw"],
      [NodeCreated, "/rw"],
      [NodeCreated, "/rw/deep"],
    ]);
  });
});

describe("watches and connections", () => {
  it("a detached connection's watches are dropped", () => {
    const h = new Harness();
    const c = h.connect();
    const w = h.connect();
    c.create("/n");
    w.getData("/n", true);
    w.addWatch("/", AddWatchMode.PersistentRecursive);
    expect(h.watches.watchCount).toBe(2);
    h.pipeline.detach(w.queue, "connection closed by client");
    expect(h.watches.watchCount).toBe(0);
    c.setData("/n", "x");
    expect(w.conn.events()).toEqual([]);
  });

  it("when a session moves to a new connection the old one is closed and its watches go", () => {
    const h = new Harness();
    const c = h.connect();
    const old = h.connect();
    c.create("/n");
    old.getData("/n", true);
    const moved = h.attach(old.sessionId);
    expect(old.conn.closed).toBe(true);
    c.setData("/n", "x");
    expect(old.conn.events()).toEqual([]);
    expect(moved.conn.events()).toEqual([]);
    expect(moved.getData("/n").err).toBe(Err.Ok);
  });

  it("the writer's own watch event comes before the write's reply", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/n");
    c.getData("/n", true);
    const xid = c.send(rq.setData("/n", "x"));
    const tail = c.conn.out.slice(-2);
    expect(tail).toEqual([
      { kind: "event", type: NodeDataChanged, path: "/n" },
      expect.objectContaining({ kind: "reply", xid }),
    ]);
  });
});
