// How long a small write + fdatasync takes on the disk the servers keep their data on
// (os.tmpdir()), measured without load at the start and at the end of a bench run. Every
// fsync-bound result (writes, lock handoffs, queue items) rests on it, and on a shared
// machine it drifts: the report prints it so that ratios can be read against it.
//
// The probe writes like a transaction log does: 256-byte records appended into space
// already written with zeros (as preallocation leaves it), each followed by fdatasync,
// one at a time. Bounded in count and time.

import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { nodeDisk } from "../src/storage/index.js";
import type { DiskProbe } from "./report/types.js";
import { LatencyHistogram } from "./stats.js";

const RECORD_BYTES = 256;
const FILE_BYTES = 1024 * 1024;

/** Through the storage layer's own Disk, so the probe pays what the log's writes pay. */
export async function probeDisk(dir: string, opts: { samples?: number; maxMs?: number } = {}): Promise<DiskProbe> {
  const samples = opts.samples ?? 300;
  const maxMs = opts.maxMs ?? 2_000;
  const tmp = await mkdtemp(join(dir, "corral-bench-disk-"));
  const h = new LatencyHistogram();
  try {
    const file = await nodeDisk.create(join(tmp, "probe"));
    try {
      await file.write(Buffer.alloc(FILE_BYTES), 0);
      await file.sync();
      const record = Buffer.alloc(RECORD_BYTES, 0x5a);
      const deadline = performance.now() + maxMs;
      for (let i = 0; i < samples && (i + 1) * RECORD_BYTES <= FILE_BYTES && performance.now() < deadline; i++) {
        const t0 = performance.now();
        await file.write(record, i * RECORD_BYTES);
        await file.sync();
        h.recordMs(performance.now() - t0);
      }
    } finally {
      await file.close();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const s = h.summary();
  h.destroy();
  return { dir, samples: s.count, p50Ms: s.p50Ms, p90Ms: s.p90Ms, p99Ms: s.p99Ms };
}
