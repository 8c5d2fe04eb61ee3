// Dynamic reconfiguration (ZooKeeper 3.5's reconfig) on in-process ensembles over real
// sockets: joiners sync first and are then added as participants or observers, members
// and the leader are removed, a whole new member list replaces the old one, and every
// refusal ZooKeeper gives (ReconfigDisabled, NoAuth, BadArguments, BadVersion,
// NewConfigNoQuorum) comes back. The configuration is read at /zookeeper/config on every
// member, and a restarted member uses the configuration its data dir recovered.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, startStandaloneForTest, type QuorumServer, type TestEnsemble } from "../../src/server/index.js";
import { ENSEMBLE_TRANSPORTS, PLAIN, removeTransportCerts, type EnsembleTransport } from "../helpers/ensemble-transports.js";
import { zkCliSession } from "../helpers/zkcli.js";
import { findZooKeeperInstall, inCi, INSTALL_HINT } from "../helpers/zookeeper-install.js";

const SUPER_PASSWORD = "sekrit";
const SUPER_DIGEST = `super:${createHash("sha1").update(`super:${SUPER_PASSWORD}`).digest("base64")}`;

let ens: TestEnsemble | undefined;
let dataDirRoot: string | undefined;
const clients: CorralClient[] = [];
/** How members and clients talk in the tests running now (set per describe.each block). */
let transport: EnsembleTransport = PLAIN;
afterAll(removeTransportCerts);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await ens?.stop();
  ens = undefined;
  if (dataDirRoot !== undefined) await rm(dataDirRoot, { recursive: true, force: true });
  dataDirRoot = undefined;
});

async function start(opts: { durable?: boolean; participants?: number } = {}): Promise<TestEnsemble> {
  if (opts.durable === true) dataDirRoot = await mkdtemp(join(tmpdir(), "corral-reconfig-"));
  ens = await startEnsembleForTest({
    participants: opts.participants ?? 3,
    reconfigEnabled: true,
    superDigest: SUPER_DIGEST,
    ...(dataDirRoot === undefined ? {} : { dataDirRoot }),
    ...transport.ensemble(),
  });
  return ens;
}

async function client(connectString: string, superUser = false): Promise<CorralClient> {
  const c = await connect(connectString, { sessionTimeoutMs: 4000, shuffleHosts: false, ...transport.client() });
  clients.push(c);
  if (superUser) await c.addAuth("digest", `super:${SUPER_PASSWORD}`);
  return c;
}

/** The configuration text's server lines and version, as `config` prints them. */
function parseConfigText(data: Buffer | null): { servers: string[]; version: string } {
  const lines = (data ?? Buffer.alloc(0)).toString("utf8").split("\n");
  return { servers: lines.filter((l) => l.startsWith("server.")), version: lines.at(-1)!.replace(/^version=/, "") };
}

/** Every running member answers /zookeeper/config with `expected` (after a sync). */
async function expectConfigEverywhere(e: TestEnsemble, members: QuorumServer[], expected: Buffer): Promise<void> {
  for (const m of members) {
    const c = await client(e.connectStringOf(m));
    await c.sync("/");
    expect((await c.getConfig()).data?.toString()).toBe(expected.toString());
  }
}

/** Resolves once `cond` holds (polled: membership changes have no event to await). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Retries a write through `c` until it succeeds (an election may be under way). */
async function writeEventually(c: CorralClient, path: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await c.create(path, "x", { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      (err: unknown) => {
        if (Date.now() > deadline) throw err;
        return false;
      },
    );
    if (ok) return;
  }
}

