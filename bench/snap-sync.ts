// SNAP sync of a big tree, measured the same way for Corral and Apache ZooKeeper 3.8
// (issue 14, item 2): a 3-member ensemble of real processes on loopback (tickTime=2000,
// forceSync=yes) loaded with N znodes of ~150 bytes (default 600,000: an image over
// 100 MB); one follower is stopped, its data dir wiped (all but myid) and started again,
// so it must come back by SNAP. Meanwhile clients on the two other members keep reading
// and writing. Reports the time from the restart until the wiped member serves again
// (`srvr` reports its mode) and the clients' p50/p99/max read and write latency during
// that window, side by side.
//
//   npm run bench:snap                     # both servers, 600,000 znodes
//   node dist/bench/snap-sync.js [--nodes 600000] [--target both|corral|zookeeper]
//   CORRAL_BENCH_SNAP_NODES=50000 npm run bench:snap
//
// Bounded: the load, the rejoin and each run have time budgets; loopback only.

import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect, type CorralClient } from "../src/client/index.js";
import { spawnServer, type ServerProcess } from "./servers/children.js";
import { corralCliPath, repoRoot } from "./servers/corral.js";
import { LOOPBACK, serverMode, waitForModes } from "./servers/net.js";
import type { TargetName } from "./servers/types.js";
import { prepareNodes, type Node } from "./servers/zoo-cfg.js";
import { DEFAULT_ZK_JVM_FLAGS } from "./servers/zookeeper.js";
import { findZooKeeperInstall } from "./servers/zookeeper-install.js";

const SETTINGS = { tickMs: 2000, forceSync: true };
const DATA_BYTES = 150;
const CHILDREN_PER_PARENT = 1000;
const CREATES_PER_MULTI = 200;
const MULTIS_IN_FLIGHT = 16;
const START_BUDGET_MS = 120_000;
const LOAD_BUDGET_MS = 15 * 60_000;
const REJOIN_BUDGET_MS = 10 * 60_000;
const CLIENTS_PER_MEMBER = 2;
const NODES_MAX = 5_000_000;

interface Member {
  node: Node;
  proc: ServerProcess;
}

function spawnMember(target: TargetName, node: Node, cfg: string, logName: string): ServerProcess {
  if (target === "corral") {
    return spawnServer(process.execPath, [corralCliPath(), "server", "start-foreground", cfg], {
      logFile: join(node.dir, logName),
      // info: the member's log says how it synced ("synced by SNAP").
      env: { ...process.env, CORRAL_LOG_LEVEL: "info" },
      cwd: repoRoot(),
    });
  }
  const zk = findZooKeeperInstall();
  if (zk.java === undefined || zk.serverClasspath === undefined) throw new Error("Apache ZooKeeper not found: run scripts/install-test-deps.sh");
  const args = [...DEFAULT_ZK_JVM_FLAGS, `-Dzookeeper.log.dir=${node.dir}`, "-cp", zk.serverClasspath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg];
  return spawnServer(zk.java, args, { logFile: join(node.dir, logName) });
}

