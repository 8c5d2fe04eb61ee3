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
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { SessionIdLedger } from "../helpers/session-ids.js";

let ens: TestEnsemble | undefined;
let root: string | undefined;

afterEach(async () => {
  await ens?.stop();
  ens = undefined;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe("session ids across member restarts", () => {
  it("are never handed out twice, and carry the id of the member that handed them out", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-session-ids-"));
    ens = await startEnsembleForTest({ participants: 3, tickMs: 200, dataDirRoot: root });
    const e = ens;
    const ledger = new SessionIdLedger();
    const workers = [1, 2, 3].flatMap((m) => {
      const at = `127.0.0.1:${e.clientPorts[m - 1]!}`;
      return [0, 1].map((w) => ledger.worker(m, w, () => at, 2000));
    });

    // Restart followers and the leader, each after the others have handed out ids.
    for (let round = 0; round < 4; round++) {
      await ledger.enoughSessions(30);
      const victim = round % 2 === 0 ? e.followers()[0]! : e.leader()!;
      await e.restartMember(victim);
      await e.settled(20_000);
    }
    await ledger.enoughSessions(30);
    ledger.stop = true;
    await Promise.all(workers);

    expect(ledger.duplicates).toEqual([]);
    expect(ledger.wrongByte).toEqual([]);
    expect(ledger.handedOut.size).toBeGreaterThanOrEqual(150);
    // Every member handed out ids after the restarts too.
    expect(new Set(ledger.handedOut.values())).toEqual(new Set([1, 2, 3]));
  }, 120_000);
});
