// Differential test (STYLE.md): random create / delete / setData / session-close sequences
// run through the pipeline and through a plain Map model of ZooKeeper's documented rules.
// Every reply code, every created name and, after every step, every node's Stat and data
// must agree. fast-check with a fixed seed, so a failure replays exactly.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CreateMode, Err, type Stat } from "../../../src/jute/index.js";
import { Harness, type Client } from "../pipeline/harness.js";

const RUNS = { seed: 0x7ee5, numRuns: 150 } as const;

interface MNode {
  data: string;
  version: number;
  cversion: number;
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  owner: bigint;
  children: Set<string>;
}

const SPECIAL = new Set(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]);
const POOL = ["/a", "/a/b", "/b", "/x/y", "/zookeeper/config"];

const parentOf = (p: string): string => (p.lastIndexOf("/") <= 0 ? "/" : p.slice(0, p.lastIndexOf("/")));
const baseOf = (p: string): string => p.slice(p.lastIndexOf("/") + 1);
const join = (parent: string, name: string): string => (parent === "/" ? "/" + name : parent + "/" + name);
const pad10 = (n: number): string => String(n).padStart(10, "0");

class Model {
  readonly nodes = new Map<string, MNode>();
  zxid = 0n;

  constructor() {
    for (const p of ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"]) {
      this.nodes.set(p, { data: "", version: 0, cversion: 0, czxid: 0n, mzxid: 0n, pzxid: 0n, owner: 0n, children: new Set() });
      if (p !== "/") this.nodes.get(parentOf(p))!.children.add(baseOf(p));
    }
  }

  /** Path picked from what exists now plus a fixed pool (so misses happen too). */
  pick(i: number): string {
    const all = [...new Set([...this.nodes.keys(), ...POOL])].sort();
    return all[i % all.length]!;
  }

  create(parent: string, name: string, mode: number, data: string, session: bigint): { err: number; path?: string } {
    const zxid = ++this.zxid;
    const p = this.nodes.get(parent);
    if (p === undefined) return { err: Err.NoNode };
    if (parent === "/zookeeper/config") return { err: Err.NoAuth }; // READ-only ACL
    const sequential = mode === CreateMode.PersistentSequential || mode === CreateMode.EphemeralSequential;
    const path = join(parent, name) + (sequential ? pad10(p.cversion) : "");
    if (this.nodes.has(path)) return { err: Err.NodeExists };
    if (p.owner !== 0n) return { err: Err.NoChildrenForEphemerals };
    const ephemeral = mode === CreateMode.Ephemeral || mode === CreateMode.EphemeralSequential;
    this.nodes.set(path, {
      data,
      version: 0,
      cversion: 0,
      czxid: zxid,
      mzxid: zxid,
      pzxid: zxid,
      owner: ephemeral ? session : 0n,
      children: new Set(),
    });
    p.children.add(baseOf(path));
    p.cversion++;
    p.pzxid = zxid;
    return { err: Err.Ok, path };
  }

  delete(path: string, version: number): number {
    const zxid = ++this.zxid;
    if (SPECIAL.has(path)) return Err.BadArguments;
    const n = this.nodes.get(path);
    if (n === undefined || !this.nodes.has(parentOf(path))) return Err.NoNode;
    if (version !== -1 && version !== n.version) return Err.BadVersion;
    if (n.children.size > 0) return Err.NotEmpty;
    this.#remove(path, zxid);
    return Err.Ok;
  }

  #remove(path: string, zxid: bigint): void {
    this.nodes.delete(path);
    const p = this.nodes.get(parentOf(path))!;
    p.children.delete(baseOf(path));
    p.pzxid = zxid;
  }

  setData(path: string, data: string, version: number): number {
    const zxid = ++this.zxid;
    const n = this.nodes.get(path);
    if (n === undefined) return Err.NoNode;
    if (path === "/zookeeper/config") return Err.NoAuth;
    if (version !== -1 && version !== n.version) return Err.BadVersion;
    n.data = data;
    n.version++;
    n.mzxid = zxid;
    return Err.Ok;
  }

  closeSession(session: bigint): void {
    const zxid = ++this.zxid;
    const owned = [...this.nodes].filter(([, n]) => n.owner === session).map(([p]) => p);
    for (const p of owned.sort()) this.#remove(p, zxid);
  }

  version(path: string): number {
    return this.nodes.get(path)?.version ?? 0;
  }
}

