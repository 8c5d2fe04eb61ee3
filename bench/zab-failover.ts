// ZAB failover, measured the same way for Corral and Apache ZooKeeper (issue 6): a fresh
// 3-server ensemble of real processes on loopback (tickTime=2000, forceSync=yes), a
// client writing, SIGKILL of the leader, and the time until the next write is accepted.
// Repeated (default 10 rounds per server), reported as median, min and max.
//
//   npm run build && node dist/bench/zab-failover.js [--rounds 10] [--target both|corral|zookeeper]

import { parseArgs } from "node:util";
import { connect, type CorralClient } from "../src/client/index.js";
import { startCorralProcess } from "./servers/corral.js";
import { serverMode } from "./servers/net.js";
import type { ServerUnderTest, StartOutcome, TargetName } from "./servers/types.js";
import { startZooKeeper } from "./servers/zookeeper.js";

const SETTINGS = { tickMs: 2000, forceSync: true };
const WRITE_ATTEMPT_MS = 2_000;
const ROUND_BUDGET_MS = 30_000;

async function start(target: TargetName): Promise<ServerUnderTest> {
  const outcome: StartOutcome = target === "corral" ? await startCorralProcess("ensemble", SETTINGS) : await startZooKeeper("ensemble", SETTINGS);
  if (!outcome.ok) throw new Error(`${target}: ${outcome.reason}`);
  return outcome.server;
}

/** Kills the leader and returns the ms until a write succeeds again. */
async function oneRound(target: TargetName, round: number): Promise<number> {
  const server = await start(target);
  let client: CorralClient | undefined;
  try {
    const ports = server.connectString.split(",").map((hp) => Number(hp.split(":")[1]));
    let leaderAt = -1;
    for (let i = 0; i < 200 && leaderAt === -1; i++) {
      const modes = await Promise.all(ports.map((p) => serverMode(p)));
      leaderAt = modes.indexOf("leader");
      if (leaderAt === -1) await new Promise((r) => setTimeout(r, 50));
    }
    if (leaderAt === -1) throw new Error(`${target}: no leader`);
    client = await connect(server.connectString, { sessionTimeoutMs: 30_000, connectTimeoutMs: 10_000 });
    for (let i = 0; i < 20; i++) await client.create(`/warm-${round}-${i}`, "x");
    const killedAt = performance.now();
    process.kill(server.pids[leaderAt]!, "SIGKILL");
    for (let attempt = 0; performance.now() - killedAt < ROUND_BUDGET_MS; attempt++) {
      const ok = await client.create(`/after-${round}-${attempt}`, "x", { signal: AbortSignal.timeout(WRITE_ATTEMPT_MS) }).then(
        () => true,
        () => false,
      );
      if (ok) return performance.now() - killedAt;
    }
    throw new Error(`${target}: no write accepted within ${ROUND_BUDGET_MS} ms of the leader's death`);
  } finally {
    await client?.close().catch(() => undefined);
    await server.stop();
  }
}

function summary(ms: number[]): { median: number; min: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s.at(-1)! };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "10" }, target: { type: "string", default: "both" } } });
  const rounds = Math.max(1, Math.min(50, Number(values.rounds)));
  const targets: TargetName[] = values.target === "both" ? ["corral", "zookeeper"] : [values.target as TargetName];
  const results = new Map<TargetName, { median: number; min: number; max: number }>();
  for (const t of targets) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      times.push(await oneRound(t, r));
      process.stderr.write(`${t} round ${r + 1}/${rounds}: ${times.at(-1)!.toFixed(0)} ms\n`);
    }
    results.set(t, summary(times));
  }
  for (const [t, s] of results) console.log(`${t.padEnd(9)} leader kill -> first write accepted: median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}) over ${rounds} rounds`);
  const c = results.get("corral");
  const z = results.get("zookeeper");
  if (c !== undefined && z !== undefined) console.log(`Corral/ZooKeeper median: ${(c.median / z.median).toFixed(2)}x (target: < 1000 ms and faster than ZooKeeper)`);
}

await main();
