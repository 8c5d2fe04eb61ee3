/**
 * The worker pool a user writes (issue 13), as a user runs it: three pool processes, each
 * an election member and a job worker, written the plain way (no keep-alive trick, no
 * reconnect code), against a server started with `corral server start`; a producer (the
 * test) offers jobs, the workers take and ack. Then the operator runs `corral server
 * restart`: every pool process must still be running afterwards, one of them leads, and
 * the jobs offered after the restart are all done. Before the fix a worker blocked in
 * take() exited with code 0 while its client reconnected.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { freePort, LOOPBACK } from "../helpers/net.js";

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));
const CLIENT = fileURLToPath(new URL("../../dist/src/client/index.js", import.meta.url));
const WAIT_MS = 20_000;

/**
 * The pool program: what a user would write with the README's API. Nothing but the client
 * keeps it alive (no stdin, no timer): a pure worker, blocked in take() most of the time.
 * SIGTERM closes the client, and the process then ends by itself.
 */
const POOL = (connectString: string) => `
import { connect } from ${JSON.stringify(CLIENT)};
const id = process.argv[2];
const client = await connect(${JSON.stringify(connectString)}, { sessionTimeoutMs: 10000 });
const jobs = client.jobQueue("/pool/jobs");
const election = client.election("/pool/leader", id);
election.onLeadershipChange((leading) => console.log(leading ? "leading" : "not-leading"));
await election.join();
console.log("member");
let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
  void client.close();
});
while (!stopping) {
  const job = await jobs.take().catch((e) => { if (!stopping) console.log("take failed " + e.name + " " + e.message); return undefined; });
  if (job === undefined) continue;
  await job.ack().then(() => console.log("done " + job.data.toString()), (e) => console.log("ack failed " + e.name + " " + e.message));
}
`;

interface Member {
  id: string;
  proc: ChildProcess;
  lines: string[];
  exited: number | null | undefined;
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CORRAL, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    p.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`corral ${args.join(" ")}: no exit within ${WAIT_MS} ms: ${out}`));
    }, WAIT_MS);
    p.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Resolves once `probe` holds, checked on every chunk the pool prints and every exit; rejects after WAIT_MS. */
function until(members: Member[], what: string, probe: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!probe()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what}; pool output: ${JSON.stringify(members.map((m) => [m.id, m.exited, m.lines.slice(-30)]))}`));
    }, WAIT_MS);
    const done = (): void => {
      clearTimeout(timer);
      for (const m of members) {
        m.proc.stdout!.off("data", check);
        m.proc.off("exit", check);
      }
    };
    for (const m of members) {
      m.proc.stdout!.on("data", check);
      m.proc.on("exit", check);
    }
    check();
  });
}

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

describe("a worker pool through `corral server restart`", () => {
  it("keeps every worker running, keeps a leader, and does every job offered after the restart", { timeout: 90_000 }, async () => {
    expect(existsSync(CLIENT), "npm test builds dist/ first").toBe(true);
    const dir = await mkdtemp(join(tmpdir(), "corral-pool-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const cfg = join(dir, "zoo.cfg");
    await writeFile(cfg, [`tickTime=500`, `dataDir=${join(dir, "data")}`, `clientPort=${port}`, `clientPortAddress=${LOOPBACK}`, "admin.enableServer=false", ""].join("\n"));
    expect((await run(["server", "start", cfg])).code).toBe(0);
    cleanup.push(async () => {
      await run(["server", "stop", cfg]);
      const pidFile = join(dir, "data", "corral_server.pid");
      if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    });
    const program = join(dir, "pool.mjs");
    await writeFile(program, POOL(`${LOOPBACK}:${port}`));

    const members: Member[] = ["w1", "w2", "w3"].map((id) => {
      const proc = spawn(process.execPath, [program, id], { stdio: ["ignore", "pipe", "inherit"] });
      const m: Member = { id, proc, lines: [], exited: undefined };
      let buf = "";
      proc.stdout!.setEncoding("utf8").on("data", (c: string) => {
        buf += c;
        const parts = buf.split("\n");
        buf = parts.pop()!;
        m.lines.push(...parts);
      });
      proc.once("exit", (code) => (m.exited = code));
      return m;
    });
    cleanup.push(() => {
      for (const m of members) if (m.exited === undefined) m.proc.kill("SIGKILL");
    });
    const leading = (m: Member): boolean => m.lines.filter((l) => l === "leading" || l === "not-leading").at(-1) === "leading";
    const leaders = (): Member[] => members.filter(leading);
    const done = (): Set<string> => new Set(members.flatMap((m) => m.lines.filter((l) => l.startsWith("done ")).map((l) => l.slice(5))));
    const producer = await connect(`${LOOPBACK}:${port}`, { sessionTimeoutMs: 10_000 });
    cleanup.push(() => producer.close());
    const offer = async (batch: string[]): Promise<void> => {
      for (const job of batch) await producer.jobQueue("/pool/jobs").offer(job);
      await until(members, `jobs ${batch.join(",")} done`, () => batch.every((j) => done().has(j)));
    };

    await until(members, "every member joined", () => members.every((m) => m.lines.includes("member")));
    await until(members, "one leader", () => leaders().length === 1);
    await offer(["a1", "a2", "a3", "a4", "a5"]);

    const restarted = await run(["server", "restart", cfg]);
    expect(restarted.code, restarted.out).toBe(0);
    expect(members.map((m) => m.exited)).toEqual([undefined, undefined, undefined]);

    await offer(["b1", "b2", "b3", "b4", "b5"]);
    await until(members, "one leader after the restart", () => leaders().length === 1);
    expect(members.map((m) => m.exited)).toEqual([undefined, undefined, undefined]);
    // The sessions lived through the restart: nobody's take or ack failed for good.
    expect(members.flatMap((m) => m.lines.filter((l) => l.startsWith("ack failed")))).toEqual([]);

    for (const m of members) m.proc.kill("SIGTERM");
    await until(members, "every member stopped", () => members.every((m) => m.exited !== undefined));
    expect(members.map((m) => m.exited)).toEqual([0, 0, 0]);
  });
});
