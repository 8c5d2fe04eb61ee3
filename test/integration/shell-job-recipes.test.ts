/**
 * `corral cli`'s `jobqueue`, `semaphore` and `doublebarrier` commands (issue 16), run as
 * users run them (`node bin/corral.js cli -server ...`, the built dist/) against an
 * in-process Corral server on 127.0.0.1: a taken job waits for `ack`, `nack` or
 * `extend MS` on the next lines; a blocking command says "Waiting for ..." on stderr
 * after a second; what a command holds is released on Enter.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));
const RUN_TIMEOUT_MS = 30_000;
const ENV = { ...process.env, TZ: "UTC" };

let t: TestServer;
let zk: CorralClient;

beforeAll(async () => {
  t = await startStandaloneForTest({ tickMs: 50 });
  zk = await connect(t.connectString);
});

afterAll(async () => {
  await zk?.close();
  await t?.stop();
});

/** A `corral cli` process fed line by line; waits on its output events, not on a timer. */
class LiveShell {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<number | null>;
  #changed: () => void = () => {};

  constructor(args: string[] = []) {
    this.child = spawn(process.execPath, [CORRAL, "cli", "-server", t.connectString, ...args], { env: ENV, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      this.stdout += c;
      this.#changed();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (c: string) => {
      this.stderr += c;
      this.#changed();
    });
    this.done = new Promise((resolve) => this.child.once("close", resolve));
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** The first match of `pattern` on `stream`, once the output has it (or the process ended without it). */
  async waitFor(pattern: RegExp, stream: "stdout" | "stderr" = "stdout"): Promise<RegExpMatchArray> {
    const deadline = setTimeout(() => this.child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    try {
      for (;;) {
        const m = this[stream].match(pattern);
        if (m !== null) return m;
        const more = await Promise.race([new Promise<boolean>((resolve) => (this.#changed = () => resolve(true))), this.done.then(() => false)]);
        if (!more && this[stream].match(pattern) === null) {
          throw new Error(`${pattern} never came on ${stream}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
        }
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  async end(): Promise<number | null> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `corral cli -server <server> args...` with `input` on stdin, to its exit. */
async function cli(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const sh = new LiveShell(args);
  sh.child.stdin!.on("error", () => undefined);
  sh.child.stdin!.end(input);
  const timer = setTimeout(() => sh.child.kill("SIGKILL"), RUN_TIMEOUT_MS);
  try {
    const code = await sh.done;
    return { code, stdout: sh.stdout, stderr: sh.stderr };
  } finally {
    clearTimeout(timer);
  }
}

const SYNCED = /WatchedEvent state:SyncConnected type:None path:null\n/;

describe("corral cli, job queues", () => {
  it("offer and size; take prints the data, waits for a decision, and Enter acks", async () => {
    const r = await cli([], ["jobqueue offer /cj one", "jobqueue offer /cj two", "jobqueue size /cj", "jobqueue take /cj", "", "jobqueue size /cj", "quit", ""].join("\n"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\n2\n(?:[^\n]*\n)*?one\n(?:[^\n]*\n)*?1\n/);
    expect(r.stderr).toMatch(/^Offered \/cj\/qn-0000000000\nOffered \/cj\/qn-0000000001\nTook \/cj\/_c_[0-9a-f-]+-inflight-qn-0000000000 \(delivery 1\)\nAcked \/cj\/_c_[0-9a-f-]+-inflight-qn-0000000000\n$/);
    expect(await zk.getChildren("/cj")).toEqual(["qn-0000000001"]);
  });

  it("nack hands the job back for the next taker, counted; extend renames it and keeps it", async () => {
    await zk.jobQueue("/cn").offer("job");
    const sh = new LiveShell();
    sh.send("jobqueue take /cn -t 200");
    await sh.waitFor(/Took (\S+) \(delivery 1\)\n/, "stderr");
    sh.send("extend 60000");
    const ext = await sh.waitFor(/Extended (\S+~60000) by 60000 ms\n/, "stderr");
    // Past the first 200 ms timeout, the job is still the shell's.
    await expect(zk.jobQueue("/cn").take({ timeoutMs: 600 })).rejects.toMatchObject({ code: "OperationTimeout" });
    expect(await zk.exists(ext[1]!)).not.toBeNull();
    sh.send("nack");
    await sh.waitFor(new RegExp(`Handed back ${ext[1]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`), "stderr");
    const again = await zk.jobQueue("/cn").take({ timeoutMs: 5000 });
    expect(again).toMatchObject({ data: Buffer.from("job"), deliveries: 2 });
    await again.ack();
    expect(await sh.end()).toBe(0);
  });

  it("end of input hands a taken job back; another command typed meanwhile runs after it", async () => {
    await zk.jobQueue("/ce").offer("x");
    const r = await cli(["jobqueue", "take", "/ce"], "");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("x");
    expect(r.stderr).toMatch(/Handed back \/ce\/\S+\n$/);
    const s = await cli([], ["jobqueue take /ce", "ls /ce", "quit", ""].join("\n"));
    expect(s.stderr).toMatch(/Took \/ce\/\S+inflight-qn-d1-0000000000 \(delivery 2\)\nHanded back/);
    expect(s.stdout).toMatch(/\n\[qn-d2-0000000000\]\n/);
  });

  it("a take on an empty queue says what it waits for after a second, then gets the offered item", async () => {
    const sh = new LiveShell();
    sh.send("jobqueue take /cw");
    await sh.waitFor(SYNCED);
    await sh.waitFor(/Waiting for a job of \/cw; Ctrl-C to give up\n/, "stderr");
    expect(sh.stdout).not.toContain("late");
    await zk.jobQueue("/cw").offer("late");
    await sh.waitFor(/\nlate\n/);
    sh.send("ack");
    await sh.waitFor(/Acked /, "stderr");
    expect(await sh.end()).toBe(0);
  });

  it("delayed offers and dead-letter options; bad options are refused with the usage", async () => {
    // "later" stays invisible well past this session, so the take gets "poison".
    const r = await cli([], ["jobqueue offer /cd later -d 1500", "jobqueue offer /cd poison -m 1 -l /cd-dead", "jobqueue take /cd -m 1 -l /cd-dead", "nack", "quit", ""].join("\n"));
    expect(r.stderr).toMatch(/Offered \/cd\/qd-1500-0000000000, visible in 1500 ms\n/);
    expect(r.stdout).toMatch(/\npoison\n/);
    expect(r.stderr).toMatch(/Handed back /);
    // Delivered once and not acked: moved to the dead letters, with its count; "later" came after.
    const dead = await zk.jobQueue("/cd-dead").take({ timeoutMs: 5000 });
    expect(dead).toMatchObject({ data: Buffer.from("poison"), deliveries: 2 });
    await dead.ack();
    expect((await zk.jobQueue("/cd").take({ timeoutMs: 5000 })).data.toString()).toBe("later");
    const bad = await cli(["jobqueue", "offer", "/cd", "x", "-m", "2"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("-m maxDeliveries and -l deadLetterPath go together");
    const usage = await cli(["jobqueue", "peek", "/cd"]);
    expect(usage.stderr).toContain(`jobqueue offer|take|size path [data] [-d delayMs] [-t visibilityMs] [-m maxDeliveries -l deadLetterPath]`);
  });
});

describe("corral cli, semaphores and double barriers", () => {
  it("semaphore: acquires a permit, waits while the permits are taken, releases on Enter", async () => {
    const held = await zk.semaphore("/cs", 1);
    const sh = new LiveShell();
    sh.send("semaphore acquire /cs 1");
    await sh.waitFor(/Waiting for a permit of \/cs \(1 permits\); Ctrl-C to give up\n/, "stderr");
    expect(sh.stdout).not.toContain("Acquired");
    await held.release();
    const m = await sh.waitFor(/Acquired a permit of \/cs: (\/cs\/\S+lease-\d{10}), fencing token (\d+)\n/);
    expect(BigInt(m[2]!)).toBe((await zk.exists(m[1]!))!.czxid);
    sh.send("");
    await sh.waitFor(/Released \/cs\/\S+\n/, "stderr");
    expect(await zk.getChildren("/cs")).toEqual([]);
    expect(await sh.end()).toBe(0);
    const bad = await cli(["semaphore", "acquire", "/cs", "0"]);
    expect(bad.stderr).toContain("semaphore acquire path permits");
  });

  it("doublebarrier: enter waits for the count, Enter leaves once everyone has left", async () => {
    const other = zk.doubleBarrier("/cb", 2);
    const sh = new LiveShell();
    sh.send("doublebarrier enter /cb 2");
    await sh.waitFor(/Waiting for 2 participants to enter \/cb; Ctrl-C to give up\n/, "stderr");
    await other.enter();
    await sh.waitFor(/Entered double barrier \/cb \(2 participants\)\n/, "stderr");
    sh.send("");
    await sh.waitFor(/Waiting for every participant to leave \/cb; Ctrl-C to give up\n/, "stderr");
    expect(sh.stderr).not.toContain("Left double barrier");
    await other.leave();
    await sh.waitFor(/Left double barrier \/cb\n/, "stderr");
    expect(await sh.end()).toBe(0);
  });
});
