/**
 * `corral server start|stop|restart|status|print-cmd CONF`, run as an operator runs it
 * (`node bin/corral.js ...`, after `npm run build`) on temp configs with loopback ports:
 * the pid file, zkServer.sh's messages and exit codes, a clean stop, refusing to start
 * twice, and clear errors for a port in use, a bad config and a server that dies while
 * starting.
 */
import { runProcess, type ProcessRun } from "../helpers/run-process.js";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fourLetterWord, freePort, LOOPBACK } from "../helpers/net.js";

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));
const RUN_TIMEOUT_MS = 45_000;

type Run = ProcessRun;

function corral(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runProcess(process.execPath, [CORRAL, ...args], { env: { ...process.env, ...env }, timeoutMs: RUN_TIMEOUT_MS });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return true;
  }
}

const dirs: string[] = [];
const pidFiles: string[] = [];

interface Setup {
  dir: string;
  cfg: string;
  port: number;
  dataDir: string;
  pidFile: string;
  logFile: string;
}

async function setup(extra: string[] = [], port?: number): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), "corral-server-cmd-"));
  dirs.push(dir);
  const p = port ?? (await freePort());
  const dataDir = join(dir, "data");
  const cfg = join(dir, "zoo.cfg");
  await writeFile(cfg, [`tickTime=500`, `dataDir=${dataDir}`, `clientPort=${p}`, `clientPortAddress=${LOOPBACK}`, "admin.enableServer=false", ...extra, ""].join("\n"));
  const pidFile = join(dataDir, "corral_server.pid");
  pidFiles.push(pidFile);
  return { dir, cfg, port: p, dataDir, pidFile, logFile: join(dataDir, "corral-server.out") };
}

function pidOf(s: Setup): number {
  return Number(readFileSync(s.pidFile, "utf8"));
}

