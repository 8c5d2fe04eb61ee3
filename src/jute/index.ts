// The ZooKeeper wire codec: framing, primitives, records, constants and error codes.
export { JuteError, JuteReader, JuteWriter } from "./codec.js";
export { FrameError, FrameParser } from "./frame.js";
export * from "./constants.js";
export { Err, errName, errMessage, type ErrName, type ErrCode } from "./errors.js";
export * from "./records.js";
export * from "./headers.js";
export { decodeRecord, encodeRecord, recordOf, vectorOf, type RecordType, type Schema } from "./schema.js";
export * from "./corral.js";
