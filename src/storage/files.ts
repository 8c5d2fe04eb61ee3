// Names and places of Corral's files, as ZooKeeper lays them out (ZOOKEEPER.md §1.11):
// transaction logs in <dataLogDir>/version-2/log.<zxid>, snapshots in
// <dataDir>/version-2/snapshot.<zxid>, the zxid being lowercase hex without "0x" (Java's
// Long.toHexString). A snapshot is written as snapshot.<zxid>.tmp and renamed when sealed.

import { join } from "node:path";
import type { Zxid } from "../util/index.js";
import { asZxid } from "../util/index.js";

export const VERSION_DIR = "version-2";
export const SECRET_FILE = "corral-secret";
export const TMP_SUFFIX = ".tmp";

export function versionDir(dir: string): string {
  return join(dir, VERSION_DIR);
}

export function logFileName(zxid: bigint): string {
  return `log.${BigInt.asUintN(64, zxid).toString(16)}`;
}

export function snapshotFileName(zxid: bigint): string {
  return `snapshot.${BigInt.asUintN(64, zxid).toString(16)}`;
}

const NAME = /^(log|snapshot)\.([0-9a-f]{1,16})$/;

/** The zxid in a log or snapshot file name, or undefined for other names. */
export function zxidOfName(name: string, prefix: "log" | "snapshot"): Zxid | undefined {
  const m = NAME.exec(name);
  if (m === null || m[1] !== prefix) return undefined;
  return asZxid(BigInt.asIntN(64, BigInt("0x" + m[2]!)));
}

export interface NamedFile {
  readonly name: string;
  readonly path: string;
  readonly zxid: Zxid;
}

/** The log or snapshot files among `names`, oldest (lowest zxid) first. */
export function filesOf(dir: string, names: readonly string[], prefix: "log" | "snapshot"): NamedFile[] {
  const out: NamedFile[] = [];
  for (const name of names) {
    const zxid = zxidOfName(name, prefix);
    if (zxid !== undefined) out.push({ name, path: join(dir, name), zxid });
  }
  return out.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/** "0x" + hex, as ZooKeeper prints zxids. */
export function zxidHex(zxid: bigint): string {
  return "0x" + BigInt.asUintN(64, zxid).toString(16);
}

/**
 * Zxid continuity (STYLE.md: assert at write and at read): zxids strictly increase, and
 * within one epoch they count up by one. Returns why `next` cannot follow `prev`, or
 * undefined when it can.
 */
export function zxidGap(prev: bigint, next: bigint): string | undefined {
  if (next === prev + 1n) return undefined; // the usual case, checked first: BigInt shifts allocate
  if (next <= prev) return `zxid ${zxidHex(next)} does not follow ${zxidHex(prev)}`;
  if (next >> 32n === prev >> 32n) {
    return `zxid ${zxidHex(next)} after ${zxidHex(prev)} skips ${next - prev - 1n} txn(s)`;
  }
  return undefined;
}
