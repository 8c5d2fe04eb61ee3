// Corral's client: `connect()` is the package's main export.
import type { ClientOptions } from "./client.js";
import { CorralClient } from "./recipes/index.js";

export {
  Client,
  type ClientOptions,
  type ClientTlsOptions,
  type ClientState,
  type CallOptions,
  type AfterLost,
  type ConnectionStateListener,
} from "./client.js";
export {
  isConnectedState,
  systemClock,
  type ConnectionState,
  type ConnectionStateInfo,
  type ConnectionStateChange,
  type Clock,
  type ClockTimer,
} from "./states.js";
export { exponentialBackoff, seededRandom, isRetryable, type RetryPolicy, type ExponentialBackoffOptions } from "./retry.js";
export {
  ZooKeeperClient,
  MultiError,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  CREATOR_ALL_ACL,
  type NodeMode,
  type CreateOptions,
  type VersionOptions,
  type WatchOptions,
  type MultiOp,
  type MultiResult,
  type ReconfigChange,
  type Data,
  type ACL,
  type Stat,
} from "./zookeeper.js";
export { ZooKeeperError, SessionLostError, ClientClosedError, ConnectAttemptError } from "./errors.js";
export {
  CorralClient,
  AckOutcomeUnknownError,
  type RecipeMode,
  type WaitOptions,
  type LockOptions,
  type LockHandle,
  type Queue,
  type JobQueue,
  type JobQueueOptions,
  type JobTakeOptions,
  type JobOfferOptions,
  type Job,
  type Barrier,
  type DoubleBarrier,
  type Election,
  type ElectionOptions,
} from "./recipes/index.js";
export { ClientWatchKind } from "./watches.js";
/** ZooKeeper's WatcherType (removeWatches) and AddWatchMode. */
export { WatcherType, AddWatchMode } from "../jute/index.js";
export type { WatchEvent, WatchListener, EventName } from "./watches.js";
export { parseConnectString, type ConnectString, type HostPort } from "./connect-string.js";

/** Connects to one of the hosts in `connectString` ("h1:p1,h2:p2[/chroot]") and opens a session. */
export async function connect(connectString: string, opts: ClientOptions = {}): Promise<CorralClient> {
  const client = new CorralClient(connectString, opts);
  await client.start();
  return client;
}
