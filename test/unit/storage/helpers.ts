// Shared pieces of the storage tests: txn builders, a canonical text form of a tree
// (every field of every node, the ephemeral index and the counters) to compare trees
// exactly, and a logger that keeps what it was told.

import { CONTAINER_EPHEMERAL_OWNER, Perms } from "../../../src/jute/index.js";
import { OPEN_ACL_UNSAFE, type DataTree } from "../../../src/tree/index.js";
import type { Txn, TxnEntry } from "../../../src/txn/index.js";
import { asSessionId, asZxid, type Logger } from "../../../src/util/index.js";

export function entry(zxid: number | bigint, txn: Txn, sessionId = 0n, timeMs = 1_700_000_000_000 + Number(zxid)): TxnEntry {
  return { hdr: { sessionId: asSessionId(sessionId), cxid: Number(zxid) & 0xffff, zxid: asZxid(BigInt(zxid)), timeMs, opCode: 1 }, txn };
}

export function create(path: string, data = "", parentCVersion = -1, owner = 0n): Txn {
  return { type: "create", path, data: Buffer.from(data), acl: OPEN_ACL_UNSAFE, ephemeralOwner: owner, parentCVersion };
}

export function setData(path: string, data: string, version: number): Txn {
  return { type: "setData", path, data: Buffer.from(data), version };
}

export function del(path: string): Txn {
  return { type: "delete", path };
}

export const S1 = 0x1_0000_0000_0001n;
export const S2 = 0x1_0000_0000_0002n;

/**
 * A history with persistent, ephemeral, container, TTL and sequential nodes, ACLs, null
 * and non-ASCII data, two sessions; then `extraKids` children of /m with growing data.
 */
export function richHistory(extraKids = 0): TxnEntry[] {
  const digestAcl = [{ perms: Perms.Read | Perms.Admin, id: { scheme: "digest", id: "bob:xyz=" } }];
  const txns: [Txn, bigint][] = [
    [{ type: "createSession", timeoutMs: 30_000 }, S1],
    [{ type: "createSession", timeoutMs: 10_000 }, S2],
    [create("/app", "root data", 1), 0n],
    [create("/app/eph", "e", 1, S1), S1],
    [{ type: "create", path: "/app/locked", data: null, acl: digestAcl, ephemeralOwner: 0n, parentCVersion: 2 }, 0n],
    [create("/box", "", 2, CONTAINER_EPHEMERAL_OWNER), 0n],
    [create("/ttl", "t", 3, -0x100000000000000n | 5000n), 0n],
    [create("/app/seq-0000000003", "s", 3, S2), S2],
    [setData("/app", "changed", 1), 0n],
    [{ type: "setACL", path: "/box", acl: OPEN_ACL_UNSAFE, version: 1 }, 0n],
    [{ type: "multi", txns: [create("/m", "", 4), create("/m/x", "\u00e9\u00e8", 1)] }, 0n],
    ...Array.from({ length: extraKids }, (_, i): [Txn, bigint] => [create(`/m/k${i}`, "x".repeat(i * 7), 2 + i), 0n]),
  ];
  return txns.map(([t, sid], i) => entry(i + 1, t, sid));
}

/**
 * The tree the fuzzy-walk tests start from (zxids 1..25): session S1, /a with 20
 * children, /z with two ephemerals of S1 that a walk reaches last.
 */
export function fuzzyBase(): TxnEntry[] {
  return [
    entry(1, { type: "createSession", timeoutMs: 5000 }, S1),
    entry(2, create("/a", "a", 1)),
    ...Array.from({ length: 20 }, (_, i) => entry(3 + i, create(`/a/k${i}`, `v${i}`, 2 + i))),
    entry(23, create("/z", "z", 2)),
    entry(24, create("/z/e1", "", 1, S1), S1),
    entry(25, create("/z/e2", "", 2, S1), S1),
  ];
}

/** Entries 1..n creating /n1, /n2, ... with data. */
export function creates(n: number, from = 1): TxnEntry[] {
  return Array.from({ length: n }, (_, i) => entry(from + i, create(`/n${from + i}`, `data-${from + i}`, -1)));
}

/** Every node's every field, sorted by path, plus the ephemeral index and counters. */
export function treeText(tree: DataTree): string {
  const lines: string[] = [];
  for (const path of [...tree.paths()].sort()) {
    const n = tree.get(path)!;
    lines.push(
      [
        path,
        n.data === null ? "null" : n.data.toString("hex"),
        JSON.stringify(n.acl),
        n.czxid,
        n.mzxid,
        n.pzxid,
        n.ctimeMs,
        n.mtimeMs,
        n.version,
        n.cversion,
        n.aversion,
        n.ephemeralOwner,
        [...(n.children ?? [])].sort().join(","),
      ].join(" "),
    );
  }
  const eph = [...tree.ephemeralSessions()]
    .filter(([, s]) => s.size > 0)
    .map(([id, s]) => `${id}:${[...s].sort().join(",")}`)
    .sort();
  lines.push(`ephemerals ${eph.join(" ")}`);
  lines.push(`nodes ${tree.nodeCount} bytes ${tree.approximateDataBytes} zxid ${tree.lastProcessedZxid}`);
  return lines.join("\n");
}

export interface RecordingLogger extends Logger {
  readonly lines: { level: string; obj: object; msg: string | undefined }[];
}

export function recordingLogger(): RecordingLogger {
  const lines: { level: string; obj: object; msg: string | undefined }[] = [];
  const at =
    (level: string) =>
    (a: object | string, b?: string): void => {
      if (typeof a === "string") lines.push({ level, obj: {}, msg: a });
      else lines.push({ level, obj: a, msg: b });
    };
  const log: RecordingLogger = { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => log };
  return log;
}
