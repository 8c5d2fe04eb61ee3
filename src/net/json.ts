// JSON as ZooKeeper's AdminServer writes it: Jackson's ObjectMapper with INDENT_OUTPUT
// (DefaultPrettyPrinter): `"key" : value`, two spaces per object level, arrays on one
// line (`[ 1, 2 ]`, `[ ]`, `{ }`), objects inside arrays opened on the array's line.
// Java longs (bigint here) print as exact integers; Java doubles as Double.toString.
// Pure.

import { javaDouble } from "../util/index.js";

/** A number Java types as double (`0.0`, not `0`). */
export class JavaDouble {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export type JsonValue = null | boolean | number | bigint | string | JavaDouble | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue | undefined;
}

export function jacksonPretty(value: JsonValue): string {
  return write(value, 0);
}

function write(v: JsonValue, level: number): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : javaDouble(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof JavaDouble) return javaDouble(v.value);
  if (Array.isArray(v)) {
    const items = v as readonly JsonValue[];
    return items.length === 0 ? "[ ]" : `[ ${items.map((x) => write(x, level)).join(", ")} ]`;
  }
  const entries = Object.entries(v as JsonObject).filter((e): e is [string, JsonValue] => e[1] !== undefined);
  if (entries.length === 0) return "{ }";
  const inner = "  ".repeat(level + 1);
  const body = entries.map(([k, x]) => `${inner}${JSON.stringify(k)} : ${write(x, level + 1)}`).join(",\n");
  return `{\n${body}\n${"  ".repeat(level)}}`;
}
