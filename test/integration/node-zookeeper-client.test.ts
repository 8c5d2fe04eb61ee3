/**
 * node-zookeeper-client (npm, pure JS) against the target server over loopback.
 *
 * The target is chosen by CORRAL_TEST_TARGET (see test/helpers/target.ts); every
 * expectation here was first checked against Apache ZooKeeper 3.8, so a Corral
 * failure is a compatibility bug. Each test works under its own unique path.
 * Waits for watch events are promises bounded by `within`, never sleeps; to
 * prove that an event did NOT arrive, a test runs `barrier()` (a later event on
 * the same connection) and then inspects the raw notifications.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTarget, targetKind, targetSkipReason, type Target } from "../helpers/target.js";
import {
  ACL,
  connect,
  CreateMode,
  digestId,
  Event,
  Exception,
  Id,
  Permission,
  uniquePath,
  within,
  type ZkSession,
} from "../helpers/nzk.js";

const skipReason = targetSkipReason();
if (skipReason !== undefined) console.warn(`[node-zookeeper-client.test] skipped: ${skipReason}`);

const CONTAINER_FLAG = 4; // CreateMode.CONTAINER; node-zookeeper-client 1.1.x has no constant for it

describe.skipIf(skipReason !== undefined)(`node-zookeeper-client against ${targetKind()}`, () => {
  let target: Target;
  let open: ZkSession[] = [];

  beforeAll(async () => {
    target = await startTarget();
  });

  afterAll(async () => {
    await target?.stop();
  });

  afterEach(async () => {
    const sessions = open;
    open = [];
    await Promise.all(sessions.map((s) => s.close()));
  });

  async function session(): Promise<ZkSession> {
    const s = await connect(target.connectString);
    open.push(s);
    return s;
  }

  /**
   * Makes `watcher` receive one event on a fresh path, caused by `writer`. The
   * server sends a connection its notifications in the order it applies txns,
   * so once this resolves, every notification caused by an earlier write has
   * already arrived at `watcher`.
   */
  async function barrier(watcher: ZkSession, writer: ZkSession): Promise<void> {
    const path = uniquePath("barrier");
    const { event } = await watcher.existsW(path);
    await writer.create(path);
    await within(event, `barrier event on ${path}`);
    await writer.remove(path);
  }

  const buf = (s: string): Buffer => Buffer.from(s, "utf8");
  const under = (root: string, path: string): boolean => path === root || path.startsWith(`${root}/`);

  describe("create", () => {
    it("creates a persistent node with data and reads it back with a fresh Stat", async () => {
      const zk = await session();
      const p = uniquePath("create");
      const before = BigInt(Date.now());
      expect(await zk.create(p, { data: buf("hello") })).toBe(p);
      const { data, stat } = await zk.getData(p);
      expect(data?.toString()).toBe("hello");
      expect(stat).toMatchObject({
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeralOwner: 0n,
        dataLength: 5,
        numChildren: 0,
      });
      expect(stat.mzxid).toBe(stat.czxid);
      expect(stat.pzxid).toBe(stat.czxid);
      expect(stat.mtime).toBe(stat.ctime);
      // Server and test share a clock on loopback; allow generous skew.
      expect(stat.ctime >= before - 60_000n && stat.ctime <= BigInt(Date.now()) + 60_000n).toBe(true);
    });

    it("keeps null data and empty data apart", async () => {
      const zk = await session();
      const p = uniquePath("nulldata");
      await zk.create(p);
      await zk.create(`${p}/empty`, { data: Buffer.alloc(0) });
      const none = await zk.getData(p);
      expect(none.data).toBeUndefined(); // buffer length -1 on the wire
      expect(none.stat.dataLength).toBe(0);
      const empty = await zk.getData(`${p}/empty`);
      expect(empty.data).toEqual(Buffer.alloc(0));
      expect(empty.stat.dataLength).toBe(0);
    });

    it("fails with NODE_EXISTS for an existing path and NO_NODE for a missing parent", async () => {
      const zk = await session();
      const p = uniquePath("exists-err");
      await zk.create(p);
      await expect(zk.create(p)).rejects.toMatchObject({ code: Exception.NODE_EXISTS });
      await expect(zk.create(`${p}/missing/child`)).rejects.toMatchObject({ code: Exception.NO_NODE });
    });

    it("names sequential nodes with a 10-digit zero-padded counter of the parent's child creations", async () => {
      const zk = await session();
      const p = uniquePath("seq");
      await zk.create(p);
      const s0 = await zk.create(`${p}/s-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      const s1 = await zk.create(`${p}/s-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      const s2 = await zk.create(`${p}/s-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      expect([s0, s1, s2]).toEqual([`${p}/s-0000000000`, `${p}/s-0000000001`, `${p}/s-0000000002`]);

      // The suffix counts child *creations* only; the Stat's cversion counts
      // creations and deletions. (ZooKeeper 3.8 stores the create count and
      // reports cversion = 2 * creates - numChildren, DataNode.copyStat.) So
      // after a delete the next suffix is NOT the cversion a client just read.
      await zk.create(`${p}/plain`);
      expect((await zk.exists(p))?.cversion).toBe(4);
      await zk.remove(s1);
      expect((await zk.exists(p))?.cversion).toBe(5);
      const s4 = await zk.create(`${p}/s-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      expect(s4).toBe(`${p}/s-0000000004`);
      expect((await zk.exists(p))?.cversion).toBe(6);
      const e5 = await zk.create(`${p}/e-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      expect(e5).toBe(`${p}/e-0000000005`);
      await zk.remove(`${p}/plain`);
      await zk.remove(s4);
      const s6 = await zk.create(`${p}/s-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      expect(s6).toBe(`${p}/s-0000000006`); // 7 creations, 3 deletions: suffix 6, cversion 10

      const { children, stat } = await zk.getChildren(p);
      expect(children.sort()).toEqual(["e-0000000005", "s-0000000000", "s-0000000002", "s-0000000006"]);
      expect(stat).toMatchObject({ cversion: 10, numChildren: 4 });
    });

    it("makes ephemeral nodes owned by the session; they vanish when it closes (seen by a second client)", async () => {
      const owner = await session();
      const observer = await session();
      const p = uniquePath("ephemeral");
      await owner.create(p);
      await owner.create(`${p}/e`, { mode: CreateMode.EPHEMERAL, data: buf("x") });
      const es = await owner.create(`${p}/es-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      expect(es).toBe(`${p}/es-0000000001`);

      const seenByObserver = await observer.existsW(`${p}/e`);
      expect(seenByObserver.result?.ephemeralOwner).toBe(owner.sessionId);
      expect(owner.sessionId).not.toBe(0n);
      expect((await observer.exists(es))?.ephemeralOwner).toBe(owner.sessionId);
      const children = await observer.getChildrenW(p);
      expect(children.result.children.sort()).toEqual(["e", "es-0000000001"]);

      await owner.close();
      const deleted = await within(seenByObserver.event, "NODE_DELETED of the ephemeral");
      expect(deleted).toMatchObject({ type: Event.NODE_DELETED, path: `${p}/e` });
      expect(await within(children.event, "NODE_CHILDREN_CHANGED of the parent")).toMatchObject({
        type: Event.NODE_CHILDREN_CHANGED,
        path: p,
      });
      expect(await observer.exists(`${p}/e`)).toBeNull();
      expect(await observer.exists(es)).toBeNull();
      expect((await observer.getChildren(p)).stat.numChildren).toBe(0);
    });

    it("refuses children under an ephemeral node with NO_CHILDREN_FOR_EPHEMERALS", async () => {
      const zk = await session();
      const p = uniquePath("eph-parent");
      await zk.create(p);
      await zk.create(`${p}/e`, { mode: CreateMode.EPHEMERAL });
      const es = await zk.create(`${p}/es-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      await expect(zk.create(`${p}/e/child`)).rejects.toMatchObject({ code: Exception.NO_CHILDREN_FOR_EPHEMERALS });
      await expect(zk.create(`${es}/child`, { mode: CreateMode.EPHEMERAL })).rejects.toMatchObject({
        code: Exception.NO_CHILDREN_FOR_EPHEMERALS,
      });
    });

    it("treats container flags sent with the plain create opcode as a persistent node", async () => {
      // node-zookeeper-client only speaks opcode 1 (create); it has no
      // createContainer (19). ZooKeeper 3.8 accepts flags=4 on opcode 1 and
      // builds an ordinary CreateTxn: the node is persistent, not a container
      // (verified with znode.container.checkIntervalMs=200: it is never reaped).
      const zk = await session();
      const p = uniquePath("container");
      expect(await zk.create(p, { mode: CONTAINER_FLAG })).toBe(p);
      await zk.create(`${p}/kid`, { mode: CreateMode.EPHEMERAL });
      const stat = await zk.exists(p);
      expect(stat).toMatchObject({ ephemeralOwner: 0n, numChildren: 1 });
    });
  });

  describe("read and write", () => {
    it("exists returns null for a missing node and the full Stat for a present one", async () => {
      const zk = await session();
      const p = uniquePath("stat");
      expect(await zk.exists(p)).toBeNull();
      await zk.create(p, { data: buf("abc") });
      await zk.create(`${p}/a`);
      await zk.create(`${p}/b`);
      const b = await zk.exists(`${p}/b`);
      await zk.setData(p, buf("abcd"));
      const stat = await zk.exists(p);
      expect(stat).toMatchObject({
        version: 1,
        cversion: 2,
        aversion: 0,
        ephemeralOwner: 0n,
        dataLength: 4,
        numChildren: 2,
      });
      expect(stat?.pzxid).toBe(b?.czxid); // last child change
      expect(stat !== null && b !== null && stat.mzxid > b.czxid).toBe(true);
      expect(stat !== null && stat.mtime >= stat.ctime).toBe(true);

      await zk.remove(`${p}/a`);
      const afterDelete = await zk.exists(p);
      expect(afterDelete).toMatchObject({ numChildren: 1, cversion: 3, version: 1 });
      expect(afterDelete !== null && stat !== null && afterDelete.pzxid > stat.mzxid).toBe(true);
      expect(afterDelete?.mzxid).toBe(stat?.mzxid); // child changes do not touch mzxid
    });

    it("setData checks the version: a match bumps it, a mismatch is BAD_VERSION, a missing node NO_NODE", async () => {
      const zk = await session();
      const p = uniquePath("setdata");
      await zk.create(p, { data: buf("v0") });
      const s1 = await zk.setData(p, buf("v1"), 0);
      expect(s1).toMatchObject({ version: 1, dataLength: 2 });
      const s2 = await zk.setData(p, buf("v2-any"), -1);
      expect(s2.version).toBe(2);
      expect(s2.mzxid > s1.mzxid).toBe(true);
      await expect(zk.setData(p, buf("stale"), 1)).rejects.toMatchObject({ code: Exception.BAD_VERSION });
      expect((await zk.getData(p)).data?.toString()).toBe("v2-any");
      await expect(zk.setData(`${p}/missing`, buf("x"))).rejects.toMatchObject({ code: Exception.NO_NODE });
    });

    it("delete checks the version and refuses missing and non-empty nodes", async () => {
      const zk = await session();
      const p = uniquePath("delete");
      await zk.create(p);
      await zk.create(`${p}/kid`, { data: buf("k") });
      await zk.setData(`${p}/kid`, buf("k2"));
      await expect(zk.remove(p)).rejects.toMatchObject({ code: Exception.NOT_EMPTY });
      await expect(zk.remove(`${p}/kid`, 0)).rejects.toMatchObject({ code: Exception.BAD_VERSION });
      await expect(zk.remove(`${p}/nope`)).rejects.toMatchObject({ code: Exception.NO_NODE });
      await zk.remove(`${p}/kid`, 1);
      expect(await zk.exists(`${p}/kid`)).toBeNull();
      await zk.remove(p, 0);
      expect(await zk.exists(p)).toBeNull();
    });

    it("getChildren returns the child names and the parent's Stat", async () => {
      const zk = await session();
      const p = uniquePath("children");
      await zk.create(p, { data: buf("parent") });
      for (const name of ["b", "a", "c"]) await zk.create(`${p}/${name}`);
      await zk.create(`${p}/a/grandchild`);
      const { children, stat } = await zk.getChildren(p);
      expect(children.sort()).toEqual(["a", "b", "c"]);
      expect(stat).toMatchObject({ numChildren: 3, cversion: 3, dataLength: 6 });
      expect((await zk.getChildren(`${p}/b`)).children).toEqual([]);
      await expect(zk.getChildren(`${p}/nope`)).rejects.toMatchObject({ code: Exception.NO_NODE });
    });
  });

  describe("ACLs", () => {
    it("getACL shows world:anyone ALL by default; setACL checks aversion and takes effect", async () => {
      const zk = await session();
      const p = uniquePath("acl");
      await zk.create(p, { data: buf("d") });
      const initial = await zk.getACL(p);
      expect(initial.acls).toEqual([{ permission: Permission.ALL, id: { scheme: "world", id: "anyone" } }]);
      expect(initial.stat.aversion).toBe(0);

      const readWrite = [new ACL(Permission.READ | Permission.WRITE | Permission.ADMIN, Id.ANYONE_ID_UNSAFE)];
      await expect(zk.setACL(p, readWrite, 5)).rejects.toMatchObject({ code: Exception.BAD_VERSION });
      const stat = await zk.setACL(p, readWrite, 0);
      expect(stat).toMatchObject({ aversion: 1, version: 0 });
      expect((await zk.getACL(p)).acls).toEqual([{ permission: 19, id: { scheme: "world", id: "anyone" } }]);

      // No CREATE or DELETE for anyone now: child ops on this node are refused.
      await expect(zk.create(`${p}/kid`)).rejects.toMatchObject({ code: Exception.NO_AUTH });
      await zk.setACL(p, ACL.READ_ACL_UNSAFE, 1);
      await expect(zk.setData(p, buf("x"))).rejects.toMatchObject({ code: Exception.NO_AUTH });
      await expect(zk.setACL(p, ACL.OPEN_ACL_UNSAFE)).rejects.toMatchObject({ code: Exception.NO_AUTH });
      expect((await zk.getData(p)).data?.toString()).toBe("d");
    });

    it("a digest ACL admits the authenticated client and denies others with NO_AUTH", async () => {
      const alice = await session();
      alice.addDigest("u:p");
      const anonymous = await session();
      const wrong = await session();
      wrong.addDigest("u:wrong");
      const p = uniquePath("digest");
      const id = digestId("u", "p");
      expect(id).toBe("u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=");
      await alice.create(p, { data: buf("secret"), acls: [new ACL(Permission.ALL, new Id("digest", id))] });

      expect((await alice.getData(p)).data?.toString()).toBe("secret");
      expect((await alice.getACL(p)).acls).toEqual([{ permission: Permission.ALL, id: { scheme: "digest", id } }]);
      for (const other of [anonymous, wrong]) {
        await expect(other.getData(p)).rejects.toMatchObject({ code: Exception.NO_AUTH });
        await expect(other.setData(p, buf("x"))).rejects.toMatchObject({ code: Exception.NO_AUTH });
        await expect(other.getChildren(p)).rejects.toMatchObject({ code: Exception.NO_AUTH });
        await expect(other.create(`${p}/kid`)).rejects.toMatchObject({ code: Exception.NO_AUTH });
        await expect(other.getACL(p)).rejects.toMatchObject({ code: Exception.NO_AUTH });
      }
    });

    it("the auth scheme expands to the caller's digest id, and is INVALID_ACL without credentials", async () => {
      const alice = await session();
      alice.addDigest("u:p");
      const anonymous = await session();
      const p = uniquePath("auth-scheme");
      await alice.create(p, { acls: ACL.CREATOR_ALL_ACL });
      expect((await alice.getACL(p)).acls).toEqual([
        { permission: Permission.ALL, id: { scheme: "digest", id: digestId("u", "p") } },
      ]);
      await expect(anonymous.create(`${p}-anon`, { acls: ACL.CREATOR_ALL_ACL })).rejects.toMatchObject({
        code: Exception.INVALID_ACL,
      });
      await expect(anonymous.getData(p)).rejects.toMatchObject({ code: Exception.NO_AUTH });
    });
  });

  describe("multi (transaction)", () => {
    it("applies every op at one zxid and returns per-op results", async () => {
      const zk = await session();
      const p = uniquePath("multi-ok");
      await zk.create(p);
      await zk.create(`${p}/old`);
      const tx = zk.client
        .transaction()
        .create(`${p}/a`, buf("one"))
        .create(`${p}/s-`, undefined, CreateMode.PERSISTENT_SEQUENTIAL)
        .setData(`${p}/a`, buf("two"))
        .check(`${p}/a`, 1)
        .remove(`${p}/old`);
      const { error, results } = await zk.commit(tx);
      expect(error).toBeNull();
      expect(results.map((r) => r.type)).toEqual([1, 1, 5, 13, 2]);
      expect(results[0]?.path).toBe(`${p}/a`);
      // /old and then /a were created before it, so the parent's cversion is 2 here.
      expect(results[1]?.path).toBe(`${p}/s-0000000002`);
      expect(results[2]?.stat?.version).toBe(1);

      const a = await zk.getData(`${p}/a`);
      expect(a.data?.toString()).toBe("two");
      expect(a.stat.mzxid).toBe(a.stat.czxid); // created and set in the same txn
      expect((await zk.exists(`${p}/s-0000000002`))?.czxid).toBe(a.stat.czxid);
      expect(await zk.exists(`${p}/old`)).toBeNull();
      expect((await zk.exists(p))?.pzxid).toBe(a.stat.czxid);
    });

    it("applies nothing when one op fails: earlier ops report 0, the failure its code, later ops -2", async () => {
      const zk = await session();
      const watcher = await session();
      const p = uniquePath("multi-fail");
      await zk.create(p);
      await zk.create(`${p}/keep`, { data: buf("orig") });
      await zk.create(`${p}/other`);
      // Watches a rolled-back op would fire if it leaked.
      await watcher.getDataW(`${p}/keep`);
      await watcher.getChildrenW(p);
      await watcher.existsW(`${p}/new`);

      const tx = zk.client
        .transaction()
        .create(`${p}/new`, buf("n"))
        .setData(`${p}/keep`, buf("changed"))
        .check(`${p}/keep`, 5) // actual version is 0 (after the rolled-back setData it would be 1)
        .remove(`${p}/other`);
      const { error, results } = await zk.commit(tx);
      expect(error).toMatchObject({ code: Exception.BAD_VERSION });
      expect(results).toEqual([
        { type: -1, err: 0 },
        { type: -1, err: 0 },
        { type: -1, err: Exception.BAD_VERSION },
        { type: -1, err: Exception.RUNTIME_INCONSISTENCY },
      ]);

      expect(await zk.exists(`${p}/new`)).toBeNull();
      const keep = await zk.getData(`${p}/keep`);
      expect(keep.data?.toString()).toBe("orig");
      expect(keep.stat.version).toBe(0);
      expect(await zk.exists(`${p}/other`)).not.toBeNull();
      expect((await zk.exists(p))?.cversion).toBe(2);

      await barrier(watcher, zk);
      expect(watcher.notifications.filter((n) => under(p, n.path))).toEqual([]);
    });
  });

  describe("watches", () => {
    it("a data watch fires NODE_DATA_CHANGED once and is then gone (one-shot)", async () => {
      const watcher = await session();
      const writer = await session();
      const p = uniquePath("data-watch");
      await writer.create(p, { data: buf("0") });
      const { result, event } = await watcher.getDataW(p);
      expect(result.data?.toString()).toBe("0");

      await writer.setData(p, buf("1"));
      expect(await within(event, "NODE_DATA_CHANGED")).toMatchObject({ type: Event.NODE_DATA_CHANGED, path: p });
      await writer.setData(p, buf("2"));
      await writer.setData(p, buf("3"));
      await barrier(watcher, writer);
      expect(watcher.notifications.filter((n) => n.path === p)).toEqual([{ type: Event.NODE_DATA_CHANGED, path: p }]);
    });

    it("an exists watch on a missing node fires NODE_CREATED", async () => {
      const watcher = await session();
      const writer = await session();
      const p = uniquePath("exists-watch");
      const { result, event } = await watcher.existsW(p);
      expect(result).toBeNull();
      await writer.create(p);
      expect(await within(event, "NODE_CREATED")).toMatchObject({ type: Event.NODE_CREATED, path: p });
    });

    it("an exists watch on a present node fires NODE_DATA_CHANGED", async () => {
      const watcher = await session();
      const writer = await session();
      const p = uniquePath("exists-data-watch");
      await writer.create(p);
      const { result, event } = await watcher.existsW(p);
      expect(result).not.toBeNull();
      await writer.setData(p, buf("x"));
      expect(await within(event, "NODE_DATA_CHANGED")).toMatchObject({ type: Event.NODE_DATA_CHANGED, path: p });
    });

    it("a child watch fires on child create and delete, not on grandchildren or data changes", async () => {
      const watcher = await session();
      const writer = await session();
      const p = uniquePath("child-watch");
      await writer.create(p);
      await writer.create(`${p}/c`);
      const first = await watcher.getChildrenW(p);
      expect(first.result.children).toEqual(["c"]);

      await writer.create(`${p}/c/grandchild`);
      await writer.setData(`${p}/c`, buf("x"));
      await writer.setData(p, buf("y"));
      await barrier(watcher, writer);
      expect(watcher.notifications.filter((n) => under(p, n.path))).toEqual([]);

      await writer.create(`${p}/d`);
      expect(await within(first.event, "NODE_CHILDREN_CHANGED on create")).toMatchObject({
        type: Event.NODE_CHILDREN_CHANGED,
        path: p,
      });

      const second = await watcher.getChildrenW(p);
      expect(second.result.children.sort()).toEqual(["c", "d"]);
      await writer.remove(`${p}/d`);
      expect(await within(second.event, "NODE_CHILDREN_CHANGED on delete")).toMatchObject({
        type: Event.NODE_CHILDREN_CHANGED,
        path: p,
      });
    });

    it("deleting a watched node fires NODE_DELETED, one notification for data and child watches together", async () => {
      const watcher = await session();
      const writer = await session();
      const p = uniquePath("delete-watch");
      await writer.create(p);
      const data = await watcher.getDataW(p);
      const children = await watcher.getChildrenW(p);
      const exists = await watcher.existsW(p);
      await writer.remove(p);
      for (const [label, w] of [
        ["data", data.event],
        ["child", children.event],
        ["exists", exists.event],
      ] as const) {
        expect(await within(w, `NODE_DELETED via ${label} watch`)).toMatchObject({ type: Event.NODE_DELETED, path: p });
      }
      await barrier(watcher, writer);
      // ZooKeeper suppresses the child-watch copy for a connection that already
      // got the data-watch event (DataTree.deleteNode passes `processed` along).
      expect(watcher.notifications.filter((n) => n.path === p)).toEqual([{ type: Event.NODE_DELETED, path: p }]);
    });
  });
});

describe.skipIf(skipReason !== undefined)(`node-zookeeper-client against ${targetKind()} with skipACL=yes`, () => {
  let target: Target;
  const open: ZkSession[] = [];

  beforeAll(async () => {
    target = await startTarget({ skipAcl: true });
  });

  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await target?.stop();
  });

  async function session(): Promise<ZkSession> {
    const s = await connect(target.connectString);
    open.push(s);
    return s;
  }

  it("a client without credentials reads, writes and deletes under a digest ACL; ACLs are still validated", async () => {
    const alice = await session();
    alice.addDigest("u:p");
    const anonymous = await session();
    const p = uniquePath("skip-acl");
    const acls = [new ACL(Permission.ALL, new Id("digest", digestId("u", "p")))];
    await alice.create(p, { data: Buffer.from("secret"), acls });

    expect((await anonymous.getData(p)).data?.toString()).toBe("secret");
    await anonymous.setData(p, Buffer.from("changed"));
    await anonymous.create(`${p}/kid`);
    expect((await anonymous.getChildren(p)).children).toEqual(["kid"]);
    expect((await anonymous.getACL(p)).acls).toEqual([{ permission: Permission.ALL, id: { scheme: "digest", id: digestId("u", "p") } }]);
    await anonymous.remove(`${p}/kid`);
    await anonymous.remove(p);
    expect(await alice.exists(p)).toBeNull();
    await expect(anonymous.create(`${p}-auth`, { acls: ACL.CREATOR_ALL_ACL })).rejects.toMatchObject({ code: Exception.INVALID_ACL });
  });
});
