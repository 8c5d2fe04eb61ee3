// Election failover: M members join one election; the leader's client closes its session
// (a clean close) and we time how long until the next member is told it leads. The
// closed member comes back as a new session at the end of the line (not timed), and the
// next failover starts. Checked: at no moment do two live members think they lead.

import type { ZooKeeperClient } from "../../src/client/index.js";
import type { ElectionApi } from "../recipes/api.js";
import { ensurePath, now } from "./driver.js";
import type { CaseContext, CaseSpec, Workload } from "./types.js";

const FAILOVER_TIMEOUT_MS = 10_000;

interface Member {
  id: number;
  client: ZooKeeperClient;
  election: ElectionApi;
  live: boolean;
  /** Resolves the next time this member learns it leads. */
  leads: Promise<number>;
}

export const electionWorkload: Workload = {
  name: "election",
  title: "election failover (leader closes its session)",
  group: "recipe",
  unit: "failovers",
  latency: "failover: close of the leader's session to the next member knowing it leads",
  headline: "latency",
  // The leader's closeSession txn, then the push to the next member.
  floor: "latency",
  targets: () => [{ metric: "p50", op: "<=", ratio: 0.5, source: "issue 5" }],
  cases: (plan): CaseSpec[] => [{ workload: "election", variant: String(plan.electionMembers), clients: plan.electionMembers, params: { members: plan.electionMembers } }],
  run: async (ctx: CaseContext, spec: CaseSpec): Promise<void> => {
    const path = `${ctx.root}/election`;
    await ensurePath(ctx.admin, path);
    const members: Member[] = [];
    let nextId = 0;
    /** Off once the loop ends: closing every session at teardown hands leadership down the line. */
    let checking = true;
    const leaders = (): Member[] => members.filter((m) => m.live && m.election.isLeader());

    const join = async (): Promise<Member> => {
      const client = await ctx.connect();
      const r = await ctx.recipes(client);
      const id = nextId++;
      const election = r.election(path, Buffer.from(`member-${id}`));
      let resolveLeads: (t: number) => void = () => {};
      const m: Member = { id, client, election, live: true, leads: new Promise((res) => (resolveLeads = res)) };
      election.onLeadershipChange((isLeader) => {
        if (!isLeader) return;
        const t = now();
        const both = leaders();
        if (checking && both.length > 1) ctx.violations.add(`election ${path}: ${both.map((x) => `member-${x.id}`).join(" and ")} lead at once`);
        resolveLeads(t);
      });
      members.push(m);
      await election.join();
      return m;
    };

    for (let i = 0; i < spec.clients; i++) await join();
    const timeout = (): Promise<never> =>
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no new leader within ${FAILOVER_TIMEOUT_MS} ms`)), FAILOVER_TIMEOUT_MS).unref());
    const firstLeader = members[0]!;
    await Promise.race([firstLeader.leads, timeout()]);

    ctx.window.begin();
    let unexpected = 0;
    while (ctx.window.running) {
      const live = members.filter((m) => m.live);
      const leader = live.find((m) => m.election.isLeader());
      const next = live.filter((m) => m !== leader)[0];
      if (leader === undefined || next === undefined) {
        ctx.error(new Error(`no leader among ${live.length} live members`));
        break;
      }
      const t0 = now();
      leader.live = false;
      const closing = leader.client.close();
      try {
        const winner = await Promise.race([...live.filter((m) => m !== leader).map((m) => m.leads.then((t) => ({ m, t }))), timeout()]);
        if (winner.m !== next) unexpected++;
        ctx.extra["failoversChecked"] = (ctx.extra["failoversChecked"] ?? 0) + 1;
        ctx.window.tick(t0, winner.t - t0);
      } catch (e) {
        if (ctx.signal.aborted) break;
        ctx.error(e);
      }
      await closing;
      members.splice(members.indexOf(leader), 1);
      if (ctx.violations.messages.length > 0) break;
      await join();
    }
    checking = false;
    ctx.extra["unexpectedSuccessor"] = unexpected;
  },
};
