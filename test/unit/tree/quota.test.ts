// Quota stats kept in the tree (ZOOKEEPER.md §1.10): the zookeeper_stats node of a quota
// root holds `count=N,bytes=M` for the root's subtree through every create, delete,
// setData, multi and session close, applied as part of the txn (no txn of its own), so
// every replica and every replay holds the same bytes; a tree rebuilt from a snapshot's
// node records recounts to exactly what the applying tree holds.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OpCode } from "../../../src/jute/index.js";
import {
  DataTree,
  OPEN_ACL_UNSAFE,
  formatStatsTrack,
  parseLimits,
  parseStatsTrack,
  quotaNodeOf,
} from "../../../src/tree/index.js";
import type { Txn } from "../../../src/txn/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";

const LIMITS_A = "count=3,bytes=-1=;byteHardLimit=20;countHardLimit=-1";

class Applier {
  readonly tree = new DataTree();
  zxid = 0n;

  run(txn: Txn, sessionId = 1n): number {
    const r = this.tree.apply({ hdr: { sessionId: asSessionId(sessionId), cxid: 1, zxid: asZxid(++this.zxid), timeMs: 1, opCode: OpCode.create2 }, txn }, []);
    return r.err;
  }

  create(path: string, data: string | null = null, owner = 0n): number {
    return this.run({ type: "create", path, data: data === null ? null : Buffer.from(data), acl: OPEN_ACL_UNSAFE, ephemeralOwner: owner, parentCVersion: -1 });
  }

  set(path: string, data: string | null): number {
    return this.run({ type: "setData", path, data: data === null ? null : Buffer.from(data), version: 1 });
  }

  del(path: string): number {
    return this.run({ type: "delete", path });
  }

  /** What zkCli's setquota writes: the quota dirs, then limits, then stats at zero. */
  setquota(root: string, limits: string): void {
    let dir = "/zookeeper/quota";
    for (const part of root.split("/").slice(1)) this.create((dir += `/${part}`));
    this.create(`${dir}/zookeeper_limits`, limits);
    this.create(`${dir}/zookeeper_stats`, "count=0,bytes=0");
  }

  stats(root: string): string | undefined {
    return this.tree.get(`/zookeeper/quota${root}/zookeeper_stats`)?.data?.toString();
  }
}

/** A tree rebuilt from `from`'s node records, as a snapshot load or a SNAP builds it. */
function restored(from: DataTree): DataTree {
  const to = new DataTree();
  for (const [path, n] of from.nodes()) {
    expect(to.restoreNode(path, n.toRecord())).toBe(true);
  }
  return to;
}

describe("StatsTrack text", () => {
  it("reads ZooKeeper 3.7+'s limits text and writes it back the same", () => {
    expect(parseLimits(Buffer.from(LIMITS_A))).toEqual({ count: 3, bytes: -1, countHardLimit: -1, byteHardLimit: 20 });
    expect(formatStatsTrack(parseStatsTrack(LIMITS_A))).toBe(LIMITS_A);
    // Pre-3.7 text (count and bytes only) and missing keys read as -1.
    expect(parseLimits(Buffer.from("count=5,bytes=10"))).toEqual({ count: 5, bytes: 10, countHardLimit: -1, byteHardLimit: -1 });
    expect(parseLimits(null)).toEqual({ count: -1, bytes: -1, countHardLimit: -1, byteHardLimit: -1 });
    expect(formatStatsTrack(new Map([["countHardLimit", 4]]))).toBe("count=-1,bytes=-1=;countHardLimit=4");
  });

  it("names the quota root of limits and stats nodes only, and never / or /zookeeper", () => {
    expect(quotaNodeOf("/zookeeper/quota/a/b/zookeeper_limits")).toEqual({ root: "/a/b", kind: "limits" });
    expect(quotaNodeOf("/zookeeper/quota/a/zookeeper_stats")).toEqual({ root: "/a", kind: "stats" });
    expect(quotaNodeOf("/zookeeper/quota/a/other")).toBeUndefined();
    expect(quotaNodeOf("/a/zookeeper_limits")).toBeUndefined();
    expect(quotaNodeOf("/zookeeper/quota/zookeeper_limits")).toBeUndefined();
    expect(quotaNodeOf("/zookeeper/quota/zookeeper/zookeeper_limits")).toBeUndefined();
  });
});

