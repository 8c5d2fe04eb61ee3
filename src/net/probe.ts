// The client side of a four-letter word: one connection, the word, everything the server
// writes before it closes. Used by `corral server status/start`, the benchmark and tests.

import { connect } from "node:net";

/**
 * Sends `word` (e.g. "ruok", "srvr", "mntr") to host:port and resolves with the whole
 * answer once the server closes the connection. Rejects on a connection error or when
 * no complete answer came within `timeoutMs`.
 */
export function askFourLetterWord(host: string, port: number, word: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`4lw ${word} to ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => socket.end(word));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}
