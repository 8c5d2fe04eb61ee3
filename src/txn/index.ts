export type * from "./types.js";
export {
  writeTxn,
  readTxn,
  writeTxnHeader,
  readTxnHeader,
  writeTxnEntry,
  readTxnEntry,
  encodeTxnEntry,
  decodeTxnEntry,
} from "./codec.js";
