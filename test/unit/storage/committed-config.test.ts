// The committed configuration file (src/storage/committed-config.ts): absent on a fresh
// data dir, replaced atomically, durable once the write resolves, and never torn by a
// crash at any disk operation of a write.

import { describe, expect, it } from "vitest";
import { COMMITTED_CONFIG_FILE, FakeDisk, readCommittedConfig, writeCommittedConfig } from "../../../src/storage/index.js";
import { SeededPrng } from "../../../src/util/index.js";

const DIR = "/data";
const OLD = "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nversion=0";
const NEW = "server.1=127.0.0.1:2888:3888:participant\nversion=100000002";

describe("committedConfig", () => {
  it("is absent on a fresh data dir and reads back what was written", async () => {
    const disk = new FakeDisk();
    expect(await readCommittedConfig(disk, DIR)).toBeUndefined();
    await writeCommittedConfig(disk, DIR, OLD);
    expect(await readCommittedConfig(disk, DIR)).toBe(`${OLD}\n`);
    expect(disk.files().has(`${DIR}/${COMMITTED_CONFIG_FILE}`)).toBe(true);
  });

  it("crashed at any operation of a write, it holds the old text or the new one, and the new one once the write resolved", async () => {
    const seen = new Set<string>();
    for (let k = 1; k <= 10; k++) {
      for (let draw = 0; draw < 4; draw++) {
        const setup = new FakeDisk();
        await writeCommittedConfig(setup, DIR, OLD);
        const disk = setup.afterCrash(new SeededPrng(1), { crashAtOp: k, prng: new SeededPrng(draw) });
        const finished = await Promise.race([writeCommittedConfig(disk, DIR, NEW).then(() => true), disk.whenCrashed.then(() => false)]);
        if (!finished) disk.crash();
        const after = await readCommittedConfig(disk.afterCrash(new SeededPrng(k * 31 + draw)), DIR);
        expect([`${OLD}\n`, `${NEW}\n`]).toContain(after);
        if (finished) expect(after).toBe(`${NEW}\n`);
        seen.add(after!);
      }
    }
    expect(seen.size).toBe(2);
  });
});