type Op =
  | { kind: "create"; who: number; parent: number; name: string; mode: number; data: string }
  | { kind: "delete"; who: number; pick: number; version: "any" | "right" | "wrong" }
  | { kind: "setData"; who: number; pick: number; data: string; version: "any" | "right" | "wrong" }
  | { kind: "closeAndReconnect"; who: number };

const who = fc.integer({ min: 0, max: 1 });
const versionMode = fc.constantFrom("any", "right", "wrong") as fc.Arbitrary<"any" | "right" | "wrong">;
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      who,
      parent: fc.nat(),
      name: fc.constantFrom("a", "b", "c", "s-"),
      mode: fc.constantFrom(
        CreateMode.Persistent,
        CreateMode.Persistent,
        CreateMode.Ephemeral,
        CreateMode.PersistentSequential,
        CreateMode.EphemeralSequential,
      ),
      data: fc.string({ maxLength: 6 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), who, pick: fc.nat(), version: versionMode }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("setData" as const),
      who,
      pick: fc.nat(),
      data: fc.string({ maxLength: 6 }),
      version: versionMode,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("closeAndReconnect" as const), who }) },
);

function versionArg(mode: "any" | "right" | "wrong", current: number): number {
  return mode === "any" ? -1 : mode === "right" ? current : current + 7;
}

function expectSameTree(h: Harness, m: Model, step: string): void {
  expect([...h.tree.paths()].sort(), step).toEqual([...m.nodes.keys()].sort());
  for (const [path, n] of m.nodes) {
    const z = h.tree.get(path)!;
    const s: Stat = h.tree.statOf(z);
    expect(
      {
        path,
        data: z.data === null ? "" : z.data.toString(),
        version: s.version,
        cversion: s.cversion,
        czxid: s.czxid,
        mzxid: s.mzxid,
        pzxid: s.pzxid,
        owner: s.ephemeralOwner,
        numChildren: s.numChildren,
        dataLength: s.dataLength,
      },
      step,
    ).toEqual({
      path,
      data: n.data,
      version: n.version,
      cversion: 2 * n.cversion - n.children.size,
      czxid: n.czxid,
      mzxid: n.mzxid,
      pzxid: n.pzxid,
      owner: n.owner,
      numChildren: n.children.size,
      dataLength: Buffer.byteLength(n.data),
    });
  }
}

describe("the data tree against a Map model", () => {
  it("random create/delete/setData/close sequences give the same replies and the same tree", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), (ops) => {
        const h = new Harness();
        const m = new Model();
        const clients: Client[] = [h.connect(), h.connect()];
        m.zxid = 2n;
        ops.forEach((o, i) => {
          const c = clients[o.who]!;
          const step = `step ${i}: ${JSON.stringify(o)}`;
          switch (o.kind) {
            case "create": {
              const parent = m.pick(o.parent);
              const want = m.create(parent, o.name, o.mode, o.data, c.sessionId);
              const got = c.create(join(parent, o.name), o.data, { mode: o.mode });
              expect(got.err, step).toBe(want.err);
              if (want.err === Err.Ok) expect(got.path, step).toBe(want.path);
              break;
            }
            case "delete": {
              const path = m.pick(o.pick);
              const version = versionArg(o.version, m.version(path));
              expect(c.delete(path, version), step).toBe(m.delete(path, version));
              break;
            }
            case "setData": {
              const path = m.pick(o.pick);
              const version = versionArg(o.version, m.version(path));
              expect(c.setData(path, o.data, version).err, step).toBe(m.setData(path, o.data, version));
              break;
            }
            case "closeAndReconnect": {
              m.closeSession(c.sessionId);
              expect(c.closeSession(), step).toBe(Err.Ok);
              m.zxid++; // the new session's createSession txn
              clients[o.who] = h.connect();
              break;
            }
          }
          expectSameTree(h, m, step);
          expect(h.tree.lastProcessedZxid, step).toBe(m.zxid);
        });
      }),
      RUNS,
    );
  });
});
