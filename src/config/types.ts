// The typed shape of a parsed zoo.cfg: every ZooKeeper key mapped once to an internal
// name with its unit last (tickTime -> tickMs, jute.maxbuffer -> juteMaxBufferBytes).
// Types only: no parsing, no I/O. The rest of Corral reads configuration through these
// types and never looks at zoo.cfg spellings.

import type { TlsSettings } from "./tls.js";

export type ServerRole = "participant" | "observer";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]` line. */
export type ServerSpec = {
  readonly id: bigint;
  /** Host name or address; an IPv6 literal is stored without its brackets. */
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly role: ServerRole;
  /** Client bind address from the `;host:port` part; undefined = all interfaces. */
  readonly clientHost?: string | undefined;
  /** Client port from the `;port` part; undefined = use `clientPort`. */
  readonly clientPort?: number | undefined;
};

export type CorralConfig = {
  // Time. Session timeouts are derived from tickMs when not given (2x and 20x).
  readonly tickMs: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
  readonly sessionTimeoutMsMin: number;
  readonly sessionTimeoutMsMax: number;

  // Storage. dataDir is required to run a server; parseConfig leaves it undefined when
  // the file has none. dataLogDir defaults to dataDir.
  readonly dataDir?: string | undefined;
  readonly dataLogDir?: string | undefined;
  /** From the `myid` file in dataDir (loadConfigFile only). */
  readonly myid?: bigint | undefined;
  readonly snapCount: number;
  readonly forceSync: boolean;
  readonly preAllocSizeBytes: number;
  /** undefined = no limit (txnLogSizeLimitInKb <= 0). */
  readonly txnLogSizeLimitBytes?: number | undefined;
  readonly autopurgeSnapRetainCount: number;
  /** 0 = autopurge off. */
  readonly autopurgePurgeIntervalHours: number;

  // Clients.
  readonly clientPort: number;
  /** undefined = all interfaces. */
  readonly clientPortAddress?: string | undefined;
  /** Per client IP; 0 = unlimited. */
  readonly maxClientCnxns: number;
  /** Whole server; 0 = unlimited. */
  readonly maxCnxns: number;
  readonly globalOutstandingLimit: number;
  readonly juteMaxBufferBytes: number;
  /**
   * `corral.clientOutboundBytesSoftMax`: a client's unsent replies (bytes) past which no
   * more of its requests are read until the socket drains. Derived when not written:
   * max(2 x jute.maxbuffer, 256 KiB).
   */
  readonly clientOutboundBytesSoftMax: number;
  /**
   * `corral.clientOutboundBytesHardMax`: a client's unsent replies (bytes) past which its
   * connection is closed. Derived when not written: max(32 x jute.maxbuffer, 4 x the soft max).
   */
  readonly clientOutboundBytesHardMax: number;
  /** `corral.clientHandshakeTimeoutMs`: a connection with no ConnectRequest by then is closed. */
  readonly clientHandshakeTimeoutMs: number;
  readonly localSessionsEnabled: boolean;
  readonly localSessionsUpgradingEnabled: boolean;
  readonly readOnlyModeEnabled: boolean;
  /** Effective set, as ZooKeeper computes it: always holds "srvr", and "isro" in read-only mode. */
  readonly fourLetterWordWhitelist: ReadonlySet<string> | "*";

  // Data tree and auth.
  readonly extendedTypesEnabled: boolean;
  /** Refuse a create or setData past a quota's hard limit with QuotaExceeded (ZooKeeper 3.7+). */
  readonly enforceQuota: boolean;
  readonly skipAcl: boolean;
  /** `user:base64digest`, as DigestAuthenticationProvider.generateDigest prints it. */
  readonly superDigest?: string | undefined;
  readonly containerCheckIntervalMs: number;
  readonly containerMaxPerMinute: number;

  // Ensemble. servers is sorted by id; empty = standalone.
  readonly servers: readonly ServerSpec[];
  readonly peerType: ServerRole;
  readonly reconfigEnabled: boolean;
  readonly standaloneEnabled: boolean;
  readonly quorumListenOnAllIPs: boolean;
  /** Kept, not read: Corral keeps the dynamic configuration in /zookeeper/config (see server/quorum.ts). */
  readonly dynamicConfigFile?: string | undefined;

  // Admin server and metrics.
  readonly adminServerEnabled: boolean;
  readonly adminServerPort: number;
  readonly adminServerAddress: string;
  readonly metricsProviderClassName?: string | undefined;
  readonly metricsHttpPort: number;
  readonly metricsHttpHost: string;
  /**
   * Whether to serve /metrics: as in ZooKeeper, when metricsProvider.className is set;
   * also when metricsProvider.httpPort is written.
   */
  readonly metricsEnabled: boolean;

  // Client TLS (src/config/tls.ts; the stores are read by src/net/tls.ts).
  /** `secureClientPort`: the TLS client port; undefined = none. */
  readonly secureClientPort?: number | undefined;
  /** `secureClientPortAddress`; undefined = clientPortAddress. */
  readonly secureClientPortAddress?: string | undefined;
  /** false when only secureClientPort was written (no plain client port is opened). */
  readonly plainClientPortEnabled: boolean;
  /** `client.portUnification`: the plain client port also accepts TLS clients. */
  readonly clientPortUnification: boolean;
  /** `X509AuthenticationProvider.superUser`: the certificate DN that is super. */
  readonly x509SuperUser?: string | undefined;
  /** The ssl.* keys, settled. */
  readonly clientTls: TlsSettings;
  /** `sslQuorum`: quorum connections use TLS (ssl.quorum.* stores). */
  readonly sslQuorum: boolean;
  /** `portUnification`: the quorum port also accepts the other kind (plain or TLS), for rolling upgrades. */
  readonly quorumPortUnification: boolean;
  /** The ssl.quorum.* keys, settled. */
  readonly quorumTls: TlsSettings;

  /** `corral.logLevel` (pino's levels); undefined = info, or CORRAL_LOG_LEVEL (logLevelOf). */
  readonly logLevel?: LogLevel | undefined;

  /**
   * Keys Corral does not know, exactly as written in the file. ZooKeeper turns an unknown
   * key `k` into system property `zookeeper.k`; look such keys up with `extraSetting`,
   * which accepts either spelling.
   */
  readonly extra: ReadonlyMap<string, string>;
};

/** A problem that did not stop parsing. `message` is ready to log: "zoo.cfg:7: key: ...". */
export type ConfigWarning = {
  readonly sourceName: string;
  /** 1-based; 0 when the warning is about the file as a whole. */
  readonly line: number;
  readonly key: string;
  readonly message: string;
};

export type ConfigResult = {
  readonly config: CorralConfig;
  readonly warnings: ConfigWarning[];
};

export type ParseOptions = {
  /** Name used in messages; default "zoo.cfg". */
  readonly sourceName?: string | undefined;
  /** When given, relative dataDir, dataLogDir and dynamicConfigFile are resolved against it. */
  readonly baseDir?: string | undefined;
};
