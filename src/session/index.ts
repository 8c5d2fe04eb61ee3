export { SessionTable, type Session, type SessionTableOptions } from "./table.js";
export { SessionIdGenerator, counterOf, creatorByteOf, initialSessionId, serverByteOf } from "./ids.js";
