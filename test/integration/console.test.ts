// The AdminServer's web console (/console/, issue 17) end to end: a real standalone
// server with locks, a queue and an election held through Corral's client, the console
// loaded in headless Chromium (one run per view, chosen by the URL hash), and the DOM it
// renders checked against the admin JSON it was built from. Also the `znode` command the
// tree view reads: world access by default, refused nodes, and the super user over HTTP
// basic auth when the server has a super digest.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { Perms } from "../../src/jute/index.js";
import { startAdminServer } from "../../src/net/index.js";
import { adminSource } from "../../src/server/operations.js";
import { startEnsembleForTest, startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { inCi } from "../helpers/zookeeper-install.js";
import { childrenWhen } from "../helpers/standalone-fixture.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const CHROMIUM_HINT = "chromium not installed: run scripts/install-test-deps.sh (Debian package `chromium`) to run the web console test";
const CHROMIUM_TIMEOUT_MS = 60_000;
if (CHROMIUM === undefined && !inCi()) console.warn(`skipping the web console's browser tests: ${CHROMIUM_HINT}`);

const SUPER_PASSWORD = "console-secret";
const SUPER_DIGEST = `super:${createHash("sha1").update(`super:${SUPER_PASSWORD}`).digest("base64")}`;

/** The page's DOM after its scripts ran (virtual time: the 2 s poll fires twice). */
function dumpDom(url: string): Promise<string> {
  if (CHROMIUM === undefined) return Promise.reject(new Error(CHROMIUM_HINT));
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      ["--headless=new", "--no-sandbox", "--disable-gpu", "--dump-dom", "--virtual-time-budget=5000", url],
      { timeout: CHROMIUM_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`chromium failed: ${err.message}\n${stderr}`))),
    );
  });
}

/** The text of the first element carrying `attr="value"` (tags dropped, entities decoded). */
function textOf(dom: string, attr: string, value: string): string {
  const at = dom.indexOf(`${attr}="${value}"`);
  expect(at, `${attr}="${value}" in the DOM`).toBeGreaterThan(-1);
  const tag = dom.lastIndexOf("<", at);
  const name = /^<(\w+)/.exec(dom.slice(tag))![1]!;
  const end = dom.indexOf(`</${name}>`, at);
  return text(dom.slice(tag, end));
}

function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

async function admin(t: TestServer, name: string, auth?: string, query = ""): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = auth === undefined ? {} : { Authorization: `Basic ${Buffer.from(auth).toString("base64")}` };
  const r = await fetch(`${t.adminUrl}/commands/${name}${query}`, { headers });
  return (await r.json()) as Record<string, unknown>;
}


