// Znode path rules (ZooKeeper's PathUtils.validatePath): absolute, '/'-separated, no
// empty, '.' or '..' components, no trailing '/', and none of the reserved characters.
// A sequential create may end in '/' because the sequence number is appended.

/** Why `path` is not a valid znode path, or undefined when it is valid. */
export function invalidPathReason(path: string, sequential = false): string | undefined {
  const p = sequential ? path + "1" : path;
  if (p.length === 0) return "Path length must be > 0";
  if (p.charCodeAt(0) !== 0x2f) return "Path must start with / character";
  if (p.length === 1) return undefined;
  if (p.charCodeAt(p.length - 1) === 0x2f) return "Path must not end with / character";
  let prev = 0x2f;
  for (let i = 1; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && prev === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && prev === 0x2f) {
      const rel = relativeComponentAt(p, i);
      if (rel !== undefined) return `relative paths not allowed @${i}`;
    }
    if (isReservedChar(c)) return `invalid character @${i}`;
    prev = c;
  }
  return undefined;
}

/** '.' or '..' standing as a whole component starting at i. */
function relativeComponentAt(p: string, i: number): string | undefined {
  const end = p.indexOf("/", i);
  const comp = p.slice(i, end === -1 ? p.length : end);
  return comp === "." || comp === ".." ? comp : undefined;
}

function isReservedChar(c: number): boolean {
  return (
    (c > 0x00 && c <= 0x1f) ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function joinPath(parent: string, child: string): string {
  return parent === "/" ? "/" + child : parent + "/" + child;
}

/** `path` equals `root` or lies below it. */
export function isUnder(path: string, root: string): boolean {
  if (root === "/") return true;
  return path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 0x2f);
}

/** ZooKeeper's sequence suffix: the parent's cversion as %010d (negative after overflow). */
export function sequenceSuffix(cversion: number): string {
  if (cversion < 0) return "-" + String(-cversion).padStart(10, "0").replace(/^0/, "");
  return String(cversion).padStart(10, "0");
}

/**
 * The `_c_<requestId>-` token of a protected node's name (the same reading as recipes'
 * common rules, which the pipeline and the tree may not import): the request id is 8-64
 * characters of [0-9a-f-], and the token ends at the first '-' followed by a character
 * outside that set.
 */
export function protectedTokenOf(name: string): string | undefined {
  if (!name.startsWith("_c_")) return undefined;
  const m = /^_c_[0-9a-fA-F-]{8,64}?-(?=[^0-9a-fA-F-])/.exec(name) ?? /^_c_[0-9a-fA-F-]{8,64}-(?=[^-])/.exec(name);
  return m === null ? undefined : m[0];
}

/**
 * `<parent>/<token>` for a node whose name carries a protected-create token (the key the
 * tree indexes such ephemerals by), or undefined for any other name.
 */
export function protectedKeyOf(path: string): string | undefined {
  const i = path.lastIndexOf("/");
  if (!path.startsWith("_c_", i + 1)) return undefined;
  const token = protectedTokenOf(path.slice(i + 1));
  // A slice of the path itself: V8 keeps it as a view into the path's characters.
  return token === undefined ? undefined : path.slice(0, i + 1 + token.length);
}
