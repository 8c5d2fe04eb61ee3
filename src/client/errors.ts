// The client's one error class: a stable code name, ZooKeeper's numeric code, the path.

import { Err, errMessage, errName, type ErrName } from "../jute/index.js";

export class ZooKeeperError extends Error {
  override name = "ZooKeeperError";
  /** Stable name of the code: "NoNode", "NodeExists", "BadVersion", ... */
  readonly code: ErrName | "Unknown";
  /** ZooKeeper's numeric code (KeeperException.Code). */
  readonly errno: number;
  readonly path: string | undefined;

  constructor(errno: number, path?: string, options?: { cause?: unknown }) {
    const code = errName(errno) ?? "Unknown";
    const where = path === undefined ? "" : ` for ${path}`;
    super(`KeeperErrorCode = ${errMessage(errno)}${where}`, options);
    this.code = code;
    this.errno = errno;
    this.path = path;
  }

  static is(e: unknown, code: ErrName): e is ZooKeeperError {
    return e instanceof ZooKeeperError && e.code === code;
  }
}

export function connectionLoss(path?: string): ZooKeeperError {
  return new ZooKeeperError(Err.ConnectionLoss, path);
}
