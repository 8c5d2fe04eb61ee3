// Reads Java properties text (java.util.Properties.load) into key/value entries with the
// line each starts on. ZooKeeper loads zoo.cfg with Properties, so this follows it:
//   - lines end at \n, \r or \r\n; leading space, tab and form feed are skipped;
//   - a line whose first non-blank character is # or ! is a comment;
//   - a line ending in an odd number of backslashes continues on the next line (the
//     next line's leading blanks are dropped);
//   - the key ends at the first unescaped '=', ':' or blank; blanks and one '=' or ':'
//     after it are skipped;
//   - escapes: \t \n \r \f \uXXXX, and a backslash before any other character drops.
// Then, as QuorumPeerConfig.parseProperties does, key and value are trimmed.
// Duplicates are all returned in file order; the caller decides who wins.
// Deliberate difference: the text is UTF-8 (Java reads ISO-8859-1 bytes).
// Pure: no I/O.

import { ConfigError } from "./errors.js";

export type PropertyEntry = {
  readonly key: string;
  readonly value: string;
  /** 1-based physical line where the entry starts. */
  readonly line: number;
};

const BLANK = new Set([" ", "\t", "\f"]);

export function readProperties(text: string, sourceName: string): PropertyEntry[] {
  return logicalLines(text).map(({ text: logical, line }) => {
    const { rawKey, rawValue } = splitKeyValue(logical);
    const where = { sourceName, line, key: "" };
    const key = javaTrim(unescape(rawKey, where));
    const value = javaTrim(unescape(rawValue, { ...where, key }));
    return { key, value, line };
  });
}

type LogicalLine = { readonly text: string; readonly line: number };

function logicalLines(text: string): LogicalLine[] {
  const physical = text.split(/\r\n|\r|\n/);
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < physical.length) {
    const start = i;
    let current = skipBlanks(physical[i++] ?? "");
    if (current === "" || current.startsWith("#") || current.startsWith("!")) continue;
    while (continues(current)) {
      current = current.slice(0, -1);
      if (i >= physical.length) break;
      current += skipBlanks(physical[i++] ?? "");
    }
    out.push({ text: current, line: start + 1 });
  }
  return out;
}

function skipBlanks(s: string): string {
  let i = 0;
  while (i < s.length && BLANK.has(s.charAt(i))) i++;
  return s.slice(i);
}

/** An odd number of trailing backslashes means the line continues. */
function continues(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s.charAt(i) === "\\"; i--) n++;
  return n % 2 === 1;
}

function splitKeyValue(s: string): { rawKey: string; rawValue: string } {
  let keyEnd = 0;
  let valueStart = s.length;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < s.length; keyEnd++) {
    const c = s.charAt(keyEnd);
    if (!escaped && (c === "=" || c === ":")) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && BLANK.has(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === "\\" ? !escaped : false;
  }
  for (; valueStart < s.length; valueStart++) {
    const c = s.charAt(valueStart);
    if (BLANK.has(c)) continue;
    if (!hasSeparator && (c === "=" || c === ":")) {
      hasSeparator = true;
      continue;
    }
    break;
  }
  return { rawKey: s.slice(0, keyEnd), rawValue: s.slice(valueStart) };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: "\t", n: "\n", r: "\r", f: "\f" };

function unescape(s: string, where: { sourceName: string; line: number; key: string }): string {
  if (!s.includes("\\")) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c !== "\\" || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const next = s.charAt(++i);
    if (next === "u") {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ConfigError(where, "malformed \\uXXXX escape");
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
      continue;
    }
    out += SIMPLE_ESCAPES[next] ?? next;
  }
  return out;
}

/** Java's String.trim: drops characters <= U+0020 at both ends. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}
