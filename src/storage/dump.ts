// Readable dumps of a log file and a snapshot file, for `corral log-dump` and
// `corral snapshot-dump` (ZooKeeper's LogFormatter and SnapshotFormatter, in spirit:
// one line per txn; one stanza per znode, then the sessions). Pure formatting over the
// file's bytes: the caller reads the file. Damage is printed where it is found.
// Apache ZooKeeper's own snapshot and log files (zookeeper/format.ts) are recognised by
// their magic (or a snapshot's .gz name) and dumped the same way.

import { basename } from "node:path";
import type { ACL } from "../jute/index.js";
import type { Txn, TxnEntry } from "../txn/index.js";
import { zxidHex, zxidOfName } from "./files.js";
import { nodeRecordsOf, parseSnapshot } from "./snapshot.js";
import { scanLog } from "./txnlog.js";
import { parseZkSnapshot, scanZkLog, zkMagicOf, zkSnapshotStream } from "./zookeeper/format.js";
import { decodeZkTxn } from "./zookeeper/txn.js";
import type { ZNodeRecord } from "../tree/index.js";

function hex(v: bigint | number): string {
  return "0x" + BigInt.asUintN(64, BigInt(v)).toString(16);
}

function perms(p: number): string {
  return ["r", "w", "c", "d", "a"].filter((_, i) => (p & [1, 2, 4, 8, 16][i]!) !== 0).join("") || "-";
}

function aclText(acl: readonly ACL[]): string {
  return "[" + acl.map((a) => `${a.id.scheme}:${a.id.id}=${perms(a.perms)}`).join(",") + "]";
}

function dataText(data: Buffer | null): string {
  if (data === null) return "null";
  return "#" + data.toString("hex");
}

function txnText(txn: Txn): string {
  switch (txn.type) {
    case "create":
      return `'${txn.path}' data=${dataText(txn.data)} acl=${aclText(txn.acl)} owner=${hex(txn.ephemeralOwner)} parentCVersion=${txn.parentCVersion}`;
    case "delete":
      return `'${txn.path}'`;
    case "setData":
      return `'${txn.path}' data=${dataText(txn.data)} version=${txn.version}`;
    case "setACL":
      return `'${txn.path}' acl=${aclText(txn.acl)} aclVersion=${txn.version}`;
    case "check":
      return `'${txn.path}' version=${txn.version}`;
    case "multi":
      return `[${txn.txns.map((t) => `${t.type} ${txnText(t)}`).join("; ")}]`;
    case "createSession":
      return `timeout=${txn.timeoutMs}`;
    case "closeSession":
      return "";
    case "error":
      return `err=${txn.err}`;
  }
}

export function formatTxn(e: TxnEntry): string {
  const { hdr, txn } = e;
  const when = Number.isFinite(hdr.timeMs) ? new Date(hdr.timeMs).toISOString() : String(hdr.timeMs);
  return `${when} session ${hex(hdr.sessionId)} cxid ${hex(hdr.cxid)} zxid ${zxidHex(hdr.zxid)} ${txn.type} ${txnText(txn)}`.trimEnd();
}

/** The lines of `corral log-dump`. */
export function formatLogFile(buf: Buffer, path: string): string[] {
  if (zkMagicOf(buf) === "log") return formatZkLog(buf, path);
  const name = basename(path);
  const first = zxidOfName(name, "log") ?? (buf.length >= 16 ? buf.readBigInt64BE(8) : 0n);
  const out = [`Corral transaction log ${name}, format version ${buf.length >= 8 ? buf.readInt32BE(4) : "?"}, first zxid ${zxidHex(first)}`];
  const scan = scanLog(buf, first, undefined);
  for (const r of scan.records) out.push(formatTxn(r.entry));
  if (scan.damage !== undefined) {
    const d = scan.damage;
    out.push(
      `damaged record at offset ${d.offset}: ${d.reason}` +
        (d.validAfter !== undefined ? ` (a valid record follows at offset ${d.validAfter})` : " (nothing valid after it: a torn tail)"),
    );
  }
  out.push(`EOF reached after ${scan.records.length} txns.`);
  return out;
}