afterEach(() => {
  // A failed test must not leave a server running.
  for (const f of pidFiles.splice(0)) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, "utf8"));
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("corral", () => {
  it("without a command prints the usage on stderr and exits 2; --help on stdout with 0; an unknown command names itself", async () => {
    const none = await corral([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: corral <command>");
    expect(none.stdout).toBe("");
    const help = await corral(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: corral <command>");
    const bad = await corral(["frobnicate", "now"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate now"');
  });
});

describe("corral server", () => {
  it("starts in the background, reports standalone, refuses a second start, and stops cleanly", async () => {
    const s = await setup();
    const started = await corral(["server", "start", s.cfg]);
    expect(started).toMatchObject({ code: 0, stdout: "Starting corral ... STARTED\n", stderr: `Using config: ${s.cfg}\n` });
    const pid = pidOf(s);
    expect(alive(pid)).toBe(true);
    expect(await fourLetterWord(LOOPBACK, s.port, "srvr")).toContain("Mode: standalone");

    const status = await corral(["server", "status", s.cfg]);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe(`Client port found: ${s.port}. Client address: ${LOOPBACK}. Client SSL: false.\nMode: standalone\n`);

    const again = await corral(["server", "start", s.cfg]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(`Starting corral ... already running as process ${pid}.\n`);
    expect(pidOf(s)).toBe(pid);

    const stopped = await corral(["server", "stop", s.cfg]);
    expect(stopped).toMatchObject({ code: 0, stdout: "Stopping corral ... STOPPED\n" });
    expect(alive(pid)).toBe(false);
    expect(existsSync(s.pidFile)).toBe(false);
    // A clean shutdown: SIGTERM handled, the server stopped itself.
    const log = readFileSync(s.logFile, "utf8");
    expect(log).toMatch(/"signal":"SIGTERM","msg":"shutting down"/);
    expect(log).toMatch(/"msg":"corral server stopped"/);

    const down = await corral(["server", "status", s.cfg]);
    expect(down.code).toBe(1);
    expect(down.stdout).toBe(
      `Client port found: ${s.port}. Client address: ${LOOPBACK}. Client SSL: false.\nError contacting service. It is probably not running.\n`,
    );
    const nothing = await corral(["server", "stop", s.cfg]);
    expect(nothing).toMatchObject({ code: 0, stdout: `Stopping corral ... no corral to stop (could not find file ${s.pidFile})\n` });
  });

  it("restarts into a new process and writes its output under CORRAL_LOG_DIR", async () => {
    const s = await setup();
    const logDir = join(s.dir, "logs");
    const env = { CORRAL_LOG_DIR: logDir };
    expect((await corral(["server", "start", s.cfg], env)).code).toBe(0);
    const first = pidOf(s);
    const restarted = await corral(["server", "restart", s.cfg], env);
    expect(restarted).toMatchObject({ code: 0, stdout: "Stopping corral ... STOPPED\nStarting corral ... STARTED\n" });
    const second = pidOf(s);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(await fourLetterWord(LOOPBACK, s.port, "srvr")).toContain("Mode: standalone");
    expect(readFileSync(join(logDir, "corral-server.out"), "utf8")).toMatch(/corral standalone server started/);
    expect((await corral(["server", "stop", s.cfg], env)).code).toBe(0);
    expect(alive(second)).toBe(false);
  });

  it("status prints whatever Mode the server's srvr reports (leader, follower, observer)", async () => {
    let mode = "leader";
    const fake: Server = createServer((sock) => {
      sock.once("data", (d) => {
        if (d.toString() === "srvr") sock.end(`Zookeeper version: 3.8.0-fake\nLatency min/avg/max: 0/0.0/0\nMode: ${mode}\nNode count: 5\n`);
        else sock.destroy();
      });
    });
    await new Promise<void>((r) => fake.listen(0, LOOPBACK, r));
    try {
      const s = await setup([], (fake.address() as { port: number }).port);
      for (const m of ["leader", "follower", "observer"]) {
        mode = m;
        const r = await corral(["server", "status", s.cfg]);
        expect(r.code).toBe(0);
        expect(r.stdout.split("\n")[1]).toBe(`Mode: ${m}`);
      }
    } finally {
      await new Promise((r) => fake.close(r));
    }
  });

  it("fails clearly when the client port is in use, and leaves no pid file", async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, LOOPBACK, r));
    try {
      const s = await setup([], (squatter.address() as { port: number }).port);
      const r = await corral(["server", "start", s.cfg]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("Starting corral ... FAILED TO START\n");
      expect(r.stderr).toContain(`corral: cannot listen on ${LOOPBACK}:${s.port}: the port is already in use by another process`);
      expect(existsSync(s.pidFile)).toBe(false);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it("rejects a bad config naming file, line and key, without starting anything", async () => {
    const s = await setup();
    await writeFile(s.cfg, `tickTime=2000\ndataDir=${s.dataDir}\nclientPort=abc\n`);
    const r = await corral(["server", "start", s.cfg]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`corral: invalid configuration: ${s.cfg}:3: clientPort: expected a port number`);
    expect(existsSync(s.dataDir)).toBe(false);

    await writeFile(s.cfg, `tickTime=2000\nclientPort=${s.port}\n`);
    const noDataDir = await corral(["server", "status", s.cfg]);
    expect(noDataDir.code).toBe(2);
    expect(noDataDir.stderr).toContain("dataDir: not set");
  });

  it("reports why a server died while starting, with the last lines of its log", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, LOOPBACK, r));
    try {
      const adminPort = (busy.address() as { port: number }).port;
      const s = await setup(["admin.enableServer=true", `admin.serverAddress=${LOOPBACK}`, `admin.serverPort=${adminPort}`]);
      const r = await corral(["server", "start", s.cfg]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("Starting corral ... FAILED TO START\n");
      expect(r.stderr).toMatch(/corral: the server process \d+ ended \(exit code 1\)/);
      expect(r.stderr).toContain(`Last lines of ${s.logFile}:`);
      expect(r.stderr).toContain(`cannot start the AdminServer on ${LOOPBACK}:${adminPort}: the address is already in use`);
      expect(existsSync(s.pidFile)).toBe(false);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it("print-cmd shows the command start runs", async () => {
    const s = await setup();
    const r = await corral(["server", "print-cmd", s.cfg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `"${process.execPath}" "${fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url))}" server start-foreground "${s.cfg}" >> "${s.logFile}" 2>&1 < /dev/null\n`,
    );
  });
});
