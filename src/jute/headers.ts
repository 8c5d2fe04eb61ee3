// Hand-written codecs for the records on every request and reply: the headers, the
// handshake, Stat, ACL lists and the create request. They follow zookeeper.jute
// exactly; schema.ts covers the rest.

import { JuteReader, JuteWriter } from "./codec.js";
import type { ACL, Stat } from "./records.js";

export interface RequestHeader {
  xid: number;
  type: number;
}

export function readRequestHeader(r: JuteReader): RequestHeader {
  return { xid: r.int(), type: r.int() };
}

export function writeRequestHeader(w: JuteWriter, xid: number, type: number): void {
  w.int(xid);
  w.int(type);
}

export function writeReplyHeader(w: JuteWriter, xid: number, zxid: bigint, err: number): void {
  w.int(xid);
  w.long(zxid);
  w.int(err);
}

export function readReplyHeader(r: JuteReader): { xid: number; zxid: bigint; err: number } {
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}

export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid);
  w.long(s.mzxid);
  w.long(s.ctime);
  w.long(s.mtime);
  w.int(s.version);
  w.int(s.cversion);
  w.int(s.aversion);
  w.long(s.ephemeralOwner);
  w.int(s.dataLength);
  w.int(s.numChildren);
  w.long(s.pzxid);
}

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  /** undefined when an old client left the trailing byte off (and then so must we). */
  readOnly: boolean | undefined;
}

export function readConnectRequest(r: JuteReader): ConnectRequest {
  const protocolVersion = r.int();
  const lastZxidSeen = r.long();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.buffer() ?? Buffer.alloc(0);
  const readOnly = r.remaining() > 0 ? r.bool() : undefined;
  return { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly };
}

export function writeConnectRequest(w: JuteWriter, c: ConnectRequest): void {
  w.int(c.protocolVersion);
  w.long(c.lastZxidSeen);
  w.int(c.timeOut);
  w.long(c.sessionId);
  w.buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean | undefined;
}

export function writeConnectResponse(w: JuteWriter, c: ConnectResponse): void {
  w.int(c.protocolVersion);
  w.int(c.timeOut);
  w.long(c.sessionId);
  w.buffer(c.passwd);
  if (c.readOnly !== undefined) w.bool(c.readOnly);
}

export function readConnectResponse(r: JuteReader): ConnectResponse {
  const protocolVersion = r.int();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.buffer() ?? Buffer.alloc(0);
  const readOnly = r.remaining() > 0 ? r.bool() : undefined;
  return { protocolVersion, timeOut, sessionId, passwd, readOnly };
}

/** An ACL list as zookeeper.jute's vector<ACL>. */
export function writeAcls(w: JuteWriter, acl: readonly ACL[]): void {
  w.int(acl.length);
  for (const a of acl) {
    w.int(a.perms);
    w.ustring(a.id.scheme);
    w.ustring(a.id.id);
  }
}

const WORLD = Buffer.from("world");
const ANYONE = Buffer.from("anyone");
/** Decoded world:anyone ACLs, one frozen list per permission set (perms 0..31). */
const worldAcls: (readonly ACL[] | undefined)[] = [];

/**
 * A vector<ACL>. Nearly every request sends the one-entry world:anyone ACL; that one is
 * recognised in the bytes and answered with a shared frozen list, so decoding it makes
 * no objects at all. Anything else is decoded entry by entry.
 */
export function readAcls(r: JuteReader): readonly ACL[] {
  const n = r.count(12);
  if (n === 1) {
    const at = r.offset;
    const perms = r.int();
    if (perms >>> 0 < 32 && r.skipUstringEqualTo(WORLD) && r.skipUstringEqualTo(ANYONE)) {
      return (worldAcls[perms] ??= Object.freeze([Object.freeze({ perms, id: Object.freeze({ scheme: "world", id: "anyone" }) })]));
    }
    r.offset = at;
  }
  const out = new Array<ACL>(n);
  for (let i = 0; i < n; i++) out[i] = { perms: r.int(), id: { scheme: r.ustring(), id: r.ustring() } };
  return out;
}

export interface CreateRequest {
  path: string;
  data: Buffer | null;
  acl: readonly ACL[];
  flags: number;
}

/**
 * zookeeper.jute's CreateRequest (the body of create, create2 and createContainer), or
 * with `ttl` its CreateTTLRequest.
 */
export function writeCreateRequest(w: JuteWriter, c: CreateRequest, ttl?: bigint): void {
  w.ustring(c.path);
  w.buffer(c.data);
  writeAcls(w, c.acl);
  w.int(c.flags);
  if (ttl !== undefined) w.long(ttl);
}

/** zookeeper.jute's CreateRequest; a CreateTTLRequest's ttl follows it. */
export function readCreateRequest(r: JuteReader): CreateRequest {
  const path = r.ustring();
  const data = r.buffer();
  const acl = readAcls(r);
  return { path, data, acl, flags: r.int() };
}