async function load(connectString: string, n: number): Promise<void> {
  const c = await connect(connectString, { sessionTimeoutMs: 30_000, connectTimeoutMs: 10_000 });
  const started = performance.now();
  try {
    await c.create("/snap", "");
    const parents = Math.ceil(n / CHILDREN_PER_PARENT);
    for (let p = 0; p < parents; p++) await c.create(`/snap/p${p}`, "");
    const data = Buffer.alloc(DATA_BYTES, 0x61);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        if (performance.now() - started > LOAD_BUDGET_MS) throw new Error(`load: over ${LOAD_BUDGET_MS} ms`);
        const from = next;
        next = Math.min(n, next + CREATES_PER_MULTI);
        const ops = [];
        for (let i = from; i < next; i++) ops.push({ op: "create" as const, path: `/snap/p${Math.floor(i / CHILDREN_PER_PARENT)}/n${i}`, data });
        await c.multi(ops);
      }
    };
    await Promise.all(Array.from({ length: MULTIS_IN_FLIGHT }, () => worker()));
    process.stderr.write(`  loaded ${n} znodes in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await c.close();
  }
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

interface Result {
  rejoinMs: number;
  reads: number[];
  writes: number[];
  errors: number;
  how: string;
}

async function oneRun(target: TargetName, n: number): Promise<Result> {
  const { nodes, cfgOf, removeDirs } = await prepareNodes(`snap-${target}`, 3, "ensemble", SETTINGS);
  const members: Member[] = nodes.map((node) => ({ node, proc: spawnMember(target, node, cfgOf(node), "server.log") }));
  const clients: CorralClient[] = [];
  try {
    await waitForModes(
      nodes.map((x) => x.clientPort),
      START_BUDGET_MS,
      () => members.map((m) => m.proc.exited()).find((x) => x !== undefined),
    );
    const hostPort = (x: Node): string => `${LOOPBACK}:${x.clientPort}`;
    await load(nodes.map(hostPort).join(","), n);
    const modes = await Promise.all(nodes.map((x) => serverMode(x.clientPort)));
    const victim = members[modes.indexOf("follower")]!;
    const others = members.filter((m) => m !== victim);

    // Stop the follower, wipe its data dir but myid, start it again.
    await victim.proc.stop();
    const dataDir = join(victim.node.dir, "data");
    for (const name of await readdir(dataDir)) if (name !== "myid") await rm(join(dataDir, name), { recursive: true, force: true });

    // Clients on the other members read and write throughout (closed loop, one request at a time each).
    for (const m of others) for (let i = 0; i < CLIENTS_PER_MEMBER; i++) clients.push(await connect(hostPort(m.node), { sessionTimeoutMs: 30_000, connectTimeoutMs: 10_000 }));
    const reads: number[] = [];
    const writes: number[] = [];
    let errors = 0;
    let running = true;
    const loops = clients.map(async (c, k) => {
      for (let i = 0; running; i++) {
        const j = ((k * 7919 + i) * 104_729) % n;
        const target = `/snap/p${Math.floor(j / CHILDREN_PER_PARENT)}/n${j}`;
        const t0 = performance.now();
        try {
          if (i % 2 === 0) {
            await c.getData(target);
            reads.push(performance.now() - t0);
          } else {
            await c.setData(target, Buffer.alloc(DATA_BYTES, 0x62));
            writes.push(performance.now() - t0);
          }
        } catch {
          errors++;
        }
      }
    });
    const restartedAt = performance.now();
    victim.proc = spawnMember(target, victim.node, cfgOf(victim.node), "server-restarted.log");
    let rejoinMs = NaN;
    while (performance.now() - restartedAt < REJOIN_BUDGET_MS) {
      const why = victim.proc.exited();
      if (why !== undefined) throw new Error(`${target}: the restarted member exited: ${why}\n${victim.proc.logTail()}`);
      if ((await serverMode(victim.node.clientPort)) !== undefined) {
        rejoinMs = performance.now() - restartedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    running = false;
    await Promise.all(loops);
    if (Number.isNaN(rejoinMs)) throw new Error(`${target}: the wiped member did not serve within ${REJOIN_BUDGET_MS} ms`);
    // How it synced. Corral's log says it ("synced by SNAP"). ZooKeeper's learner writes a
    // snapshot after a SNAP (or TRUNC, impossible from an empty log) but not after a DIFF,
    // and an empty data dir starts with only snapshot.0.
    const log = await readFile(victim.proc.logFile, "utf8").catch(() => "");
    const snaps = (await readdir(join(dataDir, "version-2")).catch(() => [] as string[])).filter((f) => f.startsWith("snapshot.") && f !== "snapshot.0");
    const how = (target === "corral" ? /synced by SNAP/.test(log) : snaps.length > 0) ? "SNAP" : "not SNAP";
    for (const line of log.split("\n")) if (/SNAP|[Ss]napshot|started|zab state|LEADING|FOLLOWING|DIFF/.test(line)) process.stderr.write(`  [${target} restarted] ${line.slice(0, 400)}\n`);
    return { rejoinMs, reads: reads.sort((a, b) => a - b), writes: writes.sort((a, b) => a - b), errors, how };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(members.map((m) => m.proc.stop()));
    await removeDirs();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: process.env.CORRAL_BENCH_SNAP_NODES ?? "600000" },
      target: { type: "string", default: "both" },
    },
  });
  const n = Math.max(1000, Math.min(NODES_MAX, Number(values.nodes)));
  const targets: TargetName[] = values.target === "both" ? ["corral", "zookeeper"] : [values.target as TargetName];
  const results = new Map<TargetName, Result>();
  for (const t of targets) {
    process.stderr.write(`${t}: ${n} znodes of ${DATA_BYTES} bytes\n`);
    results.set(t, await oneRun(t, n));
  }
  const ms = (x: number): string => x.toFixed(1).padStart(8);
  console.log(`SNAP sync of a wiped follower, ${n} znodes x ${DATA_BYTES} bytes, tickTime=${SETTINGS.tickMs} forceSync=yes, ${CLIENTS_PER_MEMBER * 2} clients on the other members`);
  console.log(`target     synced  rejoin ms   read p50    p99      max  (n)       write p50   p99      max  (n)     errors`);
  for (const [t, r] of results) {
    console.log(
      `${t.padEnd(10)} ${r.how.padEnd(7)} ${r.rejoinMs.toFixed(0).padStart(9)} ${ms(pct(r.reads, 50))} ${ms(pct(r.reads, 99))} ${ms(r.reads.at(-1) ?? NaN)} (${r.reads.length})  ${ms(pct(r.writes, 50))} ${ms(pct(r.writes, 99))} ${ms(r.writes.at(-1) ?? NaN)} (${r.writes.length})  ${r.errors}`,
    );
  }
}

await main();
