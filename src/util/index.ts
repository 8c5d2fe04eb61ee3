export { AssertionError, assert, assertNever } from "./assert.js";
export type { Zxid, SessionId, ServerId } from "./ids.js";
export { zxidOf, epochOf, counterOf, asZxid, asSessionId, asServerId, hex64 } from "./ids.js";
export type { Clock, Prng } from "./clock.js";
export { SeededPrng, ManualClock } from "./clock.js";
export type { Logger, LogFn } from "./log.js";
export { silentLogger } from "./log.js";
export { javaDate, javaDouble, javaHex } from "./java.js";
