/**
 * Loopback networking helpers for integration tests: a free TCP port and the
 * four-letter-word probe ZooKeeper answers on its client port.
 *
 * Only 127.0.0.1 is ever used; nothing here listens on or dials another address.
 */
import { askFourLetterWord } from "../../src/net/index.js";

export const LOOPBACK = "127.0.0.1";

export { freePort } from "../../src/net/ports.js";

/**
 * Sends a four-letter word (e.g. "ruok", "srvr", "mntr") to a ZooKeeper-compatible
 * server and returns everything it writes before closing the connection.
 * Rejects on connection errors or when the answer takes longer than `timeoutMs`.
 */
export async function fourLetterWord(
  host: string,
  port: number,
  word: string,
  timeoutMs = 2_000,
): Promise<string> {
  if (word.length !== 4) throw new Error(`four-letter word must have 4 letters: ${word}`);
  return await askFourLetterWord(host, port, word, timeoutMs);
}

/**
 * Polls `ruok` until the server answers `imok`. Bounded: `attempts` tries,
 * `intervalMs` apart. `abortIf` is checked before each try so a caller can stop
 * early (for example when the server process has already exited).
 */
export async function waitForImok(
  host: string,
  port: number,
  options: { attempts?: number; intervalMs?: number; abortIf?: () => string | undefined } = {},
): Promise<void> {
  const attempts = options.attempts ?? 150;
  const intervalMs = options.intervalMs ?? 100;
  let last = "no attempt made";
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const abortReason = options.abortIf?.();
    if (abortReason !== undefined) throw new Error(abortReason);
    try {
      const answer = await fourLetterWord(host, port, "ruok", 1_000);
      if (answer === "imok") return;
      last = `answered ${JSON.stringify(answer)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${host}:${port} did not answer ruok with imok after ${attempts} attempts (last: ${last})`);
}
