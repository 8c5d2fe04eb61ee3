// ACL rules (ZOOKEEPER.md §1.9): per-node, not inherited; an op needs one matching entry
// holding the permission. Schemes: world, auth (expanded at create/setACL time), digest,
// ip (with CIDR) and the super identity. Pure: hashing a password into a digest id
// happens where the auth packet arrives, not here.

import { Err, Perms, type ACL, type Id } from "../jute/index.js";

export const WORLD_ANYONE: Id = { scheme: "world", id: "anyone" };
export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perms.All, id: WORLD_ANYONE }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: Perms.Read, id: WORLD_ANYONE }];

/** The identity ZooKeeper's digest provider adds when the password matches superDigest. */
export const SUPER_ID: Id = { scheme: "super", id: "" };

/** Schemes whose ids an `auth` ACL expands to (ZooKeeper's isAuthenticated providers). */
const AUTHENTICATED_SCHEMES = new Set(["digest", "sasl", "x509"]);

export function isSuper(authIds: readonly Id[]): boolean {
  return authIds.some((a) => a.scheme === "super");
}

/** True when `authIds` (the session's identities) hold `perm` under `acl`. */
export function checkAcl(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean {
  if (acl.length === 0) return true;
  if (isSuper(authIds)) return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.id.scheme === "world" && a.id.id === "anyone") return true;
    for (const who of authIds) {
      if (who.scheme === a.id.scheme && idMatches(a.id.scheme, who.id, a.id.id)) return true;
    }
  }
  return false;
}

/** Whether `authIds` hold `perm` under `acl`: checkAcl, or with skipACL always yes. */
export type AccessCheck = (acl: readonly ACL[], perm: number, authIds: readonly Id[]) => boolean;

const SKIP_ACL: AccessCheck = () => true;

/**
 * The ACL check a server makes. skipACL=yes (ZooKeeper's zookeeper.skipACL) skips every
 * check: ACLs are still stored, validated and returned, but grant everything to everyone.
 */
export function accessCheck(skipAcl: boolean): AccessCheck {
  return skipAcl ? SKIP_ACL : checkAcl;
}

function idMatches(scheme: string, have: string, want: string): boolean {
  return scheme === "ip" ? ipMatches(have, want) : have === want;
}

/**
 * Validates and normalises an ACL for create/setACL (ZooKeeper's fixupACL): duplicates
 * dropped, `auth` entries expanded to the session's authenticated ids, unknown schemes
 * and malformed ids rejected. Returns the ACL to store, or Err.InvalidAcl.
 */
export function fixupAcl(acl: readonly ACL[], authIds: readonly Id[]): readonly ACL[] | typeof Err.InvalidAcl {
  if (acl.length === 0) return Err.InvalidAcl;
  // Made only once the list must change (a duplicate dropped, an auth entry expanded):
  // a list that needs nothing (nearly every one) is stored as the caller sent it.
  let out: ACL[] | undefined;
  for (let i = 0; i < acl.length; i++) {
    const a = acl[i]!;
    const { scheme, id } = a.id;
    if (scheme === "auth") {
      const ids = authIds.filter((who) => AUTHENTICATED_SCHEMES.has(who.scheme));
      if (ids.length === 0) return Err.InvalidAcl;
      out ??= acl.slice(0, i);
      for (const who of ids) addNew(out, { perms: a.perms, id: { scheme: who.scheme, id: who.id } });
    } else if (!(scheme === "world" && id === "anyone") && !isValidId(scheme, id)) return Err.InvalidAcl;
    else if (out !== undefined) addNew(out, a);
    else if (holds(acl, i, a)) out = acl.slice(0, i); // a duplicate: dropped
  }
  return out ?? acl;
}

/** Whether `list`'s first `end` entries hold `a`: ACLs hold a few entries, so a scan. */
function holds(list: readonly ACL[], end: number, a: ACL): boolean {
  for (let j = 0; j < end; j++) {
    const b = list[j]!;
    if (b.perms === a.perms && b.id.scheme === a.id.scheme && b.id.id === a.id.id) return true;
  }
  return false;
}

function addNew(out: ACL[], a: ACL): void {
  if (!holds(out, out.length, a)) out.push(a);
}

function isValidId(scheme: string, id: string): boolean {
  switch (scheme) {
    case "digest": {
      // ZooKeeper's DigestAuthenticationProvider.isValid: id.split(":").length == 2, where
      // Java's split drops trailing empty strings ("user:" has one part, "u:h:" two).
      const parts = id.split(":");
      while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
      return parts.length === 2;
    }
    case "ip":
      return parseIpSpec(id) !== undefined;
    case "sasl":
    case "x509":
      return id.length > 0;
    default:
      return false;
  }
}

/** getACL without ADMIN: digest hashes are hidden as ZooKeeper does (`user:x`). */
export function maskDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === "digest" ? { perms: a.perms, id: { scheme: "digest", id: a.id.id.replace(/:.*/, ":x") } } : a,
  );
}

interface IpSpec {
  bytes: number[];
  bits: number;
}

function parseIpSpec(spec: string): IpSpec | undefined {
  const slash = spec.indexOf("/");
  const addr = slash === -1 ? spec : spec.slice(0, slash);
  const bytes = parseIp(addr);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  if (slash === -1) return { bytes, bits: max };
  const bitsText = spec.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  return bits <= max ? { bytes, bits } : undefined;
}

function parseIp(addr: string): number[] | undefined {
  const v4 = addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
  if (v4.includes(".")) {
    const parts = v4.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.map(Number);
  }
  return parseIpv6(addr);
}

function parseIpv6(addr: string): number[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(addr)) return undefined;
  const halves = addr.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...new Array<string>(fill).fill("0"), ...tail];
  if (!all.every((g) => g.length >= 1 && g.length <= 4)) return undefined;
  return all.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

/** Does client address `have` fall inside `want` (`addr` or `addr/bits`)? */
export function ipMatches(have: string, want: string): boolean {
  const spec = parseIpSpec(want);
  const addr = parseIp(have);
  if (spec === undefined || addr === undefined || addr.length !== spec.bytes.length) return false;
  for (let bit = 0; bit < spec.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    const i = bit >> 3;
    if ((addr[i]! & mask) !== (spec.bytes[i]! & mask)) return false;
  }
  return true;
}

/** Identity key of an ACL list, for sharing one array among nodes with equal ACLs. */
export function aclKey(acl: readonly ACL[]): string {
  let key = "";
  for (const a of acl) key += `${a.perms},${a.id.scheme},${a.id.id};`;
  return key;
}
