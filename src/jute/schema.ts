// A record is a list of typed fields, encoded in declaration order with no tags or padding
// (ZOOKEEPER.md §1.1). Schemas below mirror zookeeper.jute field for field; the TypeScript
// type of a decoded record is derived from its schema, so the two cannot drift apart.

import { JuteError, type JuteReader, type JuteWriter } from "./codec.js";

export type Scalar = "int" | "long" | "bool" | "buffer" | "ustring";
export interface VectorOf {
  readonly vector: FieldType;
}
export interface RecordOf {
  readonly record: Schema;
}
export type FieldType = Scalar | VectorOf | RecordOf;
export type Field = readonly [name: string, type: FieldType];
export type Schema = readonly Field[];

type TypeOf<F> = F extends "int"
  ? number
  : F extends "long"
    ? bigint
    : F extends "bool"
      ? boolean
      : F extends "buffer"
        ? Buffer | null
        : F extends "ustring"
          ? string
          : F extends { readonly vector: infer E }
            ? TypeOf<E>[]
            : F extends { readonly record: infer S extends Schema }
              ? RecordType<S>
              : never;

export type RecordType<S extends Schema> = { [F in S[number] as F[0]]: TypeOf<F[1]> };

export function vectorOf<const T extends FieldType>(of: T): { readonly vector: T } {
  return { vector: of };
}

export function recordOf<const S extends Schema>(schema: S): { readonly record: S } {
  return { record: schema };
}

const minBytesOfRecord = new WeakMap<Schema, number>();

/** The least bytes one element of a type can take: bounds vector counts before allocating. */
function minBytes(type: FieldType): number {
  switch (type) {
    case "int":
    case "buffer":
    case "ustring":
      return 4;
    case "long":
      return 8;
    case "bool":
      return 1;
    default:
      if ("vector" in type) return 4;
      return minBytesOf(type.record);
  }
}

function minBytesOf(schema: Schema): number {
  let n = minBytesOfRecord.get(schema);
  if (n === undefined) minBytesOfRecord.set(schema, (n = schema.reduce((sum, [, t]) => sum + minBytes(t), 0)));
  return n;
}

function readField(r: JuteReader, type: FieldType): unknown {
  switch (type) {
    case "int":
      return r.int();
    case "long":
      return r.long();
    case "bool":
      return r.bool();
    case "buffer":
      return r.buffer();
    case "ustring":
      return r.ustring();
    default: {
      if ("record" in type) return decodeRecord(r, type.record);
      const n = r.count(Math.max(1, minBytes(type.vector)));
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = readField(r, type.vector);
      return out;
    }
  }
}

function writeField(w: JuteWriter, type: FieldType, value: unknown): void {
  switch (type) {
    case "int":
      w.int(value as number);
      return;
    case "long":
      w.long(value as bigint);
      return;
    case "bool":
      w.bool(value as boolean);
      return;
    case "buffer":
      w.buffer(value as Buffer | null);
      return;
    case "ustring":
      w.ustring(value as string);
      return;
    default: {
      if ("record" in type) {
        encodeRecord(w, type.record, value as RecordType<Schema>);
        return;
      }
      if (value === null || value === undefined) {
        w.int(-1);
        return;
      }
      const list = value as unknown[];
      w.int(list.length);
      for (const item of list) writeField(w, type.vector, item);
    }
  }
}

export function decodeRecord<S extends Schema>(r: JuteReader, schema: S): RecordType<S> {
  const out: Record<string, unknown> = {};
  for (const [name, type] of schema) out[name] = readField(r, type);
  return out as RecordType<S>;
}

export function encodeRecord<S extends Schema>(w: JuteWriter, schema: S, value: RecordType<S>): void {
  const v = value as Record<string, unknown>;
  for (const [name, type] of schema) {
    const field = v[name];
    if (field === undefined) throw new JuteError(`record field ${name} is missing`);
    writeField(w, type, field);
  }
}
