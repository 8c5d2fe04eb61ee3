// corral import-zookeeper on hand-made Apache ZooKeeper files (zk-files.ts): every txn
// type ZooKeeper 3.5–3.9 logs, replayed over a fuzzy snapshot, comes out as ZooKeeper
// would have it; damaged input (bad checksum, truncated file, wrong magic, a gap, an
// unknown txn) is refused with the file and offset, and nothing is written.

import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataTree } from "../../../src/tree/index.js";
import { formatSnapshotFile, importZooKeeper, nodeDisk, readEpochs, recover, StorageError, zooKeeperPassword, ZK_SESSIONS_FILE } from "../../../src/storage/index.js";
import { adler32, parseZkSnapshot, unsnappyStream } from "../../../src/storage/zookeeper/index.js";
import { silentLogger } from "../../../src/util/index.js";
import { body, OPEN, recordOffsets, zkEntry, zkLog, zkSnapshot } from "./zk-files.js";

const Z = (n: number): bigint => (1n << 32n) | BigInt(n);
const Z2 = (n: number): bigint => (2n << 32n) | BigInt(n);
const hex = (z: bigint): string => z.toString(16);
const S1 = 0x100n;
const S2 = 0x200n;
const S3 = 0x300n;
const DIGEST: { perms: number; id: { scheme: string; id: string } }[] = [{ perms: 31, id: { scheme: "digest", id: "alice:abc=" } }];
const READ_ONLY = [{ perms: 1, id: { scheme: "world", id: "anyone" } }];
const TTL_OWNER = -0x0100_0000_0000_0000n | 5000n;
const CONTAINER_OWNER = -0x8000_0000_0000_0000n;

