// Session ids handed out while members restart (issue 14, item 0): workers that open
// sessions on one member all the time, and a ledger of every id handed out, which records
// an id handed out twice, and one that does not carry the server id of the member that
// handed it out. Shared by the in-process and the real-process (SIGKILL) tests.

import { connect, type CorralClient } from "../../src/client/index.js";
import { creatorByteOf } from "../../src/session/index.js";

/** Settles with `p`, or with undefined after `ms` (a client stuck on a member that is down). */
export function orGiveUp<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.catch(() => undefined).finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
}

export class SessionIdLedger {
  /** id -> the member (1-based) that handed it out. */
  readonly handedOut = new Map<bigint, number>();
  readonly duplicates: string[] = [];
  readonly wrongByte: string[] = [];
  /** Set to end every worker after its current session. */
  stop = false;
  /** Sessions opened since the last `enoughSessions`, and who waits for enough of them. */
  #sinceRestart = 0;
  #wake: (() => void) | undefined;

  /** Resolves once `n` sessions have been opened from now on. */
  enoughSessions(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.#sinceRestart = 0;
      this.#wake = () => {
        if (this.#sinceRestart >= n) {
          this.#wake = undefined;
          resolve();
        }
      };
    });
  }

  /**
   * Opens sessions on `member` (at the address `at()` gives; undefined while it is down)
   * until `stop`, one at a time: each records its id, creates an ephemeral and closes.
   * Worker `w` names its nodes /w-<member>-<w>-<i>.
   */
  async worker(member: number, w: number, at: () => string | undefined, sessionTimeoutMs: number): Promise<void> {
    for (let i = 0; !this.stop; i++) {
      const address = at();
      if (address === undefined) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const c: CorralClient | undefined = await orGiveUp(connect(address, { sessionTimeoutMs, shuffleHosts: false }), 3000);
      if (c === undefined) {
        await new Promise((r) => setTimeout(r, 20)); // the member is restarting: try again
        continue;
      }
      this.#record(c.sessionId, member);
      await orGiveUp(c.create(`/w-${member}-${w}-${i}`, null, { mode: "ephemeral" }), 3000);
      await orGiveUp(c.close(), 3000);
    }
  }

  #record(id: bigint, member: number): void {
    const prior = this.handedOut.get(id);
    if (prior !== undefined) this.duplicates.push(`0x${BigInt.asUintN(64, id).toString(16)} by ${prior} and ${member}`);
    this.handedOut.set(id, member);
    if (creatorByteOf(id) !== BigInt(member)) this.wrongByte.push(`0x${BigInt.asUintN(64, id).toString(16)} from member ${member}`);
    this.#sinceRestart++;
    this.#wake?.();
  }
}
