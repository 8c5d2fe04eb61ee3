// An ensemble from one ZooKeeper data directory (docs/migration-from-zookeeper-data.md):
// the data dir imported into each member's empty dataDir (beside its myid), the members
// elect a leader on it, serve the imported tree, and a client holding a ZooKeeper session
// re-attaches to it with ZooKeeper's password on any member; the next epoch is above the
// imported one.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CorralClient } from "../../src/client/index.js";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { importZooKeeper, nodeDisk, zooKeeperPassword } from "../../src/storage/index.js";
import { body, zkEntry, zkLog, zkSnapshot } from "../unit/storage/zk-files.js";

const Z = (e: number, n: number): bigint => (BigInt(e) << 32n) | BigInt(n);
const SESSION = 0x0100_0000_0000_0042n; // made by ZooKeeper member 1
const TIMEOUT_MS = 8_000;

let ens: TestEnsemble | undefined;
let root: string | undefined;
const clients: CorralClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  await ens?.stop();
  ens = undefined;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe("import-zookeeper into an ensemble", () => {
  it("every member serves the imported tree and ZooKeeper's session re-attaches on any of them", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-zk-ensemble-"));
    const zk = join(root, "zk", "version-2");
    await mkdir(zk, { recursive: true });
    await writeFile(join(zk, `snapshot.${Z(4, 0).toString(16)}`), zkSnapshot({ nodes: [{ path: "" }, { path: "/zookeeper" }] }));
    await writeFile(
      join(zk, `log.${Z(4, 1).toString(16)}`),
      zkLog([
        zkEntry({ session: SESSION, zxid: Z(4, 1), type: -10 }, body.int(TIMEOUT_MS), true),
        zkEntry({ session: SESSION, zxid: Z(4, 2), type: 15 }, body.create("/app", "data", { parentCVersion: 1 }), true),
        zkEntry({ session: SESSION, zxid: Z(4, 3), type: 1 }, body.create("/app/member", "", { parentCVersion: 1, ephemeral: true }), true),
      ]),
    );
    await writeFile(join(zk, "acceptedEpoch"), "4");
    await writeFile(join(zk, "currentEpoch"), "4");
    const members = join(root, "members");
    for (const id of [1, 2, 3]) {
      await mkdir(join(members, String(id)), { recursive: true });
      await writeFile(join(members, String(id), "myid"), `${id}\n`);
      await importZooKeeper(nodeDisk, { dataDir: join(root, "zk") }, { dataDir: join(members, String(id)) });
    }
    ens = await startEnsembleForTest({ participants: 3, tickMs: 200, dataDirRoot: members });
    await ens.settled(20_000);

    for (const member of ens.members) {
      const c = new CorralClient(ens.connectStringOf(member), { sessionTimeoutMs: TIMEOUT_MS });
      clients.push(c);
      await c.start({ sessionId: SESSION, password: zooKeeperPassword(SESSION) });
      expect(c.sessionId).toBe(SESSION);
      const { data, stat } = await c.getData("/app/member");
      expect(data?.toString()).toBe("");
      expect({ czxid: stat.czxid, ephemeralOwner: stat.ephemeralOwner }).toEqual({ czxid: Z(4, 3), ephemeralOwner: SESSION });
    }
    const last = clients.at(-1)!;
    await last.setData("/app", "written on Corral");
    const { stat } = await last.getData("/app");
    expect(stat.mzxid >> 32n).toBeGreaterThan(4n);
    expect(stat.czxid).toBe(Z(4, 2));
  }, 60_000);
});
