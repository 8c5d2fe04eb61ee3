// The worker pool a user writes (issue 13, reproduction 1), in a real child process: a
// worker blocked in jobQueue.take() with no keep-alive trick of its own survives a restart
// of the server (durable, same port, the session lives on), takes the job offered after
// the restart, acks it, and exits by itself once told to stop. Before the recipe layer
// held the client open, such a worker exited with code 0 as soon as the server went away.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { builtClient } from "../helpers/built-client.js";

/** The worker exactly as a user would write it: take, work, ack, until "stop". */
const WORKER = (clientModule: string): string => `
import { connect } from ${JSON.stringify(clientModule)};
const client = await connect(process.argv[2], { sessionTimeoutMs: 8000 });
const jobs = client.jobQueue("/pool");
console.log("ready " + client.sessionId);
for (;;) {
  const job = await jobs.take();
  console.log("job " + job.data.toString() + " " + client.sessionId);
  await job.ack();
  if (job.data.toString() === "stop") break;
}
await client.close();
`;

describe("a worker blocked in jobQueue.take() through `server restart`", () => {
  let dir: string;
  let script: string;
  let srv: TestServer | undefined;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "corral-worker-"));
    script = join(dir, "worker.mjs");
    writeFileSync(script, WORKER(builtClient()));
  });

  afterAll(async () => {
    child?.kill("SIGKILL");
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps running, takes the job offered after the restart on the same session, and exits by itself", async () => {
    const dataDir = join(dir, "data");
    srv = await startStandaloneForTest({ dataDir, tickMs: 500 });
    const port = srv.port;
    const proc = spawn(process.execPath, [script, srv.connectString], { stdio: ["ignore", "pipe", "inherit"] });
    child = proc;
    const lines: string[] = [];
    const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (chunk: string) => {
      for (const line of chunk.split("\n").filter((l) => l !== "")) {
        lines.push(line);
        for (const w of [...waiters]) {
          const m = w.re.exec(line);
          if (m !== null) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    });
    const line = (re: RegExp): Promise<RegExpExecArray> =>
      new Promise((resolve) => {
        for (const l of lines) {
          const m = re.exec(l);
          if (m !== null) return resolve(m);
        }
        waiters.push({ re, resolve });
      });
    const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));

    const sid = (await line(/^ready (\d+)$/))[1];
    const producer = async (data: string): Promise<void> => {
      const p = await connect(srv!.connectString);
      await p.jobQueue("/pool").offer(data);
      await p.close();
    };
    await producer("one");
    expect((await line(/^job one (\d+)$/))[1]).toBe(sid);
    // The worker is blocked in take() again; the server goes away and comes back.
    await srv.stop();
    srv = undefined;
    const died = exited.then((code) => {
      throw new Error(`the worker exited (code ${code}) while the server was away`);
    });
    died.catch(() => undefined);
    srv = await startStandaloneForTest({ dataDir, tickMs: 500, clientPort: port });
    await producer("two");
    expect((await Promise.race([line(/^job two (\d+)$/), died]))[1]).toBe(sid);
    await producer("stop");
    expect(await exited).toBe(0);
    expect(lines.filter((l) => l.startsWith("job "))).toEqual([`job one ${sid}`, `job two ${sid}`, `job stop ${sid}`]);
  }, 30_000);
});
