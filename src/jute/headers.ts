// Hand-written codecs for the records on every request and reply: the headers, the
// handshake and Stat. They follow zookeeper.jute exactly; schema.ts covers the rest.

import { JuteReader, JuteWriter } from "./codec.js";
import type { Stat } from "./records.js";

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
