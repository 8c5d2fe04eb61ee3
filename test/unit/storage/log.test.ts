// The transaction log: round trips, group commit, rolling, continuity, and what recovery
// does with damage (a torn tail is cut and reported; anything else stops start-up).

import { describe, expect, it } from "vitest";
import { FakeDisk, LOG_HEADER_BYTES, StorageError, TxnLog, recover, scanLog, logFileName, crc32 } from "../../../src/storage/index.js";
import { crc32Js } from "../../../src/storage/crc.js";
import { encodeFrame } from "../../../src/storage/frame.js";
import { DataTree } from "../../../src/tree/index.js";
import { encodeTxnEntry } from "../../../src/txn/index.js";
import { AssertionError, SeededPrng, silentLogger, zxidOf } from "../../../src/util/index.js";
import { create, creates, entry, recordingLogger, treeText } from "./helpers.js";

const DIR = "/data/version-2";

async function logOn(disk: FakeDisk, opts: Partial<ConstructorParameters<typeof TxnLog>[0]> = {}): Promise<TxnLog> {
  await disk.mkdirp(DIR);
  return new TxnLog({ disk, dir: DIR, forceSync: true, rollTxns: 1000, rollBytes: 1 << 30, lastZxid: 0n, ...opts });
}

function recoverFrom(disk: FakeDisk, log = silentLogger) {
  const tree = new DataTree();
  return recover({ disk, snapDir: DIR, logDir: DIR, log }, tree).then((r) => ({ r, tree }));
}

function referenceTree(n: number): DataTree {
  const t = new DataTree();
  for (const e of creates(n)) t.apply(e, []);
  return t;
}

