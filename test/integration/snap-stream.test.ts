// SNAP sync of a tree bigger than the quorum frame limit (issue 14, item 2): a follower
// whose data dir was wiped comes back by a streamed image while a client keeps writing to
// the leader, and ends with exactly the leader's data. With the image as one frame, a tree
// over frameBytesMax (64 MiB at the default jute.maxbuffer) could never be synced: the
// learner refused the frame, re-elected and retried for ever.

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { OpCode } from "../../src/jute/index.js";
import { QuorumServer, startEnsembleForTest, type TestEnsemble } from "../../src/server/index.js";
import { silentLogger } from "../../src/util/index.js";
import { recordingLogger, treeText } from "../unit/storage/helpers.js";
import { RawClient } from "./engine-raw-client.js";

let ens: TestEnsemble | undefined;
let extra: QuorumServer | undefined;
let root: string | undefined;
afterEach(async () => {
  await extra?.stop();
  await ens?.stop();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  ens = undefined;
  extra = undefined;
  root = undefined;
});

async function until(probe: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The quorum frame limit the driver sets at the default jute.maxbuffer. */
const FRAME_BYTES_MAX = 64 * 1024 * 1024;
const NODE_BYTES = 100 * 1024;
const NODES = 720; // 74 MB of data: over the frame limit

describe("SNAP sync streamed", () => {
  it("a wiped follower syncs a tree bigger than the quorum frame limit by SNAP while a client writes to the leader, and then holds exactly the leader's data", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-snap-"));
    // tickTime 1 s: initLimit (10 ticks) leaves the sync 10 s on this shared machine.
    const log = recordingLogger();
    ens = await startEnsembleForTest({ participants: 3, dataDirRoot: root, tickMs: 1000, log });
    const leader = ens.leader()!;
    const follower = ens.followers()[0]!;
    const port = (m: QuorumServer) => Number(ens!.connectStringOf(m).split(":")[1]);
    const c = await RawClient.open("127.0.0.1", port(leader));
    await c.create("/big", "", 0);
    const blob = "x".repeat(NODE_BYTES);
    for (let i = 0; i < NODES; i += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, k) => c.create(`/big/n${i + k}`, `${i + k}:${blob}`, 0)));
    }
    expect(leader.server.tree.approximateDataBytes).toBeGreaterThan(FRAME_BYTES_MAX);

    // The follower goes, loses its data dir (all but myid), and comes back empty.
    const config = follower.config;
    await ens.stopMember(follower);
    const dir = config.dataDir!;
    for (const name of await readdir(dir)) if (name !== "myid") await rm(join(dir, name), { recursive: true, force: true });

    // A client keeps writing (and reading) on the leader throughout the sync.
    let writing = true;
    let writes = 0;
    await c.create("/w", "", 0);
    const writer = (async () => {
      while (writing) {
        await c.create(`/w/n${writes}`, `w${writes}`, 0);
        await c.call(OpCode.setData, undefined, (w) => {
          w.ustring(`/big/n${writes % NODES}`);
          w.buffer(Buffer.from(`rewritten ${writes}:${blob}`)); // the tree stays over the limit
          w.int(-1);
        });
        writes++;
      }
    })();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    extra = new QuorumServer({ config, log: silentLogger });
    await extra.start();
    const back = extra;
    await until(() => back.serving, "the wiped follower to sync and serve", 60_000);
    const writesDuringSync = writes;
    lag.disable();
    writing = false;
    await writer;
    expect(back.syncsBySnapshot).toBe(1);
    // The image was cut while the writes went on: it ends past where it started, in chunks.
    const streamed = log.lines.find((l) => l.msg === "SNAP image streamed")?.obj as { zxid: string; lastZxid: string; chunks: number; bytes: number };
    expect(streamed.bytes).toBeGreaterThan(FRAME_BYTES_MAX);
    expect(streamed.chunks).toBeGreaterThan(74); // at most ~1 MiB each
    expect(BigInt(streamed.lastZxid)).toBeGreaterThan(BigInt(streamed.zxid));
    expect(writesDuringSync).toBeGreaterThan(0);
    // All three members share this process's event loop: no turn held it for long.
    expect(lag.max / 1e6).toBeLessThan(1000);

    const last = leader.server.tree.lastProcessedZxid;
    await until(() => back.server.tree.lastProcessedZxid === last, "the follower to apply the last write", 10_000);
    expect(leader.server.tree.approximateDataBytes).toBeGreaterThan(FRAME_BYTES_MAX);
    expect(treeText(back.server.tree)).toBe(treeText(leader.server.tree));
    const sessions = (m: QuorumServer) => [...m.server.sessions.all()].map((s) => `${s.id}:${s.timeoutMs}`).sort();
    expect(sessions(back)).toEqual(sessions(leader));
    c.cut();
  }, 120_000);
});