describe("the console's files and the znode command", () => {
  let t: TestServer;
  let c: CorralClient;
  beforeAll(async () => {
    t = await startStandaloneForTest({ adminServer: true });
    c = await connect(t.connectString, { sessionTimeoutMs: 4000 });
  });
  afterAll(async () => {
    await c?.close();
    await t?.stop();
  });

  it("serves the page, its stylesheet and its module; nothing else under /console/", async () => {
    const page = await fetch(`${t.adminUrl}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('<script type="module" src="console.js">');
    const js = await fetch(`${t.adminUrl}/console/console.js`);
    expect([js.status, js.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
    expect((await fetch(`${t.adminUrl}/console/console.css`)).status).toBe(200);
    const bare = await fetch(`${t.adminUrl}/console`, { redirect: "manual" });
    expect([bare.status, bare.headers.get("location")]).toEqual([301, "/console/"]);
    for (const bad of ["/console/../package.json", "/console/%2e%2e/package.json", "/console/missing.js"]) {
      expect((await fetch(`${t.adminUrl}${bad}`)).status, bad).toBe(404);
    }
  });

  it("znode reads a node's data, Stat, ACL and children with world access, and refuses what the world cannot read", async () => {
    await c.create("/cz", Buffer.from('{"a":1}'));
    await c.create("/cz/kid", Buffer.from([0, 255]));
    await c.create("/cz/private", Buffer.from("secret"), { acl: [{ perms: Perms.All, id: { scheme: "digest", id: "bob:aGFzaA==" } }] });
    const n = await admin(t, "znode", undefined, "?path=%2Fcz");
    const st = await c.exists("/cz");
    expect(n).toMatchObject({
      path: "/cz",
      as_super: false,
      data: Buffer.from('{"a":1}').toString("base64"),
      acl: [{ perms: "cdrwa", scheme: "world", id: "anyone" }],
      children: ["kid", "private"],
      children_omitted: 0,
      command: "znode",
      error: null,
    });
    expect(n["stat"]).toEqual({
      czxid: `0x${st!.czxid.toString(16)}`,
      mzxid: `0x${st!.mzxid.toString(16)}`,
      pzxid: `0x${st!.pzxid.toString(16)}`,
      ctime: Number(st!.ctime),
      mtime: Number(st!.mtime),
      version: 0,
      cversion: 2,
      aversion: 0,
      ephemeralOwner: "0x0",
      dataLength: 7,
      numChildren: 2,
    });
    expect(await admin(t, "znode", undefined, "?path=%2Fcz%2Fprivate")).toEqual({
      path: "/cz/private",
      command: "znode",
      error: "not readable without auth (ACL): /cz/private",
    });
    expect((await admin(t, "znode", undefined, "?path=%2Fnope"))["error"]).toBe("no node: /nope");
    expect((await admin(t, "znode", undefined, "?path=cz"))["error"]).toBe("invalid path: cz");
  });
});

describe("the znode command with a super digest", () => {
  let t: TestServer;
  let c: CorralClient;
  beforeAll(async () => {
    t = await startStandaloneForTest({ adminServer: true, superDigest: SUPER_DIGEST });
    c = await connect(t.connectString, { sessionTimeoutMs: 4000 });
  });
  afterAll(async () => {
    await c?.close();
    await t?.stop();
  });

  it("needs the super user's password over basic auth, then reads every node with unmasked ACLs", async () => {
    await c.create("/locked", Buffer.from("s"), { acl: [{ perms: Perms.Read, id: { scheme: "digest", id: "bob:aGFzaA==" } }] });
    expect(await admin(t, "znode", undefined, "?path=%2F")).toEqual({ auth_required: true, command: "znode", error: "super user credentials required" });
    expect(await admin(t, "znode", "super:wrong", "?path=%2F")).toEqual({ auth_required: true, command: "znode", error: "authentication failed" });
    const n = await admin(t, "znode", `super:${SUPER_PASSWORD}`, "?path=%2Flocked");
    expect(n).toMatchObject({ path: "/locked", as_super: true, data: "cw==", acl: [{ perms: "r", scheme: "digest", id: "bob:aGFzaA==" }], error: null });
  });

  it.skipIf(CHROMIUM === undefined && !inCi())("the tree view asks for the super user:password", async () => {
    const dom = await dumpDom(`${t.adminUrl}/console/#tree`);
    expect(text(dom)).toContain("super user credentials required");
    expect(dom).toMatch(/<form class="card login"/);
  }, CHROMIUM_TIMEOUT_MS);
});

describe.skipIf(CHROMIUM === undefined && !inCi())("the console in headless Chromium", () => {
  let t: TestServer;
  const clients: CorralClient[] = [];
  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error(CHROMIUM_HINT);
    t = await startStandaloneForTest({ adminServer: true });
    for (let i = 0; i < 4; i++) clients.push(await connect(t.connectString, { sessionTimeoutMs: 4000 }));
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await t?.stop();
  });

  it("#locks shows the holder, the waiter after it, and their fencing tokens", async () => {
    const [a, b] = clients as [CorralClient, CorralClient];
    await a.mutex("/console-lock");
    const waiting = b.mutex("/console-lock");
    await childrenWhen(a, "/console-lock", 2);
    const locks = (await admin(t, "locks"))["locks"] as { path: string; holders: { node: string; token: string }[]; waiters: { node: string; token: string }[] }[];
    const lock = locks.find((l) => l.path === "/console-lock")!;
    expect([lock.holders.length, lock.waiters.length]).toEqual([1, 1]);
    const card = textOf(await dumpDom(`${t.adminUrl}/console/#locks`), "data-path", "/console-lock");
    expect(card).toContain("1 holding, 1 waiting");
    const holder = card.indexOf(`holder 1 ${lock.holders[0]!.node}`);
    const waiter = card.indexOf(`waiter 1 ${lock.waiters[0]!.node}`);
    expect(holder).toBeGreaterThan(-1);
    expect(waiter).toBeGreaterThan(holder);
    expect(card).toContain(` ${lock.holders[0]!.token} `);
    expect(card.endsWith(` ${lock.waiters[0]!.token}`)).toBe(true);
    void waiting.catch(() => undefined);
  }, CHROMIUM_TIMEOUT_MS);

  it("#queues shows depth, and each in-flight item with its holder, take time and lease deadline", async () => {
    const [p, w] = clients as [CorralClient, CorralClient];
    const q = p.jobQueue("/console-jobs");
    for (const item of ["a", "b", "c"]) await q.offer(item);
    await w.jobQueue("/console-jobs", { visibilityTimeoutMs: 600_000 }).take();
    await w.jobQueue("/console-jobs").take();
    type Item = { item: string; sequence: number; deliveries: number; session_id: string; taken_at: number; lease_deadline: number | null };
    const queues = (await admin(t, "queues"))["queues"] as { path: string; depth: number; in_flight: number; in_flight_items: Item[] }[];
    const json = queues.find((x) => x.path === "/console-jobs")!;
    expect([json.depth, json.in_flight, json.in_flight_items.length]).toEqual([1, 2, 2]);
    const dom = await dumpDom(`${t.adminUrl}/console/#queues`);
    const row = textOf(dom, "data-path", "/console-jobs");
    expect(row).toBe(`/console-jobs ${json.depth} ${json.in_flight} 0`);
    // Each in-flight item: item, sequence, earlier deliveries, holder, taken at, lease deadline.
    const card = textOf(dom, "data-inflight", "/console-jobs");
    expect(card.startsWith("/console-jobs in flight: 2 ")).toBe(true);
    const [leased, held] = json.in_flight_items as [Item, Item];
    const iso = (ms: number): string => new Date(ms).toISOString();
    expect(card).toContain(`${leased.item} ${leased.sequence} 0 ${leased.session_id} ${iso(leased.taken_at)} ${iso(leased.lease_deadline!)}`);
    expect(leased.lease_deadline).toBe(leased.taken_at + 600_000);
    expect(card).toContain(`${held.item} ${held.sequence} 0 ${held.session_id} ${iso(held.taken_at)} until its session ends`);
    expect(card.indexOf(leased.item)).toBeLessThan(card.indexOf(held.item));
  }, CHROMIUM_TIMEOUT_MS);

  it("#elections shows the leader and the members in order", async () => {
    const [, , x, y] = clients as CorralClient[];
    await x!.election("/console-election", "alpha").join();
    await y!.election("/console-election", "beta").join();
    const elections = (await admin(t, "elections"))["elections"] as { path: string; leader: { node: string }; members: { node: string }[] }[];
    const e = elections.find((x) => x.path === "/console-election")!;
    expect(e.members.length).toBe(2);
    const card = textOf(await dumpDom(`${t.adminUrl}/console/#elections`), "data-path", "/console-election");
    expect(card).toContain(`leader: ${e.leader.node}`);
    expect(card.indexOf(`1 ${e.members[0]!.node}`)).toBeLessThan(card.indexOf(`2 ${e.members[1]!.node}`));
  }, CHROMIUM_TIMEOUT_MS);

  it("#tree= shows a node's data as text, its Stat and ACL, and its children", async () => {
    const [p] = clients as [CorralClient];
    await p.create("/console-tree", Buffer.from("hello console"));
    await p.create("/console-tree/child-a", Buffer.alloc(0));
    const dom = await dumpDom(`${t.adminUrl}/console/#tree=${encodeURIComponent("/console-tree")}`);
    const body = text(dom);
    expect(body).toContain("hello console");
    expect(body).toContain("child-a");
    expect(body).toContain("numChildren 1");
    expect(body).toContain("cdrwa world anyone");
  }, CHROMIUM_TIMEOUT_MS);

  it("#ensemble shows this server's state and zxid; #charts draws polylines", async () => {
    const srvr = await admin(t, "srvr");
    const dom = await dumpDom(`${t.adminUrl}/console/#ensemble`);
    expect(text(dom)).toContain("Standalone: no ensemble (this server is standalone");
    expect(dom).toContain('class="state">standalone<');
    const zxid = BigInt((srvr["server_stats"] as { last_processed_zxid: number }).last_processed_zxid);
    expect(BigInt(/class="mono zxid">(0x[0-9a-f]+)</.exec(dom)![1]!)).toBeGreaterThanOrEqual(zxid);
    const charts = await dumpDom(`${t.adminUrl}/console/#charts`);
    for (const key of ["requests", "latency", "fsync", "sessions", "watches"]) expect(charts).toContain(`data-chart="${key}"`);
    expect(charts.match(/<polyline points="[\d., ]+"/g)?.length).toBe(5);
  }, CHROMIUM_TIMEOUT_MS);
});

