// A znode keeps its data and Stat in a compact form (data as one char per byte, shared
// zxids, children details only where there are children): what a client reads back, what
// a snapshot and a SNAP image carry, must still be exactly what was written. Sizes are
// measured by bench/tree-heap.ts, not here.

import { describe, expect, it } from "vitest";
import { FakeDisk, FuzzySnapshot, encodeImageChunks, ImageDecoder, parseSnapshot, restoreSnapshot } from "../../../src/storage/index.js";
import { DataTree, OPEN_ACL_UNSAFE } from "../../../src/tree/index.js";
import type { Txn, TxnEntry } from "../../../src/txn/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";

const DIR = "/d/version-2";
/** A zxid past 2^53 (epoch 0x7fff_fff0): a double would round it. */
const BIG = 0x7fff_fff0_0000_0001n;
const OWNER = 0x7fff_0000_0000_0003n;

function entry(zxid: bigint, txn: Txn, sessionId = 0n, timeMs = 1_765_000_000_123): TxnEntry {
  return { hdr: { sessionId: asSessionId(sessionId), cxid: 1, zxid: asZxid(zxid), timeMs, opCode: 15 }, txn };
}

/** Every byte value, then the sequences UTF-8 decoding would mangle. */
const ALL_BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff, 0xfe, 0x00])]);

function history(): TxnEntry[] {
  let z = BIG;
  const c = (path: string, data: Buffer | null, owner = 0n): TxnEntry =>
    entry(z++, { type: "create", path, data, acl: OPEN_ACL_UNSAFE, ephemeralOwner: owner, parentCVersion: -1 }, owner);
  return [
    c("/bin", ALL_BYTES),
    c("/empty", Buffer.alloc(0)),
    c("/null", null),
    c("/dir", Buffer.from("d")),
    c("/dir/eph", Buffer.from([0x80, 0x81]), OWNER),
    entry(z++, { type: "setData", path: "/bin", data: Buffer.from(ALL_BYTES).reverse(), version: 1 }),
    c("/dir/gone", Buffer.from("x")),
    entry(z++, { type: "delete", path: "/dir/gone" }),
  ];
}

function built(): DataTree {
  const t = new DataTree();
  for (const e of history()) expect(t.apply(e, []).err).toBe(0);
  return t;
}

/** What a client can see of every node: data bytes, Stat, ACL, children. */
function view(t: DataTree): unknown[] {
  return [...t.paths()].sort().map((p) => {
    const n = t.get(p)!;
    return { p, data: n.data === null ? null : n.data.toString("hex"), stat: t.statOf(n), acl: n.acl, children: [...(n.children ?? [])].sort() };
  });
}

describe("compact znodes", () => {
  it("give back every data byte as written, null and empty apart, and a Buffer the caller may change", () => {
    const t = built();
    expect(t.get("/bin")!.data).toEqual(Buffer.from(ALL_BYTES).reverse());
    expect(t.get("/empty")!.data).toEqual(Buffer.alloc(0));
    expect(t.get("/null")!.data).toBeNull();
    expect(t.statOf(t.get("/bin")!).dataLength).toBe(ALL_BYTES.length);
    expect(t.statOf(t.get("/null")!).dataLength).toBe(0);
    t.get("/bin")!.data![0] = 0x42;
    expect(t.get("/bin")!.data![0]).toBe(ALL_BYTES.at(-1));
  });

  it("keep Stat fields past 2^53 exact, and a deleted child's pzxid on its parent", () => {
    const t = built();
    const bin = t.statOf(t.get("/bin")!);
    expect(bin.czxid).toBe(BIG);
    expect(bin.mzxid).toBe(BIG + 5n);
    expect(bin.pzxid).toBe(BIG);
    expect(bin.ctime).toBe(1_765_000_000_123n);
    expect(t.statOf(t.get("/dir/eph")!).ephemeralOwner).toBe(OWNER);
    const dir = t.statOf(t.get("/dir")!);
    expect(dir.pzxid).toBe(BIG + 7n);
    expect(dir.numChildren).toBe(1);
    expect(dir.cversion).toBe(3);
  });

  it("round-trip byte-exact through a snapshot and a SNAP image", async () => {
    const t = built();
    const disk = new FakeDisk();
    await disk.mkdirp(DIR);
    const snap = (await new FuzzySnapshot({ disk, dir: DIR, tree: t, sessions: [], highestSessionId: 0n, timeMs: 1, sliceBytes: 64 }).run())!;
    const back = new DataTree();
    restoreSnapshot(parseSnapshot(disk.files().get(snap.path)!, snap.path), snap.path, back);
    expect(view(back)).toEqual(view(t));

    const { chunks, lastZxid } = encodeImageChunks(t, [], 100);
    const dec = new ImageDecoder(t.lastProcessedZxid);
    for (const c of chunks) dec.push(c);
    expect(view(dec.finish(lastZxid).tree)).toEqual(view(t));
  });
});
