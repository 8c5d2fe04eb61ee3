/**
 * A raw ZooKeeper wire client for backpressure tests: it sends frames and reads replies
 * only when told to, which no real client library allows. Every wait is bounded.
 */
import { once } from "node:events";
import { connect as tcpConnect, type Socket } from "node:net";
import { FrameParser, JuteReader, JuteWriter, OpCode, readConnectResponse, writeConnectRequest, writeRequestHeader } from "../../src/jute/index.js";
import { LOOPBACK } from "./net.js";
import { within } from "./nzk.js";

/** A length-prefixed frame around `body`. */
export function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export function getDataFrame(xid: number, path: string): Buffer {
  const w = new JuteWriter(64);
  writeRequestHeader(w, xid, OpCode.getData);
  w.ustring(path);
  w.bool(false);
  return frame(w.toBuffer());
}

export interface RawSession {
  sock: Socket;
  parser: FrameParser;
  sessionId: bigint;
}

/** A raw socket with a session; after the handshake it reads nothing until resumed. */
export async function rawSession(port: number, waitMs = 10_000): Promise<RawSession> {
  const sock = tcpConnect({ host: LOOPBACK, port });
  sock.on("error", () => {});
  await within(once(sock, "connect"), "raw connect", waitMs);
  const w = new JuteWriter(64);
  writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
  sock.write(frame(w.toBuffer()));
  const parser = new FrameParser(64 << 20);
  const first = await within(
    new Promise<Buffer>((ok) => {
      const onData = (chunk: Buffer): void => {
        const frames = parser.push(chunk);
        if (frames.length === 0) return;
        sock.off("data", onData);
        sock.pause();
        ok(Buffer.from(frames[0]!));
      };
      sock.on("data", onData);
    }),
    "ConnectResponse",
    waitMs,
  );
  const sessionId = readConnectResponse(new JuteReader(first)).sessionId;
  if (sessionId === 0n) throw new Error("raw session refused");
  return { sock, parser, sessionId };
}