// What replicates runs over both transports; the refusals and restarts below, plain only.
describe.each(ENSEMBLE_TRANSPORTS)("dynamic reconfiguration, $name", (t) => {
  beforeAll(() => {
    transport = t;
  });
  afterAll(() => {
    transport = PLAIN;
  });

  it("adds a participant that synced first; writes replicate to it and its ack counts toward quorum", async () => {
    const e = await start();
    const [f1, f2] = e.followers() as [QuorumServer, QuorumServer];
    const leader = e.leader()!;
    const joiner = await e.startJoiner();
    expect(joiner.member.mode).toBe("follower");
    // Through a follower: the reconfig is forwarded to the leader like any write.
    const admin = await client(e.connectStringOf(f1), true);
    const before = await admin.getConfig();
    expect(parseConfigText(before.data)).toMatchObject({ version: "0" });
    const r = await admin.reconfig({ joining: [`server.${joiner.id}=${joiner.spec}`], fromConfig: 0n });
    const text = parseConfigText(r.data);
    expect(text.servers).toHaveLength(4);
    expect(text.servers).toContain(`server.${joiner.id}=${joiner.spec.replace(";", ":participant;")}`);
    // The version is the reconfig's zxid, in hex; the Stat is /zookeeper/config's.
    expect(text.version).toBe(r.stat.mzxid.toString(16));
    expect(r.stat.version).toBe(-1);
    await expectConfigEverywhere(e, [leader, f1, f2, joiner.member], r.data!);
    for (const m of [leader, f1, f2, joiner.member]) expect(m.peer.members().map((s) => s.id)).toEqual([1n, 2n, 3n, 4n]);

    // Writes through the new member replicate everywhere.
    const viaJoiner = await client(e.connectStringOf(joiner.member));
    await viaJoiner.create("/from-joiner", "j");
    const onF2 = await client(e.connectStringOf(f2));
    await onF2.sync("/");
    expect((await onF2.getData("/from-joiner")).data?.toString()).toBe("j");

    // Remove both old followers: the new configuration is the leader and the joiner, so
    // writes go on with the old followers stopped only because the joiner acks them.
    const r2 = await admin.reconfig({ leaving: [f1.me.id, f2.me.id] });
    const kept = [leader.me.id, joiner.id].sort().map((id) => `server.${id}`);
    expect(parseConfigText(r2.data).servers.map((l) => l.split("=")[0])).toEqual(kept);
    await e.stopMember(f1);
    await e.stopMember(f2);
    const writer = await client(e.connectStringOf(leader));
    await writeEventually(writer, "/after-shrink");
    await viaJoiner.sync("/");
    expect(await viaJoiner.exists("/after-shrink")).not.toBeNull();
  });

  it("adds an observer, and turns a follower into an observer", async () => {
    const e = await start();
    const obs = await e.startJoiner("observer");
    expect(obs.member.mode).toBe("observer");
    const admin = await client(e.connectStringOf(e.leader()!), true);
    const r = await admin.reconfig({ joining: `${obs.id}=${obs.spec}` });
    expect(parseConfigText(r.data).servers).toContain(`server.${obs.id}=${obs.spec}`);
    await expectConfigEverywhere(e, e.members, r.data!);
    const f = e.followers()[0]!;
    const spec = parseConfigText(r.data).servers.find((l) => l.startsWith(`server.${f.me.id}=`))!.replace(":participant;", ":observer;");
    await admin.reconfig({ joining: spec });
    await until(() => f.mode === "observer" && f.serving, "the follower to rejoin as an observer");
    await e.settled();
    expect(e.observers()).toHaveLength(2);
    const viaObserver = await client(e.connectStringOf(f));
    await viaObserver.create("/from-new-observer", "o");
    expect(await admin.exists("/from-new-observer")).not.toBeNull();
  });

  it("removes a follower: it is out of the configuration and its ack no longer counts", async () => {
    const e = await start();
    const leader = e.leader()!;
    const [f1, f2] = e.followers() as [QuorumServer, QuorumServer];
    const admin = await client(e.connectStringOf(leader), true);
    const r = await admin.reconfig({ leaving: String(f2.me.id) });
    expect(parseConfigText(r.data).servers).toHaveLength(2);
    await expectConfigEverywhere(e, [leader, f1, f2], r.data!);
    // As in ZooKeeper, the removed server is not shut down: it follows without a vote.
    expect(f2.peer.members().some((s) => s.id === f2.me.id)).toBe(false);
    // {leader, f1} is the whole configuration now: without f1 nothing commits, f2 or not.
    await e.stopMember(f1);
    await expect(admin.create("/needs-f1", null, { signal: AbortSignal.timeout(600) })).rejects.toBeDefined();
  });

  it("removes the leader: it steps down, the rest elect a new leader and writes resume", async () => {
    const e = await start();
    const old = e.leader()!;
    // Connected to the leader itself: the reply still arrives before it steps down.
    const admin = await client(e.connectStringOf(old), true);
    const r = await admin.reconfig({ leaving: [old.me.id] });
    expect(parseConfigText(r.data).servers.some((l) => l.startsWith(`server.${old.me.id}=`))).toBe(false);
    await until(() => e.leader() !== undefined && e.leader() !== old, "a new leader");
    await e.settled();
    expect(old.mode).toBe("follower");
    const writer = await client(e.connectStringOf(e.leader()!));
    await writeEventually(writer, "/after-leader-removed");
    await expectConfigEverywhere(e, e.members, r.data!);
  });

  it("replaces the whole member list (newMembers)", async () => {
    const e = await start();
    const joiner = await e.startJoiner();
    const admin = await client(e.connectStringOf(e.leader()!), true);
    const current = parseConfigText((await admin.getConfig()).data).servers;
    const keep = current.filter((l) => !l.startsWith("server.1="));
    const r = await admin.reconfig({ members: [...keep, `server.${joiner.id}=${joiner.spec}`] });
    expect(parseConfigText(r.data).servers.map((l) => l.split("=")[0])).toEqual(["server.2", "server.3", "server.4"]);
    await expectConfigEverywhere(e, e.members, r.data!);
  });

});

