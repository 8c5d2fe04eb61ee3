// ConfigError and the one message format for config errors and warnings:
// "<source>:<line>: <key>: <detail>" (the line is left out when it is 0, the key when
// it is empty). No I/O.

import type { ConfigWarning } from "./types.js";

/** Where in which file a problem is. line 0 = the file as a whole. */
export type Where = {
  readonly sourceName: string;
  readonly line: number;
  readonly key: string;
};

export function formatLocated(where: Where, detail: string): string {
  const at = where.line > 0 ? `${where.sourceName}:${where.line}` : where.sourceName;
  return where.key === "" ? `${at}: ${detail}` : `${at}: ${where.key}: ${detail}`;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly sourceName: string;
  readonly line: number;
  readonly key: string;
  /** The message without the "<source>:<line>: <key>: " prefix. */
  readonly detail: string;

  constructor(where: Where, detail: string, options?: ErrorOptions) {
    super(formatLocated(where, detail), options);
    this.sourceName = where.sourceName;
    this.line = where.line;
    this.key = where.key;
    this.detail = detail;
  }
}

export function makeWarning(where: Where, detail: string): ConfigWarning {
  return {
    sourceName: where.sourceName,
    line: where.line,
    key: where.key,
    message: formatLocated(where, detail),
  };
}

/** The usual detail for a bad value: `expected <what>, got "<raw>"`. */
export function expectedGot(expected: string, raw: string): string {
  return `expected ${expected}, got ${JSON.stringify(raw)}`;
}
