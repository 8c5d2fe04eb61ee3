// corral/testing, as an application's tests use it: a TestingServer that keeps its data
// across a restart and leaves nothing behind, a TestingCluster whose leader is killed (a
// real SIGKILL) and restarted, a client's connections cut through ConnectionFaults, a
// session expired on purpose; and the processes: a test process exits by itself after
// stop(), and servers die (and temp dirs go) when the test process is killed.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { ConnectionFaults, TestingCluster, TestingServer, expireSession, killAllServerProcesses } from "../../src/testing/index.js";
import { next } from "../helpers/connection-states.js";

const ROOT = new URL("../../", import.meta.url).pathname;

afterAll(() => killAllServerProcesses());


/** Whether OS process `pid` exists (our children are reaped once their exit is seen). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs an ES module snippet with node in the repository (so `corral/testing` resolves to dist/). */
function runNode(code: string, onLine?: (line: string) => void): { exited: Promise<{ code: number | null; signal: string | null; out: string; err: string }>; kill(): void } {
  const p = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout.on("data", (b: Buffer) => {
    const before = out.length;
    out += b.toString("utf8");
    for (const line of out.slice(out.lastIndexOf("\n", before - 1) + 1).split("\n").slice(0, -1)) onLine?.(line);
  });
  p.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
  return {
    exited: new Promise((resolve) => p.once("exit", (code, signal) => resolve({ code, signal, out, err }))),
    kill: () => p.kill("SIGKILL"),
  };
}