describe("dynamic reconfiguration", () => {
  it("refuses a non-super user, bad arguments, a stale version and an unsynced quorum, as ZooKeeper does", async () => {
    const e = await start();
    const leader = e.leader()!;
    const plain = await client(e.connectStringOf(leader));
    await expect(plain.reconfig({ leaving: "3" })).rejects.toMatchObject({ code: "NoAuth" });
    const admin = await client(e.connectStringOf(e.followers()[0]!), true);
    const bad = [
      { joining: "server.9=127.0.0.1:1:2" }, // no client port
      { joining: "server.9=nonsense" },
      { joining: "nine=127.0.0.1:1:2;3" },
      { leaving: "x" },
      { leaving: "1,2,3" }, // no participant left
      { leaving: "1,2" }, // one participant, standaloneEnabled=true
      { members: "server.1=127.0.0.1:1:1;2", leaving: "2" }, // mixed modes
      { members: "group.1=1:2:3" },
    ];
    for (const change of bad) await expect(admin.reconfig(change), JSON.stringify(change)).rejects.toMatchObject({ code: "BadArguments" });
    await expect(admin.reconfig({ leaving: "3", fromConfig: 0x1234n })).rejects.toMatchObject({ code: "BadVersion" });
    // Three participants nobody started: a majority of the six is not synced with the leader.
    await expect(admin.reconfig({ joining: "server.7=127.0.0.1:5:5;6,server.8=127.0.0.1:1:1;2,server.9=127.0.0.1:3:3;4" })).rejects.toMatchObject({
      code: "NewConfigNoQuorum",
    });
    // Nothing changed, and the version still works as fromConfig.
    const now = parseConfigText((await admin.getConfig()).data);
    expect(now.version).toBe("0");
    expect(now.servers).toHaveLength(3);
    const r = await admin.reconfig({ leaving: "", joining: "", fromConfig: 0n });
    expect(parseConfigText(r.data).version).not.toBe("0");
    await expect(admin.reconfig({ fromConfig: 0n })).rejects.toMatchObject({ code: "BadVersion" });
  });

  it("a standalone server answers ReconfigDisabled, or Unimplemented once enabled, as ZooKeeper's", async () => {
    for (const reconfigEnabled of [false, true]) {
      const s = await startStandaloneForTest({ reconfigEnabled, superDigest: SUPER_DIGEST });
      try {
        const c = await client(s.connectString, true);
        await expect(c.reconfig({ leaving: "1" })).rejects.toMatchObject({ code: reconfigEnabled ? "Unimplemented" : "ReconfigDisabled" });
        await c.close();
      } finally {
        await s.stop();
      }
    }
  });

  it("a restarted member uses the configuration it recovered, not its zoo.cfg", async () => {
    const e = await start({ durable: true });
    const joiner = await e.startJoiner();
    const admin = await client(e.connectStringOf(e.leader()!), true);
    const r = await admin.reconfig({ joining: `server.${joiner.id}=${joiner.spec}` });
    const version = BigInt(`0x${parseConfigText(r.data).version}`);
    await admin.create("/before-restart", "b");
    const f = e.followers().find((m) => m !== joiner.member)!;
    const again = await e.restartMember(f);
    await e.settled();
    // Its zoo.cfg lists 1, 2 and 3; the configuration it acts on has 4 too.
    expect(again.config.servers.map((s) => s.id)).toEqual([1n, 2n, 3n]);
    expect(again.configVersion).toBe(version);
    expect(again.peer.members().map((s) => s.id)).toEqual([1n, 2n, 3n, 4n]);
    expect(again.peer.configVersion).toBe(version);
    await expectConfigEverywhere(e, [again], r.data!);
    // With 4 voters the quorum is 3: the restarted member, the leader and the joiner.
    const other = e.followers().find((m) => m !== joiner.member && m !== again)!;
    await e.stopMember(other);
    const writer = await client(e.connectStringOf(again));
    await writeEventually(writer, "/after-restart");
  });
});

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));

