// @ts-check
// A file guarded by a read/write lock, with fenced writes. Writers take the write lock and
// store the lock's fencing token with what they write; readers take a read lock (many at
// once) and read. A lock alone cannot stop a writer that was paused (a GC pause, a stalled
// VM, a slow network) while its session expired and someone else took the lock: when it
// wakes up it still "holds" it. So the storage checks the token: it refuses a write whose
// token is lower than the one it already has. Tokens only grow (the lock node's czxid).
//
//   node fenced-file.mjs write VALUE [connectString]   # or CORRAL_CONNECT; default 127.0.0.1:2181
//   node fenced-file.mjs read [connectString]
//
// Environment: FENCED_FILE (default ./fenced.txt), WRITE_DELAY_MS (default 0: how long the
// write is on its way to the storage after the writer checked its lock; set it, pause the
// writer with `kill -STOP`, let its session expire while another writer writes, `kill -CONT`
// it, and watch its write be refused). Exit codes: 0 done, 2 write refused (stale token).

import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "corral";

const [command, arg, ...rest] = process.argv.slice(2);
const connectString = (command === "write" ? rest[0] : arg) ?? process.env.CORRAL_CONNECT ?? "127.0.0.1:2181";
const file = process.env.FENCED_FILE ?? "fenced.txt";
const delayMs = Number(process.env.WRITE_DELAY_MS ?? 0);
const LOCK = "/locks/fenced-file";

// ---- the storage side: checks the token and writes in one step ------------------------------

class StaleTokenError extends Error {}

/** What the file holds: the token of the write that made it, and the value. */
async function readFenced() {
  try {
    const [token = "0", ...value] = (await readFile(file, "utf8")).split("\n");
    return { token: BigInt(token), value: value.join("\n") };
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Writes `value` with `token`, unless the file already holds a write with a higher token.
 * The check and the write must be one atomic step at the storage: a database does it with
 * a conditional update (UPDATE ... WHERE token <= $1); for a local file, an exclusive guard
 * file makes the check-then-rename atomic among the processes that write it.
 */
async function writeFenced(/** @type {bigint} */ token, /** @type {string} */ value) {
  const guard = await acquireGuard();
  try {
    const current = await readFenced();
    if (current !== undefined && current.token > token) {
      throw new StaleTokenError(`stale token ${token}: the file holds a write with token ${current.token}`);
    }
    await writeFile(`${file}.tmp`, `${token}\n${value}`);
    await rename(`${file}.tmp`, file); // readers see the old or the new content, never half
  } finally {
    await guard.close();
    await rm(`${file}.guard`, { force: true });
  }
}

const GUARD_TRIES_MAX = 500;
const GUARD_RETRY_MS = 10;

async function acquireGuard() {
  for (let i = 0; i < GUARD_TRIES_MAX; i++) {
    try {
      return await open(`${file}.guard`, "wx");
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== "EEXIST") throw e;
      await sleep(GUARD_RETRY_MS);
    }
  }
  throw new Error(`${file}.guard stayed locked for ${GUARD_TRIES_MAX * GUARD_RETRY_MS} ms (left by a crashed writer? remove it)`);
}

// ---- the lock holders -----------------------------------------------------------------------

if (command !== "write" && command !== "read") {
  console.error("usage: fenced-file.mjs write VALUE [connectString] | read [connectString]");
  process.exit(64);
}
if (command === "write" && arg === undefined) {
  console.error("usage: fenced-file.mjs write VALUE [connectString]");
  process.exit(64);
}

const client = await connect(connectString, { sessionTimeoutMs: 10_000 });
try {
  if (command === "write") await write(/** @type {string} */ (arg));
  else await read();
} finally {
  await client.close();
}

async function write(/** @type {string} */ value) {
  const lock = await client.writeLock(LOCK, { timeoutMs: 60_000 });
  try {
    console.log(`locked for writing, token ${lock.token}`);
    lock.lost.addEventListener("abort", () => console.log(`lock lost: ${lock.lost.reason?.message}`));
    // Good manners: do not start a write when the lock is known to be gone...
    if (lock.lost.aborted) return;
    if (delayMs > 0) {
      console.log(`write on its way for ${delayMs} ms`);
      await sleep(delayMs);
    }
    // ...but only the storage's check is safe: the lock can be lost while a write travels.
    await writeFenced(lock.token, value);
    console.log(`wrote ${JSON.stringify(value)} with token ${lock.token}`);
  } catch (e) {
    if (!(e instanceof StaleTokenError)) throw e;
    console.log(`refused: ${e.message}`);
    process.exitCode = 2;
  } finally {
    await lock.release(); // a no-op once the lock is lost
  }
}

async function read() {
  const lock = await client.readLock(LOCK, { timeoutMs: 60_000 });
  try {
    const current = await readFenced();
    if (current === undefined) console.log(`${file} does not exist yet`);
    else console.log(`read ${JSON.stringify(current.value)} written with token ${current.token}`);
  } finally {
    await lock.release();
  }
}
