// The SNAP image stream (storage/image.ts): chunks cut from the live tree decode, on the
// learner, into exactly the leader's tree at SNAPEND's zxid — for a still tree, for one
// that keeps changing between chunks (the txns applied meanwhile are replayed over the
// fuzzy nodes, as recovery replays a log over a fuzzy snapshot), and never for an image
// cut short at a chunk boundary.

import { describe, expect, it } from "vitest";
import { ImageDecoder, ImageEncoder, encodeImageChunks, installImage } from "../../../src/storage/index.js";
import { DataTree, type Effect } from "../../../src/tree/index.js";
import type { Txn, TxnEntry } from "../../../src/txn/index.js";
import { SeededPrng } from "../../../src/util/index.js";
import { S1, S2, create, del, entry, fuzzyBase, richHistory, setData, treeText } from "./helpers.js";


function treeOf(entries: readonly TxnEntry[]): DataTree {
  const t = new DataTree();
  for (const e of entries) t.apply(e, []);
  return t;
}


const SESSIONS = [
  { id: S1, timeoutMs: 30_000 },
  { id: S2, timeoutMs: 10_000 },
];

function decode(zxid: bigint, chunks: readonly Buffer[], lastZxid: bigint) {
  const d = new ImageDecoder(zxid);
  for (const c of chunks) d.push(c);
  return d.finish(lastZxid);
}