/** `corral cli -server <server>` with `commands` piped in: stdout and stderr lines, banner and events dropped. */
function corralCli(server: string, commands: string[]): Promise<{ code: number | null; stdout: string[]; stderr: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CORRAL, "cli", "-server", server], { env: { ...process.env, TZ: "UTC" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      const noise = /^(Connecting to |Welcome to ZooKeeper!|JLine support|WATCHER::|WatchedEvent state:\w+ type:None path:null|$)/;
      const keep = (text: string): string[] => text.split("\n").filter((l) => !noise.test(l));
      resolve({ code, stdout: keep(stdout), stderr: keep(stderr) });
    });
    child.stdin.end([...commands, "quit", ""].join("\n"));
  });
}

const zkCliSkip = findZooKeeperInstall().zkCli === undefined && !inCi() ? `zkCli.sh not found; ${INSTALL_HINT}` : undefined;

describe("reconfig and config in the shells", () => {
  it("corral cli adds and removes a server and prints the configuration as zkCli does", async () => {
    const e = await start();
    const joiner = await e.startJoiner();
    const server = e.connectStringOf(e.followers()[0]!);
    const r = await corralCli(server, ["addauth digest super:sekrit", `reconfig -s -add server.${joiner.id}=${joiner.spec}`, "config"]);
    expect(r.stderr).toEqual([]);
    expect(r.stdout[0]).toBe("Committed new configuration:");
    const committed = r.stdout.slice(1, 6);
    expect(committed.filter((l) => l.startsWith("server."))).toHaveLength(4);
    expect(committed[4]).toMatch(/^version=[0-9a-f]+$/);
    expect(r.stdout[6]).toMatch(/^cZxid = 0x0$/);
    expect(r.stdout).toContain("dataVersion = -1");
    // `config` prints the same five lines.
    expect(r.stdout.slice(-5)).toEqual(committed);
    const version = committed[4]!.slice("version=".length);
    const again = await corralCli(server, ["addauth digest super:sekrit", `reconfig -v ${version} -remove ${joiner.id}`, "config -c"]);
    expect(again.stderr).toEqual([]);
    expect(again.stdout.filter((l) => l.startsWith("server."))).toHaveLength(3);
    expect(again.stdout.at(-1)).toMatch(/^[0-9a-f]+ (127\.0\.0\.1:\d+,){2}127\.0\.0\.1:\d+$/);
  });

  it.skipIf(zkCliSkip !== undefined)("Apache zkCli reconfigures Corral, and corral cli fails the way zkCli does", async () => {
    const e = await start();
    const joiner = await e.startJoiner();
    const server = e.connectStringOf(e.followers()[0]!);
    const java = await zkCliSession(server, ["addauth digest super:sekrit", `reconfig -add server.${joiner.id}=${joiner.spec}`, "config"]);
    expect(java.stderr).toEqual([]);
    expect(java.stdout[0]).toBe("Committed new configuration:");
    expect(java.stdout.filter((l) => l.startsWith(`server.${joiner.id}=`))).toHaveLength(2);
    const viaCorral = await client(server);
    await viaCorral.sync("/");
    expect(java.stdout.slice(-5).join("\n")).toBe((await viaCorral.getConfig()).data?.toString());
    // The refusals, in both shells: usage, mixed modes, a bad -v, NoAuth, BadVersion,
    // BadArguments, NewConfigNoQuorum. Neither changes anything, so both see the same.
    const failing = [
      "reconfig",
      "reconfig -add 5=127.0.0.1:1:2;3 -members 1=127.0.0.1:1:2;3",
      "reconfig -file /a -members 1=127.0.0.1:1:2;3",
      "reconfig -v zz -remove 1",
      "reconfig -remove 1",
      "addauth digest super:sekrit",
      "reconfig -v 1 -remove 3",
      "reconfig -add server.9=127.0.0.1:1:2",
      "reconfig -remove 1,2,3,4",
      "reconfig -add 7=127.0.0.1:5:5;6,8=127.0.0.1:1:1;2,9=127.0.0.1:3:3;4,10=127.0.0.1:7:7;8",
    ];
    const javaFails = await zkCliSession(server, failing);
    const ours = await corralCli(server, failing);
    expect(ours.stdout).toEqual(javaFails.stdout);
    expect(ours.stderr).toEqual(javaFails.stderr);
  }, 60_000);
});