/** The lines of `corral snapshot-dump`; `withData` adds each node's data (base64). */
export function formatSnapshotFile(buf: Buffer, path: string, withData = false): string[] {
  if (zkMagicOf(buf) === "snapshot" || path.endsWith(".gz") || path.endsWith(".snappy")) return formatZkSnapshot(buf, path, withData);
  const snap = parseSnapshot(buf, path);
  const out: string[] = [];
  const acls: ACL[][] = [];
  const ephemerals = new Map<bigint, number>();
  const nodes: string[] = [];
  let count = 0;
  for (const block of snap.nodeBlocks) {
    for (const rec of nodeRecordsOf(block.payload)) {
      if (rec.tag === "acl") {
        acls[rec.index] = rec.acl;
        continue;
      }
      const n = rec.node;
      count++;
      if (n.ephemeralOwner > 0n) ephemerals.set(n.ephemeralOwner, (ephemerals.get(n.ephemeralOwner) ?? 0) + 1);
      nodes.push(...nodeStanza(rec.path, n, acls[rec.aclIndex] ?? [], withData));
    }
  }
  out.push(`Corral snapshot ${basename(path)}: zxid ${zxidHex(snap.zxid)} (fuzzy up to ${zxidHex(snap.lastZxid)}), taken ${new Date(snap.timeMs).toISOString()}`);
  out.push(`ZNode Details (count=${count}):`, "----", ...nodes);
  out.push("Session Details (sid, timeout, ephemeralCount):");
  for (const s of snap.sessions) out.push(`${hex(s.id)}, ${s.timeoutMs}, ${ephemerals.get(s.id) ?? 0}`);
  out.push("----");
  for (const [zxid, paths] of snap.closes) out.push(`closeSession at ${zxidHex(zxid)} during the snapshot deleted: ${paths.join(", ")}`);
  out.push(`Last zxid: ${zxidHex(snap.lastZxid)}`);
  return out;
}

function nodeStanza(path: string, n: ZNodeRecord, acl: readonly ACL[], withData: boolean): string[] {
  const out = [
    path,
    `  cZxid = ${hex(n.czxid)}`,
    `  ctime = ${new Date(n.ctimeMs).toUTCString()}`,
    `  mZxid = ${hex(n.mzxid)}`,
    `  mtime = ${new Date(n.mtimeMs).toUTCString()}`,
    `  pZxid = ${hex(n.pzxid)}`,
    `  cversion = ${n.cversion}`,
    `  dataVersion = ${n.version}`,
    `  aclVersion = ${n.aversion}`,
    `  ephemeralOwner = ${hex(n.ephemeralOwner)}`,
    `  dataLength = ${n.data === null ? 0 : n.data.length}`,
    `  acl = ${aclText(acl)}`,
  ];
  if (withData) out.push(`  data = ${n.data === null ? "null" : n.data.toString("base64")}`);
  out.push("----");
  return out;
}

/** `corral snapshot-dump` of an Apache ZooKeeper snapshot (verified: seals and all). */
export function formatZkSnapshot(buf: Buffer, path: string, withData = false): string[] {
  const snap = parseZkSnapshot(zkSnapshotStream(buf, path), path);
  const name = basename(path);
  const zxid = zxidOfName(name.replace(/\.(gz|snappy)$/, ""), "snapshot");
  const ephemerals = new Map<bigint, number>();
  const out = [`Apache ZooKeeper snapshot ${name}: zxid ${zxid === undefined ? "?" : zxidHex(zxid)} (fuzzy), dbid ${snap.dbid}, ${snap.acls.size} ACL list(s) in its cache`];
  out.push(`ZNode Details (count=${snap.nodes.length}):`, "----");
  for (const n of snap.nodes) {
    const owner = n.node.ephemeralOwner;
    if (owner > 0n) ephemerals.set(owner, (ephemerals.get(owner) ?? 0) + 1);
    out.push(...nodeStanza(n.path, n.node, n.node.acl, withData));
  }
  out.push("Session Details (sid, timeout, ephemeralCount):");
  for (const [id, timeoutMs] of snap.sessions) out.push(`${hex(id)}, ${timeoutMs}, ${ephemerals.get(id) ?? 0}`);
  out.push("----");
  if (snap.digest !== undefined) out.push(`Digest: zxid ${zxidHex(snap.digest.zxid)}, version ${snap.digest.version}, value ${hex(snap.digest.value)}`);
  if (snap.lastProcessedZxid !== undefined) out.push(`Last processed zxid: ${zxidHex(snap.lastProcessedZxid)}`);
  return out;
}

/** `corral log-dump` of an Apache ZooKeeper transaction log. */
export function formatZkLog(buf: Buffer, path: string): string[] {
  const name = basename(path);
  const scan = scanZkLog(buf, path);
  const out = [`Apache ZooKeeper transaction log ${name}, format version 2, dbid ${scan.dbid}`];
  for (const r of scan.records) {
    try {
      const t = decodeZkTxn(r.entry);
      out.push(formatTxn(t.entry) + (t.closedPaths === undefined ? "" : ` paths=[${t.closedPaths.join(",")}]`) + (t.digest === undefined ? "" : ` digest=${hex(t.digest.treeDigest)}`));
    } catch (e) {
      out.push(`record at offset ${r.offset} (zxid ${zxidHex(r.zxid)}) does not decode: ${(e as Error).message}`);
    }
  }
  if (scan.torn !== undefined) out.push(`record cut short at offset ${scan.torn.offset}: ${scan.torn.reason}`);
  out.push(`EOF reached after ${scan.records.length} txns.`);
  return out;
}
