// An ensemble learner's side of the request path: while a forwarder is set, writes are
// not prepared here but sent to the leader, and they complete when the leader's txn for
// them is applied here (applyRemote). Tracks what waits for such a txn that is not a
// client's queued write: sessions being created, and writes the recipe engine made for a
// session (internal cxids, below INTERNAL_CXID_BASE).

import { OpCode } from "../jute/index.js";
import type { ApplyResult } from "../tree/index.js";
import type { TxnEntry } from "../txn/index.js";
import type { SessionId } from "../util/index.js";
import type { Forwarded } from "./forward.js";
import type { WriteReq } from "./requests.js";

/** cxids at or below this mark writes the recipe engine made for a session (not a client's). */
export const INTERNAL_CXID_BASE = -0x10000;

export class LearnerLink {
  #forwarder: ((f: Forwarded) => void) | undefined;
  readonly #pendingCreates = new Map<bigint, (id: SessionId) => void>();
  readonly #internalAwaiting = new Map<string, (r: ApplyResult) => void>();
  #internalCxid = INTERNAL_CXID_BASE;

  /** On a learner, forwards every write to the leader; undefined prepares them here. */
  set(fn: ((f: Forwarded) => void) | undefined): void {
    this.#forwarder = fn;
  }

  get active(): boolean {
    return this.#forwarder !== undefined;
  }

  /** Whether `id` is a session whose createSession was forwarded and is not applied yet. */
  creating(id: bigint): boolean {
    return this.#pendingCreates.has(id);
  }

  /** Sends a write to the leader (active() must hold). */
  forward(f: Forwarded): void {
    this.#forwarder!(f);
  }

  /** Forwards a createSession; `done` (if any) runs once the leader's txn is applied here. */
  forwardCreate(id: SessionId, timeoutMs: number, done?: (id: SessionId) => void): void {
    if (done !== undefined) this.#pendingCreates.set(id, done);
    this.forward({ sessionId: id, cxid: 0, opCode: OpCode.createSession, authIds: [], req: { kind: "createSession", timeoutMs } });
  }

  /** Forwards a write made for `sid` outside its queue; `done` runs once it is applied here. */
  forwardInternal(sid: SessionId, opCode: number, req: WriteReq, authIds: Forwarded["authIds"], done: (r: ApplyResult) => void): void {
    const cxid = this.#internalCxid--;
    this.#internalAwaiting.set(`${sid}:${cxid}`, done);
    this.forward({ sessionId: sid, cxid, opCode, authIds, req });
  }

  /**
   * A txn committed elsewhere was applied: settles what waited for it here. True when it
   * was a session's creation or an internal write (nothing of a client queue to answer).
   */
  settle(entry: TxnEntry, result: ApplyResult): boolean {
    const { sessionId, cxid } = entry.hdr;
    if (entry.txn.type === "createSession") {
      const done = this.#pendingCreates.get(sessionId);
      this.#pendingCreates.delete(sessionId);
      done?.(sessionId);
      return true;
    }
    if (cxid <= INTERNAL_CXID_BASE) {
      const key = `${sessionId}:${cxid}`;
      const done = this.#internalAwaiting.get(key);
      this.#internalAwaiting.delete(key);
      done?.(result);
      return true;
    }
    return false;
  }
}
