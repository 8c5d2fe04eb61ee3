// Sessions imported from ZooKeeper keep their passwords, so a client that held a session
// on ZooKeeper re-attaches to it on Corral after the switch, ephemerals and all.
//
// ZooKeeper derives a session's password from its id alone: 16 bytes from
// java.util.Random seeded with `sessionId ^ 0xB3415C00` (ZooKeeperServer.generatePasswd).
// Corral's own passwords are an HMAC with the data dir's secret, which no ZooKeeper client
// knows. `corral import-zookeeper` lists the sessions it carried over in
// <dataDir>/zookeeper-sessions (one hex id a line, written once, never changed); the
// server answers and checks those ids with ZooKeeper's password, every other id with its
// own.

import { join } from "node:path";
import type { Disk } from "../disk.js";
import { StorageError } from "../errors.js";

export const ZK_SESSIONS_FILE = "zookeeper-sessions";
const ZK_SUPER_SECRET = 0xb3415c00n;
const PASSWORD_BYTES = 16;

// java.util.Random: a 48-bit linear congruential generator (its Javadoc gives the constants).
const MULTIPLIER = 0x5deece66dn;
const ADDEND = 0xbn;
const MASK_48 = (1n << 48n) - 1n;

/** The password ZooKeeper hands out for `sessionId`. */
export function zooKeeperPassword(sessionId: bigint): Buffer {
  let seed = (BigInt.asIntN(64, sessionId ^ ZK_SUPER_SECRET) ^ MULTIPLIER) & MASK_48;
  const out = Buffer.alloc(PASSWORD_BYTES);
  let i = 0;
  while (i < PASSWORD_BYTES) {
    seed = (seed * MULTIPLIER + ADDEND) & MASK_48;
    let rnd = Number(BigInt.asIntN(32, seed >> 16n)); // next(32)
    for (let n = Math.min(PASSWORD_BYTES - i, 4); n > 0; n--) {
      out[i++] = rnd & 0xff;
      rnd >>= 8;
    }
  }
  return out;
}

/** The text of a zookeeper-sessions file listing `ids`. */
export function formatZkSessions(ids: Iterable<bigint>): string {
  const lines = ["# Sessions imported from Apache ZooKeeper: they keep ZooKeeper's passwords."];
  for (const id of ids) lines.push(BigInt.asUintN(64, id).toString(16));
  return lines.join("\n") + "\n";
}

/** The session ids listed in <dataDir>/zookeeper-sessions (empty when there is none). */
export async function loadZkSessionIds(disk: Disk, dataDir: string): Promise<Set<bigint>> {
  const path = join(dataDir, ZK_SESSIONS_FILE);
  if ((await disk.sizeOf(path)) === undefined) return new Set();
  const ids = new Set<bigint>();
  const text = (await disk.readFile(path)).toString("utf8");
  let offset = 0;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t !== "" && !t.startsWith("#")) {
      if (!/^[0-9a-f]{1,16}$/.test(t)) throw new StorageError(path, offset, `not a session id: ${JSON.stringify(t)}`);
      ids.add(BigInt.asIntN(64, BigInt("0x" + t)));
    }
    offset += Buffer.byteLength(line, "utf8") + 1;
  }
  return ids;
}
