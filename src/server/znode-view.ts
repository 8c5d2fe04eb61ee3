// The AdminServer's `znode` command (the web console's tree view): one node's data,
// Stat, ACL and children, read-only. Access is a ZooKeeper client's with no auth (world)
// unless the server has a super digest: then the command needs the super user's
// "user:password" (HTTP basic auth) and reads as super. A node the caller cannot READ is
// refused, as getData would refuse it; digest ids in ACLs are masked unless super.

import { Perms } from "../jute/index.js";
import type { JsonObject, JsonValue } from "../net/index.js";
import { SUPER_ID, maskDigests, type AccessCheck, type DataTree } from "../tree/index.js";
import { hex64 } from "../util/index.js";
import { digestOf } from "./auth.js";

/** The most child names one answer lists (the console shows a "more" count past it). */
export const ZNODE_CHILDREN_MAX = 1000;

const PERM_LETTERS: readonly [number, string][] = [
  [Perms.Create, "c"],
  [Perms.Delete, "d"],
  [Perms.Read, "r"],
  [Perms.Write, "w"],
  [Perms.Admin, "a"],
];

export function permsText(perms: number): string {
  return PERM_LETTERS.map(([bit, c]) => ((perms & bit) !== 0 ? c : "")).join("");
}

export function znodeView(
  tree: DataTree,
  allows: AccessCheck,
  superDigest: string | undefined,
  path: string,
  credentials: string | undefined,
): JsonObject {
  let asSuper = false;
  if (superDigest !== undefined) {
    if (credentials === undefined || !credentials.includes(":") || digestOf(credentials) !== superDigest) {
      return { auth_required: true, error: credentials === undefined ? "super user credentials required" : "authentication failed" };
    }
    asSuper = true;
  }
  if (!path.startsWith("/") || (path.length > 1 && path.endsWith("/"))) return { path, error: `invalid path: ${path}` };
  const n = tree.get(path);
  if (n === undefined) return { path, error: `no node: ${path}` };
  const ids = asSuper ? [SUPER_ID] : [];
  if (!allows(n.acl, Perms.Read, ids)) return { path, error: `not readable without auth (ACL): ${path}` };
  const st = tree.statOf(n);
  const children = [...(n.children ?? [])].sort();
  const acl = asSuper ? n.acl : maskDigests(n.acl);
  const stat: Record<string, JsonValue> = {
    czxid: hex64(st.czxid),
    mzxid: hex64(st.mzxid),
    pzxid: hex64(st.pzxid),
    ctime: st.ctime,
    mtime: st.mtime,
    version: st.version,
    cversion: st.cversion,
    aversion: st.aversion,
    ephemeralOwner: hex64(st.ephemeralOwner),
    dataLength: st.dataLength,
    numChildren: st.numChildren,
  };
  return {
    path,
    as_super: asSuper,
    // base64, so binary data survives JSON; the console shows it as text, hex or JSON.
    data: n.data === null ? null : n.data.toString("base64"),
    stat,
    acl: acl.map((a): JsonValue => ({ perms: permsText(a.perms), scheme: a.id.scheme, id: a.id.id })),
    children: children.slice(0, ZNODE_CHILDREN_MAX),
    children_omitted: Math.max(0, children.length - ZNODE_CHILDREN_MAX),
  };
}