describe("TestingServer", () => {
  it("serves on a free loopback port, keeps its data across restart(), and stop() leaves no process and no temp dir", async () => {
    const s = await TestingServer.start();
    expect(s.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
    const pid = s.pid!;
    expect(processExists(pid)).toBe(true);
    const c = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
    await c.create("/app", "v1");
    const back = next(c, "RECONNECTED");
    await s.restart();
    await back;
    expect(s.pid).not.toBe(pid);
    expect(processExists(pid)).toBe(false);
    expect(String((await c.getData("/app")).data)).toBe("v1");
    await c.close();
    const tempDir = dirname(s.confPath);
    expect(existsSync(s.dataDir)).toBe(true);
    const last = s.pid!;
    await s.stop();
    expect(processExists(last)).toBe(false);
    expect(existsSync(tempDir)).toBe(false);
    expect(s.running).toBe(false);
  });

  it("ConnectionFaults.cut(): the client's connections drop and it reconnects to the same session", async () => {
    const s = await TestingServer.start();
    const faults = await ConnectionFaults.start(s);
    try {
      const c = await connect(faults.connectString, { sessionTimeoutMs: 10_000 });
      const sid = c.sessionId;
      await c.create("/mine", "x", { mode: "ephemeral" });
      const suspended = next(c, "SUSPENDED");
      const back = next(c, "RECONNECTED");
      faults.cut();
      await suspended;
      await back;
      expect(c.sessionId).toBe(sid);
      expect(await c.exists("/mine")).not.toBeNull();
      await c.close();
    } finally {
      await faults.close();
      await s.stop();
    }
  });

  it("expireSession(): the ephemeral nodes go and the client sees LOST with SessionExpired", async () => {
    const s = await TestingServer.start();
    try {
      const c = await connect(s.connectString, { sessionTimeoutMs: 10_000 });
      const watcher = await connect(s.connectString);
      await c.create("/worker", "1", { mode: "ephemeral" });
      const gone = new Promise<string>((resolve) => void watcher.exists("/worker", { watch: (e) => resolve(e.type) }));
      const lost = next(c, "LOST");
      await expireSession(s, c);
      expect(await gone).toBe("NodeDeleted");
      expect(await watcher.exists("/worker")).toBeNull();
      expect((await lost).reason).toMatchObject({ code: "SessionExpired" });
      await Promise.all([c.close(), watcher.close()]);
    } finally {
      await s.stop();
    }
  });
});

describe("TestingCluster", () => {
  it("kill(leader) elects a new leader the client carries on with; restart(i) rejoins with the data; stop() leaves nothing", async () => {
    const c = await TestingCluster.start({ size: 3 });
    expect(c.members.map((m) => m.myid)).toEqual([1, 2, 3]);
    expect(c.connectString).toBe(c.members.map((m) => m.connectString).join(","));
    const client = await connect(c.connectString, { sessionTimeoutMs: 10_000 });
    try {
      await client.create("/before", "1");
      const leader = await c.leaderIndex();
      const pid = c.members[leader]!.pid!;
      await c.kill(leader);
      expect(c.members[leader]!.running).toBe(false);
      expect(processExists(pid)).toBe(false);
      const newLeader = await c.leaderIndex();
      expect(newLeader).not.toBe(leader);
      await client.create("/after", "2");
      await c.restart(leader);
      expect(await c.leaderIndex()).toBe(newLeader); // it rejoined as a follower
      const direct = await connect(c.members[leader]!.connectString);
      await direct.sync("/");
      expect(String((await direct.getData("/after")).data)).toBe("2");
      await direct.close();
    } finally {
      await client.close();
      const pids = c.members.map((m) => m.pid!);
      const root = dirname(c.members[0]!.dataDir);
      await c.stop();
      expect(pids.filter(processExists)).toEqual([]);
      expect(existsSync(root)).toBe(false);
    }
  });
});

describe("processes", () => {
  it("a test process exits by itself after stop(): no handle is left open", async () => {
    const run = runNode(`
      import { connect } from "corral";
      import { TestingServer, TestingCluster, ConnectionFaults } from "corral/testing";
      const s = await TestingServer.start();
      const faults = await ConnectionFaults.start(s);
      const c = await connect(faults.connectString);
      await c.create("/x", "1");
      await c.close();
      await faults.close();
      await s.stop();
      const cl = await TestingCluster.start({ size: 3 });
      await cl.stop();
      console.log("stopped");
    `);
    const r = await run.exited;
    expect(r.err).toBe("");
    expect(r).toMatchObject({ code: 0, out: "stopped\n" });
  }, 60_000);

  it("a test process that forgets stop() still exits by itself, and its servers and temp dirs go with it", async () => {
    const run = runNode(`
      import { TestingServer, TestingCluster } from "corral/testing";
      import { dirname } from "node:path";
      const s = await TestingServer.start();
      const cl = await TestingCluster.start({ size: 3 });
      console.log(JSON.stringify({ pids: [s.pid, ...cl.members.map((m) => m.pid)], dirs: [dirname(s.confPath), dirname(cl.members[0].dataDir)] }));
    `);
    const r = await run.exited;
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const { pids, dirs } = JSON.parse(r.out) as { pids: number[]; dirs: string[] };
    expect(pids).toHaveLength(4);
    // SIGKILLed by the exit hook before the process ended; reaped by init since: poll, bounded.
    const deadline = performance.now() + 10_000;
    while (pids.some(processExists) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(processExists)).toEqual([]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  }, 60_000);

  it("servers kill themselves and remove their temp dir when the test process is killed (kill -9)", async () => {
    let reported: (v: { pids: number[]; dirs: string[] }) => void = () => {};
    const info = new Promise<{ pids: number[]; dirs: string[] }>((r) => (reported = r));
    const run = runNode(
      `
      import { TestingServer, TestingCluster } from "corral/testing";
      import { dirname } from "node:path";
      const s = await TestingServer.start();
      const cl = await TestingCluster.start({ size: 3 });
      console.log(JSON.stringify({ pids: [s.pid, ...cl.members.map((m) => m.pid)], dirs: [dirname(s.confPath), dirname(cl.members[0].dataDir)] }));
      setInterval(() => {}, 1000);
    `,
      (line) => reported(JSON.parse(line) as { pids: number[]; dirs: string[] }),
    );
    const { pids, dirs } = await info;
    expect(pids.every(processExists)).toBe(true);
    run.kill();
    expect((await run.exited).signal).toBe("SIGKILL");
    // The servers are children of a dead process now (reaped by init): poll, bounded.
    const deadline = performance.now() + 10_000;
    while ((pids.some(processExists) || dirs.some((d) => existsSync(d))) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(processExists)).toEqual([]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  }, 60_000);
});
