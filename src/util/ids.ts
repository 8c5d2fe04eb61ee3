// Branded 64-bit identifiers. A jute `long` is never a JS number: zxids and session ids
// use all 64 bits (the session id's top byte is the creating server's id).

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type Zxid = Brand<bigint, "Zxid">;
export type SessionId = Brand<bigint, "SessionId">;
export type ServerId = Brand<bigint, "ServerId">;

const U32 = 0xffff_ffffn;

export function zxidOf(epoch: number, counter: number): Zxid {
  return ((BigInt(epoch) << 32n) | (BigInt(counter) & U32)) as Zxid;
}

export function epochOf(zxid: Zxid): number {
  return Number(zxid >> 32n);
}

export function counterOf(zxid: Zxid): number {
  return Number(zxid & U32);
}

export const asZxid = (v: bigint): Zxid => v as Zxid;
export const asSessionId = (v: bigint): SessionId => v as SessionId;
export const asServerId = (v: bigint): ServerId => v as ServerId;

/** Session ids print as ZooKeeper prints them: 0x + lowercase hex of the unsigned value. */
export function hex64(v: bigint): string {
  return "0x" + BigInt.asUintN(64, v).toString(16);
}