let root: string | undefined;
afterEach(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

/** The snapshot at Z(5): fuzzy, it already holds /a/later (Z(6)) as Z(7) left it. */
function snapshot(digest = true): Buffer {
  return zkSnapshot({
    sessions: [
      [S1, 10_000],
      [S2, 20_000],
    ],
    acls: [
      [1n, DIGEST],
      [2n, READ_ONLY],
    ],
    nodes: [
      { path: "", cversion: 3, pzxid: Z(3) },
      { path: "/zookeeper" },
      { path: "/zookeeper/quota" },
      { path: "/zookeeper/config", acl: 2n, data: "server.9=zk9:2888:3888;2181\nversion=100000000", mzxid: Z(0), version: 1 },
      { path: "/a", data: "a", czxid: Z(1), cversion: 2, pzxid: Z(6) },
      { path: "/a/secret", data: "s", acl: 1n, czxid: Z(2) },
      { path: "/a/later", data: "later v1", czxid: Z(6), mzxid: Z(7), version: 1 },
      { path: "/e", data: null, czxid: Z(3), owner: S1 },
    ],
    ...(digest ? { digest: { zxid: Z(5), value: 0x5eedn } } : {}),
  });
}

function firstLog(): Buffer[] {
  return [
    zkEntry({ zxid: Z(1), type: 1 }, body.create("/a", "a", { parentCVersion: 1 })),
    zkEntry({ zxid: Z(2), type: 1 }, body.create("/a/secret", "s", { parentCVersion: 1, acl: DIGEST })),
    zkEntry({ session: S1, zxid: Z(3), type: 1 }, body.create("/e", "", { parentCVersion: 3, ephemeral: true })),
    zkEntry({ session: S2, zxid: Z(4), type: -10 }, body.int(20_000)),
    zkEntry({ zxid: Z(5), type: -1 }, body.int(-110)),
    zkEntry({ zxid: Z(6), type: 1 }, body.create("/a/later", "later v0", { parentCVersion: 2 })),
    zkEntry({ zxid: Z(7), type: 5 }, body.setData("/a/later", "later v1", 1)),
    zkEntry({ session: S3, zxid: Z(8), type: -10 }, body.int(15_000), true),
    zkEntry({ session: S3, zxid: Z(9), type: 15 }, body.create("/eph", "mine", { parentCVersion: 4, ephemeral: true }), true),
    zkEntry({ zxid: Z(10), type: 21 }, body.createTtl("/ttl", "t", 5, 5000n), true),
    zkEntry({ zxid: Z(11), type: 19 }, body.createContainer("/c", 6), true),
    zkEntry({ zxid: Z(12), type: 1 }, body.create("/c/x", "", { parentCVersion: 1 }), true),
  ];
}

function secondLog(): Buffer[] {
  return [
    zkEntry({ zxid: Z(13), type: 7 }, body.setAcl("/a", DIGEST, 1), true),
    zkEntry(
      { zxid: Z(14), type: 14 },
      body.multi([
        { type: 1, body: body.create("/m", "m", { parentCVersion: 7 }) },
        { type: 5, body: body.setData("/m", "m1", 1) },
        { type: 13, body: body.check("/m", 1) },
      ]),
      true,
    ),
    zkEntry(
      { zxid: Z(15), type: 14 },
      body.multi([
        { type: -1, body: body.int(-110) },
        { type: -1, body: body.int(-2) },
      ]),
      true,
    ),
    zkEntry({ zxid: Z(16), type: 2 }, body.path("/c/x"), true),
    zkEntry({ session: S1, zxid: Z(17), type: -11 }, body.closeSession(["/e"]), true),
    zkEntry({ zxid: Z(18), type: -1 }, body.int(-101), true),
    zkEntry({ zxid: Z(19), type: 16 }, body.setData("/zookeeper/config", "server.1=127.0.0.1:2888:3888;2181", 1), true),
    zkEntry({ zxid: Z(20), type: 20 }, body.path("/c"), true),
    zkEntry({ zxid: Z2(1), type: 1 }, body.create("/epoch2", "", { parentCVersion: 8 }), true),
  ];
}

interface Layout {
  snapshots?: [bigint, Buffer][];
  logs?: [bigint, Buffer][];
  epochs?: { acceptedEpoch: number; currentEpoch: number };
}

async function zkDir(layout: Layout = {}): Promise<string> {
  root ??= await mkdtemp(join(tmpdir(), "corral-zk-unit-"));
  const dir = join(root, "zk");
  const v2 = join(dir, "version-2");
  await mkdir(v2, { recursive: true });
  for (const [z, b] of layout.snapshots ?? [[Z(5), snapshot()]]) await writeFile(join(v2, `snapshot.${hex(z)}`), b);
  for (const [z, b] of layout.logs ?? [
    [Z(1), zkLog(firstLog())],
    [Z(13), zkLog(secondLog())],
  ]) {
    await writeFile(join(v2, `log.${hex(z)}`), b);
  }
  if (layout.epochs !== undefined) {
    await writeFile(join(v2, "acceptedEpoch"), String(layout.epochs.acceptedEpoch));
    await writeFile(join(v2, "currentEpoch"), String(layout.epochs.currentEpoch));
  }
  return dir;
}

async function runImport(zk: string, target = join(root!, "corral")) {
  return importZooKeeper(nodeDisk, { dataDir: zk }, { dataDir: target });
}

async function recovered(dataDir: string): Promise<{ tree: DataTree; r: Awaited<ReturnType<typeof recover>> }> {
  const tree = new DataTree();
  const r = await recover({ disk: nodeDisk, snapDir: join(dataDir, "version-2"), logDir: join(dataDir, "version-2"), log: silentLogger }, tree);
  return { tree, r };
}

/** The import failed naming `file` and `offset`, and left nothing behind. */
async function expectRefused(p: Promise<unknown>, file: RegExp, offset: number | undefined, reason: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageError);
  const se = e as StorageError;
  expect(se.file).toMatch(file);
  expect(se.offset).toBe(offset);
  expect(se.message).toMatch(reason);
  expect((await readdir(root!)).sort()).toEqual(["zk"]);
}

