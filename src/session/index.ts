export { SessionTable, type Session, type SessionTableOptions } from "./table.js";
