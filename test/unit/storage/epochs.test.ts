// ZAB's epoch files through the Disk (src/storage/epochs.ts), crashed at every disk
// operation: a restarted member must read, for each file, the value it held before the
// write or the one written — never a refusal to start, never a torn value — and once the
// write resolved, the new value for certain (ZAB sends ACKEPOCH / acks NEWLEADER then).

import { describe, expect, it } from "vitest";
import { FakeDisk, readEpochs, writeEpochs, type Epochs } from "../../../src/storage/index.js";
import { SeededPrng } from "../../../src/util/index.js";

const DIR = "/data/version-2";
const DRAWS_PER_CRASH = 6;

async function opsOf(before: Partial<Epochs>, write: Partial<Epochs>): Promise<number> {
  const disk = new FakeDisk();
  await writeEpochs(disk, DIR, before);
  const start = disk.ops;
  await writeEpochs(disk, DIR, write);
  return disk.ops - start;
}

describe("epoch files", () => {
  it("a fresh data dir reads as epoch 0 for both", async () => {
    expect(await readEpochs(new FakeDisk(), DIR)).toEqual({ acceptedEpoch: 0, currentEpoch: 0 });
  });

  it("writes one file without touching the other", async () => {
    const disk = new FakeDisk();
    await writeEpochs(disk, DIR, { acceptedEpoch: 3, currentEpoch: 2 });
    await writeEpochs(disk, DIR, { acceptedEpoch: 4 });
    expect(await readEpochs(disk, DIR)).toEqual({ acceptedEpoch: 4, currentEpoch: 2 });
    expect(disk.files().get(`${DIR}/acceptedEpoch`)?.toString()).toBe("4\n");
  });

  it("a file that is not an epoch refuses to start, naming the file", async () => {
    const disk = new FakeDisk();
    await disk.mkdirp(DIR);
    disk.plant(`${DIR}/currentEpoch`, Buffer.from("x7\n"));
    await expect(readEpochs(disk, DIR)).rejects.toThrow(/currentEpoch: not an epoch/);
    disk.plant(`${DIR}/currentEpoch`, Buffer.from(""));
    await expect(readEpochs(disk, DIR)).rejects.toThrow(/currentEpoch: not an epoch/);
  });

  it("a written epoch is durable once write resolves (it survives a crash right after)", async () => {
    for (let draw = 0; draw < DRAWS_PER_CRASH; draw++) {
      const disk = new FakeDisk({ maxDelayTurns: 2, prng: new SeededPrng(draw) });
      await writeEpochs(disk, DIR, { acceptedEpoch: 5, currentEpoch: 5 });
      disk.crash();
      expect(await readEpochs(disk.afterCrash(new SeededPrng(100 + draw)), DIR)).toEqual({ acceptedEpoch: 5, currentEpoch: 5 });
    }
  });

  it("crashed at every operation of a write, each file holds its old value or its new one", async () => {
    const before = { acceptedEpoch: 6, currentEpoch: 5 };
    const write = { acceptedEpoch: 7, currentEpoch: 7 };
    const total = await opsOf(before, write);
    expect(total).toBeGreaterThanOrEqual(9); // mkdirp, 2 x (create, write, sync, close, rename), syncDir
    const seen = new Set<string>();
    for (let k = 1; k <= total + 1; k++) {
      for (let draw = 0; draw < DRAWS_PER_CRASH; draw++) {
        const setup = new FakeDisk();
        await writeEpochs(setup, DIR, before);
        const disk = setup.afterCrash(new SeededPrng(1), { crashAtOp: k, prng: new SeededPrng(draw) });
        const done = writeEpochs(disk, DIR, write).then(() => true);
        const finished = await Promise.race([done, disk.whenCrashed.then(() => false)]);
        if (!finished) disk.crash();
        const after = await readEpochs(disk.afterCrash(new SeededPrng(k * 31 + draw)), DIR);
        expect([before.acceptedEpoch, write.acceptedEpoch]).toContain(after.acceptedEpoch);
        expect([before.currentEpoch, write.currentEpoch]).toContain(after.currentEpoch);
        if (finished) expect(after).toEqual(write);
        seen.add(`${after.acceptedEpoch}/${after.currentEpoch}`);
      }
    }
    // Both renames become durable at the one directory sync: old or new, as a pair.
    expect(seen).toEqual(new Set(["6/5", "7/7"]));
  });
});
