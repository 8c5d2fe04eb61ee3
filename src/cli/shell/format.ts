// What zkCli prints, line for line: StatPrinter's stat block, ACL entries as jute's
// ToStringOutputArchive renders an Id, Java's List.toString, WatchedEvent.toString, and
// the messages of CliWrapperException for ZooKeeper's errors. Pure.

import { ZooKeeperError, type ACL, type Stat } from "../../client/index.js";
import { javaDate, javaHex } from "../../util/index.js";

/** StatPrinter.print. */
export function statLines(s: Stat): string {
  return (
    `cZxid = 0x${javaHex(s.czxid)}\n` +
    `ctime = ${javaDate(Number(s.ctime))}\n` +
    `mZxid = 0x${javaHex(s.mzxid)}\n` +
    `mtime = ${javaDate(Number(s.mtime))}\n` +
    `pZxid = 0x${javaHex(s.pzxid)}\n` +
    `cversion = ${s.cversion}\n` +
    `dataVersion = ${s.version}\n` +
    `aclVersion = ${s.aversion}\n` +
    `ephemeralOwner = 0x${javaHex(s.ephemeralOwner)}\n` +
    `dataLength = ${s.dataLength}\n` +
    `numChildren = ${s.numChildren}\n`
  );
}

/** ToStringOutputArchive's escaping of a string field. */
function juteString(s: string): string {
  return "'" + s.replace(/[\0\n\r,}%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

/** ZKUtil.getPermString: c, d, r, w, a in that order. */
export function permString(perms: number): string {
  return (perms & 4 ? "c" : "") + (perms & 8 ? "d" : "") + (perms & 1 ? "r" : "") + (perms & 2 ? "w" : "") + (perms & 16 ? "a" : "");
}

/** One getAcl entry: `Id.toString() + ": " + perms`, where Id.toString ends in a newline. */
export function aclEntry(a: ACL): string {
  return `${juteString(a.id.scheme)},${juteString(a.id.id)}\n: ${permString(a.perms)}\n`;
}

/** Java's AbstractCollection.toString: `[a, b]`. */
export function javaList(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

/** The two lines zkCli prints for an event (ZooKeeperMain.printMessage twice). */
export function watcherMessage(state: string, type: string, path: string | null): string {
  return `\nWATCHER::\n\nWatchedEvent state:${state} type:${type} path:${path ?? "null"}\n`;
}

/** CliWrapperException.getMessage for a failed call. */
export function errorMessage(e: unknown): string {
  if (!(e instanceof ZooKeeperError)) return e instanceof Error ? e.message : String(e);
  const path = e.path ?? "null";
  switch (e.code) {
    case "NoNode":
      return `Node does not exist: ${path}`;
    case "NoChildrenForEphemerals":
      return `Ephemerals cannot have children: ${path}`;
    case "NodeExists":
      return `Node already exists: ${path}`;
    case "NotEmpty":
      return `Node not empty: ${path}`;
    case "NotReadOnly":
      return `Not a read-only call: ${path}`;
    case "InvalidAcl":
      return `Acl is not valid : ${path}`;
    case "NoAuth":
      return `Insufficient permission : ${path}`;
    case "BadArguments":
      return `Arguments are not valid : ${path}`;
    case "BadVersion":
      return `version No is not valid : ${path}`;
    case "ReconfigInProgress":
      return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)";
    case "NewConfigNoQuorum":
      return (
        "No quorum of new config is connected and up-to-date with the leader of last committed config - " +
        "try invoking reconfiguration after new servers are connected and synced"
      );
    case "QuotaExceeded":
      return `Quota has exceeded : ${path}`;
    default:
      return e.message;
  }
}
