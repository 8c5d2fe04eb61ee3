// The physical floor of a durable hand-off on this machine (issue 15): one process sends
// 64 bytes over loopback TCP; another appends them to a file, fdatasyncs it and answers
// one byte; the next message waits for the answer. Its round trips per second are the
// fastest any server could chain durable steps here (a lock hand-off, a take): one fsync
// plus one round trip each. The same pair without the fsync gives the loopback round trip
// between two Node processes. Both are measured at the start and the end of a bench run,
// so each fsync-bound result can be read as a fraction of its floor.
//
// The far side is a child process (SERVE below), so the two ends are separate processes
// as client and server are. Bounded in count and time.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import type { FloorProbe } from "./report/types.js";

const MESSAGE_BYTES = 64;
const FILE_BYTES = 1024 * 1024;

/**
 * The far side, run as `node -e SERVE DIR` (plain JavaScript, so it runs the same from the
 * sources under vitest and from dist): a loopback server answering each 64-byte message
 * with one byte, after appending it to a file with fdatasync when its first byte is 'F'
 * (only answering when 'E'). It prints its port, and exits when its stdin closes.
 */
const SERVE = `
const { open } = require("node:fs/promises");
const { createServer } = require("node:net");
const { join } = require("node:path");
const M = ${MESSAGE_BYTES}, F = ${FILE_BYTES};
(async () => {
  const fh = await open(join(process.argv[1], "floor"), "w+");
  await fh.write(Buffer.alloc(F), 0, F, 0);
  await fh.datasync();
  let at = 0;
  const ack = Buffer.from([1]);
  const server = createServer((s) => {
    s.setNoDelay(true);
    let parts = [];
    let have = 0;
    s.on("data", (chunk) => {
      parts.push(chunk);
      have += chunk.length;
      if (have < M) return;
      const msg = Buffer.concat(parts);
      parts = [];
      have = 0;
      if (msg[0] !== 0x46) { s.write(ack); return; }
      const pos = at;
      at = (at + M) % F;
      fh.write(msg, 0, M, pos).then(() => fh.datasync()).then(() => s.write(ack));
    });
    s.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
})();
`;

/** Round trips of 64-byte messages, one at a time; 'F' asks the far side to fdatasync first. */
async function roundTrips(port: number, kind: "F" | "E", samples: number, maxMs: number): Promise<number[]> {
  const s = connect({ host: "127.0.0.1", port });
  s.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  const msg = Buffer.alloc(MESSAGE_BYTES, 0x5a);
  msg[0] = kind.charCodeAt(0);
  const times: number[] = [];
  let answered: (() => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  s.on("data", () => answered?.());
  s.on("error", (e) => failed?.(e));
  try {
    const deadline = performance.now() + maxMs;
    for (let i = 0; i < samples && performance.now() < deadline; i++) {
      const t0 = performance.now();
      const answer = new Promise<void>((resolve, reject) => {
        answered = resolve;
        failed = reject;
      });
      s.write(msg);
      await answer;
      times.push(performance.now() - t0);
    }
  } finally {
    s.destroy();
  }
  return times;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Measures the floor with the far side writing into `dir` (the disk the servers use). */
export async function probeFloor(dir: string, opts: { samples?: number; maxMs?: number } = {}): Promise<FloorProbe> {
  const samples = opts.samples ?? 1_000;
  const maxMs = opts.maxMs ?? 2_000;
  const tmp = await mkdtemp(join(dir, "corral-bench-floor-"));
  const child = spawn(process.execPath, ["-e", SERVE, tmp], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString("utf8");
        if (out.includes("\n")) resolve(Number(out.trim()));
      });
      child.once("exit", (code) => reject(new Error(`floor probe child exited (${code}) before listening`)));
      child.once("error", reject);
    });
    const rtt = await roundTrips(port, "E", samples, maxMs / 2);
    const durable = await roundTrips(port, "F", samples, maxMs);
    const elapsed = durable.reduce((a, b) => a + b, 0);
    return {
      dir,
      samples: durable.length,
      rttP50Ms: median(rtt),
      durableRoundTripP50Ms: median(durable),
      durableRoundTripsPerSec: durable.length / (elapsed / 1000),
    };
  } finally {
    child.stdin.end();
    child.kill();
    await rm(tmp, { recursive: true, force: true });
  }
}
