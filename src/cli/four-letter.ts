// Asks a server a four-letter word over its client port and returns the whole answer
// (the server closes the connection after it), or undefined when nothing answers.

import { connect } from "node:net";

export function askFourLetterWord(host: string, port: number, word: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const socket = connect({ host, port });
    const finish = (answer: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once("connect", () => socket.write(word));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("error", () => finish(undefined));
    socket.once("close", () => finish(chunks.length === 0 ? undefined : Buffer.concat(chunks).toString("utf8")));
  });
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
