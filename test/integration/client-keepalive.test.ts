// Keep-alive (issue 13, reproduction 1): a process whose only work is a held recipe (a
// lock held, a take waiting) must not exit while the client reconnects through a server
// restart. Two child processes connect to one server; one takes `holdOpen()`, the other
// does not. The server stops: the one without a hold exits (nothing keeps its event loop
// alive between reconnect attempts, as before), the one with the hold stays; the server
// comes back on the same port and the holder gets its (new) session, then exits by itself.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { builtClient } from "../helpers/built-client.js";

const CHILD = (clientModule: string): string => `
import { ZooKeeperClient } from ${JSON.stringify(clientModule)};
const [connectString, mode] = process.argv.slice(2);
const c = new ZooKeeperClient(connectString, { sessionTimeoutMs: 4000 });
let release;
c.on("connectionState", (state) => {
  console.log(state);
  if (state === "RECONNECTED") {
    release?.();
    void c.close();
  }
});
await c.start();
if (mode === "hold") release = c.holdOpen();
console.log("ready");
`;

interface Child {
  proc: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
  ready: Promise<void>;
}

function spawnChild(script: string, connectString: string, mode: "hold" | "none"): Child {
  const proc = spawn(process.execPath, [script, connectString, mode], { stdio: ["ignore", "pipe", "inherit"] });
  const out: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (chunk: string) => {
    for (const line of chunk.split("\n").filter((l) => l !== "")) {
      out.push(line);
      if (line === "ready") onReady();
    }
  });
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  return { proc, out, exited, ready };
}

describe("keep-alive through a server restart", () => {
  let dir: string;
  let script: string;
  let srv: TestServer | undefined;
  const children: Child[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "corral-keepalive-"));
    script = join(dir, "child.mjs");
    writeFileSync(script, CHILD(builtClient()));
  });

  afterAll(async () => {
    for (const c of children) c.proc.kill("SIGKILL");
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a process holding the client open survives the restart and gets its session back; one with nothing held exits", async () => {
    srv = await startStandaloneForTest({ tickMs: 200 });
    const port = srv.port;
    const holder = spawnChild(script, srv.connectString, "hold");
    const idle = spawnChild(script, srv.connectString, "none");
    children.push(holder, idle);
    await Promise.all([holder.ready, idle.ready]);
    await srv.stop();
    srv = undefined;
    // Without a hold nothing keeps the loop alive between reconnect attempts: it exits.
    expect(await idle.exited).toBe(0);
    expect(idle.out).not.toContain("RECONNECTED");
    expect(holder.proc.exitCode).toBeNull();
    expect(holder.out).toContain("SUSPENDED");
    srv = await startStandaloneForTest({ tickMs: 200, clientPort: port });
    expect(await holder.exited).toBe(0);
    // The restarted (in-memory) server has forgotten the session: LOST, then a new one.
    expect(holder.out).toContain("RECONNECTED");
    expect(holder.out.at(-1)).toBe("CLOSED");
  }, 30_000);
});
