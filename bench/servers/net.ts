// Loopback helpers for the harness: free ports and the four-letter words both servers
// answer on their client port. Only 127.0.0.1 is ever dialled or bound.

export const LOOPBACK = "127.0.0.1";

import { askFourLetterWord } from "../../src/net/index.js";

export { freePort, freePorts } from "../../src/net/ports.js";

/** Sends a four-letter word to 127.0.0.1:port and returns what the server writes before it closes. */
export function fourLetterWord(port: number, word: string, timeoutMs = 2_000): Promise<string> {
  return askFourLetterWord(LOOPBACK, port, word, timeoutMs);
}

/** The "Mode:" line of `srvr` (standalone, leader, follower, observer), if the server serves. */
export async function serverMode(port: number): Promise<string | undefined> {
  const text = await fourLetterWord(port, "srvr", 1_000).catch(() => "");
  return /^Mode: (\S+)/m.exec(text)?.[1];
}

/**
 * Polls `srvr` until every port reports a mode, bounded by `timeoutMs`. `abortIf` is
 * asked before each poll so a server that already exited stops the wait at once.
 */
export async function waitForModes(
  ports: readonly number[],
  timeoutMs: number,
  abortIf: () => string | undefined,
): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  let modes: (string | undefined)[] = [];
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    const why = abortIf();
    if (why !== undefined) throw new Error(why);
    modes = await Promise.all(ports.map((p) => serverMode(p)));
    if (modes.every((m) => m !== undefined)) return modes as string[];
    await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 250)));
  }
  throw new Error(`servers on ports ${ports.join(", ")} did not start serving within ${timeoutMs} ms (modes: ${modes.join(", ")})`);
}
