// Parsers for single config values: integers with ranges, ports, booleans, hosts, paths,
// digests. Each returns a Parsed<T> value; the caller attaches the file, line and key.
// Pure: no I/O.

import { expectedGot } from "./errors.js";

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function bad<T>(expected: string, raw: string): Parsed<T> {
  return { ok: false, problem: expectedGot(expected, raw) };
}

export const INT32_MAX = 2_147_483_647;
export const INT64_MAX = 9_223_372_036_854_775_807n;

export type IntRange = {
  readonly min: number;
  readonly max: number;
  /** Shown after the range, e.g. "milliseconds". */
  readonly unit?: string | undefined;
  /**
   * Accept 0x/# hex, as Java's Integer.decode does for the keys ZooKeeper reads with
   * Integer.getInteger (jute.maxbuffer, snapCount, ...).
   */
  readonly hex?: boolean | undefined;
};

const DECIMAL = /^[+-]?[0-9]+$/;
const HEX = /^([+-]?)(?:0[xX]|#)([0-9a-fA-F]+)$/;
// Integer.decode reads a leading 0 as octal; we refuse rather than silently differ.
const OCTAL_LOOKING = /^[+-]?0[0-9]+$/;

function integerOf(raw: string, hex: boolean): bigint | undefined {
  if (hex && OCTAL_LOOKING.test(raw)) return undefined;
  if (DECIMAL.test(raw)) return BigInt(raw);
  const m = hex ? HEX.exec(raw) : null;
  if (m === null) return undefined;
  const magnitude = BigInt(`0x${m[2] ?? ""}`);
  return m[1] === "-" ? -magnitude : magnitude;
}

export function describeRange(range: IntRange): string {
  const unit = range.unit === undefined ? "" : ` (${range.unit})`;
  return `an integer from ${range.min} to ${range.max}${unit}`;
}

export function parseIntIn(raw: string, range: IntRange): Parsed<number> {
  const n = integerOf(raw, range.hex ?? false);
  if (n === undefined || n < BigInt(range.min) || n > BigInt(range.max)) {
    return bad(describeRange(range), raw);
  }
  return ok(Number(n));
}

export const PORT_EXPECTED = "a port number 1-65535";

export function parsePort(raw: string): Parsed<number> {
  const n = integerOf(raw, false);
  if (n === undefined || n < 1n || n > 65535n) return bad(PORT_EXPECTED, raw);
  return ok(Number(n));
}

/** A ZooKeeper server id (myid, server.N): a non-negative Java long. */
export function parseServerId(raw: string): bigint | undefined {
  if (!/^[0-9]+$/.test(raw)) return undefined;
  const n = BigInt(raw);
  return n <= INT64_MAX ? n : undefined;
}

const TRUE_WORDS = new Set(["true", "yes"]);
const FALSE_WORDS = new Set(["false", "no"]);

/** true/false/yes/no in any case (ZooKeeper's forceSync and skipACL use yes/no). */
export function parseBool(raw: string): Parsed<boolean> {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return bad("true/false or yes/no", raw);
}

/** A host name or address; an IPv6 literal may be written in brackets, stored without. */
export function parseHost(raw: string): Parsed<string> {
  const host = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (host === "" || /[\s\[\]]/.test(host)) return bad("a host name or address", raw);
  return ok(host);
}

export function parseNonEmpty(raw: string, what: string): Parsed<string> {
  return raw === "" ? bad(what, raw) : ok(raw);
}

// DigestAuthenticationProvider.generateDigest prints "user:" + base64(hash). The user
// ends at the first colon (ZooKeeper splits "user:password" on it).
const DIGEST = /^([^:]+):([A-Za-z0-9+/]+={0,2})$/;

export function parseDigest(raw: string): Parsed<string> {
  const m = DIGEST.exec(raw);
  if (m === null || (m[2] ?? "").length % 4 !== 0) {
    return bad("a digest of the form user:base64 (e.g. super:D/InIHSb7yEEbrWz8b9l71RjZJU=)", raw);
  }
  return ok(raw);
}
