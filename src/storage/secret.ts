// The session-password secret: 32 random bytes kept in <dataDir>/corral-secret (hex),
// written once (temporary file, fsync, rename, directory fsync) and read on every
// start, so that session passwords handed out before a restart still verify after it.

import { join } from "node:path";
import type { Disk } from "./disk.js";
import { StorageError } from "./errors.js";
import { SECRET_FILE, TMP_SUFFIX } from "./files.js";

export const SECRET_BYTES = 32;
/** The secret's file mode: owner read/write only. */
export const SECRET_FILE_MODE = 0o600;

export async function loadOrCreateSecret(disk: Disk, dataDir: string, randomBytes: (n: number) => Buffer): Promise<Buffer> {
  const path = join(dataDir, SECRET_FILE);
  await disk.mkdirp(dataDir);
  if ((await disk.sizeOf(path)) !== undefined) {
    const text = (await disk.readFile(path)).toString("latin1").trim();
    if (!/^[0-9a-f]+$/.test(text) || text.length !== SECRET_BYTES * 2) {
      throw new StorageError(path, 0, `expected ${SECRET_BYTES * 2} hex digits`);
    }
    return Buffer.from(text, "hex");
  }
  const secret = randomBytes(SECRET_BYTES);
  const tmp = path + TMP_SUFFIX;
  // Session passwords derive from it: readable by the server's user only.
  const f = await disk.create(tmp, SECRET_FILE_MODE);
  await f.write(Buffer.from(secret.toString("hex") + "\n", "latin1"), 0);
  await f.sync();
  await f.close();
  await disk.rename(tmp, path);
  await disk.syncDir(dataDir);
  return secret;
}
