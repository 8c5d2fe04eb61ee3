// What the recipes know of the connection: Curator's states (CONNECTED, SUSPENDED,
// RECONNECTED, LOST, CLOSED) as the client announces them, turned into what a waiting call
// or a held recipe needs: a scope per call whose `lost` signal fires when its session ends
// (LOST, with the client's reason, or CLOSED), a count of same-session reconnects (each one
// means "re-send your waits"), and a wait until the session is usable again.
//
// One listener on the client serves every call: a client may have thousands of waits.

import { setMaxListeners } from "node:events";
import { isFinal, type Client } from "../client.js";
import { ClientClosedError, SessionLostError } from "../errors.js";
import type { ConnectionState, ConnectionStateInfo } from "../states.js";
import { deferred, raceAbort, type Deferred, type Ending } from "./signals.js";

export type { ConnectionState, ConnectionStateInfo };

export type StateListener = (state: ConnectionState, info: ConnectionStateInfo) => void;

export class SessionTracker {
  #state: ConnectionState = "CONNECTED";
  /** +1 each time a session ends (LOST, CLOSED, or a new session seen without LOST). */
  #epoch = 0;
  /** +1 on every RECONNECTED: waits filed on the old connection must be sent again. */
  #reconnects = 0;
  #closed: Error | undefined;
  #lastEnd: Error | undefined;
  #pulse: Deferred<void> = deferred();
  readonly #scopes = new Set<SessionScope>();
  readonly #listeners = new Set<StateListener>();
  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
    client.on("connectionState", (s: ConnectionState, info: ConnectionStateInfo) => this.#on(s, info));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Connected on a session (the first, or again after a reconnect). */
  get connected(): boolean {
    return this.#state === "CONNECTED" || this.#state === "RECONNECTED";
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** Resolves at the next state change. */
  changed(): Promise<void> {
    return this.#pulse.promise;
  }

  /** Keeps the process alive until the returned function is called. */
  holdOpen(): () => void {
    return this.#client.holdOpen();
  }

  /**
   * close() was called: everything held or waiting ends now (ClientClosedError), before
   * the session is closed and the server hands a lock or leadership to someone else.
   */
  closing(sessionId: bigint): void {
    if (this.#closed === undefined) this.#on("CLOSED", { sessionId, reason: clientClosed() });
  }

  listen(l: StateListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** A scope for one call or held recipe on the current session (see SessionScope). */
  scope(): SessionScope {
    const scope = new SessionScope(this, this.#epoch, () => this.#scopes.delete(scope));
    if (this.#closed !== undefined) scope.end(this.#closed);
    else this.#scopes.add(scope);
    return scope;
  }

  /**
   * Resolves once the scope's session is connected again; rejects with the session's end
   * (LOST or CLOSED) or with the first of `signals` to abort.
   */
  async usable(scope: SessionScope, ...signals: (AbortSignal | undefined)[]): Promise<void> {
    for (;;) {
      if (scope.ended) throw scope.endReason;
      for (const s of signals) s?.throwIfAborted();
      // A disposed scope no longer hears of its session's end: the epoch tells.
      if (scope.epoch !== this.#epoch) throw this.#lastEnd ?? sessionLost(0n);
      if (this.connected) return;
      await raceAbort(this.changed(), scope, ...signals);
    }
  }

  #on(s: ConnectionState, info: ConnectionStateInfo): void {
    const prev = this.#state;
    this.#state = s;
    if (s === "LOST" || s === "CLOSED") {
      if (s === "CLOSED" && this.#closed !== undefined) return; // announced by closing() already
      const reason = info.reason ?? (s === "CLOSED" ? clientClosed() : sessionLost(info.sessionId));
      // CLOSED, or LOST with afterLost "close": no session follows.
      if (s === "CLOSED" || isFinal(this.#client.state)) this.#closed = reason;
      this.#endEpoch(reason);
    } else if (s === "RECONNECTED") {
      // A new session not announced by LOST first: the old one is gone all the same.
      if (info.previousSessionId !== undefined && prev !== "LOST") this.#endEpoch(info.reason ?? sessionLost(info.previousSessionId));
      this.#reconnects++;
    }
    const pulse = this.#pulse;
    this.#pulse = deferred();
    pulse.resolve();
    for (const l of [...this.#listeners]) l(s, info);
  }

  #endEpoch(reason: Error): void {
    this.#epoch++;
    this.#lastEnd = reason;
    for (const scope of [...this.#scopes]) scope.end(reason);
  }
}

/**
 * One call's (or one held recipe's) view of its session: it ends when that session ends,
 * with the reason (the client's LOST reason, or ClientClosedError on close()): `ended`,
 * `endReason`, `onEnd`, or `lost` for an AbortSignal (made only when asked for: most calls
 * never need one). `dispose()` when the call is over.
 */
export class SessionScope implements Ending {
  #ctrl: AbortController | undefined;
  #ended = false;
  #reason: unknown;
  #listeners: Set<() => void> | undefined;
  readonly epoch: number;
  readonly #tracker: SessionTracker;
  readonly #detach: () => void;

  constructor(tracker: SessionTracker, epoch: number, detach: () => void) {
    this.#tracker = tracker;
    this.epoch = epoch;
    this.#detach = detach;
  }

  /** An AbortSignal that aborts, with the reason, when the session ends. */
  get lost(): AbortSignal {
    if (this.#ctrl === undefined) {
      this.#ctrl = new AbortController();
      setMaxListeners(0, this.#ctrl.signal);
      if (this.#ended) this.#ctrl.abort(this.#reason);
    }
    return this.#ctrl.signal;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get endReason(): unknown {
    return this.#reason;
  }

  /** Listeners still waiting for the end (a wait that settled must have removed its own). */
  get endListeners(): number {
    return this.#listeners?.size ?? 0;
  }

  onEnd(fn: () => void): () => void {
    const set = (this.#listeners ??= new Set());
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  get tracker(): SessionTracker {
    return this.#tracker;
  }

  end(reason: Error): void {
    this.#detach();
    if (this.#ended) return;
    this.#ended = true;
    this.#reason = reason;
    this.#ctrl?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    for (const fn of listeners ?? []) fn();
  }

  dispose(): void {
    this.#detach();
  }

  /** Resolves once this session is connected again (see SessionTracker.usable). */
  usable(...signals: (AbortSignal | undefined)[]): Promise<void> {
    return this.#tracker.usable(this, ...signals);
  }
}

function clientClosed(): Error {
  return new ClientClosedError();
}

function sessionLost(sessionId: bigint): Error {
  return new SessionLostError(sessionId, 0, 0);
}