describe("transaction log", () => {
  it("reads back exactly the txns appended, in order", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk);
    const entries = creates(50);
    await Promise.all(entries.map((e) => log.append(e)));
    await log.close();
    const buf = disk.files().get(`${DIR}/log.1`)!;
    const scan = scanLog(buf, 1n, undefined);
    expect(scan.damage).toBeUndefined();
    expect(scan.records.map((r) => encodeTxnEntry(r.entry))).toEqual(entries.map((e) => encodeTxnEntry(e)));
    const { tree } = await recoverFrom(disk);
    expect(treeText(tree)).toBe(treeText(referenceTree(50)));
  });

  it("headersOnlyThrough: records up to the zxid are checked but not returned; damage among them is still found", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk);
    const entries = creates(30);
    await Promise.all(entries.map((e) => log.append(e)));
    await log.close();
    const buf = disk.files().get(`${DIR}/log.1`)!;
    const all = scanLog(buf, 1n, undefined);
    const tail = scanLog(buf, 1n, undefined, { headersOnlyThrough: 20n });
    expect(tail.damage).toBeUndefined();
    expect(tail.records.map((r) => r.entry.hdr.zxid)).toEqual(entries.slice(20).map((e) => e.hdr.zxid));
    expect(tail.records).toEqual(all.records.slice(20));
    expect(tail.lastZxid).toBe(30n);
    expect(tail.goodEnd).toBe(all.goodEnd);
    // All of it skipped: nothing returned, the last zxid still known.
    const none = scanLog(buf, 1n, undefined, { headersOnlyThrough: 99n });
    expect(none.records).toEqual([]);
    expect(none.lastZxid).toBe(30n);
    // A flipped byte inside a skipped record fails its checksum: reported where it is.
    const bad = Buffer.from(buf);
    const at = all.records[5]!.offset;
    bad[at + 12] = bad[at + 12]! ^ 0xff;
    const damaged = scanLog(bad, 1n, undefined, { headersOnlyThrough: 20n });
    expect(damaged.damage?.offset).toBe(at);
    expect(damaged.lastZxid).toBe(5n);
    // Continuity is checked across skipped records too: the first must follow prevZxid.
    expect(scanLog(buf, 1n, 7n, { headersOnlyThrough: 20n }).damage?.hard).toBe(true);
  });

  it("an append given the entry's encoded bytes (an ensemble member's proposal) writes the very same file", async () => {
    const entries = creates(40);
    const plain = new FakeDisk();
    const given = new FakeDisk();
    const a = await logOn(plain);
    const b = await logOn(given);
    await Promise.all(entries.map((e) => a.append(e)));
    await Promise.all(entries.map((e, i) => (i % 3 === 0 ? b.append(e) : b.append(e, encodeTxnEntry(e)))));
    await a.close();
    await b.close();
    expect(given.files().get(`${DIR}/log.1`)).toEqual(plain.files().get(`${DIR}/log.1`));
    const { tree } = await recoverFrom(given);
    expect(treeText(tree)).toBe(treeText(referenceTree(40)));
  });

  it("group commit: concurrent appends share one write and one fsync per batch", async () => {
    const disk = new FakeDisk({ syncTurns: 3 });
    const log = await logOn(disk);
    const entries = creates(1000);
    const pending: Promise<void>[] = [];
    // 20 waves of 50 appends, each wave in its own turn, while fsyncs take 3 turns.
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 50; i++) pending.push(log.append(entries[w * 50 + i]!));
      await new Promise((r) => setImmediate(r));
    }
    const order: number[] = [];
    pending.forEach((p, i) => void p.then(() => order.push(i)));
    await Promise.all(pending);
    await log.close();
    expect(order).toEqual([...order].sort((a, b) => a - b)); // resolved in append order
    expect(log.stats.txns).toBe(1000);
    expect(log.stats.fsyncs).toBe(log.stats.batches);
    expect(disk.writes).toBe(log.stats.batches);
    expect(log.stats.batches).toBeLessThan(20);
    expect(log.stats.batchTxnsMax).toBeGreaterThanOrEqual(100);
  });

  it("a promise resolves only after its batch's fsync", async () => {
    const disk = new FakeDisk({ syncTurns: 2 });
    const log = await logOn(disk);
    let synced = -1;
    await log.append(entry(1, create("/a"))).then(() => (synced = disk.syncs));
    expect(synced).toBe(1);
  });

  it("forceSync=no writes without fsyncing", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk, { forceSync: false });
    await Promise.all(creates(10).map((e) => log.append(e)));
    expect(disk.syncs).toBe(0);
    expect(disk.dirSyncs).toBe(0);
    await log.close();
    expect(scanLog(disk.files().get(`${DIR}/log.1`)!, 1n, undefined).records).toHaveLength(10);
  });

  it("rolls to a new file, named by its first zxid, every rollTxns txns", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk, { rollTxns: 10 });
    for (const e of creates(35)) await log.append(e);
    await log.close();
    expect([...disk.files().keys()].sort()).toEqual([1, 11, 21, 31].map((z) => `${DIR}/${logFileName(BigInt(z))}`).sort());
    const { tree, r } = await recoverFrom(disk);
    expect(r.txnsReplayed).toBe(35);
    expect(treeText(tree)).toBe(treeText(referenceTree(35)));
  });

  it("rolls on size and on request", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk, { rollBytes: 200 });
    for (const e of creates(6)) await log.append(e);
    log.roll();
    await log.append(creates(1, 7)[0]!);
    await log.close();
    const names = [...disk.files().keys()];
    expect(names.length).toBeGreaterThanOrEqual(3);
    expect(names).toContain(`${DIR}/log.7`);
  });

  it("asserts zxid continuity when appending", async () => {
    const log = await logOn(new FakeDisk());
    await log.append(entry(1, create("/a")));
    expect(() => log.append(entry(3, create("/b")))).toThrow(AssertionError);
    expect(() => log.append(entry(1, create("/b")))).toThrow(AssertionError);
    // A new epoch may start anywhere above.
    await log.append(entry((1n << 32n) | 1n, create("/c")));
  });

  /** A disk whose fsyncs finish only when the test says so (in any order). */
  function gatedDisk(): { disk: FakeDisk; syncs: { finish(ok: boolean): void }[]; writes: () => number } {
    const inner = new FakeDisk();
    const syncs: { finish(ok: boolean): void }[] = [];
    let writes = 0;
    const disk = new Proxy(inner, {
      get(target, key) {
        if (key === "create") {
          return async (path: string) => {
            const f = await target.create(path);
            return {
              path: f.path,
              write: (d: Uint8Array, at: number) => ((writes++), f.write(d, at)),
              truncate: (n: number) => f.truncate(n),
              close: () => f.close(),
              sync: () =>
                new Promise<void>((resolve, reject) =>
                  syncs.push({ finish: (ok) => (ok ? f.sync().then(resolve, reject) : reject(new Error("EIO on fsync"))) }),
                ),
            };
          };
        }
        const v = Reflect.get(target, key) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { disk, syncs, writes: () => writes };
  }

  const turns = async (n = 5): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };

  it("pipelines fsyncs: the next batch is written while one syncs, and batches resolve in order", async () => {
    const { disk, syncs, writes } = gatedDisk();
    const log = await logOn(disk);
    const done: number[] = [];
    const first = log.append(entry(1, create("/a"))).then(() => done.push(1));
    await turns();
    const second = log.append(entry(2, create("/b"))).then(() => done.push(2));
    await turns();
    // Both written, both fsyncs in flight; a third append waits for a free slot.
    expect(writes()).toBe(2);
    expect(syncs).toHaveLength(2);
    const third = log.append(entry(3, create("/c"))).then(() => done.push(3));
    await turns();
    expect(writes()).toBe(2);
    // The later fsync finishing first acknowledges nothing: batch 1 is not durable yet.
    syncs[1]!.finish(true);
    await turns();
    expect(done).toEqual([]);
    syncs[0]!.finish(true);
    await Promise.all([first, second]);
    expect(done).toEqual([1, 2]);
    await turns();
    expect(syncs).toHaveLength(3);
    syncs[2]!.finish(true);
    await third;
    expect(done).toEqual([1, 2, 3]);
    await log.close();
  });

  it("appends of one turn share one promise; an append after their batch was taken gets its own", async () => {
    const { disk, syncs } = gatedDisk();
    const log = await logOn(disk);
    const a = log.append(entry(1, create("/a")));
    const b = log.append(entry(2, create("/b")));
    expect(b).toBe(a);
    await turns();
    const c = log.append(entry(3, create("/c")));
    expect(c).not.toBe(a);
    let cDone = false;
    void c.then(() => (cDone = true));
    await turns();
    expect(syncs).toHaveLength(2);
    syncs[1]!.finish(true);
    await turns();
    expect(cDone).toBe(false); // the earlier batch is not durable yet
    syncs[0]!.finish(true);
    await a;
    await c;
    await log.close();
  });

  it("flushed() resolves once every append made so far is durable, whichever batch it is in", async () => {
    const { disk, syncs } = gatedDisk();
    const log = await logOn(disk);
    await expect(log.flushed()).resolves.toBeUndefined(); // nothing appended
    void log.append(entry(1, create("/a")));
    await turns();
    void log.append(entry(2, create("/b")));
    await turns();
    expect(syncs).toHaveLength(2);
    let flushed = false;
    void log.flushed().then(() => (flushed = true));
    syncs[0]!.finish(true);
    await turns();
    expect(flushed).toBe(false); // the second batch is still syncing
    syncs[1]!.finish(true);
    await turns();
    expect(flushed).toBe(true);
    // An append not yet taken into a batch counts too.
    void log.append(entry(3, create("/c")));
    let third = false;
    void log.flushed().then(() => (third = true));
    await turns();
    expect(third).toBe(false);
    syncs[2]!.finish(true);
    await turns();
    expect(third).toBe(true);
    await log.close();
  });

  it("a failed fsync fails its batch and every later one, not the earlier ones", async () => {
    const { disk, syncs } = gatedDisk();
    const log = await logOn(disk);
    const first = log.append(entry(1, create("/a")));
    await turns();
    const second = log.append(entry(2, create("/b")));
    await turns();
    expect(syncs).toHaveLength(2);
    syncs[0]!.finish(true);
    syncs[1]!.finish(false);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toThrow("EIO on fsync");
    await expect(log.append(entry(3, create("/c")))).rejects.toThrow("EIO on fsync");
  });

  it("fails the batch and every later append when the disk fails", async () => {
    const disk = new FakeDisk();
    let failing = false;
    const flaky = new Proxy(disk, {
      get(target, key) {
        if (key === "create" && failing) return () => Promise.reject(new Error("EIO"));
        const v = Reflect.get(target, key) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const log = await logOn(flaky);
    await log.append(entry(1, create("/a")));
    failing = true;
    log.roll();
    await expect(log.append(entry(2, create("/b")))).rejects.toThrow("EIO");
    await expect(log.append(entry(3, create("/c")))).rejects.toThrow("EIO");
  });

  it("checks zxid continuity when reading", async () => {
    const disk = new FakeDisk();
    await disk.mkdirp(DIR);
    const header = Buffer.alloc(LOG_HEADER_BYTES);
    header.write("CRLG", 0, "latin1");
    header.writeInt32BE(1, 4);
    header.writeBigInt64BE(1n, 8);
    const recs = [entry(1, create("/a")), entry(2, create("/b")), entry(4, create("/c"))].map((e) => encodeFrame(encodeTxnEntry(e)));
    disk.plant(`${DIR}/log.1`, Buffer.concat([header, ...recs]));
    const scan = scanLog(disk.files().get(`${DIR}/log.1`)!, 1n, undefined);
    expect(scan.records).toHaveLength(2);
    expect(scan.damage).toMatchObject({ hard: true, offset: LOG_HEADER_BYTES + recs[0]!.length + recs[1]!.length });
    await expect(recoverFrom(disk)).rejects.toThrow(/log\.1 at offset \d+: .*skips 1 txn/);
  });

  it("the CRC-32 fallback agrees with node:zlib", () => {
    const b = Buffer.from("The quick brown fox jumps over the lazy dog");
    expect(crc32(b)).toBe(0x414fa339);
    expect(crc32Js(b)).toBe(0x414fa339);
    expect(crc32Js(b.subarray(10), crc32Js(b.subarray(0, 10)))).toBe(0x414fa339);
  });
});

describe("log recovery", () => {
  async function writtenLog(n: number, rollTxns = 1000): Promise<FakeDisk> {
    const disk = new FakeDisk();
    const log = await logOn(disk, { rollTxns });
    for (const e of creates(n)) await log.append(e);
    await log.close();
    return disk;
  }

  function recordOffsets(buf: Buffer): number[] {
    return scanLog(buf, 1n, undefined).records.map((r) => r.offset);
  }

  it("truncates a torn last record, reports file and offset, and keeps the rest", async () => {
    const disk = await writtenLog(20);
    const path = `${DIR}/log.1`;
    const full = disk.files().get(path)!;
    const offsets = recordOffsets(full);
    const lastAt = offsets[19]!;
    // Tear the last record: keep half of it.
    disk.plant(path, full.subarray(0, lastAt + Math.floor((full.length - lastAt) / 2)));
    const log = recordingLogger();
    const { r, tree } = await recoverFrom(disk, log);
    expect(r.truncated).toEqual({ file: path, offset: lastAt, bytes: expect.any(Number) });
    expect(r.txnsReplayed).toBe(19);
    expect(treeText(tree)).toBe(treeText(referenceTree(19)));
    expect(disk.files().get(path)!.length).toBe(lastAt);
    const warn = log.lines.find((l) => l.level === "warn");
    expect(warn?.obj).toMatchObject({ file: path, offset: lastAt });
    // Recovering again finds nothing to cut; the next append goes to a new file.
    const again = await recoverFrom(disk);
    expect(again.r.truncated).toBeUndefined();
    const next = new TxnLog({ disk, dir: DIR, forceSync: true, rollTxns: 1000, rollBytes: 1 << 30, lastZxid: 19n });
    await next.append(entry(20, create("/n20", "data-20")));
    await next.close();
    expect(disk.files().has(`${DIR}/log.14`)).toBe(true);
    expect(treeText((await recoverFrom(disk)).tree)).toBe(treeText(referenceTree(20)));
  });

  it("truncates a corrupt last record (checksum) when nothing valid follows it", async () => {
    const disk = await writtenLog(10);
    const path = `${DIR}/log.1`;
    const offsets = recordOffsets(disk.files().get(path)!);
    disk.corrupt(path, offsets[9]! + 12, Buffer.from([0xff]));
    const { r } = await recoverFrom(disk);
    expect(r.truncated?.offset).toBe(offsets[9]);
    expect(r.txnsReplayed).toBe(9);
  });

  it("drops a last file that holds nothing but a torn header", async () => {
    const disk = await writtenLog(10, 5);
    disk.plant(`${DIR}/log.b`, Buffer.from("CRLG\0\0"));
    const { r } = await recoverFrom(disk);
    expect(r.txnsReplayed).toBe(10);
    expect(disk.files().has(`${DIR}/log.b`)).toBe(false);
  });

  it("preallocated files: zeros after the records are the end of the log, in every file", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk, { rollTxns: 10, preallocBytes: 4096 });
    for (const e of creates(25)) await log.append(e);
    await log.close();
    const files = [...disk.files()].filter(([p]) => p.startsWith(`${DIR}/log.`));
    expect(files).toHaveLength(3);
    for (const [, buf] of files) {
      expect(buf.length % 4096).toBe(0);
      const scan = scanLog(buf, BigInt("0x" + buf.readBigInt64BE(8).toString(16)), undefined);
      expect(scan.damage).toBeUndefined();
      expect(scan.goodEnd).toBeLessThan(buf.length);
      expect(buf.subarray(scan.goodEnd).every((b) => b === 0)).toBe(true);
    }
    const { r, tree } = await recoverFrom(disk);
    expect(r.truncated).toBeUndefined();
    expect(r.txnsReplayed).toBe(25);
    expect(treeText(tree)).toBe(treeText(referenceTree(25)));
  });

  it("preallocated: a torn record before the zeros is cut and reported; zeros then a record stop start-up", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk, { preallocBytes: 4096 });
    for (const e of creates(10)) await log.append(e);
    await log.close();
    const path = `${DIR}/log.1`;
    const full = disk.files().get(path)!;
    const offsets = recordOffsets(full);
    const end = scanLog(full, 1n, undefined).goodEnd;
    // Torn: the last record's first bytes, then the preallocated zeros.
    const torn = Buffer.from(full);
    torn.fill(0, offsets[9]! + 5, end);
    disk.plant(path, torn);
    const { r } = await recoverFrom(disk);
    expect(r.truncated?.offset).toBe(offsets[9]);
    expect(r.txnsReplayed).toBe(9);
    // A record zeroed out in the middle, with valid records after it, is lost data.
    const holed = Buffer.from(full);
    holed.fill(0, offsets[4]!, offsets[5]!);
    disk.plant(path, holed);
    const err = await recoverFrom(disk).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).offset).toBe(offsets[4]);
  });

  it("preallocation grows a file in blocks of preAllocSize, at most 1 MiB, and its zeros count in the log's size", async () => {
    const disk = new FakeDisk();
    const sizes: number[] = [];
    let reported = 0;
    const log = await logOn(disk, { preallocBytes: 64 * 1024 * 1024, onWrite: (_f, n) => (reported += n) });
    const big = Buffer.alloc(700 * 1024, 1);
    for (let i = 1; i <= 6; i++) {
      await log.append(entry(i, create(`/big${i}`, big.toString("latin1"))));
      sizes.push(disk.files().get(`${DIR}/log.1`)!.length);
    }
    await log.close();
    const MiB = 1024 * 1024;
    expect(sizes.map((n) => n / MiB)).toEqual([1, 2, 3, 3, 4, 5]);
    expect(reported).toBe(sizes.at(-1));
  });

  it("stops start-up on corruption in the middle of the last file", async () => {
    const disk = await writtenLog(20);
    const path = `${DIR}/log.1`;
    const offsets = recordOffsets(disk.files().get(path)!);
    disk.corrupt(path, offsets[7]! + 10, Buffer.from([0x5a, 0x5a]));
    const err = await recoverFrom(disk).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).file).toBe(path);
    expect((err as StorageError).offset).toBe(offsets[7]);
    expect((err as Error).message).toMatch(/followed by a valid record/);
  });

  it("stops start-up on a damaged file that is not the last", async () => {
    const disk = await writtenLog(30, 10);
    const path = `${DIR}/log.b`;
    const full = disk.files().get(path)!;
    disk.plant(path, full.subarray(0, full.length - 3));
    const err = await recoverFrom(disk).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).file).toBe(path);
    expect((err as Error).message).toMatch(/not the last/);
  });

  it("stops start-up when a log file is missing from the middle", async () => {
    const disk = await writtenLog(30, 10);
    await disk.remove(`${DIR}/log.b`);
    await expect(recoverFrom(disk)).rejects.toThrow(/log\.15 at offset 16: .*skips 10 txn/);
  });

  it("stops start-up when there is no snapshot and the log's first files are gone, even past an epoch start", async () => {
    const disk = new FakeDisk();
    const log = await logOn(disk, { rollTxns: 10 });
    for (let i = 1; i <= 30; i++) await log.append(entry(zxidOf(1, i), create(`/n${i}`)));
    await log.close();
    await disk.remove(`${DIR}/log.100000001`);
    await expect(recoverFrom(disk)).rejects.toThrow(/log\.10000000b at offset 16: .*0x10000000b is not the first txn of its epoch/);
  });

  it("never acknowledges a txn a crash can lose: torn writes only cut unacknowledged txns", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const prng = new SeededPrng(seed);
      const disk = new FakeDisk({ prng, maxDelayTurns: 2, crashAtOp: 5 + prng.nextInt(40) });
      const log = await logOn(disk);
      let acked = 0;
      const all = creates(60).map((e, i) => log.append(e).then(() => (acked = Math.max(acked, i + 1))));
      void all;
      await Promise.race([disk.whenCrashed, Promise.all(all)]);
      disk.crash();
      const image = disk.afterCrash(new SeededPrng(seed * 7));
      const { r } = await recoverFrom(image);
      expect(Number(r.lastZxid)).toBeGreaterThanOrEqual(acked);
    }
  });
});

describe("frame checksum", () => {
  it("covers the length word then the payload", async () => {
    const { frameCrc } = await import("../../../src/storage/frame.js");
    const { crc32OfUint32 } = await import("../../../src/storage/crc.js");
    const payload = Buffer.from("payload bytes");
    const len = Buffer.alloc(4);
    len.writeUInt32BE(payload.length);
    expect(frameCrc(payload)).toBe(crc32(Buffer.concat([len, payload])));
    for (const v of [0, 1, 255, 256, 0x12345678, 0xffffffff]) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(v);
      expect(crc32OfUint32(v)).toBe(crc32(b));
    }
  });
});
