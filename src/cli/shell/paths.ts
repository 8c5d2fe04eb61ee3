// Client-side path checks with the messages of ZooKeeper's PathUtils.validatePath,
// which the Java client runs before sending a request (zkCli prints them as they are).
// Pure.

/** ZooKeeper's message for an invalid path, or undefined when `path` is valid. */
export function pathProblem(path: string, sequential = false): string | undefined {
  const p = sequential ? path + "1" : path;
  if (p.length === 0) return "Path length must be > 0";
  if (p[0] !== "/") return "Path must start with / character";
  if (p.length === 1) return undefined;
  if (p.endsWith("/")) return "Path must not end with / character";
  let reason: string | undefined;
  let last = "/";
  for (let i = 1; i < p.length && reason === undefined; i++) {
    const c = p[i]!;
    const code = c.charCodeAt(0);
    if (code === 0) reason = `null character not allowed @${i}`;
    else if (c === "/" && last === "/") reason = `empty node name specified @${i}`;
    else if (c === "." && last === "." && p[i - 2] === "/" && (i + 1 === p.length || p[i + 1] === "/")) reason = `relative paths not allowed @${i}`;
    else if (c === "." && p[i - 1] === "/" && (i + 1 === p.length || p[i + 1] === "/")) reason = `relative paths not allowed @${i}`;
    else if ((code > 0 && code <= 0x1f) || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xf8ff) || (code >= 0xfff0 && code <= 0xffff)) {
      reason = `invalid character @${i}`;
    }
    last = c;
  }
  return reason === undefined ? undefined : `Invalid path string "${p}" caused by ${reason}`;
}
