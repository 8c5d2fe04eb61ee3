// Sessions that live on this server only, never logged: local sessions
// (localSessionsEnabled, until they need to own ephemerals and, with
// localSessionsUpgradingEnabled, become global) and the sessions of read-only mode (a
// member cut off from its quorum serving reads; they end when it rejoins).

import { isEphemeralMode } from "../jute/index.js";
import type { SessionTable } from "../session/index.js";
import type { SessionId } from "../util/index.js";
import type { WriteReq } from "./requests.js";

export class SessionModes {
  readonly #sessions: SessionTable;
  #localEnabled = false;
  #upgrading = false;
  readonly #local = new Set<SessionId>();
  #readOnly = false;
  readonly #readOnlySessions = new Set<SessionId>();

  constructor(sessions: SessionTable) {
    this.#sessions = sessions;
  }

  /** localSessionsEnabled / localSessionsUpgradingEnabled. */
  setLocalSessions(enabled: boolean, upgrading: boolean): void {
    this.#localEnabled = enabled;
    this.#upgrading = upgrading;
  }

  /**
   * A new session that is this server's alone (a local one, or any in read-only mode):
   * added to the table with no txn; false when it must be created by a txn.
   */
  openHere(id: SessionId, timeoutMs: number, nowMs: number): boolean {
    if (this.#readOnly) {
      // No quorum to log it with; it goes when the server rejoins the quorum and drops
      // its read-only clients.
      this.#readOnlySessions.add(id);
    } else if (this.#localEnabled) {
      this.#local.add(id);
    } else {
      return false;
    }
    this.#sessions.add(id, timeoutMs, nowMs);
    return true;
  }

  isLocal(id: SessionId): boolean {
    return this.#local.has(id);
  }

  get localCount(): number {
    return this.#local.size;
  }

  /** A local session ends here: no txn (it owns no ephemerals). */
  dropLocal(sid: SessionId): void {
    this.#local.delete(sid);
    this.#sessions.remove(sid);
  }

  /** The local sessions past their deadline at `nowMs`, dropped. */
  expireLocal(nowMs: number): SessionId[] {
    const due = this.#sessions.expired(nowMs).filter((sid) => this.#local.has(sid));
    for (const sid of due) this.dropLocal(sid);
    return due;
  }

  /**
   * What a write `w` of session `sid` needs first: "refuse" (a local session may not own
   * ephemerals and may not upgrade), "upgrade" (it becomes global now: a createSession
   * txn goes first; it is no longer local from here), or "none".
   */
  beforeWrite(sid: SessionId, w: WriteReq): "none" | "refuse" | "upgrade" {
    if (!this.#local.has(sid) || !needsGlobalSession(w)) return "none";
    if (!this.#upgrading) return "refuse";
    this.#local.delete(sid);
    return "upgrade";
  }

  /** Read-only mode: writes are refused with NotReadOnly, sessions are local. */
  setReadOnly(on: boolean): void {
    this.#readOnly = on;
    if (on) return;
    // The quorum never knew the read-only sessions: they end here (their clients come
    // back with a new session, as ZooKeeper's clients do after a read-only start).
    for (const id of this.#readOnlySessions) this.#sessions.remove(id);
    this.#readOnlySessions.clear();
  }

  get readOnly(): boolean {
    return this.#readOnly;
  }
}

/** Writes a local session may not make: creating ephemerals (the session must be global). */
function needsGlobalSession(w: WriteReq): boolean {
  if (w.kind === "create") return isEphemeralMode(w.flags & 0xff);
  if (w.kind === "multi") return w.ops.some((op) => op.kind === "create" && isEphemeralMode(op.flags & 0xff));
  return false;
}
