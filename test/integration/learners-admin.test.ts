// Admin `learners` on an ensemble (issue 17: the console's ensemble view shows each
// member's zxid and lag): the leader lists every member with the last zxid it acked and
// the proposals it has not acked, which move as writes happen; a stopped follower shows
// as not connected and not synced; an observer is synced with no lag figure (observers
// acknowledge no proposals); a follower shows only its own zxid and the leader's last
// zxid it heard, and points at the leader's console.

import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startAdminServer, type HttpEndpoint } from "../../src/net/index.js";
import { adminSource } from "../../src/server/operations.js";
import { startEnsembleForTest, type QuorumServer, type TestEnsemble } from "../../src/server/index.js";

interface Member {
  id: number;
  role: string;
  this_server: boolean;
  quorum_address: string | null;
  connected: boolean;
  phase: string;
  synced: boolean;
  zxid: string | null;
  lag: number | null;
}
interface Learners {
  server_id: number;
  state: string;
  leader_id: number;
  last_zxid: string;
  leader_last_zxid: string;
  members: Member[];
  note: string | null;
  error: string | null;
}

let ens: TestEnsemble | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await ens?.stop();
  ens = undefined;
});

async function adminOf(member: QuorumServer): Promise<HttpEndpoint> {
  const http = await startAdminServer(adminSource(member.server), "127.0.0.1", 0);
  cleanups.push(() => http.close());
  return http;
}

async function learners(http: HttpEndpoint): Promise<Learners> {
  return (await (await fetch(`http://127.0.0.1:${http.port}/commands/learners`)).json()) as Learners;
}

/** Polls `learners` until `ok` holds (acks travel after the writes' answers), bounded. */
async function learnersWhen(http: HttpEndpoint, ok: (l: Learners) => boolean, what: string): Promise<Learners> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const l = await learners(http);
    if (ok(l)) return l;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(l.members)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const big = (hex: string | null): bigint => BigInt(hex!);

describe("admin learners on an ensemble", () => {
  it("the leader's numbers move with writes; a stopped follower shows not connected; a follower knows only itself", async () => {
    ens = await startEnsembleForTest({ participants: 3, observers: 1 });
    const leader = ens.leader()!;
    const [f1, f2] = ens.followers() as [QuorumServer, QuorumServer];
    const observer = ens.observers()[0]!;
    const lh = await adminOf(leader);
    const c = await connect(ens.connectStringOf(leader), { sessionTimeoutMs: 4000 });
    cleanups.push(() => c.close());

    const allCaughtUp = (l: Learners): boolean =>
      l.members.every((m) => m.this_server || m.role === "observer" || (m.synced && m.lag === 0 && m.zxid === l.leader_last_zxid));
    const before = await learnersWhen(lh, allCaughtUp, "every follower to ack the leader's last proposal");
    expect(before).toMatchObject({ server_id: Number(leader.me.id), state: "leader", leader_id: Number(leader.me.id), note: null, error: null });
    expect(before.members.map((m) => [m.id, m.role, m.this_server])).toEqual(
      [...ens.members].sort((a, b) => Number(a.me.id - b.me.id)).map((m) => [
        Number(m.me.id),
        m === leader ? "leader" : m === observer ? "observer" : "follower",
        m === leader,
      ]),
    );
    for (const m of before.members) {
      expect(m.quorum_address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect([m.connected, m.synced, m.phase]).toEqual([true, true, m.this_server ? "leading" : "synced"]);
    }
    // An observer acks no proposals: it is synced, with no zxid or lag figure.
    expect(before.members.find((m) => m.role === "observer")).toMatchObject({ zxid: null, lag: null });

    // Writes: the leader's last proposal moves by as many txns, and so do the followers' acks.
    for (let i = 0; i < 5; i++) await c.create(`/learners-${i}`, null);
    const after = await learnersWhen(lh, (l) => allCaughtUp(l) && big(l.leader_last_zxid) >= big(before.leader_last_zxid) + 5n, "the followers to ack 5 more");
    expect(big(after.leader_last_zxid) - big(before.leader_last_zxid)).toBe(5n);
    for (const f of [f1, f2]) {
      const m = after.members.find((x) => x.id === Number(f.me.id))!;
      expect(big(m.zxid) - big(before.members.find((x) => x.id === m.id)!.zxid)).toBe(5n);
    }
    expect(big(after.last_zxid)).toBe(leader.server.lastZxid());

    // A follower knows its own zxid and the leader's last it heard of, and no one else's.
    const fh = await adminOf(f1);
    const own = await learnersWhen(fh, (l) => l.last_zxid === after.leader_last_zxid, "the follower to apply the writes");
    expect(own).toMatchObject({ server_id: Number(f1.me.id), state: "follower", leader_id: Number(leader.me.id), leader_last_zxid: after.leader_last_zxid });
    expect(own.members).toMatchObject([{ id: Number(f1.me.id), role: "follower", this_server: true, synced: true, zxid: after.leader_last_zxid, lag: 0 }]);
    expect(own.note).toContain(`open the leader's (server ${leader.me.id}) console`);

    // A stopped follower: not connected, not synced, no zxid; the other one keeps up.
    await ens.stopMember(f2);
    await c.create("/learners-after-stop", null);
    const stopped = await learnersWhen(
      lh,
      (l) => !l.members.find((m) => m.id === Number(f2.me.id))!.connected && l.members.find((m) => m.id === Number(f1.me.id))!.zxid === l.leader_last_zxid && big(l.leader_last_zxid) > big(after.leader_last_zxid),
      "the leader to drop the stopped follower",
    );
    expect(stopped.members.find((m) => m.id === Number(f2.me.id))).toMatchObject({ role: "follower", connected: false, synced: false, phase: "not connected", zxid: null, lag: null });
    expect(stopped.members.find((m) => m.id === Number(f1.me.id))).toMatchObject({ synced: true, lag: 0 });
  }, 30_000);

  it("a standalone server answers that it has no learners", async () => {
    const { startStandaloneForTest } = await import("../../src/server/index.js");
    const t = await startStandaloneForTest({ adminServer: true });
    cleanups.push(() => t.stop());
    const r = (await (await fetch(`${t.adminUrl}/commands/learners`)).json()) as Learners;
    expect(r).toEqual({ command: "learners", error: "standalone: this server has no learners" });
  });
});
