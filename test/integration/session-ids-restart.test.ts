// Session ids stay unique across the ensemble while members restart (issue 14, item 0).
// Durable in-process members, clients opening sessions on every member all the time, and
// members (followers and the leader) restarted from their data dirs in between: every id
// handed out is new, and carries the server id of the member that handed it out. Before,
// a restarted member set its counter above the highest id in its log, usually another
// member's, and both then handed out the same ids.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { creatorByteOf } from "../../src/session/index.js";

let ens: TestEnsemble | undefined;
let root: string | undefined;

afterEach(async () => {
  await ens?.stop();
  ens = undefined;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

/** Settles with `p`, or with undefined after `ms` (a client stuck on a restarting member). */
function orGiveUp<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.catch(() => undefined).finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
}

describe("session ids across member restarts", () => {
  it("are never handed out twice, and carry the id of the member that handed them out", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-session-ids-"));
    ens = await startEnsembleForTest({ participants: 3, tickMs: 200, dataDirRoot: root });
    const e = ens;
    /** id -> the member (1-based) that handed it out. */
    const handedOut = new Map<bigint, number>();
    const duplicates: string[] = [];
    const wrongByte: string[] = [];
    let stop = false;
    /** Sessions opened since the last restart, and who waits for enough of them. */
    let sinceRestart = 0;
    let wake: (() => void) | undefined;
    const enoughSessions = (n: number): Promise<void> =>
      new Promise((resolve) => {
        sinceRestart = 0;
        wake = () => {
          if (sinceRestart >= n) {
            wake = undefined;
            resolve();
          }
        };
      });

    const worker = async (member: number, w: number): Promise<void> => {
      const at = `127.0.0.1:${e.clientPorts[member - 1]!}`;
      for (let i = 0; !stop; i++) {
        const c: CorralClient | undefined = await orGiveUp(connect(at, { sessionTimeoutMs: 2000, shuffleHosts: false }), 3000);
        if (c === undefined) {
          await new Promise((r) => setTimeout(r, 20)); // the member is restarting: try again
          continue;
        }
        const id = c.sessionId;
        const prior = handedOut.get(id);
        if (prior !== undefined) duplicates.push(`0x${BigInt.asUintN(64, id).toString(16)} by ${prior} and ${member}`);
        handedOut.set(id, member);
        if (creatorByteOf(id) !== BigInt(member)) wrongByte.push(`0x${BigInt.asUintN(64, id).toString(16)} from member ${member}`);
        sinceRestart++;
        wake?.();
        await orGiveUp(c.create(`/w-${member}-${w}-${i}`, null, { mode: "ephemeral" }), 3000);
        await orGiveUp(c.close(), 3000);
      }
    };
    const workers = [1, 2, 3].flatMap((m) => [0, 1].map((w) => worker(m, w)));

    // Restart followers and the leader, each after the others have handed out ids.
    for (let round = 0; round < 4; round++) {
      await enoughSessions(30);
      const victim = round % 2 === 0 ? e.followers()[0]! : e.leader()!;
      await e.restartMember(victim);
      await e.settled(20_000);
    }
    await enoughSessions(30);
    stop = true;
    await Promise.all(workers);

    expect(duplicates).toEqual([]);
    expect(wrongByte).toEqual([]);
    expect(handedOut.size).toBeGreaterThanOrEqual(150);
    // Every member handed out ids after the restarts too.
    expect(new Set(handedOut.values())).toEqual(new Set([1, 2, 3]));
  }, 120_000);
});
