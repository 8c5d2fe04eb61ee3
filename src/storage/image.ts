// A whole tree and session table as one buffer, built synchronously: what a ZAB leader
// sends a learner in SNAP. (Snapshots on disk are written in slices by snapshot.ts.)
//
//   image    = long zxid, int sessionCount, {long id, int timeoutMs}*, int nodeCount, node*
//   node     = ustring path, buffer data, vector<ACL> acl, stat (as snapshot.ts's
//              writeNodeStat: czxid, mzxid, pzxid, ctimeMs, mtimeMs, version, cversion,
//              aversion, ephemeralOwner)
// Parents come before their children (breadth-first from the root).

import { JuteReader, JuteWriter, readAcls, writeAcls } from "../jute/index.js";
import { joinPath, type DataTree } from "../tree/index.js";
import { asZxid } from "../util/index.js";
import { readNodeStat, writeNodeStat } from "./snapshot.js";

export interface ImageSession {
  id: bigint;
  timeoutMs: number;
}

export function encodeTreeImage(tree: DataTree, sessions: Iterable<ImageSession>): Buffer {
  const w = new JuteWriter(64 * 1024);
  w.long(tree.lastProcessedZxid);
  const list = [...sessions];
  w.int(list.length);
  for (const s of list) {
    w.long(s.id);
    w.int(s.timeoutMs);
  }
  w.int(tree.nodeCount);
  const queue = ["/"];
  for (let i = 0; i < queue.length; i++) {
    const path = queue[i]!;
    const n = tree.get(path)!;
    w.ustring(path);
    w.buffer(n.data);
    writeAcls(w, n.acl);
    writeNodeStat(w, n);
    for (const c of n.children ?? []) queue.push(joinPath(path, c));
  }
  return w.toBuffer();
}

/** Replaces `tree`'s content with the image; returns the image's sessions. */
export function loadTreeImage(buf: Uint8Array, tree: DataTree): ImageSession[] {
  const r = new JuteReader(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  const zxid = r.long();
  const sessions: ImageSession[] = [];
  const ns = r.count(12);
  for (let i = 0; i < ns; i++) sessions.push({ id: r.long(), timeoutMs: r.int() });
  tree.reset();
  const nn = r.count(4);
  for (let i = 0; i < nn; i++) {
    const path = r.ustring();
    const data = r.buffer();
    const ok = tree.restoreNode(path, readNodeStat(r, data, readAcls(r)));
    if (!ok) throw new Error(`tree image: ${path} comes before its parent`);
  }
  tree.lastProcessedZxid = asZxid(zxid);
  return sessions;
}
