// The tree's size limit: a JS Map holds at most 2^24 entries, so a create that would
// take the tree past it must be refused before it is logged (applying it would throw,
// and so would every replay). Checked with a small limit; the real one is the Map's.

import { describe, expect, it } from "vitest";
import { Err, OpCode } from "../../../src/jute/index.js";
import { Prep, TREE_NODES_MAX } from "../../../src/pipeline/prep.js";
import type { CreateReq } from "../../../src/pipeline/requests.js";
import { DataTree, OPEN_ACL_UNSAFE, checkAcl } from "../../../src/tree/index.js";
import type { Txn } from "../../../src/txn/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";

const ctx = { sessionId: 1n, authIds: [], extendedTypesEnabled: false };
const create = (path: string): CreateReq => ({ kind: "create", opCode: OpCode.create, path, data: null, acl: OPEN_ACL_UNSAFE, flags: 0, ttl: -1n });

function setUp(nodesMax: number) {
  const tree = new DataTree();
  const prep = new Prep(tree, checkAcl, nodesMax);
  let zxid = 0n;
  const prepared: [bigint, Txn][] = [];
  return {
    tree,
    prep: (path: string): Txn => {
      const z = zxid + 1n + BigInt(prepared.length);
      const txn = prep.prep(create(path), z, ctx);
      prepared.push([z, txn]);
      return txn;
    },
    prepDelete: (path: string): Txn => {
      const z = zxid + 1n + BigInt(prepared.length);
      const txn = prep.prep({ kind: "delete", path, version: -1 }, z, ctx);
      prepared.push([z, txn]);
      return txn;
    },
    prepMulti: (paths: string[]): Txn => {
      const z = zxid + 1n + BigInt(prepared.length);
      const txn = prep.prep({ kind: "multi", ops: paths.map(create) }, z, ctx);
      prepared.push([z, txn]);
      return txn;
    },
    applyAll: (): void => {
      for (const [z, txn] of prepared.splice(0)) {
        tree.apply({ hdr: { sessionId: asSessionId(1n), cxid: 0, zxid: asZxid(z), timeMs: 1, opCode: OpCode.create }, txn }, []);
        prep.applied(z);
        zxid = z;
      }
    },
  };
}

describe("the tree's node limit", () => {
  it("is the most entries a JS Map holds", () => {
    expect(TREE_NODES_MAX).toBe(16_777_216);
  });

  it("lets the tree fill up to the limit, then answers QuotaExceeded until a delete makes room", () => {
    const s = setUp(s0() + 3);
    for (const p of ["/a", "/b", "/c"]) {
      expect(s.prep(p).type).toBe("create");
      s.applyAll();
    }
    expect(s.tree.nodeCount).toBe(s0() + 3);
    expect(s.prep("/d")).toEqual({ type: "error", err: Err.QuotaExceeded });
    s.applyAll();
    expect(s.tree.get("/d")).toBeUndefined();
    expect(s.prepDelete("/a").type).toBe("delete");
    s.applyAll();
    expect(s.prep("/d").type).toBe("create");
  });

  it("counts creates prepared but not yet applied (conservatively, by their pending records)", () => {
    const s = setUp(s0() + 3);
    expect(s.prep("/a").type).toBe("create");
    expect(s.prep("/b").type).toBe("create");
    // Two creates in flight hold four pending records: /c is refused though it would fit.
    expect(s.prep("/c")).toEqual({ type: "error", err: Err.QuotaExceeded });
    s.applyAll();
    expect(s.prep("/c").type).toBe("create");
    s.applyAll();
    expect(s.tree.nodeCount).toBe(s0() + 3);
  });

  it("a multi whose creates would cross the limit fails whole", () => {
    const s = setUp(s0() + 2);
    const txn = s.prepMulti(["/a", "/b", "/c"]);
    expect(txn.type).toBe("multi");
    const errs = (txn as Extract<Txn, { type: "multi" }>).txns.map((t) => (t.type === "error" ? t.err : Err.Ok));
    expect(errs).toContain(Err.QuotaExceeded);
    s.applyAll();
    expect(s.tree.get("/a")).toBeUndefined();
    expect(s.tree.nodeCount).toBe(s0());
  });
});

/** Nodes a fresh tree starts with (/, /zookeeper, /zookeeper/quota, /zookeeper/config). */
function s0(): number {
  return new DataTree().nodeCount;
}
