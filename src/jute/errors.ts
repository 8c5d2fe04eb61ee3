// The one catalogue of ZooKeeper error codes (KeeperException.Code, ZOOKEEPER.md §1.3),
// with the stable names our API uses and the messages zkCli prints.

export const Err = {
  Ok: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  UnknownSession: -12,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  ApiError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidAcl: -114,
  AuthFailed: -115,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  ThrottledOp: -127,
} as const;
export type ErrName = keyof typeof Err;
export type ErrCode = (typeof Err)[ErrName];

const NAME_BY_CODE = new Map<number, ErrName>(
  (Object.keys(Err) as ErrName[]).map((name) => [Err[name], name]),
);

/** ZooKeeper's KeeperException message for each code (`KeeperException.getCodeMessage`). */
const MESSAGES: Record<ErrName, string> = {
  Ok: "ok",
  SystemError: "SystemError",
  RuntimeInconsistency: "RuntimeInconsistency",
  DataInconsistency: "DataInconsistency",
  ConnectionLoss: "ConnectionLoss",
  MarshallingError: "MarshallingError",
  Unimplemented: "Unimplemented",
  OperationTimeout: "OperationTimeout",
  BadArguments: "BadArguments",
  UnknownSession: "Unknown session",
  NewConfigNoQuorum: "NewConfigNoQuorum",
  ReconfigInProgress: "ReconfigInProgress",
  ApiError: "APIError",
  NoNode: "NoNode",
  NoAuth: "NoAuth",
  BadVersion: "BadVersion",
  NoChildrenForEphemerals: "NoChildrenForEphemerals",
  NodeExists: "NodeExists",
  NotEmpty: "Directory not empty",
  SessionExpired: "Session expired",
  InvalidCallback: "Invalid callback",
  InvalidAcl: "InvalidACL",
  AuthFailed: "AuthFailed",
  SessionMoved: "Session moved",
  NotReadOnly: "Not a read-only call",
  EphemeralOnLocalSession: "Ephemeral node on local session",
  NoWatcher: "No such watcher",
  RequestTimeout: "Request timeout",
  ReconfigDisabled: "Reconfig is disabled",
  SessionClosedRequireSaslAuth: "Session closed because client failed to authenticate",
  QuotaExceeded: "Quota has exceeded",
  ThrottledOp: "Op throttled due to high load",
};

export function errName(code: number): ErrName | undefined {
  return NAME_BY_CODE.get(code);
}

export function errMessage(code: number): string {
  const name = NAME_BY_CODE.get(code);
  return name === undefined ? `Unknown error ${code}` : MESSAGES[name];
}
