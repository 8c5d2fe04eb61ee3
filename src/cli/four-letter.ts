// Asks a server a four-letter word over its client port and returns the whole answer
// (the server closes the connection after it), or undefined when nothing answers.

import { connect } from "node:net";
import { askFourLetterWord as askServer } from "../server/index.js";

/** The whole answer to `word`, or undefined when nothing (or nothing at all) answers. */
export async function askFourLetterWord(host: string, port: number, word: string, timeoutMs: number): Promise<string | undefined> {
  const answer = await askServer(host, port, word, timeoutMs).catch(() => undefined);
  return answer === "" ? undefined : answer;
}

/** Whether something accepts TCP connections on host:port. */
export function isListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (up: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(up);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}
