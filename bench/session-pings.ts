// The leader's CPU for session liveness (issue 14, item 5): a real 3-member ensemble (one
// process per member), N client sessions connected to the two followers, each client
// pinging as ZooKeeper's Java client does (every sessionTimeout/3 when idle), nothing
// else. Reports each member's CPU (user + system, from /proc/<pid>/stat) over a window
// once every session is up. Run it against two builds to compare:
//
//   node dist/bench/session-pings.js [--main <path to dist/src/cli/main.js>] [--sessions 10000]
//        [--seconds 30] [--tick 2000] [--timeout 30000]
//
// Linux only (/proc). Loopback only.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect as tcpConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FrameParser, JuteReader, JuteWriter, OpCode, Xid, readConnectResponse, writeConnectRequest, writeRequestHeader } from "../src/jute/index.js";
import { freePort } from "../src/net/index.js";

interface Args {
  main: string;
  sessions: number;
  seconds: number;
  tickMs: number;
  timeoutMs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  return {
    main: resolve(get("main") ?? new URL("../src/cli/main.js", import.meta.url).pathname),
    sessions: Number(get("sessions") ?? 10_000),
    seconds: Number(get("seconds") ?? 30),
    tickMs: Number(get("tick") ?? 2000),
    timeoutMs: Number(get("timeout") ?? 30_000),
  };
}

interface Member {
  id: number;
  clientPort: number;
  proc: ChildProcess;
}

async function startEnsemble(a: Args, root: string): Promise<Member[]> {
  const quorum = await Promise.all([1, 2, 3].map(() => freePort()));
  const client = await Promise.all([1, 2, 3].map(() => freePort()));
  const lines = quorum.map((q, i) => `server.${i + 1}=127.0.0.1:${q}:${q};127.0.0.1:${client[i]}`);
  const members: Member[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = join(root, String(i + 1));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "myid"), `${i + 1}\n`);
    const cfg = join(dir, "zoo.cfg");
    await writeFile(
      cfg,
      [`tickTime=${a.tickMs}`, "initLimit=10", "syncLimit=5", `dataDir=${dir}`, "admin.enableServer=false", "4lw.commands.whitelist=*", "maxClientCnxns=0", `maxSessionTimeout=${a.timeoutMs}`, ...lines, ""].join("\n"),
    );
    const proc = spawn(process.execPath, [a.main, "server", "start-foreground", cfg], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CORRAL_LOG_LEVEL: "warn" } });
    members.push({ id: i + 1, clientPort: client[i]!, proc });
  }
  return members;
}

function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((res) => {
    const s = tcpConnect({ host: "127.0.0.1", port });
    let out = "";
    s.on("connect", () => s.write(word));
    s.on("data", (d) => (out += d.toString()));
    s.on("close", () => res(out));
    s.on("error", () => res(""));
  });
}

async function modes(members: Member[]): Promise<string[]> {
  return Promise.all(members.map(async (m) => /Mode: (\w+)/.exec(await fourLetter(m.clientPort, "srvr"))?.[1] ?? "down"));
}

async function settled(members: Member[]): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ms = await modes(members);
    if (ms.filter((m) => m === "leader").length === 1 && ms.every((m) => m === "leader" || m === "follower")) return ms;
    if (Date.now() > deadline) throw new Error(`ensemble did not settle: ${ms.join(" ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A bare client: handshake, then a ping every timeout/3, nothing else. */
class PingingSession {
  readonly socket: Socket;
  sessionId = 0n;
  #timer: NodeJS.Timeout | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static open(port: number, timeoutMs: number): Promise<PingingSession> {
    return new Promise((res, rej) => {
      const socket = tcpConnect({ host: "127.0.0.1", port });
      const s = new PingingSession(socket);
      const parser = new FrameParser(1 << 20);
      let handshaken = false;
      socket.on("connect", () => {
        const w = new JuteWriter(64);
        w.int(0);
        writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: timeoutMs, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
        const b = w.toBuffer();
        b.writeInt32BE(b.length - 4, 0);
        socket.write(b);
      });
      socket.on("data", (chunk) => {
        for (const frame of parser.push(chunk)) {
          if (handshaken) continue; // ping replies
          handshaken = true;
          const r = readConnectResponse(new JuteReader(frame));
          s.sessionId = r.sessionId;
          if (r.sessionId === 0n) rej(new Error("session refused"));
          else res(s);
        }
      });
      socket.on("error", (e) => (handshaken ? undefined : rej(e)));
    });
  }

  /** Pings every `everyMs`, starting at a random phase (clients are not in step). */
  startPings(everyMs: number): void {
    const w = new JuteWriter(16);
    w.int(0);
    writeRequestHeader(w, Xid.ping, OpCode.ping);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    setTimeout(() => {
      this.socket.write(frame);
      this.#timer = setInterval(() => this.socket.write(frame), everyMs);
    }, Math.random() * everyMs);
  }

  close(): void {
    clearInterval(this.#timer);
    this.socket.destroy();
  }
}

/** utime + stime of a process, in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (1-based), i.e. 12 and 13 after the command name and state.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const root = await mkdtemp(join(tmpdir(), "corral-bench-pings-"));
  const members = await startEnsemble(a, root);
  const sessions: PingingSession[] = [];
  try {
    const ms = await settled(members);
    const leader = members[ms.indexOf("leader")]!;
    const followers = members.filter((m) => m !== leader);
    const t0 = performance.now();
    for (let i = 0; i < a.sessions; i += 200) {
      const batch = Array.from({ length: Math.min(200, a.sessions - i) }, (_, j) => PingingSession.open(followers[(i + j) % 2]!.clientPort, a.timeoutMs));
      sessions.push(...(await Promise.all(batch)));
    }
    const connectMs = performance.now() - t0;
    for (const s of sessions) s.startPings(a.timeoutMs / 3);
    // Let the connect burst settle and the ping phases spread out.
    await new Promise((r) => setTimeout(r, a.timeoutMs / 3 + 2000));
    const before = await Promise.all(members.map((m) => cpuMs(m.proc.pid!)));
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, a.seconds * 1000));
    const after = await Promise.all(members.map((m) => cpuMs(m.proc.pid!)));
    const wallMs = performance.now() - w0;
    const still = await modes(members);
    const report = members.map((m, i) => ({
      member: m.id,
      role: ms[i],
      cpuPercent: Number(((100 * (after[i]! - before[i]!)) / wallMs).toFixed(2)),
      cpuMs: Math.round(after[i]! - before[i]!),
    }));
    console.log(
      JSON.stringify(
        { main: a.main, sessions: a.sessions, tickMs: a.tickMs, sessionTimeoutMs: a.timeoutMs, windowMs: Math.round(wallMs), connectMs: Math.round(connectMs), modesAfter: still, members: report },
        null,
        2,
      ),
    );
  } finally {
    for (const s of sessions) s.close();
    for (const m of members) m.proc.kill("SIGKILL");
    await rm(root, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
