// ZAB's epoch files in dataDir, as ZooKeeper keeps them: `acceptedEpoch` (the epoch this
// member last promised to follow, written before it sends ACKEPOCH) and `currentEpoch`
// (the epoch whose history it has synced, written before it acks NEWLEADER). Each holds
// the epoch in decimal and a newline. A missing file reads as epoch 0 (a fresh member).
//
// Ordering contract (disk.ts's durability rules): a file is replaced atomically — the new
// value goes to `<name>.tmp`, which is synced before it is renamed over `<name>`, and the
// directory is synced before write resolves — so a crash at any operation leaves each file
// holding its old or its new value, never a torn or empty one; a leftover `.tmp` is
// ignored on read. Both renames become durable at the one directory sync at the end, so
// when both change in one batch a crash keeps both old values or both new ones.
//
// No node: fs here: everything goes through the Disk, so FakeDisk can crash it.

import { join } from "node:path";
import type { Disk } from "./disk.js";

export const ACCEPTED_EPOCH_FILE = "acceptedEpoch";
export const CURRENT_EPOCH_FILE = "currentEpoch";

export interface Epochs {
  acceptedEpoch: number;
  currentEpoch: number;
}

/** Reads both epoch files in `dir` (0 for a missing one); a file that is not an epoch throws. */
export async function readEpochs(disk: Disk, dir: string): Promise<Epochs> {
  const read = async (name: string): Promise<number> => {
    const path = join(dir, name);
    const bytes = await readOptionalFile(disk, dir, name);
    if (bytes === undefined) return 0;
    const text = bytes.toString("utf8").trim();
    const n = Number(text);
    if (text === "" || !Number.isSafeInteger(n) || n < 0) throw new Error(`${path}: not an epoch: ${JSON.stringify(text)}`);
    return n;
  };
  return { acceptedEpoch: await read(ACCEPTED_EPOCH_FILE), currentEpoch: await read(CURRENT_EPOCH_FILE) };
}

/** Replaces the epoch files given (temp file, sync, rename, directory sync); durable when it resolves. */
export async function writeEpochs(disk: Disk, dir: string, epochs: Partial<Epochs>): Promise<void> {
  const writes: [string, Buffer][] = [];
  for (const [name, value] of [
    [ACCEPTED_EPOCH_FILE, epochs.acceptedEpoch],
    [CURRENT_EPOCH_FILE, epochs.currentEpoch],
  ] as const) {
    if (value === undefined) continue;
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new Error(`${name}: not an epoch: ${value}`);
    writes.push([name, Buffer.from(`${value}\n`, "utf8")]);
  }
  await replaceFiles(disk, dir, writes);
}

/**
 * Replaces each named file in `dir` with its bytes: `<name>.tmp` written and synced, renamed
 * over `<name>`, then one directory sync; durable when it resolves. A crash leaves each
 * file old or new, never torn (a leftover `.tmp` is ignored by readers).
 */
export async function replaceFiles(disk: Disk, dir: string, files: readonly (readonly [string, Buffer])[]): Promise<void> {
  if (files.length === 0) return;
  await disk.mkdirp(dir);
  for (const [name, bytes] of files) {
    const tmp = join(dir, `${name}.tmp`);
    const f = await disk.create(tmp);
    try {
      await f.write(bytes, 0);
      await f.sync();
    } finally {
      await f.close();
    }
    await disk.rename(tmp, join(dir, name));
  }
  await disk.syncDir(dir);
}

/** Reads `dir/name`, or undefined when it does not exist. */
export async function readOptionalFile(disk: Disk, dir: string, name: string): Promise<Buffer | undefined> {
  try {
    return await disk.readFile(join(dir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