describe("quota stats maintained on apply", () => {
  it("counts the subtree when the stats node is created, then follows create, setData, delete and multi", () => {
    const a = new Applier();
    a.create("/a");
    a.create("/a/b", "hello");
    a.create("/ab", "not under /a"); // a sibling with /a as a string prefix
    a.setquota("/a", LIMITS_A);
    expect(a.stats("/a")).toBe("count=2,bytes=5");
    const statsNode = a.tree.get("/zookeeper/quota/a/zookeeper_stats")!;
    const mzxid = statsNode.mzxid;

    a.create("/a/c", "123456789012345");
    expect(a.stats("/a")).toBe("count=3,bytes=20");
    a.set("/a/b", "hi");
    expect(a.stats("/a")).toBe("count=3,bytes=17");
    a.del("/a/c");
    expect(a.stats("/a")).toBe("count=2,bytes=2");
    a.create("/ab/x", "zzz");
    expect(a.stats("/a")).toBe("count=2,bytes=2");
    // A multi's ops each count; a failed op changes nothing.
    expect(a.run({ type: "multi", txns: [
      { type: "create", path: "/a/m", data: Buffer.from("1234"), acl: OPEN_ACL_UNSAFE, ephemeralOwner: 0n, parentCVersion: -1 },
      { type: "setData", path: "/a/b", data: null, version: 2 },
    ] })).toBe(0);
    expect(a.stats("/a")).toBe("count=3,bytes=4");
    // The stats node is rewritten in place, as ZooKeeper's DataTree does: no version, no mzxid.
    expect(statsNode.version).toBe(0);
    expect(statsNode.mzxid).toBe(mzxid);
    // The root itself counts; deleting it counts down.
    a.del("/a/m");
    a.del("/a/b");
    a.del("/a");
    expect(a.stats("/a")).toBe("count=0,bytes=0");
    a.create("/a", "x");
    expect(a.stats("/a")).toBe("count=1,bytes=1");
  });

  it("a session's end (its ephemerals deleted) counts down in the same txn", () => {
    const a = new Applier();
    a.create("/e");
    a.setquota("/e", "count=-1,bytes=-1");
    a.create("/e/1", "abc", 7n);
    a.create("/e/2", "de", 7n);
    a.create("/e/3", "f", 8n);
    expect(a.stats("/e")).toBe("count=4,bytes=6");
    a.run({ type: "closeSession" }, 7n);
    expect(a.stats("/e")).toBe("count=2,bytes=1");
  });

  it("nodes under a deeper quota count there only; removing the deeper quota gives them back", () => {
    const a = new Applier();
    for (const p of ["/o", "/o/i", "/o/i/x"]) a.create(p, "12");
    a.setquota("/o", "count=10,bytes=-1");
    expect(a.stats("/o")).toBe("count=3,bytes=6");
    a.setquota("/o/i", "count=10,bytes=-1"); // written by hand: zkCli refuses nested quotas
    expect(a.stats("/o/i")).toBe("count=2,bytes=4");
    expect(a.stats("/o")).toBe("count=1,bytes=2");
    a.create("/o/i/y", "1");
    expect([a.stats("/o"), a.stats("/o/i")]).toEqual(["count=1,bytes=2", "count=3,bytes=5"]);
    a.del("/zookeeper/quota/o/i/zookeeper_limits");
    expect(a.stats("/o")).toBe("count=4,bytes=7");
    a.create("/o/i/z");
    expect(a.stats("/o")).toBe("count=5,bytes=7");
    expect(a.stats("/o/i")).toBe("count=3,bytes=5"); // no longer a quota: left as it was
  });

  it("a quota whose limits node is gone is no longer kept; a stats node written by hand is put back to the count", () => {
    const a = new Applier();
    a.create("/q", "1");
    a.setquota("/q", "count=5,bytes=-1");
    a.set("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0");
    expect(a.stats("/q")).toBe("count=1,bytes=1");
    a.del("/zookeeper/quota/q/zookeeper_limits");
    a.create("/q/more");
    expect(a.stats("/q")).toBe("count=1,bytes=1");
    expect([...a.tree.quotas()]).toEqual([]);
  });

  it("limits changes show at once; usage past a limit is reported as a warning", () => {
    const a = new Applier();
    a.create("/w");
    a.setquota("/w", "count=2,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
    expect(a.tree.takeQuotaWarnings().warnings).toEqual([]);
    a.create("/w/1");
    a.create("/w/2", "abc");
    expect(a.tree.takeQuotaWarnings()).toEqual({ warnings: [{ root: "/w", what: "count", usage: 3, limit: 2, hard: false }], dropped: 0 });
    a.set("/zookeeper/quota/w/zookeeper_limits", "count=-1,bytes=2=;byteHardLimit=-1;countHardLimit=-1");
    expect([...a.tree.quotas()]).toEqual([
      { root: "/w", limits: { count: -1, bytes: 2, countHardLimit: -1, byteHardLimit: -1 }, usage: { count: 3, bytes: 3 } },
    ]);
    expect(a.tree.quotaRootOf("/w/2/deeper")).toBe("/w");
    expect(a.tree.quotaRootOf("/wx")).toBeUndefined();
    a.set("/w/2", "abcd");
    expect(a.tree.takeQuotaWarnings().warnings).toEqual([{ root: "/w", what: "bytes", usage: 4, limit: 2, hard: false }]);
  });

  it("a tree rebuilt from node records (snapshot load, SNAP) holds the same stats as the applying tree, for random histories", () => {
    const roots = ["/r0", "/r1", "/r1/n2"];
    const pathArb = fc.constantFrom("/r0", "/r0/n0", "/r0/n0/n1", "/r1", "/r1/n2", "/r1/n2/n0", "/r1/n1", "/r2", "/r2/n0");
    const opArb = fc.tuple(fc.integer({ min: 0, max: 9 }), pathArb, fc.string({ maxLength: 6 }), fc.integer({ min: 0, max: 2 }));
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.subarray(roots), (ops, quotaRoots) => {
        const a = new Applier();
        for (const [kind, path, data, which] of ops) {
          if (kind <= 4) a.create(path, data.length === 0 ? null : data, kind === 4 ? 5n : 0n);
          else if (kind <= 6) a.set(path, data);
          else if (kind <= 7) a.del(path);
          else if (kind === 8) a.run({ type: "closeSession" }, 5n);
          else {
            const root = quotaRoots[which % Math.max(1, quotaRoots.length)];
            if (root !== undefined && a.tree.get(`/zookeeper/quota${root}/zookeeper_limits`) === undefined) a.setquota(root, "count=1,bytes=1");
          }
        }
        const again = restored(a.tree);
        for (const root of roots) expect(again.get(`/zookeeper/quota${root}/zookeeper_stats`)?.data?.toString()).toBe(a.stats(root));
        expect([...again.quotas()]).toEqual([...a.tree.quotas()]);
        expect(again.approximateDataBytes).toBe(a.tree.approximateDataBytes);
      }),
      { seed: 20261206, numRuns: 200 },
    );
  });

  it("replaying a log over a fuzzy snapshot ends with the stats of a straight run", () => {
    const a = new Applier();
    a.create("/f");
    a.setquota("/f", "count=100,bytes=-1");
    const snapAt = a.zxid;
    const snap = restored(a.tree);
    const txns: Txn[] = [];
    for (let i = 0; i < 5; i++) {
      const t: Txn = { type: "create", path: `/f/${i}`, data: Buffer.from("xy"), acl: OPEN_ACL_UNSAFE, ephemeralOwner: 0n, parentCVersion: -1 };
      txns.push(t);
      a.run(t);
    }
    // The snapshot caught the first two creates already (fuzzy): replay redoes all five.
    snap.restoreNode("/f/0", { ...a.tree.get("/f/0")!.toRecord(), acl: OPEN_ACL_UNSAFE });
    snap.restoreNode("/f/1", { ...a.tree.get("/f/1")!.toRecord(), acl: OPEN_ACL_UNSAFE });
    let zxid = snapAt;
    for (const t of txns) snap.replay({ hdr: { sessionId: asSessionId(1n), cxid: 1, zxid: asZxid(++zxid), timeMs: 1, opCode: OpCode.create2 }, txn: t });
    expect(snap.get("/zookeeper/quota/f/zookeeper_stats")?.data?.toString()).toBe("count=6,bytes=10");
    expect(a.stats("/f")).toBe("count=6,bytes=10");
  });
});
