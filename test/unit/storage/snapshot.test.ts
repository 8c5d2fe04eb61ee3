// Snapshots: round trips of every kind of node and the session table, checksum and seal
// failures, falling back to an older snapshot, the all-corrupt cases, and a fuzzy
// snapshot taken while txns are applied.

import { describe, expect, it } from "vitest";
import {
  FakeDisk,
  FuzzySnapshot,
  StorageError,
  TxnLog,
  formatLogFile,
  formatSnapshotFile,
  parseSnapshot,
  recover,
  restoreSnapshot,
} from "../../../src/storage/index.js";
import { DataTree, type Effect } from "../../../src/tree/index.js";
import type { TxnEntry } from "../../../src/txn/index.js";
import { silentLogger } from "../../../src/util/index.js";
import { S1, S2, create, creates, del, entry, recordingLogger, fuzzyBase, richHistory, setData, treeText } from "./helpers.js";

const DIR = "/d/version-2";


function treeOf(entries: readonly TxnEntry[]): DataTree {
  const t = new DataTree();
  for (const e of entries) t.apply(e, []);
  return t;
}

async function snapshotOf(disk: FakeDisk, tree: DataTree, sessions = [{ id: S1, timeoutMs: 30_000 }], sliceBytes = 64) {
  await disk.mkdirp(DIR);
  return new FuzzySnapshot({ disk, dir: DIR, tree, sessions, highestSessionId: S2, timeMs: 1_700_000_000_000, sliceBytes }).run();
}

async function writeLog(disk: FakeDisk, entries: readonly TxnEntry[], lastZxid = 0n): Promise<void> {
  await disk.mkdirp(DIR);
  const log = new TxnLog({ disk, dir: DIR, forceSync: true, rollTxns: 1000, rollBytes: 1 << 30, lastZxid });
  for (const e of entries) await log.append(e);
  await log.close();
}

function recoverTree(disk: FakeDisk, log = silentLogger) {
  const tree = new DataTree();
  return recover({ disk, snapDir: DIR, logDir: DIR, log }, tree).then((r) => ({ r, tree }));
}

