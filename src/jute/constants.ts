// ZooKeeper's numeric constants (ZOOKEEPER.md §1.2): op codes, special xids, watch event
// types, session states, watcher types, permission bits and create modes.

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;

export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const KeeperState = {
  Unknown: -1,
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7,
} as const;
export type KeeperState = (typeof KeeperState)[keyof typeof KeeperState];

export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;
export type WatcherType = (typeof WatcherType)[keyof typeof WatcherType];

export const AddWatchMode = {
  Persistent: 0,
  PersistentRecursive: 1,
} as const;

export const Perms = {
  Read: 1,
  Write: 2,
  Create: 4,
  Delete: 8,
  Admin: 16,
  All: 31,
} as const;

export const CreateMode = {
  Persistent: 0,
  Ephemeral: 1,
  PersistentSequential: 2,
  EphemeralSequential: 3,
  Container: 4,
  PersistentWithTtl: 5,
  PersistentSequentialWithTtl: 6,
} as const;
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

export function isSequentialMode(mode: number): boolean {
  return mode === CreateMode.PersistentSequential || mode === CreateMode.EphemeralSequential ||
    mode === CreateMode.PersistentSequentialWithTtl;
}

export function isEphemeralMode(mode: number): boolean {
  return mode === CreateMode.Ephemeral || mode === CreateMode.EphemeralSequential;
}

export function isTtlMode(mode: number): boolean {
  return mode === CreateMode.PersistentWithTtl || mode === CreateMode.PersistentSequentialWithTtl;
}

/** ephemeralOwner of a container node (Long.MIN_VALUE). */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000_0000_0000_0000n;
/** Top byte of ephemeralOwner marking a TTL node; the low 40 bits hold the TTL in ms. */
export const TTL_EPHEMERAL_OWNER_PREFIX = -0x0100_0000_0000_0000n; // 0xFF00000000000000 as signed
export const TTL_MAX_MS = 0xff_ffff_ffffn;
