// Connect strings as ZooKeeper clients take them: "host:port,host:port[/chroot]".

/** One server of a connect string. */
export interface HostPort {
  /** Host name or address (an IPv6 address without its brackets). */
  host: string;
  /** TCP port (2181 when the connect string gives none). */
  port: number;
}

/** A parsed connect string. */
export interface ConnectString {
  /** The servers, in the order given. */
  hosts: HostPort[];
  /** "" for no chroot, else an absolute path without trailing slash. */
  chroot: string;
}

/**
 * Parses a connect string as ZooKeeper clients take it: `"host:port,host:port[/chroot]"`
 * (`[v6addr]:port` for IPv6, port 2181 when omitted). Throws on an empty host list, a bad
 * port or a chroot ending in `/`.
 */
export function parseConnectString(s: string): ConnectString {
  const slash = s.indexOf("/");
  const hostPart = slash === -1 ? s : s.slice(0, slash);
  let chroot = slash === -1 ? "" : s.slice(slash);
  if (chroot === "/") chroot = "";
  if (chroot.endsWith("/")) throw new Error(`invalid chroot in connect string: ${chroot}`);
  const hosts = hostPart
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h.length > 0)
    .map(parseHostPort);
  if (hosts.length === 0) throw new Error(`no hosts in connect string: ${s}`);
  return { hosts, chroot };
}

function parseHostPort(h: string): HostPort {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(h);
  if (v6 !== null) return { host: v6[1]!, port: v6[2] === undefined ? 2181 : Number(v6[2]) };
  const i = h.lastIndexOf(":");
  if (i === -1) return { host: h, port: 2181 };
  const port = Number(h.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid port in ${h}`);
  return { host: h.slice(0, i), port };
}

/** Prepends the chroot to a client path. */
export function toServerPath(chroot: string, path: string): string {
  if (chroot === "") return path;
  return path === "/" ? chroot : chroot + path;
}

/** Strips the chroot from a server path (watch events, created names). */
export function toClientPath(chroot: string, path: string): string {
  if (chroot === "" || !path.startsWith(chroot)) return path;
  const rest = path.slice(chroot.length);
  return rest === "" ? "/" : rest;
}
