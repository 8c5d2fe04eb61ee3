// Elections through faults (issue 13, items 2 and 8): members() and leader() report the
// members' ids; a leader stops leading when its client is closed, and when it is cut off
// (Curator's standard policy: on SUSPENDED) before any other member leads, so two members
// never believe they lead at once; with leadershipPolicy "lost" a short cut keeps
// leadership; after LOST the member joins again on its new session.

import { expect, it } from "vitest";
import type { CorralClient, Election } from "../../src/client/index.js";
import { describeBoth, reach, unique, until } from "./recipe-client-support.js";

/** Every leadership change of the members, in order, checking that two never lead at once. */
class Timeline {
  readonly events: string[] = [];
  readonly #leading = new Set<string>();
  overlaps = 0;

  watch(name: string, e: Election): void {
    e.onLeadershipChange((leads) => {
      this.events.push(`${name} ${leads ? "leads" : "stops"}`);
      if (leads) {
        if (this.#leading.size > 0) this.overlaps++;
        this.#leading.add(name);
      } else this.#leading.delete(name);
    });
  }

  /** Resolves at the next occurrence of `what` from now on. */
  next(what: string): Promise<void> {
    const count = (): number => this.events.filter((e) => e === what).length;
    const before = count();
    return new Promise((resolve) => {
      const check = (): void => {
        if (count() > before) resolve();
        else setTimeout(check, 5);
      };
      check();
    });
  }
}

async function join(c: CorralClient, path: string, id: string, t: Timeline, policy?: "suspended" | "lost"): Promise<Election> {
  const e = c.election(path, id, policy === undefined ? {} : { leadershipPolicy: policy });
  t.watch(id, e);
  await e.join();
  return e;
}

describeBoth("elections through faults", (ctx) => {
  it("members() and leader() report the members' ids, leader first", async () => {
    const [a, b] = [await ctx.direct(), await ctx.direct()];
    const path = unique("ids");
    const t = new Timeline();
    const ea = await join(a, path, "alpha", t);
    const eb = await join(b, path, "beta", t);
    expect(await eb.members()).toEqual(["alpha", "beta"]);
    const leader = await eb.leader();
    expect(leader?.id).toBe("alpha");
    expect(leader?.data.toString()).toBe("alpha");
    const betaLeads = t.next("beta leads");
    await ea.leave();
    await betaLeads;
    expect(await ea.members()).toEqual(["beta"]);
    await eb.leave();
  });

  it("a leader whose client is closed stops leading before the next member leads", async () => {
    const [a, b] = [await ctx.direct(), await ctx.direct()];
    const path = unique("close");
    const t = new Timeline();
    const ea = await join(a, path, "a", t);
    const eb = await join(b, path, "b", t);
    expect(ea.isLeader()).toBe(true);
    const bLeads = t.next("b leads");
    await a.close();
    expect(ea.isLeader()).toBe(false);
    await bLeads;
    expect(t.events).toEqual(["a leads", "a stops", "b leads"]);
    expect(t.overlaps).toBe(0);
    await eb.leave();
  });

  it("a cut-off leader stops leading (SUSPENDED) before the next member leads; it joins again after LOST", async () => {
    const { client: a, proxy } = await ctx.proxied();
    const b = await ctx.direct();
    const path = unique("cut");
    const t = new Timeline();
    const ea = await join(a, path, "a", t);
    const eb = await join(b, path, "b", t);
    const bLeads = t.next("b leads");
    proxy.blackhole();
    await bLeads;
    expect(t.events.slice(0, 3)).toEqual(["a leads", "a stops", "b leads"]);
    expect(t.overlaps).toBe(0);
    await reach(a, "LOST");
    proxy.heal();
    // The member wants to lead until leave(): it is back in, behind b, on its new session.
    await until(b, "a joined again", async () => (await eb.members()).join() === "b,a");
    const aLeads = t.next("a leads");
    await eb.leave();
    await aLeads;
    expect(ea.isLeader()).toBe(true);
    expect(t.overlaps).toBe(0);
    await ea.leave();
  });

  it("by default a short cut drops leadership until RECONNECTED; with policy \"lost\" it is kept", async () => {
    const { client: a, proxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
    const { client: k, proxy: kproxy } = await ctx.proxied({ sessionTimeoutMs: 4000 });
    const t = new Timeline();
    const ea = await join(a, unique("short-default"), "a", t);
    const ek = await join(k, unique("short-lost"), "k", t, "lost");
    expect(ea.isLeader() && ek.isLeader()).toBe(true);
    proxy.cut();
    kproxy.cut();
    await reach(a, "RECONNECTED");
    await reach(k, "RECONNECTED");
    await until(a, "a leads again", () => ea.isLeader());
    expect(t.events.filter((e) => e.startsWith("a "))).toEqual(["a leads", "a stops", "a leads"]);
    expect(t.events.filter((e) => e.startsWith("k "))).toEqual(["k leads"]);
    expect(ek.isLeader()).toBe(true);
    await ea.leave();
    await ek.leave();
  });
});

describeBoth(
  "engine election member whose node is deleted",
  (ctx) => {
    it("a waiting member whose node someone deletes (NodeGone) joins again", async () => {
      const [a, b, admin] = [await ctx.direct(), await ctx.direct(), await ctx.direct()];
      const path = unique("gone");
      const t = new Timeline();
      const ea = await join(a, path, "a", t);
      const eb = await join(b, path, "b", t);
      const [, bNode] = await admin.getChildren(path).then((c) => c.sort((x, y) => Number(x.slice(-10)) - Number(y.slice(-10))));
      await admin.delete(`${path}/${bNode!}`);
      await until(admin, "b joined again", async () => {
        const children = await admin.getChildren(path);
        return children.length === 2 && !children.includes(bNode!);
      });
      expect(await ea.members()).toEqual(["a", "b"]);
      const bLeads = t.next("b leads");
      await ea.leave();
      await bLeads;
      expect(t.overlaps).toBe(0);
      await eb.leave();
    });

    // Not ordered against the next member's grant (two clients hear of one delete each in
    // its own time): the old leader stops as soon as its watch fires.
    it("a leader whose node someone deletes stops leading and joins again", async () => {
      const [a, b, admin] = [await ctx.direct(), await ctx.direct(), await ctx.direct()];
      const path = unique("leader-gone");
      const t = new Timeline();
      const ea = await join(a, path, "a", t);
      const eb = await join(b, path, "b", t);
      const [aNode] = await admin.getChildren(path).then((c) => c.sort((x, y) => Number(x.slice(-10)) - Number(y.slice(-10))));
      const bLeads = t.next("b leads");
      const aStops = t.next("a stops");
      await admin.delete(`${path}/${aNode!}`);
      await Promise.all([bLeads, aStops]);
      expect(ea.isLeader()).toBe(false);
      await until(admin, "a joined again", async () => (await eb.members()).join() === "b,a");
      await eb.leave();
      await ea.leave();
    });
  },
  ["corral"],
);
