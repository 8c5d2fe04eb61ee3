// The client's one error class: a stable code name, ZooKeeper's numeric code, the path.

import { Err, errMessage, errName, type ErrName } from "../jute/index.js";

/**
 * A failed call: ZooKeeper's error code (`code` by name, `errno` by number) and the path
 * the call was about. Every call of the client rejects with one (or a subclass:
 * `SessionLostError`, `ClientClosedError`, `MultiError`, `AckOutcomeUnknownError`), except
 * an aborted call, which rejects with its signal's reason.
 */
export class ZooKeeperError extends Error {
  /** "ZooKeeperError", or the subclass's name. */
  override name = "ZooKeeperError";
  /** Stable name of the code: "NoNode", "NodeExists", "BadVersion", ... */
  readonly code: ErrName | "Unknown";
  /** ZooKeeper's numeric code (KeeperException.Code). */
  readonly errno: number;
  /** The path of the call that failed, in the caller's chroot (undefined for calls without one). */
  readonly path: string | undefined;

  constructor(errno: number, path?: string, options?: { cause?: unknown }) {
    const code = errName(errno) ?? "Unknown";
    const where = path === undefined ? "" : ` for ${path}`;
    super(`KeeperErrorCode = ${errMessage(errno)}${where}`, options);
    this.code = code;
    this.errno = errno;
    this.path = path;
  }

  /** Whether `e` is a ZooKeeperError (or subclass) with this code: `ZooKeeperError.is(e, "NoNode")`. */
  static is(e: unknown, code: ErrName): e is ZooKeeperError {
    return e instanceof ZooKeeperError && e.code === code;
  }
}

export function connectionLoss(path?: string): ZooKeeperError {
  return new ZooKeeperError(Err.ConnectionLoss, path);
}

/**
 * The client presumes its session lost: no request or ping sent in the last `silentMs`
 * got an answer, so the server may expire the session soon (it expires a session the
 * negotiated timeout after it last heard from the client). Announced as the LOST
 * connection state's `reason`, and the rejection of every call in flight or queued at
 * that moment. Code ConnectionLoss, so callers that only look at codes treat it as today;
 * the client's retry helper never retries it.
 */
export class SessionLostError extends ZooKeeperError {
  /** "SessionLostError". */
  override name = "SessionLostError";
  /** The session presumed lost. */
  readonly sessionId: bigint;
  /** How long the client had gone without an answer when it gave the session up. */
  readonly silentMs: number;

  constructor(sessionId: bigint, silentMs: number, negotiatedTimeoutMs: number) {
    super(Err.ConnectionLoss);
    this.sessionId = sessionId;
    this.silentMs = silentMs;
    this.message =
      `session 0x${sessionId.toString(16)} presumed lost: no answer for ${Math.round(silentMs)} ms ` +
      `(the server may expire it ${negotiatedTimeoutMs} ms after it last heard from this client)`;
  }
}

/**
 * `close()` was called: the CLOSED connection state's `reason`, and the rejection of every
 * call in flight, queued, or made afterwards. Code ConnectionLoss and ZooKeeper's message,
 * as ZooKeeper's Java client answers calls on a closed handle; never retried.
 */
export class ClientClosedError extends ZooKeeperError {
  /** "ClientClosedError". */
  override name = "ClientClosedError";

  /** The message stays ZooKeeper's ("KeeperErrorCode = ConnectionLoss"), as zkCli prints it. */
  constructor(path?: string) {
    super(Err.ConnectionLoss, path, { cause: new Error("the client was closed") });
  }
}

/**
 * Why one connection attempt ended before the server answered the connect request: a TLS
 * handshake that failed (an untrusted or misnamed server certificate, a client certificate
 * the server demands and did not get, a plain server on a TLS connect), a refused or reset
 * TCP connection, or no answer in time. The client keeps trying (the next host, or the
 * same one after a backoff, as ZooKeeper's client does); this says why it is not connected:
 * `client.lastConnectError`, the "connectError" event, and the `cause` of `connect()`'s
 * rejection when it gives up.
 */
export class ConnectAttemptError extends Error {
  /** "ConnectAttemptError". */
  override name = "ConnectAttemptError";
  /** The host of the attempt, as in the connect string. */
  readonly host: string;
  /** The port of the attempt. */
  readonly port: number;
  /** Whether the attempt was over TLS. */
  readonly tls: boolean;
  /**
   * Node's error code: "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
   * "ERR_TLS_CERT_ALTNAME_INVALID", "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
   * "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", ...; undefined when the server closed the
   * connection without one.
   */
  readonly code: string | undefined;

  constructor(host: string, port: number, tls: boolean, code: string | undefined, detail: string, options?: { cause?: unknown }) {
    super(`${host}:${port}${tls ? " (TLS)" : ""}: ${code === undefined ? "" : `${code}: `}${detail}`, options);
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.code = code;
  }
}
