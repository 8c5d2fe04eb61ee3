// The client's connection states as Curator and kazoo users know them (CONNECTED,
// SUSPENDED, RECONNECTED, LOST, CLOSED), the clock the client's timers run on, and the
// pure arithmetic of "presumed lost". No I/O here.
//
// Why a client can know its session is gone before the server says so: the server expires
// a session at the earliest `negotiatedTimeout` after it last heard from the client, and it
// heard from the client no earlier than the SEND time of the newest request or ping that
// got a reply. So with `lastAckedSendMs` that send time, the session cannot have expired
// before `lastAckedSendMs + negotiatedTimeout`; announcing LOST at
// `lastAckedSendMs + lostAfterMs` (lostAfterMs < negotiatedTimeout) announces it no later
// than the moment the server could expire it.

/**
 * The state of the client's session as its users should act on it (Curator's names).
 *
 * - `CONNECTED`: the first connect succeeded (announced once; a new session opened after
 *   `LOST` is announced as `RECONNECTED` with `previousSessionId`, see below).
 * - `SUSPENDED`: the connection is gone; the session may still live. Calls wait (up to
 *   `operationTimeoutMs`); held locks are probably still held but nobody can be sure.
 * - `RECONNECTED`: back on the same session after `SUSPENDED`, or on a new session after
 *   `LOST` (then the info carries `previousSessionId`).
 * - `LOST`: the session is gone: the server said it expired, or the client presumes it
 *   (no answer for `lostAfterMs`, before the server could expire it). Everything the
 *   session held (ephemerals, locks, leadership) must be treated as gone.
 * - `CLOSED`: `close()` was called (reason `ClientClosedError`), or the server refused the
 *   client's auth (AuthFailed), or `start()` gave up (OperationTimeout). Final.
 */
export type ConnectionState = "CONNECTED" | "SUSPENDED" | "RECONNECTED" | "LOST" | "CLOSED";

/** What comes with a connection state change. */
export interface ConnectionStateInfo {
  /**
   * Why: for `LOST` a `ZooKeeperError` SessionExpired (the server said so) or a
   * `SessionLostError` (presumed); for `CLOSED` a `ClientClosedError` (or the
   * `ZooKeeperError` AuthFailed that ended the client); for `SUSPENDED` the connection's
   * error when there was one.
   */
  reason?: Error;
  /** The session the state is about: the current one (for `LOST`, the one lost). */
  sessionId: bigint;
  /** On `RECONNECTED` after `LOST`: the session that was lost. */
  previousSessionId?: bigint;
}

/** One announced state change, as `client.connectionStates()` yields it. */
export interface ConnectionStateChange {
  /** The state announced. */
  state: ConnectionState;
  /** What came with it. */
  info: ConnectionStateInfo;
}

/** Whether calls can be sent now: `CONNECTED` or `RECONNECTED`. */
export function isConnectedState(s: ConnectionState): boolean {
  return s === "CONNECTED" || s === "RECONNECTED";
}

/** A timer handle as `Clock.setTimeout` returns it. */
export interface ClockTimer {
  /** Lets the process exit while the timer is pending (Node's Timeout.unref). */
  unref?(): unknown;
}

/**
 * The time source and timers the client runs on: the system's by default; tests inject a
 * fake one to make timeouts deterministic.
 */
export interface Clock {
  /** Monotonic milliseconds. */
  nowMs(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer `setTimeout` returned (undefined: nothing). */
  clearTimeout(timer: ClockTimer | undefined): void;
}

/** The system clock: performance.now() and Node's timers. */
export const systemClock: Clock = {
  nowMs: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => {
    if (t !== undefined) clearTimeout(t as NodeJS.Timeout);
  },
};

/** Default share of the negotiated session timeout after which a silent session is presumed lost. */
export const LOST_AFTER_FRACTION_DEFAULT = 0.8;
/** The largest allowed share: leaves a tenth of the timeout for the announcement to act. */
export const LOST_AFTER_FRACTION_MAX = 0.9;

/** `lostAfterFraction` clamped to (0, 0.9]; not a finite positive number gives the default. */
export function clampLostAfterFraction(f: number | undefined): number {
  if (f === undefined || !Number.isFinite(f) || f <= 0) return LOST_AFTER_FRACTION_DEFAULT;
  return Math.min(f, LOST_AFTER_FRACTION_MAX);
}

/** `floor(negotiatedTimeoutMs * fraction)`: silence after which the session is presumed lost. */
export function lostAfterMsOf(negotiatedTimeoutMs: number, fraction: number): number {
  return Math.floor(negotiatedTimeoutMs * clampLostAfterFraction(fraction));
}

/** Whether a session whose newest answered send was at `lastAckedSendMs` is presumed lost at `nowMs`. */
export function presumedLost(nowMs: number, lastAckedSendMs: number, lostAfterMs: number): boolean {
  return nowMs - lastAckedSendMs >= lostAfterMs;
}