describe("import-zookeeper", () => {
  it("Adler-32 is java.util.zip.Adler32's", () => {
    expect(adler32(Buffer.from("Wikipedia"))).toBe(0x11e60398);
    expect(adler32(Buffer.alloc(0))).toBe(1);
    // Against the definition, over more bytes than one reduction block, and a slice.
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const naive = (b: Buffer, from: number, to: number): number => {
      let x = 1;
      let y = 0;
      for (let i = from; i < to; i++) {
        x = (x + b[i]!) % 65521;
        y = (y + x) % 65521;
      }
      return ((y << 16) | x) >>> 0;
    };
    expect(adler32(big)).toBe(naive(big, 0, big.length));
    expect(adler32(big, 123, 45_678)).toBe(naive(big, 123, 45_678));
  });

  it("replays every txn type over a fuzzy snapshot into the tree, sessions and zxid ZooKeeper would have", async () => {
    const zk = await zkDir({ epochs: { acceptedEpoch: 3, currentEpoch: 2 } });
    const result = await runImport(zk);
    expect(result.warnings).toEqual([]);
    expect(result.snapshotZxid).toBe(Z(5));
    expect(result.txnsReplayed).toBe(16);
    expect(result.lastZxid).toBe(Z2(1));
    expect([...result.sessions]).toEqual([
      [S2, 20_000],
      [S3, 15_000],
    ]);

    const dataDir = join(root!, "corral");
    const { tree, r } = await recovered(dataDir);
    expect(r.lastZxid).toBe(Z2(1));
    expect([...r.sessions]).toEqual([
      [S2, 20_000],
      [S3, 15_000],
    ]);
    expect(r.txnsReplayed).toBe(0);
    expect(await readEpochs(nodeDisk, dataDir)).toEqual({ acceptedEpoch: 3, currentEpoch: 2 });
    const ids = (await readFile(join(dataDir, ZK_SESSIONS_FILE), "utf8")).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(ids).toEqual(["200", "300"]);

    const a = tree.get("/a")!;
    expect({ data: a.data?.toString(), acl: a.acl, aversion: a.aversion, cversion: a.cversion, pzxid: a.pzxid }).toEqual({ data: "a", acl: DIGEST, aversion: 1, cversion: 2, pzxid: Z(6) });
    expect(tree.get("/a/secret")!.acl).toEqual(DIGEST);
    const later = tree.get("/a/later")!;
    expect({ data: later.data?.toString(), version: later.version, czxid: later.czxid, mzxid: later.mzxid }).toEqual({ data: "later v1", version: 1, czxid: Z(6), mzxid: Z(7) });
    expect(tree.get("/eph")!.ephemeralOwner).toBe(S3);
    expect(tree.get("/ttl")!.ephemeralOwner).toBe(TTL_OWNER);
    expect(tree.get("/e")).toBeUndefined(); // closeSession with its paths
    expect(tree.get("/c")).toBeUndefined(); // deleteContainer
    expect(tree.get("/m")!.data?.toString()).toBe("m1");
    expect(tree.get("/m")!.version).toBe(1);
    // ZooKeeper's ensemble configuration (its snapshot's node, its reconfig) is not Corral's.
    const config = tree.get("/zookeeper/config")!;
    expect({ data: config.data?.toString(), mzxid: config.mzxid, version: config.version, acl: config.acl }).toEqual({ data: "", mzxid: 0n, version: 0, acl: READ_ONLY });
    const r0 = tree.get("/")!;
    expect({ cversion: r0.cversion, pzxid: r0.pzxid }).toEqual({ cversion: 8, pzxid: Z2(1) });
    expect([...(r0.children ?? [])].sort()).toEqual(["a", "eph", "epoch2", "m", "ttl", "zookeeper"]);
  });

  it("keeps containers and TTL nodes as such, and ZooKeeper's passwords", async () => {
    const zk = await zkDir({ logs: [[Z(1), zkLog(firstLog())]] });
    await runImport(zk);
    const { tree } = await recovered(join(root!, "corral"));
    expect(tree.get("/c")!.ephemeralOwner).toBe(CONTAINER_OWNER);
    expect(tree.expiredContainersAndTtls(Date.now())).toEqual(["/ttl"]);
    // ZooKeeper's password: java.util.Random(id ^ 0xB3415C00).nextBytes(16), as Java computes it.
    expect(zooKeeperPassword(S2).toString("hex")).toBe("25510f3f8226352c978e21857a91ed61");
    expect(zooKeeperPassword(-0x7edc_ba98_7654_3211n).toString("hex")).toBe("f7cd1b8b3f946c477425d41be3f667c6");
  });

  it("refuses a snapshot with a wrong magic, naming the file and offset 0", async () => {
    const bad = snapshot();
    bad.write("ZKLG", 0, "latin1");
    await expectRefused(runImport(await zkDir({ snapshots: [[Z(5), bad]] })), /snapshot\.100000005$/, 0, /not a ZooKeeper snapshot \(bad magic "ZKLG"\)/);
  });

  it("refuses a snapshot whose checksum does not match, naming the seal's offset", async () => {
    const bad = snapshot(false);
    const at = bad.indexOf("later v1");
    bad[at] = "L".charCodeAt(0);
    await expectRefused(runImport(await zkDir({ snapshots: [[Z(5), bad]] })), /snapshot\.100000005$/, bad.length - 13, /checksum mismatch/);
  });

  it("refuses a truncated snapshot when there is no older one", async () => {
    const whole = snapshot();
    const cut = whole.subarray(0, 200);
    // The error names the start of the node record the file ends in.
    const record = parseZkSnapshot(whole, "whole").nodes.filter((n) => n.offset < 200).at(-1)!;
    await expectRefused(runImport(await zkDir({ snapshots: [[Z(5), cut]] })), /snapshot\.100000005$/, record.offset, /node.* does not decode \(the file is truncated or damaged\)/);
  });

  it("skips a newest snapshot ZooKeeper did not finish, for the older one, as ZooKeeper does", async () => {
    const older = zkSnapshot({ nodes: [{ path: "" }, { path: "/zookeeper" }] });
    const zk = await zkDir({ snapshots: [[0n, older], [Z(5), snapshot().subarray(0, 300)]] });
    const result = await runImport(zk);
    expect(result.snapshotZxid).toBe(0n);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/skipping snapshot\.100000005/);
    expect(result.lastZxid).toBe(Z2(1));
  });

  it("refuses a log record whose checksum does not match, naming the file and the record's offset", async () => {
    const entries = secondLog();
    const log = zkLog(entries);
    const at = recordOffsets(entries)[3]!;
    log[at + 12 + 40] = log[at + 12 + 40]! ^ 0x01; // inside DeleteTxn's path
    await expectRefused(runImport(await zkDir({ logs: [[Z(1), zkLog(firstLog())], [Z(13), log]] })), /log\.10000000d$/, at, /checksum mismatch/);
  });

  it("refuses a log with a wrong magic", async () => {
    const log = zkLog(secondLog());
    log.writeInt32BE(0x5a4b534e, 0);
    await expectRefused(runImport(await zkDir({ logs: [[Z(1), zkLog(firstLog())], [Z(13), log]] })), /log\.10000000d$/, 0, /not a ZooKeeper transaction log \(bad magic "ZKSN"\)/);
  });

  it("refuses a log file cut short when another follows it", async () => {
    const entries = firstLog();
    const cut = zkLog(entries, 0).subarray(0, recordOffsets(entries)[10]! + 20);
    await expectRefused(runImport(await zkDir({ logs: [[Z(1), cut], [Z(13), zkLog(secondLog())]] })), /log\.100000001$/, recordOffsets(entries)[10], /not the last/);
  });

  it("drops a record cut short at the end of the last log, with a warning naming file and offset", async () => {
    const entries = secondLog();
    const offsets = recordOffsets(entries);
    const torn = Buffer.concat([zkLog(entries, 0).subarray(0, offsets[8]! + 30), Buffer.alloc(100)]);
    const result = await runImport(await zkDir({ logs: [[Z(1), zkLog(firstLog())], [Z(13), torn]] }));
    expect(result.lastZxid).toBe(Z(20));
    expect(result.warnings).toEqual([expect.stringMatching(new RegExp(`log\\.10000000d at offset ${offsets[8]}: dropped a record cut short`))]);
  });

  it("refuses logs with a gap after the snapshot", async () => {
    const entries = secondLog().slice(1);
    await expectRefused(runImport(await zkDir({ logs: [[Z(1), zkLog(firstLog())], [Z(14), zkLog(entries)]] })), /log\.10000000e$/, 16, /skips 1 txn/);
  });

  it("refuses a txn type it does not know, naming the file and offset", async () => {
    const entries = [...firstLog(), zkEntry({ zxid: Z(13), type: 9 }, body.path("/x"))];
    await expectRefused(runImport(await zkDir({ logs: [[Z(1), zkLog(entries)]] })), /log\.100000001$/, recordOffsets(entries)[12], /unsupported txn type 9 \(sync\)/);
  });

  it("writes only into an empty data directory (a myid is kept)", async () => {
    const zk = await zkDir();
    const target = join(root!, "corral");
    await mkdir(target);
    await writeFile(join(target, "snapshot.junk"), "x");
    await expect(runImport(zk, target)).rejects.toThrow(/is not empty \(snapshot\.junk\)/);
    await rm(join(target, "snapshot.junk"));
    await writeFile(join(target, "myid"), "3\n");
    await runImport(zk, target);
    expect(await readFile(join(target, "myid"), "utf8")).toBe("3\n");
    expect((await readdir(root!)).sort()).toEqual(["corral", "zk"]);
  });

  it("snapshot-dump prints a ZooKeeper snapshot: nodes with Stat and ACL, sessions, digest", () => {
    const lines = formatSnapshotFile(snapshot(), "/x/snapshot.100000005", true);
    expect(lines[0]).toBe("Apache ZooKeeper snapshot snapshot.100000005: zxid 0x100000005 (fuzzy), dbid -1, 2 ACL list(s) in its cache");
    const at = lines.indexOf("/a/secret");
    expect(lines.slice(at, at + 14)).toEqual([
      "/a/secret",
      "  cZxid = 0x100000002",
      `  ctime = ${new Date(1000).toUTCString()}`,
      "  mZxid = 0x100000002",
      `  mtime = ${new Date(1000).toUTCString()}`,
      "  pZxid = 0x100000002",
      "  cversion = 0",
      "  dataVersion = 0",
      "  aclVersion = 0",
      "  ephemeralOwner = 0x0",
      "  dataLength = 1",
      "  acl = [digest:alice:abc==rwcda]",
      `  data = ${Buffer.from("s").toString("base64")}`,
      "----",
    ]);
    expect(lines).toContain("0x100, 10000, 1");
    expect(lines.at(-1)).toBe("Digest: zxid 0x100000005, version 2, value 0x5eed");
    expect(() => formatSnapshotFile(snapshot().subarray(0, 100), "/x/snapshot.1")).toThrow(/snapshot\.1 at offset \d+: .*truncated/);
  });

  it("imports ZooKeeper's OPEN_ACL_UNSAFE index and an empty log after the snapshot", async () => {
    const zk = await zkDir({ logs: [] });
    const result = await runImport(zk);
    expect(result.lastZxid).toBe(Z(5));
    const { tree } = await recovered(join(root!, "corral"));
    expect(tree.get("/a")!.acl).toEqual(OPEN);
    // S1's ephemeral stays: S1 is live in the snapshot.
    expect(tree.get("/e")!.ephemeralOwner).toBe(S1);
  });

  it("reads a gzipped snapshot (snapshot.<zxid>.gz) and logs kept in a separate dataLogDir", async () => {
    const zk = await zkDir({ snapshots: [], logs: [] });
    await writeFile(join(zk, "version-2", `snapshot.${hex(Z(5))}.gz`), gzipSync(snapshot()));
    const logDir = join(root!, "zk-logs", "version-2");
    await mkdir(logDir, { recursive: true });
    await writeFile(join(logDir, `log.${hex(Z(1))}`), zkLog(firstLog()));
    await writeFile(join(logDir, `log.${hex(Z(13))}`), zkLog(secondLog()));
    const result = await importZooKeeper(nodeDisk, { dataDir: zk, dataLogDir: join(root!, "zk-logs") }, { dataDir: join(root!, "corral") });
    expect(result.snapshot).toMatch(/snapshot\.100000005\.gz$/);
    expect(result.lastZxid).toBe(Z2(1));
    expect(formatSnapshotFile(gzipSync(snapshot()), "/x/snapshot.100000005.gz")[0]).toMatch(/^Apache ZooKeeper snapshot snapshot\.100000005\.gz: zxid 0x100000005/);
    const bad = gzipSync(snapshot());
    bad[bad.length - 6] = bad[bad.length - 6]! ^ 0xff; // the gzip trailer's CRC
    await rename(join(zk, "version-2", `snapshot.${hex(Z(5))}.gz`), join(root!, "old.gz"));
    await writeFile(join(zk, "version-2", `snapshot.${hex(Z(5))}.gz`), bad);
    await rm(join(root!, "corral"), { recursive: true });
    await expect(importZooKeeper(nodeDisk, { dataDir: zk, dataLogDir: join(root!, "zk-logs") }, { dataDir: join(root!, "corral") })).rejects.toThrow(
      /snapshot\.100000005\.gz at offset 0: not a gzip stream/,
    );
    // One cut short is what a stop while writing leaves: the older snapshot is used.
    const older = zkSnapshot({ nodes: [{ path: "" }, { path: "/zookeeper" }] });
    await writeFile(join(zk, "version-2", "snapshot.0"), older);
    await writeFile(join(zk, "version-2", `snapshot.${hex(Z(5))}.gz`), gzipSync(snapshot()).subarray(0, 60));
    const fallback = await importZooKeeper(nodeDisk, { dataDir: zk, dataLogDir: join(root!, "zk-logs") }, { dataDir: join(root!, "corral") });
    expect(fallback.snapshotZxid).toBe(0n);
    expect(fallback.warnings[0]).toMatch(/skipping snapshot\.100000005\.gz: .*gzip stream is cut short/);
    expect(fallback.lastZxid).toBe(Z2(1));
  });

  it("drops the ephemerals of sessions that are gone, as ZooKeeper does when it loads its data", async () => {
    const snap = zkSnapshot({
      sessions: [[S2, 20_000]],
      nodes: [
        { path: "", cversion: 3, pzxid: Z(3) },
        { path: "/zookeeper" },
        { path: "/live", czxid: Z(1), owner: S2 },
        { path: "/dead", czxid: Z(2), owner: S1 },
        { path: "/dead2", czxid: Z(3), owner: S1 },
      ],
    });
    const zk = await zkDir({ snapshots: [[Z(3), snap]], logs: [] });
    const result = await runImport(zk);
    expect(result.orphanEphemerals).toBe(2);
    expect(result.lastZxid).toBe(Z(3));
    const { tree } = await recovered(join(root!, "corral"));
    expect(tree.get("/live")!.ephemeralOwner).toBe(S2);
    expect(tree.get("/dead")).toBeUndefined();
    expect(tree.get("/dead2")).toBeUndefined();
    expect(tree.lastProcessedZxid).toBe(Z(3));
  });

  it("reads what ZooKeeper 3.4/3.5 logged (create without parentCVersion, closeSession without paths) and 3.9's lastProcessedZxid trailer", async () => {
    const older = [
      ...firstLog(),
      zkEntry({ session: 0x400n, zxid: Z(13), type: -10 }, body.int(4_000)),
      zkEntry({ session: 0x400n, zxid: Z(14), type: 1 }, body.createV0("/s4eph", "", true)),
      zkEntry({ session: 0x400n, zxid: Z(15), type: -11 }, body.none()),
      zkEntry({ session: S3, zxid: Z(16), type: -11 }, body.none(), true),
    ];
    for (const snap of [zkSnapshot({ nodes: [{ path: "" }, { path: "/zookeeper" }], lastZxid: 0n }), zkSnapshot({ nodes: [{ path: "" }, { path: "/zookeeper" }], digest: { zxid: 0n, value: 0n }, lastZxid: 0n })]) {
      await rm(join(root ?? "/nonexistent", "zk"), { recursive: true, force: true });
      await rm(join(root ?? "/nonexistent", "corral"), { recursive: true, force: true });
      const zk = await zkDir({ snapshots: [[0n, snap]], logs: [[Z(1), zkLog(older)]] });
      const result = await runImport(zk);
      expect(result.lastZxid).toBe(Z(16));
      expect([...result.sessions.keys()]).toEqual([S2]);
      const { tree } = await recovered(join(root!, "corral"));
      expect(tree.get("/s4eph")).toBeUndefined();
      expect(tree.get("/eph")).toBeUndefined();
      // S1 never had a createSession logged, nor a snapshot listing it: its ephemeral goes.
      expect(tree.get("/e")).toBeUndefined();
      expect(result.orphanEphemerals).toBe(1);
      expect(tree.get("/")!.cversion).toBe(7); // the V0 create counted one more than /c's 6
      expect(formatSnapshotFile(snap, "/x/snapshot.0").at(-1)).toBe("Last processed zxid: 0x0");
    }
  });

  it("unpacks snappy-java streams (literals, the three kinds of copy, overlapping runs) and refuses damaged ones", () => {
    // "abcd" literal, copy1 (len 4, off 4), copy2 (len 8, off 1: a run of "d"), copy4 (len 2, off 16), literal "!"
    const block = Buffer.from([18, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x01, 0x04, 0x1e, 0x01, 0x00, 0x07, 0x10, 0x00, 0x00, 0x00, 0x00, 0x21]);
    const expected = "abcdabcddddddddd" + "ab" + "!";
    const stream = (blocks: Buffer[]): Buffer => {
      const head = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
      return Buffer.concat([head, ...blocks.flatMap((b) => [Buffer.from([0, 0, 0, b.length]), b])]);
    };
    block[0] = expected.length;
    expect(unsnappyStream(stream([block, block])).toString()).toBe(expected + expected);
    expect(() => unsnappyStream(stream([block]).subarray(0, 25))).toThrow(/cut short/);
    const badCopy = Buffer.from(block);
    badCopy[7] = 0x30; // copy1 from 48 bytes back, before the start
    expect(() => unsnappyStream(stream([badCopy]))).toThrow(/bad snappy block: copy of 4 bytes from 48 back at 4/);
  });

  it("skips a snappy snapshot cut short for the older one, and refuses a damaged one naming file and offset", async () => {
    const zk = await zkDir({ snapshots: [[0n, zkSnapshot({ nodes: [{ path: "" }, { path: "/zookeeper" }] })]] });
    const literal = (b: Buffer): Buffer => {
      // One raw block holding `b` as literals of at most 60 bytes each.
      const parts: Buffer[] = [Buffer.from([b.length & 0x7f | 0x80, b.length >> 7])];
      for (let at = 0; at < b.length; at += 60) {
        const n = Math.min(60, b.length - at);
        parts.push(Buffer.from([(n - 1) << 2]), b.subarray(at, at + n));
      }
      return Buffer.concat(parts);
    };
    const raw = literal(snapshot());
    const head = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const len = Buffer.alloc(4);
    len.writeInt32BE(raw.length);
    const snappy = Buffer.concat([head, len, raw]);
    await writeFile(join(zk, "version-2", `snapshot.${hex(Z(5))}.snappy`), snappy);
    expect((await runImport(zk)).snapshot).toMatch(/snapshot\.100000005\.snappy$/);
    await rm(join(root!, "corral"), { recursive: true });
    await writeFile(join(zk, "version-2", `snapshot.${hex(Z(5))}.snappy`), snappy.subarray(0, 100));
    const fallback = await runImport(zk);
    expect(fallback.snapshotZxid).toBe(0n);
    expect(fallback.warnings[0]).toMatch(/skipping snapshot\.100000005\.snappy: .*snappy stream is cut short/);
    await rm(join(root!, "corral"), { recursive: true });
    const bad = Buffer.from(snappy);
    bad.writeInt32BE(-5, 16);
    await writeFile(join(zk, "version-2", `snapshot.${hex(Z(5))}.snappy`), bad);
    await expectRefused(runImport(zk), /snapshot\.100000005\.snappy$/, 16, /bad snappy chunk length -5/);
  });
});
