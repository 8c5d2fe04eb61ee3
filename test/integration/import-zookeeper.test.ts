// Migration from Apache ZooKeeper (issue 17): Apache ZooKeeper 3.8 builds a tree —
// sequential nodes, ephemerals of live sessions, digest ACLs, TTL and container nodes,
// multis, closed sessions, a container its manager deleted — with a snapshot taken while
// it wrote and thousands of txns logged after it; it is killed (SIGKILL), its data dir is
// imported, and Corral started on it must show every znode with the same data, ACL and
// Stat, the same last zxid, and the client whose session lived on ZooKeeper re-attaches
// to it on Corral, on the same port, with nothing changed.

import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient, type Stat } from "../../src/client/index.js";
import { defaultConfig } from "../../src/config/index.js";
import { dumpLogFile, dumpSnapshotFile, importZooKeeperNow, startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { zooKeeperPassword } from "../../src/storage/index.js";
import { SeededPrng } from "../../src/util/index.js";
import { startApacheZooKeeper, type ApacheZooKeeper } from "../helpers/apache-zk.js";
import { findZooKeeperInstall } from "../helpers/zookeeper-install.js";
import { fourLetterWord, LOOPBACK } from "../helpers/net.js";

const install = findZooKeeperInstall();
const haveZk = install.java !== undefined && install.serverClasspath !== undefined;

const USER = "alice:secret";
const DIGEST_ID = `alice:${createHash("sha1").update(USER).digest("base64")}`;
/** ZooKeeper snapshots after 5001..10000 txns; the test writes until it has, then AFTER_SNAPSHOT_TXNS more. */
const SNAP_COUNT = 10_000;
const BEFORE_SNAPSHOT_TXNS_MAX = 12_000;
const AFTER_SNAPSHOT_TXNS = 3_000;
const IN_FLIGHT = 200;

interface NodeView {
  data: string | null;
  acl: unknown;
  stat: Stat;
}

let zk: ApacheZooKeeper | undefined;
let corral: TestServer | undefined;
let root: string | undefined;
const clients: CorralClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  await corral?.stop();
  corral = undefined;
  await zk?.stop();
  zk = undefined;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function client(cs: string, timeoutMs = 30_000): Promise<CorralClient> {
  const c = await connect(cs, { sessionTimeoutMs: timeoutMs });
  clients.push(c);
  return c;
}

/** Every znode but the /zookeeper subtree (each server's own), with its data, ACL and Stat. */
async function readTree(c: CorralClient): Promise<Map<string, NodeView>> {
  const out = new Map<string, NodeView>();
  const todo = ["/"];
  for (let steps = 0; todo.length > 0; steps++) {
    expect(steps).toBeLessThan(100_000);
    const path = todo.pop()!;
    const { data, stat } = await c.getData(path);
    const { acl } = await c.getACL(path);
    out.set(path, { data: data === null ? null : data.toString("base64"), acl, stat });
    for (const child of await c.getChildren(path)) {
      const p = path === "/" ? `/${child}` : `${path}/${child}`;
      if (p !== "/zookeeper") todo.push(p);
    }
  }
  return out;
}

function zxidOf(srvr: string): string {
  const m = /Zxid: (0x[0-9a-f]+)/.exec(srvr);
  if (m === null) throw new Error(`no zxid in ${srvr}`);
  return m[1]!;
}

describe.skipIf(!haveZk)("corral import-zookeeper", () => {
  it("serves ZooKeeper 3.8's znodes with the same data, ACL and Stat, and its live sessions re-attach", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-import-zk-"));
    const zkData = join(root, "zk-data");
    zk = await startApacheZooKeeper({
      dataDir: zkData,
      extendedTypesEnabled: true,
      extraConfig: { snapCount: String(SNAP_COUNT) },
      // The container manager runs often, so an emptied container goes (a deleteContainer txn).
      jvmFlags: ["-Dznode.container.checkIntervalMs=200"],
    });
    const cs = zk.connectString;
    const prng = new SeededPrng(17);
    const writer = await client(cs);
    await writer.addAuth("digest", USER);
    const digestAcl = [{ perms: 31, id: { scheme: "digest", id: DIGEST_ID } }, { perms: 1, id: { scheme: "world", id: "anyone" } }];

    // The shape: every node kind, ACLs, sequences, multis.
    await writer.create("/app", "root of the app");
    await writer.create("/app/secret", "only alice", { acl: digestAcl });
    await writer.create("/app/nodata", null);
    await writer.create("/app/seq", "");
    await writer.create("/app/containers", "");
    await writer.create("/app/containers/c1", "", { mode: "container" });
    await writer.create("/app/containers/c1/child", "keeps c1");
    await writer.create("/app/containers/gone", "", { mode: "container" });
    await writer.create("/app/containers/gone/child", "");
    await writer.create("/app/ttl", "lives an hour", { mode: "persistentTtl", ttlMs: 3_600_000 });
    await writer.create("/app/ttlseq-", "x", { mode: "persistentSequentialTtl", ttlMs: 3_600_000 });
    await writer.multi([
      { op: "create", path: "/app/m1", data: "one" },
      { op: "create", path: "/app/m2", data: "two" },
      { op: "setData", path: "/app", data: "changed by a multi" },
      { op: "check", path: "/app/m1", version: 0 },
    ]);
    await expect(writer.multi([{ op: "create", path: "/app/m3" }, { op: "check", path: "/app/m1", version: 7 }])).rejects.toThrow();
    // A session that ends, taking its ephemerals (closeSession with its paths).
    const passing = await client(cs);
    await passing.create("/app/passing", "gone with its session", { mode: "ephemeral" });
    await passing.create("/app/seq/passing-", "", { mode: "ephemeralSequential" });
    await passing.close();
    // The container manager deletes an emptied container: wait for it (a watch, no sleep).
    const containerGone = new Promise<void>((resolve) => {
      void writer.exists("/app/containers/gone", { watch: (e) => e.type === "NodeDeleted" && resolve() });
    });
    await writer.delete("/app/containers/gone/child");
    await containerGone;

    // Thousands of writes (creates, sequences, setData, setACL, deletes, failures), until
    // ZooKeeper has taken a snapshot while they ran, then thousands more after it.
    let issued = 0;
    const paths: string[] = [];
    const bulk = async (count: number): Promise<void> => {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++, issued++) {
        const pick = prng.nextInt(10);
        if (pick < 3 || paths.length < 20) {
          const p = `/app/n${issued}`;
          paths.push(p);
          batch.push(writer.create(p, `v${issued}`));
        } else if (pick < 5) {
          batch.push(writer.create("/app/seq/item-", `s${issued}`, { mode: "persistentSequential" }));
        } else if (pick < 8) {
          batch.push(writer.setData(paths[prng.nextInt(paths.length)]!, `set ${issued}`, { version: pick === 7 ? 1 : -1 }).catch(() => undefined));
        } else if (pick < 9) {
          const p = paths.splice(prng.nextInt(paths.length), 1)[0]!;
          batch.push(writer.delete(p).catch(() => undefined));
        } else {
          batch.push(writer.setACL(paths[prng.nextInt(paths.length)]!, issued % 2 === 0 ? digestAcl : [{ perms: 31, id: { scheme: "world", id: "anyone" } }]).catch(() => undefined));
        }
      }
      await Promise.all(batch);
    };
    const snapshotZxids = async (): Promise<bigint[]> =>
      (await readdir(join(zkData, "version-2"))).filter((n) => n.startsWith("snapshot.")).map((n) => BigInt("0x" + n.slice(9)));
    while (!(await snapshotZxids()).some((z) => z > 0n)) {
      expect(issued).toBeLessThan(BEFORE_SNAPSHOT_TXNS_MAX);
      await bulk(IN_FLIGHT);
    }
    for (let n = 0; n < AFTER_SNAPSHOT_TXNS; n += IN_FLIGHT) await bulk(IN_FLIGHT);

    // Live sessions at the switch, each with ephemerals.
    const survivor = await client(cs, 30_000);
    await survivor.addAuth("digest", USER);
    await survivor.create("/app/survivor", "held across the switch", { mode: "ephemeral", acl: digestAcl });
    await survivor.create("/app/seq/survivor-", "", { mode: "ephemeralSequential" });
    const other = await client(cs, 20_000);
    await other.create("/app/other", "", { mode: "ephemeral" });

    const reader = await client(cs);
    await reader.addAuth("digest", USER);
    const before = await readTree(reader);
    const zxidBefore = zxidOf(await fourLetterWord(LOOPBACK, zk.port, "srvr"));
    const survivorId = survivor.sessionId;
    // ZooKeeper's password, which Corral will answer for an imported session.
    expect(zooKeeperPassword(survivorId)).toEqual(survivor.sessionPassword);
    const port = zk.port;

    // ZooKeeper had a snapshot taken while it wrote, and thousands of txns after it.
    const names = await readdir(join(zkData, "version-2"));
    const snaps = await snapshotZxids();

    const states = survivor.connectionStates();
    await zk.kill();
    const dataDir = join(root, "corral-data");
    const result = await importZooKeeperNow(zkData, undefined, { ...defaultConfig(), dataDir, dataLogDir: dataDir });
    expect(result.txnsReplayed).toBeGreaterThanOrEqual(AFTER_SNAPSHOT_TXNS);
    expect("0x" + result.lastZxid.toString(16)).toBe(zxidBefore);
    expect(result.sessions.get(survivorId)).toBe(30_000);
    expect(result.warnings).toEqual([]);
    expect(result.snapshotZxid > 0n).toBe(true);

    // snapshot-dump and log-dump read ZooKeeper's own files.
    const newest = snaps.sort((a, b) => (a < b ? -1 : 1)).at(-1)!;
    const dump = await dumpSnapshotFile(join(zkData, "version-2", `snapshot.${newest.toString(16)}`), true);
    expect(dump[0]).toMatch(/^Apache ZooKeeper snapshot snapshot\.[0-9a-f]+: zxid 0x[0-9a-f]+/);
    expect(dump).toContain("/app/secret");
    expect(dump).toContain(`  acl = [digest:${DIGEST_ID}=rwcda,world:anyone=r]`);
    expect(dump).toContain(`  data = ${Buffer.from("only alice").toString("base64")}`);
    expect(dump.some((l) => l.startsWith("Digest: zxid 0x"))).toBe(true);
    const lastLog = names.filter((n) => n.startsWith("log.")).sort((a, b) => (BigInt("0x" + a.slice(4)) < BigInt("0x" + b.slice(4)) ? -1 : 1)).at(-1)!;
    const logDump = await dumpLogFile(join(zkData, "version-2", lastLog));
    expect(logDump[0]).toMatch(/^Apache ZooKeeper transaction log log\.[0-9a-f]+/);
    expect(logDump.some((l) => l.includes(" create '/app/survivor'"))).toBe(true);
    expect(logDump.at(-1)).toMatch(/^EOF reached after \d+ txns\.$/);

    corral = await startStandaloneForTest({ dataDir, clientPort: port, extendedTypesEnabled: true });
    expect(zxidOf(await fourLetterWord(LOOPBACK, port, "srvr"))).toBe(zxidBefore);

    // The survivor's client re-attaches to its session: same id, its ephemerals there.
    for await (const { state } of states) {
      expect(state).not.toBe("LOST");
      if (state === "RECONNECTED") break;
    }
    expect(survivor.sessionId).toBe(survivorId);
    expect(survivor.sessionTimeoutMs).toBe(30_000);
    expect((await survivor.getData("/app/survivor")).stat.ephemeralOwner).toBe(survivorId);

    const fresh = await client(`${LOOPBACK}:${port}`);
    await fresh.addAuth("digest", USER);
    const after = await readTree(fresh);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [path, view] of before) expect({ path, ...after.get(path) }).toEqual({ path, ...view });
    expect(before.size).toBeGreaterThan(1000);
    // The new server goes on from there (the fresh session took a zxid of its own).
    const next = await fresh.create2("/app/after-the-switch", "");
    expect(next.stat.czxid > BigInt(zxidBefore)).toBe(true);
    expect(next.stat.czxid >> 32n).toBe(BigInt(zxidBefore) >> 32n);
  }, 240_000);

  it.each(["snappy", "gz"])("imports ZooKeeper's %s-compressed snapshots", async (method) => {
    root = await mkdtemp(join(tmpdir(), "corral-import-zk-"));
    const zkData = join(root, "zk-data");
    zk = await startApacheZooKeeper({
      dataDir: zkData,
      extraConfig: { snapCount: "100" },
      jvmFlags: [`-Dzookeeper.snapshot.compression.method=${method}`],
    });
    const writer = await client(zk.connectString);
    await writer.addAuth("digest", USER);
    await writer.create("/c", "compressed", { acl: [{ perms: 31, id: { scheme: "digest", id: DIGEST_ID } }] });
    for (let i = 0; i < 300; i += IN_FLIGHT / 4) {
      await Promise.all(Array.from({ length: IN_FLIGHT / 4 }, (_, k) => writer.create(`/c/n${i + k}`, Buffer.alloc(100, i + k))));
    }
    await writer.create("/c/eph", "", { mode: "ephemeral" });
    const snaps = (await readdir(join(zkData, "version-2"))).filter((n) => n.startsWith("snapshot."));
    expect(snaps.length).toBeGreaterThan(1);
    expect(snaps.every((n) => n.endsWith(`.${method}`))).toBe(true);
    const before = await readTree(writer);
    const zxidBefore = zxidOf(await fourLetterWord(LOOPBACK, zk.port, "srvr"));
    await zk.kill();
    const dataDir = join(root, "corral-data");
    const result = await importZooKeeperNow(zkData, undefined, { ...defaultConfig(), dataDir, dataLogDir: dataDir });
    expect(result.snapshot).toMatch(new RegExp(`\\.${method}$`));
    expect(result.snapshotZxid > 0n).toBe(true);
    expect("0x" + result.lastZxid.toString(16)).toBe(zxidBefore);
    corral = await startStandaloneForTest({ dataDir });
    const reader = await client(`${LOOPBACK}:${corral.port}`);
    await reader.addAuth("digest", USER);
    const after = await readTree(reader);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [path, view] of before) expect({ path, ...after.get(path) }).toEqual({ path, ...view });
  }, 120_000);
});
