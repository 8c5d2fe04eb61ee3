// The I/O shell: client connections, the client port, four-letter words, the
// AdminServer and the Prometheus endpoint.
export { ClientConnection, HANDSHAKE_TIMEOUT_MS_DEFAULT, outboundLimitsFor, type ConnectionHost, type PeerInfo } from "./connection.js";
export { ClientListener, TLS_HANDSHAKE_RECORD, type ListenerOptions, type ListenerTls } from "./listener.js";
export {
  TlsContextSource,
  TlsStoreError,
  serverTlsOptions,
  keyStoreOptions,
  trustStoreCertificates,
  TLS_RELOAD_SETTLE_MS,
  type ConfigPlace,
  type TlsSettings,
  type TlsStore,
} from "./tls.js";
export { javaSubjectDn } from "./x509-name.js";
export { pkcs12Certificates, Pkcs12Error } from "./pkcs12.js";
export { fourLetterWord, monitorEntries, FOUR_LETTER_WORDS, type FourLetterSource, type MonitorValue, type QuorumStats } from "./fourletter.js";
export { ServerStats } from "./stats.js";
export { freePort, freePorts } from "./ports.js";
export { askFourLetterWord } from "./probe.js";
export { QuorumTransport, STREAM_WINDOW_BYTES, type OutboundStream, type QuorumTransportOptions, type QuorumPeerAddress, type QuorumTls } from "./quorum-transport.js";
export { jacksonPretty, JavaDouble, type JsonObject, type JsonValue } from "./json.js";
export {
  startAdminServer,
  runAdminCommand,
  ADMIN_COMMANDS,
  type AdminSource,
  type AdminRequest,
  type QuorumView,
  type RecipeViewName,
} from "./admin.js";
export {
  startMetricsEndpoint,
  buildRegistry,
  listenHttp,
  RequestLatency,
  DurationHistogram,
  LATENCY_BOUNDS_S,
  type MetricsSource,
  type RecipeGauges,
  type QuotaGauge,
  type HttpEndpoint,
} from "./metrics.js";
