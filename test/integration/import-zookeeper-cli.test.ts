// `corral import-zookeeper ZK_DATA_DIR [CONF]` as an operator runs it (the built CLI):
// it reports what it imported, refuses damaged input with the file and offset and writes
// nothing, and refuses a data directory that is not empty.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { body, recordOffsets, zkEntry, zkLog, zkSnapshot } from "../unit/storage/zk-files.js";

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const run = promisify(execFile);

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function corral(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const Z = (n: number): bigint => (1n << 32n) | BigInt(n);

/** A ZooKeeper dataDir: a snapshot at Z(1) holding /a, and a log with Z(2)..Z(4). */
async function zkData(damageRecord?: number): Promise<{ dir: string; offsets: number[] }> {
  root ??= await mkdtemp(join(tmpdir(), "corral-zk-cli-"));
  const dir = join(root, "zk");
  await mkdir(join(dir, "version-2"), { recursive: true });
  const snap = zkSnapshot({
    sessions: [[0x77n, 12_000]],
    nodes: [{ path: "", cversion: 1, pzxid: Z(1) }, { path: "/zookeeper" }, { path: "/a", data: "a", czxid: Z(1) }],
  });
  await writeFile(join(dir, "version-2", `snapshot.${Z(1).toString(16)}`), snap);
  const entries = [
    zkEntry({ zxid: Z(1), type: 1 }, body.create("/a", "a", { parentCVersion: 1 })),
    zkEntry({ zxid: Z(2), type: 5 }, body.setData("/a", "b", 1), true),
    zkEntry({ session: 0x78n, zxid: Z(3), type: -10 }, body.int(9_000), true),
    zkEntry({ session: 0x78n, zxid: Z(4), type: 1 }, body.create("/a/e", "", { parentCVersion: 1, ephemeral: true }), true),
  ];
  const log = zkLog(entries);
  const offsets = recordOffsets(entries);
  if (damageRecord !== undefined) log[offsets[damageRecord]! + 20] = log[offsets[damageRecord]! + 20]! ^ 0xff;
  await writeFile(join(dir, "version-2", `log.${Z(1).toString(16)}`), log);
  return { dir, offsets };
}

async function conf(dataDir: string): Promise<string> {
  const path = join(root!, "zoo.cfg");
  await writeFile(path, `tickTime=2000\ndataDir=${dataDir}\nclientPort=2181\n`);
  return path;
}

describe("corral import-zookeeper (CLI)", () => {
  it("imports a ZooKeeper data dir into CONF's dataDir and says what it did", async () => {
    const { dir } = await zkData();
    const target = join(root!, "corral");
    const r = await corral(["import-zookeeper", dir, await conf(target)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `snapshot ${join(dir, "version-2", "snapshot.100000001")} at zxid 0x100000001`,
        "replayed 3 txn(s) from 1 log file(s)",
        "imported 6 znodes and 2 live session(s); last zxid 0x100000004",
        `wrote ${target}`,
        "",
      ].join("\n"),
    );
    expect((await readdir(target)).sort()).toEqual(["acceptedEpoch", "currentEpoch", "version-2", "zookeeper-sessions"]);
    expect(await readdir(join(target, "version-2"))).toEqual(["snapshot.100000004"]);
    const dump = await corral(["snapshot-dump", join(target, "version-2", "snapshot.100000004")]);
    expect(dump.stdout).toContain("/a/e\n");
    expect(dump.stdout).toContain("0x78, 9000, 1\n");
  });

  it("refuses a damaged log with the file and offset, and writes nothing", async () => {
    const { dir, offsets } = await zkData(2);
    const target = join(root!, "corral");
    const r = await corral(["import-zookeeper", dir, await conf(target)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `corral import-zookeeper: ${join(dir, "version-2", "log.100000001")} at offset ${offsets[2]}: checksum mismatch: ` +
        `${/the record holds Adler-32 0x[0-9a-f]+, its bytes give 0x[0-9a-f]+/.exec(r.stderr)?.[0] ?? "?"}; nothing was written\n`,
    );
    expect((await readdir(root!)).sort()).toEqual(["zk", "zoo.cfg"]);
  });

  it("refuses a dataDir that is not empty, and a missing argument", async () => {
    const { dir } = await zkData();
    const target = join(root!, "corral");
    await mkdir(join(target, "version-2"), { recursive: true });
    const r = await corral(["import-zookeeper", dir, await conf(target)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`corral import-zookeeper: ${target}: is not empty (version-2): import-zookeeper writes only into an empty data directory; nothing was written\n`);
    expect((await corral(["import-zookeeper"])).code).toBe(2);
  });
});