describe.skipIf(CHROMIUM === undefined && !inCi())("the console on an ensemble member", () => {
  /** The member rows of #ensemble: the id cell's text first. */
  const memberRows = (dom: string): string[] => [...dom.matchAll(/<tr class="member"[^>]*>(.*?)<\/tr>/g)].map((m) => text(m[1]!));

  it("#ensemble on a follower: the voting members with the leader, its own zxid and lag, and a pointer to the leader's console", async () => {
    const ens = await startEnsembleForTest({ participants: 3 });
    try {
      const leader = ens.leader()!;
      const follower = ens.followers()[0]!;
      const http = await startAdminServer(adminSource(follower.server), "127.0.0.1", 0);
      try {
        const dom = await dumpDom(`http://127.0.0.1:${http.port}/console/#ensemble`);
        const rows = memberRows(dom);
        expect(rows.length).toBe(3);
        expect(rows.filter((r) => r.startsWith(`${follower.me.id} (this server) follower `))).toHaveLength(1);
        const zxid = `0x${follower.server.lastZxid().toString(16)}`;
        for (const row of rows) {
          const id = row.split(" ")[0]!;
          if (id === String(follower.me.id)) expect(row).toMatch(new RegExp(`^${id} \\(this server\\) follower .* ${zxid} 0 synced$`));
          else expect(row).toMatch(new RegExp(`^${id} ${id === String(leader.me.id) ? "leader" : "follower"} .* — — —$`));
        }
        expect(text(dom)).toContain(`open the leader's (server ${leader.me.id}) console for the other members`);
      } finally {
        await http.close();
      }
    } finally {
      await ens.stop();
    }
  }, CHROMIUM_TIMEOUT_MS);

  it("#ensemble on the leader: each member's zxid, lag and sync phase, as `learners` has them", async () => {
    const ens = await startEnsembleForTest({ participants: 3, observers: 1 });
    try {
      const leader = ens.leader()!;
      const stopped = ens.followers()[0]!;
      const c = await connect(ens.connectStringOf(leader), { sessionTimeoutMs: 4000 });
      const http = await startAdminServer(adminSource(leader.server), "127.0.0.1", 0);
      try {
        await ens.stopMember(stopped);
        for (let i = 0; i < 3; i++) await c.create(`/console-ens-${i}`, null);
        type Member = { id: number; role: string; zxid: string | null; lag: number | null; phase: string };
        const url = `http://127.0.0.1:${http.port}/commands/learners`;
        // Quiet now: once the running follower acked the last proposal, nothing moves.
        let learners: { leader_last_zxid: string; members: Member[] } | undefined;
        const deadline = Date.now() + 10_000;
        for (;;) {
          learners = (await (await fetch(url)).json()) as typeof learners;
          const ok = learners!.members.every((m) => m.id === Number(stopped.me.id) ? m.phase === "not connected" : m.role === "observer" || m.role === "leader" || m.zxid === learners!.leader_last_zxid);
          if (ok) break;
          expect(Date.now()).toBeLessThan(deadline);
          await new Promise((r) => setTimeout(r, 20));
        }
        const dom = await dumpDom(`http://127.0.0.1:${http.port}/console/#ensemble`);
        const rows = memberRows(dom);
        expect(rows.length).toBe(4);
        for (const m of learners!.members) {
          const row = rows.find((r) => r.startsWith(`${m.id} `))!;
          const self = m.id === Number(leader.me.id) ? " (this server)" : "";
          expect(row, `member ${m.id}`).toMatch(new RegExp(`^${m.id}${self.replace(/[()]/g, "\\$&")} ${m.role} .* ${m.zxid ?? "—"} ${m.lag ?? "—"} ${m.phase}$`));
        }
        expect(rows.find((r) => r.startsWith(`${stopped.me.id} `))).toMatch(/ — — not connected$/);
        expect(text(dom)).toContain(`Leader's last proposal ${learners!.leader_last_zxid}.`);
      } finally {
        await c.close();
        await http.close();
      }
    } finally {
      await ens.stop();
    }
  }, CHROMIUM_TIMEOUT_MS);
});
