// A 3 + 1 ensemble in one process, over real sockets (issue 6): one leader, writes from
// any member, reads everywhere after sync, failover when the leader dies, sessions and
// watches that move between servers, leader-owned expiry, recipes across members, and a
// minority that stops accepting writes. Every test runs twice: plain, and with TLS
// everywhere (issue 17: sslQuorum=true between members, clients on secureClientPort with
// ssl.clientAuth=need); four-letter words go to the plain client port in both.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { connect, ZooKeeperClient, type ClientOptions, type CorralClient } from "../../src/client/index.js";
import { asSessionId } from "../../src/util/index.js";
import { OpCode, ReconfigRequestSchema, encodeRecord } from "../../src/jute/index.js";
import { startEnsembleForTest, type EnsembleForTestOptions, type TestEnsemble } from "../../src/server/index.js";
import { ENSEMBLE_TRANSPORTS, removeTransportCerts } from "../helpers/ensemble-transports.js";
import { fourLetterWord } from "../helpers/net.js";
import { CLIENT1_DN } from "../helpers/tls-certs.js";

let ens: TestEnsemble | undefined;
const clients: CorralClient[] = [];
afterAll(removeTransportCerts);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await ens?.stop();
  ens = undefined;
});

describe.each(ENSEMBLE_TRANSPORTS)("an ensemble of three participants and an observer, $name", (transport) => {
  const start = (opts: EnsembleForTestOptions): Promise<TestEnsemble> => startEnsembleForTest({ ...opts, ...transport.ensemble() });
  const connectTo = (cs: string, opts: ClientOptions = {}): Promise<CorralClient> => connect(cs, { ...opts, ...transport.client() });
  const client = async (connectString: string, sessionTimeoutMs = 4000): Promise<CorralClient> => {
    const c = await connectTo(connectString, { sessionTimeoutMs, shuffleHosts: false });
    clients.push(c);
    return c;
  };

  it("elects one leader; srvr reports each member's mode", async () => {
    ens = await start({ participants: 3, observers: 1 });
    expect(ens.followers()).toHaveLength(2);
    expect(ens.observers()).toHaveLength(1);
    const modes = await Promise.all(
      ens.members.map(async (m) => /Mode: (\w+)/.exec(await fourLetterWord("127.0.0.1", ens!.clientPortOf(m), "srvr"))?.[1]),
    );
    expect(modes.sort()).toEqual(["follower", "follower", "leader", "observer"]);
    const leaderPort = ens.clientPortOf(ens.leader()!);
    const mntr = await fourLetterWord("127.0.0.1", leaderPort, "mntr");
    expect(mntr).toMatch(/^zk_server_state\tleader$/m);
    expect(mntr).toMatch(/^zk_synced_followers\t2$/m);
    expect(mntr).toMatch(/^zk_synced_observers\t1$/m);
    expect(mntr).toMatch(/^zk_pending_syncs\t0$/m);
    // The transport under test is the one in use: members run sslQuorum, and a client's
    // certificate reaches the server as its x509 identity.
    expect(ens.members.map((m) => m.config.sslQuorum)).toEqual([transport.tls, transport.tls, transport.tls, transport.tls]);
    const me = await (await client(ens.connectString)).whoAmI();
    expect(me.some((id) => id.authScheme === "x509" && id.user === CLIENT1_DN)).toBe(transport.tls);
    // /zookeeper/config publishes the membership as ZooKeeper 3.5+ does.
    const c = await client(ens.connectString);
    const config = (await c.getData("/zookeeper/config")).data!.toString().split("\n");
    expect(config.filter((l) => /^server\.\d+=127\.0\.0\.1:\d+:\d+:(participant|observer);127\.0\.0\.1:\d+$/.test(l))).toHaveLength(4);
    expect(config.at(-1)).toBe("version=0");
    // Dynamic reconfiguration is off (reconfigEnabled=false), as ZooKeeper answers it.
    const reconfig = c.request(
      OpCode.reconfig,
      undefined,
      (w) => encodeRecord(w, ReconfigRequestSchema, { joiningServers: "", leavingServers: "3", newMembers: "", curConfigId: -1n }),
      undefined,
    );
    await expect(reconfig).rejects.toMatchObject({ code: "ReconfigDisabled" });
  });

  it("a write through any member is read on every member after sync", async () => {
    ens = await start({ participants: 3, observers: 1 });
    const cs = await Promise.all(ens.members.map((m) => client(ens!.connectStringOf(m))));
    for (let i = 0; i < cs.length; i++) await cs[i]!.create(`/from-${i}`, `v${i}`);
    for (const c of cs) {
      await c.sync("/");
      expect((await c.getChildren("/")).filter((n) => n.startsWith("from-")).sort()).toEqual(["from-0", "from-1", "from-2", "from-3"]);
      expect((await c.getData("/from-3")).data?.toString()).toBe("v3");
    }
    const seq = await Promise.all(cs.map((c) => c.create("/q-", null, { mode: "persistentSequential" })));
    expect(new Set(seq).size).toBe(4);
  });

  it("when the leader dies, a new one is elected, writes resume and nothing acknowledged is lost", async () => {
    ens = await start({ participants: 3, observers: 1 });
    const c = await client(ens.connectString);
    for (let i = 0; i < 50; i++) await c.create(`/acked-${i}`, `${i}`);
    const old = ens.leader()!;
    await ens.stopMember(old);
    await ens.settled();
    expect(ens.leader()).toBeDefined();
    expect(ens.leader()).not.toBe(old);
    let wrote = false;
    for (let i = 0; i < 200 && !wrote; i++) {
      wrote = await c.create("/after-failover", "x").then(
        () => true,
        () => false,
      );
    }
    expect(wrote).toBe(true);
    for (const m of ens.members.filter((x) => x !== old)) {
      const r = await client(ens.connectStringOf(m));
      await r.sync("/");
      const names = await r.getChildren("/");
      for (let i = 0; i < 50; i++) expect(names).toContain(`acked-${i}`);
      expect(names).toContain("after-failover");
    }
  });

  it("a session moves to another member with its ephemerals and watches", async () => {
    ens = await start({ participants: 3 });
    const [a, b] = ens.followers();
    const c = await client(`${ens.connectStringOf(a!)},${ens.connectStringOf(b!)}`);
    await c.create("/moving", null, { mode: "ephemeral" });
    const sid = c.sessionId;
    let fire: (e: unknown) => void = () => {};
    const fired = new Promise((r) => (fire = r));
    await c.getData("/moving", { watch: fire });
    const back = new Promise((r) => c.once("reconnected", r));
    c.disconnectForTest();
    await back;
    expect(c.sessionId).toBe(sid);
    const other = await client(ens.connectStringOf(ens.leader()!));
    await other.setData("/moving", "changed");
    expect(await fired).toMatchObject({ type: "NodeDataChanged" });
    await c.close();
    await other.sync("/");
    expect(await other.exists("/moving")).toBeNull();
  });

  it("the leader expires a session connected to a follower, and its ephemerals go everywhere", async () => {
    ens = await start({ participants: 3, tickMs: 50 });
    const f = ens.followers()[0]!;
    const c = await client(ens.connectStringOf(f), 100);
    await c.create("/short-lived", null, { mode: "ephemeral" });
    const expired = new Promise((r) => c.once("expired", r));
    c.disconnectForTest(c.sessionTimeoutMs * 6);
    await expired;
    // "expired" now comes when the client presumes the session lost, before the server
    // expires it (issue 13): wait for the ephemeral to go.
    const watcher = await client(ens.connectStringOf(ens.leader()!));
    const gone = new Promise<unknown>((resolve) => void watcher.exists("/short-lived", { watch: resolve }).then((st) => st === null && resolve(null)));
    await gone;
    expect(await watcher.exists("/short-lived")).toBeNull();
  });

  it("a lock taken through one member blocks the same lock through another", async () => {
    ens = await start({ participants: 3, observers: 1 });
    const a = await client(ens.connectStringOf(ens.followers()[0]!));
    const b = await client(ens.connectStringOf(ens.observers()[0]!));
    const held = await a.writeLock("/locks/x");
    await expect(b.writeLock("/locks/x", { timeoutMs: 150 })).rejects.toMatchObject({ code: "OperationTimeout" });
    const waiting = b.writeLock("/locks/x");
    await held.release();
    const mine = await waiting;
    expect(mine.token > held.token).toBe(true);
    await mine.release();
  });

  it("recipes from several members at once share new parents and queues without failing each other", async () => {
    ens = await start({ participants: 3, observers: 1 });
    const cs = await Promise.all(ens.members.map((m) => client(ens!.connectStringOf(m))));
    // Every member creates the same new lock parents at the same moment.
    for (let i = 0; i < 10; i++) {
      await Promise.all(
        cs.map(async (c) => {
          const h = await c.mutex(`/fresh/${i}/lock`);
          await h.release();
        }),
      );
    }
    const jobs = cs[0]!.jobQueue("/jobs");
    for (let i = 0; i < 20; i++) await jobs.offer(`job-${i}`);
    const seen: string[] = [];
    await Promise.all(
      cs.slice(1).map(async (c) => {
        for (;;) {
          // Only running dry ends a consumer: members racing for the head is not an error.
          const job = await c
            .jobQueue("/jobs")
            .take({ timeoutMs: 300 })
            .catch((e: unknown) => {
              if ((e as { code?: string }).code === "OperationTimeout") return undefined;
              throw e;
            });
          if (job === undefined) return;
          seen.push(job.data.toString());
          await job.ack();
        }
      }),
    );
    expect(seen.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `job-${i}`).sort());
  });

  it("a partitioned minority stops accepting writes, the majority keeps going, and after healing they converge", async () => {
    ens = await start({ participants: 3 });
    const leader = ens.leader()!;
    const [f1, f2] = ens.followers() as [typeof leader, typeof leader];
    const minority = await client(ens.connectStringOf(f2));
    const majority = await client(`${ens.connectStringOf(leader)},${ens.connectStringOf(f1)}`);
    await majority.create("/before-split");
    f2.partitionForTest([leader.me.id, f1.me.id]);
    leader.partitionForTest([f2.me.id]);
    f1.partitionForTest([f2.me.id]);
    for (let i = 0; i < 500 && f2.serving; i++) await new Promise((r) => setTimeout(r, 10));
    expect(f2.serving).toBe(false);
    // Four-letter words still answer, as ZooKeeper's do while it is not serving.
    const port = ens.clientPortOf(f2);
    expect(await fourLetterWord("127.0.0.1", port, "ruok")).toBe("imok");
    expect(await fourLetterWord("127.0.0.1", port, "srvr")).toBe("This ZooKeeper instance is not currently serving requests\n");
    await expect(minority.create("/minority-write", null, { signal: AbortSignal.timeout(300) })).rejects.toBeDefined();
    for (let i = 0; i < 20; i++) await majority.create(`/during-split-${i}`);
    for (const m of [f2, leader, f1]) m.healForTest();
    await ens.settled();
    const healed = await client(ens.connectStringOf(f2));
    await healed.sync("/");
    const names = await healed.getChildren("/");
    for (let i = 0; i < 20; i++) expect(names).toContain(`during-split-${i}`);
    expect(names).not.toContain("minority-write");
  });
  it("read-only mode: a partitioned member serves reads to read-only clients and refuses their writes", async () => {
    ens = await start({ participants: 3, readOnlyModeEnabled: true });
    const leader = ens.leader()!;
    const [f1, f2] = ens.followers() as [typeof leader, typeof leader];
    const writer = await client(ens.connectStringOf(leader));
    await writer.create("/seen-before", "v");
    await writer.sync("/");
    f2.partitionForTest([leader.me.id, f1.me.id]);
    leader.partitionForTest([f2.me.id]);
    f1.partitionForTest([f2.me.id]);
    for (let i = 0; i < 500 && f2.serving; i++) await new Promise((r) => setTimeout(r, 10));
    const port = ens.clientPortOf(f2);
    expect(await fourLetterWord("127.0.0.1", port, "isro")).toBe("ro");
    const ro = await connectTo(ens.connectStringOf(f2), { canBeReadOnly: true, connectTimeoutMs: 5000 });
    clients.push(ro);
    expect(ro.state).toBe("CONNECTED_READ_ONLY");
    const roSession = ro.sessionId;
    expect((await ro.getData("/seen-before")).data?.toString()).toBe("v");
    await expect(ro.create("/ro-write")).rejects.toMatchObject({ code: "NotReadOnly" });
    // A client that did not ask for read-only is not let in.
    await expect(connectTo(ens.connectStringOf(f2), { connectTimeoutMs: 300 })).rejects.toBeDefined();
    // Healed: the member rejoins, drops its read-only clients, and they come back read-write.
    const rw = new Promise((r) => ro.on("state", (st: string) => st === "CONNECTED" && r(st)));
    for (const m of [f2, leader, f1]) m.healForTest();
    await ens.settled();
    await rw;
    expect(await fourLetterWord("127.0.0.1", port, "isro")).toBe("rw");
    // Its read-only session was local to the partitioned member: it now has a real one.
    expect(ro.sessionId).not.toBe(roSession);
    await ro.create("/after-heal", null, { mode: "ephemeral" });
    expect(await writer.exists("/after-heal")).not.toBeNull();
  });
  it("local sessions stay on their server; an ephemeral needs an upgrade (localSessionsEnabled)", async () => {
    ens = await start({ participants: 3, localSessionsEnabled: true });
    const f = ens.followers()[0]!;
    const local = await client(ens.connectStringOf(f));
    await local.create("/by-local", "x");
    expect(f.server.pipeline.isLocalSession(asSessionId(local.sessionId))).toBe(true);
    expect(ens.leader()!.server.sessions.get(asSessionId(local.sessionId))).toBeUndefined();
    await expect(local.create("/eph", null, { mode: "ephemeral" })).rejects.toMatchObject({ code: "EphemeralOnLocalSession" });
    // A local session cannot move to another server.
    const other = ens.members.find((m) => m !== f)!;
    const moved = new ZooKeeperClient(ens.connectStringOf(other), transport.client());
    await expect(moved.start({ sessionId: local.sessionId, password: local.sessionPassword })).rejects.toMatchObject({ code: "SessionExpired" });
  });

  it("with localSessionsUpgradingEnabled, creating an ephemeral makes the session global", async () => {
    ens = await start({ participants: 3, localSessionsEnabled: true, localSessionsUpgradingEnabled: true });
    const f = ens.followers()[0]!;
    const c = await client(ens.connectStringOf(f));
    await c.create("/upgraded", null, { mode: "ephemeral" });
    expect(f.server.pipeline.isLocalSession(asSessionId(c.sessionId))).toBe(false);
    expect(ens.leader()!.server.sessions.get(asSessionId(c.sessionId))).toBeDefined();
    const watcher = await client(ens.connectStringOf(ens.leader()!));
    await c.close();
    await watcher.sync("/");
    expect(await watcher.exists("/upgraded")).toBeNull();
  });

  it("a restarted leader brings a lagging follower up to date with a DIFF from its log, not a snapshot", async () => {
    const root = await mkdtemp(join(tmpdir(), "corral-diff-"));
    try {
      ens = await start({ participants: 3, dataDirRoot: root });
      const writer = await client(ens.connectStringOf(ens.leader()!));
      for (let i = 0; i < 5; i++) await writer.create(`/before-${i}`, "b");
      const lagging = ens.followers()[0]!;
      await ens.stopMember(lagging);
      for (let i = 0; i < 30; i++) await writer.create(`/while-down-${i}`, "w");
      await writer.close();
      // Restart the other two: whichever leads now knows its history only from its disk.
      for (const m of ens.members.filter((x) => x !== lagging)) await ens.restartMember(m);
      await ens.settled();
      const back = await ens.restartMember(lagging);
      await ens.settled();
      const reader = await client(ens.connectStringOf(back));
      await reader.sync("/");
      expect((await reader.getChildren("/")).filter((n) => n.startsWith("while-down-"))).toHaveLength(30);
      expect(back.syncsBySnapshot).toBe(0);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
      await ens?.stop();
      ens = undefined;
      await rm(root, { recursive: true, force: true });
    }
  });
});
