// "Heard from" (src/session/table.ts): a learner reports to the leader only the sessions
// it heard from since its last report (ZooKeeper's LearnerSessionTracker touch table),
// once each, and the leader's touches on such a report are not news to report again.

import { describe, expect, it } from "vitest";
import { SessionTable } from "../../../src/session/index.js";
import { asSessionId, type SessionId } from "../../../src/util/index.js";
import { testPassword } from "../pipeline/harness.js";

const S1 = asSessionId(0x101n);
const S2 = asSessionId(0x102n);
const S3 = asSessionId(0x103n);

function table(): SessionTable {
  return new SessionTable({ tickMs: 100, passwordFor: testPassword });
}

function drain(t: SessionTable): SessionId[] {
  const out: SessionId[] = [];
  const n = t.drainHeard((id) => out.push(id));
  expect(n).toBe(out.length);
  return out;
}

describe("sessions heard from", () => {
  it("lists each touched session once per report, in the order first heard", () => {
    const t = table();
    for (const s of [S1, S2, S3]) t.add(s, 1000, 0);
    // Adding a session (applying its createSession) is not hearing from its client.
    expect(t.heardCount).toBe(0);
    t.touch(S2, 10);
    t.touch(S1, 11);
    t.touch(S2, 12);
    t.touch(S2, 13);
    expect(t.heardCount).toBe(2);
    expect(drain(t)).toEqual([S2, S1]);
    // The next period starts empty: a session silent since is not reported.
    expect(drain(t)).toEqual([]);
    t.touch(S3, 20);
    expect(drain(t)).toEqual([S3]);
  });

  it("a touch that is not news (the leader acting on a report) is not listed", () => {
    const t = table();
    t.add(S1, 1000, 0);
    expect(t.touch(S1, 500, false)).toBe(true);
    expect(t.get(S1)!.expiresAtMs).toBe(1600);
    expect(drain(t)).toEqual([]);
  });

  it("skips sessions removed or closing since they were heard, and a re-added id is a new session", () => {
    const t = table();
    for (const s of [S1, S2, S3]) t.add(s, 1000, 0);
    t.touch(S1, 1);
    t.touch(S2, 1);
    t.touch(S3, 1);
    t.remove(S1);
    t.markClosing(S2);
    t.add(S1, 1000, 2); // same id again (not heard from yet)
    expect(t.heardCount).toBe(2);
    expect(drain(t)).toEqual([S3]);
    t.touch(S1, 3);
    expect(drain(t)).toEqual([S1]);
  });

  it("never drained (a leader), the list stays bounded by the live sessions", () => {
    const t = table();
    // 50,000 sessions come, are heard from, and go: the list must not keep them all.
    for (let i = 1; i <= 50_000; i++) {
      const id = asSessionId(BigInt(i));
      t.add(id, 1000, 0);
      t.touch(id, 1);
      t.touch(id, 2);
      if (i > 10) t.remove(asSessionId(BigInt(i - 10)));
    }
    expect(t.size).toBe(10);
    expect(t.heardCount).toBe(10);
    expect(drain(t)).toEqual(Array.from({ length: 10 }, (_, i) => asSessionId(BigInt(49_991 + i))));
  });
});