describe("snapshots", () => {
  it("round-trip every kind of node, the sessions and the zxid", async () => {
    const disk = new FakeDisk();
    const tree = treeOf(richHistory());
    const result = (await snapshotOf(disk, tree))!;
    expect(result.path).toBe(`${DIR}/snapshot.b`);
    const parsed = parseSnapshot(disk.files().get(result.path)!, result.path);
    expect(parsed.zxid).toBe(11n);
    expect(parsed.lastZxid).toBe(11n);
    expect(parsed.sessions).toEqual([{ id: S1, timeoutMs: 30_000 }]);
    expect(parsed.highestSessionId).toBe(S2);
    const back = new DataTree();
    restoreSnapshot(parsed, result.path, back);
    expect(treeText(back)).toBe(treeText(tree));
    expect(back.expiredContainersAndTtls(Number.MAX_SAFE_INTEGER)).toEqual(tree.expiredContainersAndTtls(Number.MAX_SAFE_INTEGER));
    // No temporary file is left behind.
    expect([...disk.files().keys()]).toEqual([result.path]);
  });

  it("a flipped byte anywhere fails verification with the file and offset", async () => {
    const disk = new FakeDisk();
    const result = (await snapshotOf(disk, treeOf(richHistory())))!;
    const good = disk.files().get(result.path)!;
    for (const at of [0, 5, 9, 20, Math.floor(good.length / 2), good.length - 10, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0x40;
      let err: unknown;
      try {
        parseSnapshot(bad, result.path);
      } catch (e) {
        err = e;
      }
      expect(err, `byte ${at}`).toBeInstanceOf(StorageError);
      expect((err as StorageError).file).toBe(result.path);
      expect((err as StorageError).offset).toBeLessThanOrEqual(at);
    }
    // Truncation is caught as an incomplete snapshot.
    expect(() => parseSnapshot(good.subarray(0, good.length - 20), result.path)).toThrow(/offset \d+: .*(runs past|before its END)/);
  });

  it("recovery uses the newest snapshot that verifies and replays the log after it", async () => {
    const disk = new FakeDisk();
    const history = richHistory();
    const more = [entry(12, setData("/m", "later", 1)), entry(13, del("/m/x")), entry(14, create("/z", "z", 5))];
    await writeLog(disk, [...history, ...more]);
    const tree = treeOf(history.slice(0, 6));
    tree.lastProcessedZxid = history[5]!.hdr.zxid;
    await snapshotOf(disk, tree);
    const newest = (await snapshotOf(disk, treeOf(history)))!;
    disk.corrupt(newest.path, 40, Buffer.from("garbage"));
    const log = recordingLogger();
    const { r, tree: got } = await recoverTree(disk, log);
    expect(r.snapshot?.name).toBe("snapshot.6");
    expect(r.txnsReplayed).toBe(8);
    expect(treeText(got)).toBe(treeText(treeOf([...history, ...more])));
    expect(log.lines.some((l) => l.level === "warn" && (l.obj as { file?: string }).file === newest.path)).toBe(true);
  });

  it("every snapshot corrupt and the log not reaching back to zxid 0 stops start-up", async () => {
    const disk = new FakeDisk();
    const history = richHistory();
    const snap = (await snapshotOf(disk, treeOf(history.slice(0, 8))))!;
    await writeLog(disk, history.slice(8), 8n);
    disk.corrupt(snap.path, 30, Buffer.from([1, 2, 3]));
    const err = await recoverTree(disk).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).file).toBe(snap.path);
    expect((err as Error).message).toMatch(/snapshot\.8 at offset \d+: no snapshot verifies .*does not reach back/);
  });

  it("every snapshot corrupt and no log at all stops start-up too", async () => {
    const disk = new FakeDisk();
    const snap = (await snapshotOf(disk, treeOf(richHistory())))!;
    disk.corrupt(snap.path, 30, Buffer.from([1, 2, 3]));
    await expect(recoverTree(disk)).rejects.toThrow(/snapshot\.b at offset \d+: no snapshot verifies and there is no transaction log/);
  });

  it("every snapshot corrupt but the log complete from zxid 1 recovers from the log", async () => {
    const disk = new FakeDisk();
    const history = richHistory();
    await writeLog(disk, history);
    const snap = (await snapshotOf(disk, treeOf(history)))!;
    disk.corrupt(snap.path, 30, Buffer.from([1, 2, 3]));
    const { r, tree } = await recoverTree(disk);
    expect(r.snapshot).toBeUndefined();
    expect(treeText(tree)).toBe(treeText(treeOf(history)));
  });

  it("a snapshot left half-written by a crash is removed and ignored", async () => {
    const disk = new FakeDisk();
    const history = richHistory();
    await writeLog(disk, history);
    await disk.mkdirp(DIR);
    disk.plant(`${DIR}/snapshot.b.tmp`, Buffer.from("CRSN\0\0\0\x01partial"));
    const { r, tree } = await recoverTree(disk);
    expect(r.snapshot).toBeUndefined();
    expect(disk.files().has(`${DIR}/snapshot.b.tmp`)).toBe(false);
    expect(treeText(tree)).toBe(treeText(treeOf(history)));
  });

  it("a fuzzy snapshot taken while txns are applied recovers exactly, closes included", async () => {
    // Build a tree, start a snapshot with tiny slices, and apply txns between slices that
    // delete and re-create nodes, add children, and close a session whose ephemerals the
    // walk has not reached yet.
    const base = fuzzyBase();
    const during: TxnEntry[] = [
      entry(26, del("/a/k0")),
      entry(27, create("/a/k0", "again", 22)),
      entry(28, setData("/a/k19", "new", 1)),
      entry(29, { type: "closeSession" }, S1),
      entry(30, create("/z/e1", "new owner", 3, S2), S2),
      entry(31, create("/b", "b", 3)),
      entry(32, create("/b/c", "c", 1)),
    ];
    const after = [entry(33, del("/b/c")), entry(34, setData("/a", "A", 1))];
    const disk = new FakeDisk();
    const tree = treeOf(base);
    await writeLog(disk, [...base, ...during, ...after]);
    let i = 0;
    const snap = new FuzzySnapshot({
      disk,
      dir: DIR,
      tree,
      sessions: [{ id: S1, timeoutMs: 5000 }],
      highestSessionId: S1,
      timeMs: 0,
      sliceBytes: 40,
      yieldTurn: async () => {
        const e = during[i++];
        if (e !== undefined) {
          const effects: Effect[] = [];
          tree.apply(e, effects);
          snap.noteApplied(e, effects);
        }
        await new Promise((r) => setImmediate(r));
      },
    });
    const result = (await snap.run())!;
    expect(i).toBeGreaterThanOrEqual(during.length);
    expect(result.zxid).toBe(25n);
    expect(result.lastZxid).toBe(32n);
    const parsed = parseSnapshot(disk.files().get(result.path)!, result.path);
    expect(parsed.closes.get(29n)).toEqual(["/z/e1", "/z/e2"]);
    const { r, tree: got } = await recoverTree(disk);
    expect(r.snapshot?.name).toBe("snapshot.19");
    expect(treeText(got)).toBe(treeText(treeOf([...base, ...during, ...after])));
  });

  it("a snapshot takes its final name only once the log holds its fuzzy window durably", async () => {
    // An ensemble member applies committed txns before its own fsync of them: the
    // snapshot's window may run ahead of the durable log, and a snapshot named before the
    // log catches up would, after a crash, hold txns recovery cannot replay around.
    const disk = new FakeDisk();
    const tree = treeOf(creates(5));
    await disk.mkdirp(DIR);
    let release = (): void => {};
    const durable = new Promise<void>((r) => (release = r));
    let asked = false;
    const snap = new FuzzySnapshot({
      disk,
      dir: DIR,
      tree,
      sessions: [],
      highestSessionId: 0n,
      timeMs: 0,
      sliceBytes: 64,
      logDurable: () => {
        asked = true;
        return durable;
      },
    });
    let done = false;
    const run = snap.run().then((r) => ((done = true), r));
    for (let i = 0; i < 50 && !asked; i++) await new Promise((r) => setImmediate(r));
    expect(asked).toBe(true);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect([...disk.files().keys()].some((f) => f === snap.path)).toBe(false);
    release();
    const result = (await run)!;
    expect(result.path).toBe(snap.path);
    expect(disk.files().has(snap.path)).toBe(true);
  });

  it("dumps a snapshot and a log as readable text", async () => {
    const disk = new FakeDisk();
    const history = richHistory();
    await writeLog(disk, history);
    const snap = (await snapshotOf(disk, treeOf(history)))!;
    const text = formatSnapshotFile(disk.files().get(snap.path)!, snap.path, true).join("\n");
    expect(text).toContain("ZNode Details (count=");
    expect(text).toContain("/app/eph\n  cZxid = 0x4");
    expect(text).toContain(`  ephemeralOwner = 0x${S1.toString(16)}`);
    expect(text).toContain("  acl = [digest:bob:xyz==ra]");
    expect(text).toContain(`0x${S1.toString(16)}, 30000, 1`);
    expect(text).toContain("Last zxid: 0xb");
    const log = formatLogFile(disk.files().get(`${DIR}/log.1`)!, `${DIR}/log.1`);
    expect(log[0]).toMatch(/^Corral transaction log log\.1/);
    expect(log[1]).toMatch(new RegExp(`session 0x${S1.toString(16)} cxid 0x1 zxid 0x1 createSession timeout=30000$`));
    expect(log[3]).toContain(`zxid 0x3 create '/app' data=#${Buffer.from("root data").toString("hex")} acl=[world:anyone=rwcda]`);
    expect(log.at(-1)).toBe("EOF reached after 11 txns.");
  });
});
