// The recipe engine on the in-process pipeline harness: every binding registered, recipe
// requests encoded to bytes and decoded by the pipeline's own decoder (as the network
// layer does), and the recipe events each fake connection was pushed, decoded.

import {
  CorralOp,
  DoneResponseSchema,
  DoubleBarrierRequestSchema,
  ElectionJoinRequestSchema,
  ElectionJoinResponseSchema,
  JuteReader,
  JuteWriter,
  LockKind,
  LockRequestSchema,
  LockResponseSchema,
  JobExtendRequestSchema,
  JobExtendResponseSchema,
  NodeRequestSchema,
  QueueTakeRequestSchema,
  QueueTakeResponseSchema,
  RECIPE_EVENT_XID,
  RecipeEventSchema,
  SemaphoreRequestSchema,
  CancelWaitResponseSchema,
  WaitRequestSchema,
  decodeRecord,
  encodeRecord,
  type RecipeEvent,
  type RecordType,
  type Schema,
} from "../../../src/jute/index.js";
import { RecipeEngine } from "../../../src/recipe-engine/index.js";
import { allBindings } from "../../../recipes/index.js";
import { Client, Harness, type HarnessOptions, type Reply } from "../pipeline/harness.js";

export class EngineHarness extends Harness {
  readonly engine: RecipeEngine;
  owns = true;

  constructor(opts: HarnessOptions = {}) {
    super(opts);
    this.engine = new RecipeEngine(this.pipeline, { ownsExpiry: () => this.owns });
    for (const b of allBindings()) this.engine.register(b);
  }
}

let ids = 0;
/** A fresh request id (hex, as a UUID's characters). */
export function rid(): string {
  return (0x10000000 + ids++).toString(16) + "-0000-4000-8000-000000000000";
}

/** Sends a recipe request; returns its xid. */
export function sendRecipe<S extends Schema>(c: Client, opCode: number, schema: S, body: RecordType<S>): number {
  const w = new JuteWriter(64);
  encodeRecord(w, schema, body);
  const req = c.h.pipeline.decodeRequest(opCode, new JuteReader(w.toBuffer()));
  const xid = nextXid(c);
  c.h.pipeline.submit(c.queue, xid, opCode, req);
  return xid;
}

const xids = new WeakMap<Client, number>();
function nextXid(c: Client): number {
  const x = (xids.get(c) ?? 100_000) + 1;
  xids.set(c, x);
  return x;
}

export function replyOf(c: Client, xid: number): Reply {
  const r = c.conn.replies().find((x) => x.xid === xid);
  if (r === undefined) throw new Error(`no reply to ${xid}`);
  return r;
}

function decoded<S extends Schema>(r: Reply, schema: S): { err: number; body?: RecordType<S> } {
  if (r.err !== 0) return { err: r.err };
  return { err: 0, body: decodeRecord(new JuteReader(r.body), schema) };
}

export function lock(c: Client, path: string, mode: "read" | "write", requestId = rid()) {
  const kind = mode === "read" ? LockKind.read : LockKind.write;
  const xid = sendRecipe(c, CorralOp.lock, LockRequestSchema, { path, kind, permits: 0, requestId });
  return { requestId, ...decoded(replyOf(c, xid), LockResponseSchema) };
}

export function semaphore(c: Client, path: string, permits: number, requestId = rid()) {
  const xid = sendRecipe(c, CorralOp.semaphoreAcquire, SemaphoreRequestSchema, { path, permits, requestId });
  return { requestId, ...decoded(replyOf(c, xid), LockResponseSchema) };
}

export function join(c: Client, path: string, data: string, requestId = rid()) {
  const xid = sendRecipe(c, CorralOp.electionJoin, ElectionJoinRequestSchema, { path, data: Buffer.from(data), requestId });
  return { requestId, ...decoded(replyOf(c, xid), ElectionJoinResponseSchema) };
}

export interface TakeOpts {
  job?: boolean;
  wait?: boolean;
  requestId?: string;
  ackNode?: string;
  visibilityMs?: bigint;
}

export function take(c: Client, path: string, o: TakeOpts = {}) {
  const requestId = o.requestId ?? rid();
  const body = { path, job: o.job ?? false, wait: o.wait ?? false, requestId, ackNode: o.ackNode ?? "", visibilityMs: o.visibilityMs ?? 0n };
  const xid = sendRecipe(c, CorralOp.queueTake, QueueTakeRequestSchema, body);
  return { requestId, ...decoded(replyOf(c, xid), QueueTakeResponseSchema) };
}

export function cancelWait(c: Client, path: string, requestId: string) {
  const xid = sendRecipe(c, CorralOp.cancelWait, WaitRequestSchema, { path, requestId });
  return decoded(replyOf(c, xid), CancelWaitResponseSchema);
}

export function barrierWait(c: Client, path: string, requestId = rid()) {
  const xid = sendRecipe(c, CorralOp.barrierWait, WaitRequestSchema, { path, requestId });
  return { requestId, ...decoded(replyOf(c, xid), DoneResponseSchema) };
}

export function enter(c: Client, path: string, name: string, count: number, requestId = rid()) {
  const xid = sendRecipe(c, CorralOp.doubleBarrierEnter, DoubleBarrierRequestSchema, { path, count, name, requestId });
  return { requestId, ...decoded(replyOf(c, xid), DoneResponseSchema) };
}

export function leave(c: Client, path: string, name: string, requestId = rid()) {
  const xid = sendRecipe(c, CorralOp.doubleBarrierLeave, DoubleBarrierRequestSchema, { path, count: 1, name, requestId });
  return { requestId, ...decoded(replyOf(c, xid), DoneResponseSchema) };
}

export function release(c: Client, node: string): number {
  return replyOf(c, sendRecipe(c, CorralOp.release, NodeRequestSchema, { node })).err;
}

export function nack(c: Client, node: string): number {
  return replyOf(c, sendRecipe(c, CorralOp.jobNack, NodeRequestSchema, { node })).err;
}

export function extend(c: Client, node: string, visibilityMs: bigint) {
  const xid = sendRecipe(c, CorralOp.jobExtend, JobExtendRequestSchema, { node, visibilityMs });
  return decoded(replyOf(c, xid), JobExtendResponseSchema);
}

/** The recipe events pushed to a connection, in order. */
export function events(c: Client): RecipeEvent[] {
  return c.conn
    .replies()
    .filter((r) => r.xid === RECIPE_EVENT_XID)
    .map((r) => decodeRecord(new JuteReader(r.body), RecipeEventSchema));
}