describe("SNAP image stream", () => {
  it("round-trips a tree and its sessions at every chunk size, each chunk within its bound plus one record", () => {
    const tree = treeOf(richHistory(40));
    for (const chunkBytes of [1, 40, 200, 1000, 1 << 20]) {
      const { zxid, chunks, lastZxid } = encodeImageChunks(tree, SESSIONS, chunkBytes);
      expect(zxid).toBe(tree.lastProcessedZxid);
      expect(lastZxid).toBe(zxid);
      if (chunkBytes === 1 << 20) expect(chunks).toHaveLength(1);
      else expect(chunks.length).toBeGreaterThan(1);
      // The largest record here is /m/k39: under 400 bytes with its stat.
      for (const c of chunks) expect(c.length).toBeLessThan(chunkBytes + 400);
      const image = decode(zxid, chunks, lastZxid);
      expect(treeText(image.tree)).toBe(treeText(tree));
      expect(image.sessions).toEqual(SESSIONS);
      const live = treeOf([entry(1, create("/old", "stale", 1))]);
      const decodedNode = image.tree.get("/m/k39");
      installImage(live, image);
      expect(treeText(live)).toBe(treeText(tree));
      // Installed by taking the decoded tree's content, not by a second pass copying it:
      // the learner does not stall re-inserting every node.
      expect(live.get("/m/k39")).toBe(decodedNode);
      expect(image.tree.nodeCount).toBe(new DataTree().nodeCount);
    }
  });

  it("an image cut at any chunk boundary never completes, and a chunk after the end is refused", () => {
    const tree = treeOf(richHistory(40));
    const { zxid, chunks, lastZxid } = encodeImageChunks(tree, SESSIONS, 64);
    expect(chunks.length).toBeGreaterThan(10);
    for (let k = 0; k < chunks.length; k++) {
      const d = new ImageDecoder(zxid);
      for (const c of chunks.slice(0, k)) d.push(c);
      expect(() => d.finish(lastZxid), `cut after ${k} of ${chunks.length} chunks`).toThrow(/incomplete|END/);
    }
    const d = new ImageDecoder(zxid);
    for (const c of chunks) d.push(c);
    expect(() => d.push(chunks[0]!)).toThrow(/after END/);
    // SNAPEND must name the zxid the image ends at.
    const d2 = new ImageDecoder(zxid);
    for (const c of chunks) d2.push(c);
    expect(() => d2.finish(lastZxid + 1n)).toThrow(/SNAPEND/);
  });

  it("an image cut from a tree that changes between chunks decodes to the tree at SNAPEND's zxid, closes included", () => {
    // As snapshot.test's fuzzy case: nodes deleted and re-created, children added under
    // parents the walk has passed and not reached, and a session closed whose ephemerals
    // the walk has not reached yet; then txns after the end apply as usual.
    const base = fuzzyBase();
    const during: TxnEntry[] = [
      entry(26, del("/a/k0")),
      entry(27, create("/a/k0", "again", 22)),
      entry(28, setData("/a/k19", "new", 1)),
      entry(29, { type: "closeSession" }, S1),
      entry(30, { type: "createSession", timeoutMs: 7000 }, S2),
      entry(31, create("/z/e1", "new owner", 3, S2), S2),
      entry(32, create("/b", "b", 3)),
      entry(33, create("/b/c", "c", 1)),
    ];
    const after = [entry(34, del("/b/c")), entry(35, setData("/a", "A", 1))];
    const tree = treeOf(base);
    const enc = new ImageEncoder(tree, [{ id: S1, timeoutMs: 5000 }], 40);
    const chunks: Buffer[] = [];
    let i = 0;
    for (let c = enc.next(); c !== undefined; c = enc.next()) {
      chunks.push(c);
      const e = during[i++];
      if (e === undefined) continue;
      const effects: Effect[] = [];
      tree.apply(e, effects);
      enc.noteApplied(e, effects);
    }
    expect(i).toBeGreaterThanOrEqual(during.length);
    expect(enc.zxid).toBe(25n);
    expect(enc.lastZxid).toBe(33n);
    const image = decode(enc.zxid, chunks, enc.lastZxid!);
    expect(treeText(image.tree)).toBe(treeText(treeOf([...base, ...during])));
    expect(image.sessions).toEqual([{ id: S2, timeoutMs: 7000 }]);
    const live = new DataTree();
    installImage(live, image);
    for (const e of after) live.apply(e, []);
    expect(treeText(live)).toBe(treeText(treeOf([...base, ...during, ...after])));
  });

  it("random writes between chunks: the decoded image always equals the leader's tree (200 seeds)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = new SeededPrng(seed);
      const tree = new DataTree();
      let zxid = 0;
      // Session ids are never reused (ZooKeeper's layout makes them unique): a closed one stays closed.
      let nextSession = 1n;
      const sessions = new Map<bigint, number>();
      const apply = (txn: Txn, sid = 0n, onApplied?: (e: TxnEntry, fx: Effect[]) => void): void => {
        const e = entry(++zxid, txn, sid);
        const effects: Effect[] = [];
        tree.apply(e, effects);
        if (txn.type === "createSession") sessions.set(sid, txn.timeoutMs);
        if (txn.type === "closeSession") sessions.delete(sid);
        onApplied?.(e, effects);
      };
      const randomOp = (onApplied?: (e: TxnEntry, fx: Effect[]) => void): void => {
        const paths = [...tree.paths()].filter((p) => p !== "/zookeeper" && !p.startsWith("/zookeeper/"));
        const path = paths[rng.nextInt(paths.length)]!;
        const node = tree.get(path)!;
        const r = rng.nextInt(10);
        const open = [...sessions.keys()];
        const sid = open[rng.nextInt(open.length + 1)] ?? nextSession;
        if (r < 5 && node.ephemeralOwner === 0n) {
          const child = `${path === "/" ? "" : path}/n${zxid}`;
          const owner = r === 0 && sessions.has(sid) ? sid : 0n;
          apply(create(child, "d".repeat(rng.nextInt(30)), node.cversion + 1, owner), owner, onApplied);
        } else if (r < 7 && path !== "/" && (node.children?.size ?? 0) === 0) {
          apply(del(path), 0n, onApplied);
        } else if (r < 8) {
          apply(setData(path, `v${zxid}`, node.version + 1), 0n, onApplied);
        } else if (r < 9) {
          if (!sessions.has(sid)) apply({ type: "createSession", timeoutMs: 1000 * Number(nextSession++) }, sid, onApplied);
        } else if (sessions.has(sid)) {
          apply({ type: "closeSession" }, sid, onApplied);
        }
      };
      for (let k = 0; k < 60; k++) randomOp();
      const at0 = [...sessions].map(([id, timeoutMs]) => ({ id, timeoutMs }));
      const enc = new ImageEncoder(tree, at0, 1 + rng.nextInt(300));
      const chunks: Buffer[] = [];
      let atEnd: { text: string; sessions: Map<bigint, number> } | undefined;
      for (let c = enc.next(); c !== undefined; c = enc.next()) {
        chunks.push(c);
        // The walk ended in this call: this is the tree SNAPEND names.
        if (enc.lastZxid !== undefined && atEnd === undefined) atEnd = { text: treeText(tree), sessions: new Map(sessions) };
        for (let k = rng.nextInt(4); k > 0; k--) randomOp((e, fx) => enc.noteApplied(e, fx));
      }
      expect(atEnd, `seed ${seed}`).toBeDefined();
      const image = decode(enc.zxid, chunks, enc.lastZxid!);
      expect(treeText(image.tree), `seed ${seed}`).toBe(atEnd!.text);
      expect(new Map(image.sessions.map((s) => [s.id, s.timeoutMs])), `seed ${seed}`).toEqual(atEnd!.sessions);
      const live = new DataTree();
      installImage(live, image);
      expect(treeText(live), `seed ${seed}`).toBe(atEnd!.text);
    }
  });
});
