/**
 * `corral cli`, Corral's zkCli, run as users run it (`node bin/corral.js cli -server ...`)
 * against an in-process Corral server on 127.0.0.1: sessions piped through stdin (no
 * prompt, as zkCli without a terminal), one-shot commands and their exit codes, watch
 * events, the recipe commands, and — where Apache's zkCli is installed — the same script
 * through both shells, whose outputs must be identical once times and zxids are masked.
 *
 * zkCli 3.8's streams: results (data, stat blocks, lists, events) on stdout;
 * confirmations ("Created /x") and errors on stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { runProcess } from "../helpers/run-process.js";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { freePort } from "../helpers/net.js";
import { hexLong, javaDateUtc, statLines, zkCliSession } from "../helpers/zkcli.js";
import { findZooKeeperInstall, inCi, INSTALL_HINT } from "../helpers/zookeeper-install.js";

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));
const RUN_TIMEOUT_MS = 30_000;
const ENV = { ...process.env, TZ: "UTC" };

let t: TestServer;
let zk: CorralClient;

beforeAll(async () => {
  t = await startStandaloneForTest({ extendedTypesEnabled: true, containerCheckIntervalMs: 3_600_000 });
  zk = await connect(t.connectString);
});

afterAll(async () => {
  await zk?.close();
  await t?.stop();
});

interface Run {
  code: number | null;
  stdout: string[];
  stderr: string[];
  rawStdout: string;
}

function lines(text: string): string[] {
  const all = text.split("\n");
  if (all.at(-1) === "") all.pop();
  return all;
}

/** `corral cli -server <server> args...`, with `input` on stdin. */
async function cli(args: string[], input = "", server = t.connectString): Promise<Run> {
  const r = await runProcess(process.execPath, [CORRAL, "cli", "-server", server, ...args], { env: ENV, input, timeoutMs: RUN_TIMEOUT_MS });
  return { code: r.code, stdout: lines(r.stdout), stderr: lines(r.stderr), rawStdout: r.stdout };
}

/** Several commands in one shell session, piped, then `quit` (or end of input). */
function session(commands: string[], quit = true): Promise<Run> {
  return cli([], [...commands, ...(quit ? ["quit"] : []), ""].join("\n"));
}

/** What every session prints before its first command (and after quit). */
const BANNER = ["Connecting to " + "SERVER", "Welcome to ZooKeeper!", "JLine support is disabled", "", "WATCHER::", "", "WatchedEvent state:SyncConnected type:None path:null"];
const banner = (): string[] => BANNER.map((l) => l.replace("SERVER", t.connectString));
const CLOSED = ["", "WATCHER::", "", "WatchedEvent state:Closed type:None path:null"];
const event = (type: string, path: string): string[] => ["", "WATCHER::", "", `WatchedEvent state:SyncConnected type:${type} path:${path}`];

const STAT_BLOCK: RegExp[] = [
  /^cZxid = 0x[0-9a-f]+$/,
  /^ctime = (Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d UTC \d{4}$/,
  /^mZxid = 0x[0-9a-f]+$/,
  /^mtime = \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}$/,
  /^pZxid = 0x[0-9a-f]+$/,
  /^cversion = \d+$/,
  /^dataVersion = \d+$/,
  /^aclVersion = \d+$/,
  /^ephemeralOwner = 0x[0-9a-f]+$/,
  /^dataLength = \d+$/,
  /^numChildren = \d+$/,
];

/** Every line matches its string or pattern, and there are as many lines as expected. */
function expectLines(actual: string[], expected: (string | RegExp)[]): void {
  const shown = `\nactual:\n${actual.join("\n")}`;
  expect(actual.length, `line count${shown}`).toBe(expected.length);
  expected.forEach((e, i) => {
    if (typeof e === "string") expect(actual[i], `line ${i + 1}${shown}`).toBe(e);
    else expect(actual[i], `line ${i + 1}${shown}`).toMatch(e);
  });
}

describe("corral cli, piped session", () => {
  it("creates, reads and lists znodes with zkCli's output", async () => {
    const r = await session([
      "create /s1 hello",
      "create /s1 again",
      "create -s /s1/seq- a",
      "create -e /s1/eph",
      "create -c /s1/box",
      "create -t 60000 /s1/ttl",
      "create -s -e /s1/se-",
      "get /s1",
      "get -s /s1",
      "stat /s1",
      "ls /s1",
      "ls -s /s1",
      "ls -R /s1",
      "getAllChildrenNumber /s1",
      "getEphemerals /s1",
      "create '/s1/q' 'hello world'",
      "get /s1/q",
      "get /s1/missing",
      "create /s1/bad/child",
    ]);
    expect(r.code).toBe(1); // the last command before quit failed
    expectLines(r.stdout, [
      ...banner(),
      "hello",
      "hello",
      ...STAT_BLOCK,
      ...STAT_BLOCK,
      "[box, eph, se-0000000004, seq-0000000000, ttl]",
      "[box, eph, se-0000000004, seq-0000000000, ttl]",
      ...STAT_BLOCK,
      "/s1",
      "/s1/box",
      "/s1/eph",
      "/s1/se-0000000004",
      "/s1/seq-0000000000",
      "/s1/ttl",
      "5",
      "[/s1/eph, /s1/se-0000000004]",
      "hello world",
      ...CLOSED,
    ]);
    // get -s and stat print the same Stat, with five children.
    const at = banner().length + 2;
    expect(r.stdout.slice(at + 11, at + 22)).toEqual(r.stdout.slice(at, at + 11));
    expect(r.stdout[at + 10]).toBe("numChildren = 5");
    expectLines(r.stderr, [
      "Created /s1",
      "Node already exists: /s1",
      "Created /s1/seq-0000000000",
      "Created /s1/eph",
      "Created /s1/box",
      "Created /s1/ttl",
      "Created /s1/se-0000000004",
      "Created /s1/q",
      "Node does not exist: /s1/missing",
      "Node does not exist: /s1/bad/child",
    ]);
  });

  it("sets, deletes and checks versions and permissions with ZooKeeper's messages", async () => {
    await zk.create("/s2");
    await zk.create("/s2/a", "1");
    await zk.create("/s2/a/b");
    const r = await session([
      "set /s2 v1",
      "set -s /s2 v2",
      "set -v 7 /s2 v3",
      "delete /s2",
      "delete -v 9 /s2/a/b",
      "delete /s2/a/b",
      "delete /s2/nope",
      "deleteall /s2/a",
      "ls /s2",
      "getAcl /s2",
      "addauth digest u:p",
      "create /s2/mine d auth:u:p:cdrwa",
      "getAcl -s /s2/mine",
      "setAcl /s2/mine world:anyone:r",
      "getAcl /s2/mine",
      "set /s2/mine nope",
      "setAcl -R /s2 world:anyone:cdrwa",
      "create /s2/bad x bogus",
      "create /s2/c x world:anyone:crx",
      "sync /s2",
      "whoami",
      "version",
    ]);
    const mine = (await zk.getACL("/s2/mine")).stat;
    expect(r.code).toBe(0);
    expectLines(r.stdout, [
      ...banner(),
      ...STAT_BLOCK, // set -s
      "[]",
      "'world,'anyone",
      ": cdrwa",
      "'digest,'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=",
      ": cdrwa",
      ...STAT_BLOCK,
      "'world,'anyone",
      ": r",
      // setAcl -R visits /s2 and /s2/mine; /s2/mine's failure prints without a line end, as in zkCli.
      "KeeperErrorCode = NoAuth for /s2/mineSync is OK",
      "Auth scheme: User",
      "ip: 127.0.0.1",
      "digest: u",
      /^ZooKeeper CLI version: 3\.\d+\.\d+-corral-/,
      ...CLOSED,
    ]);
    expect(mine.aversion).toBe(1);
    expectLines(r.stderr, [
      "version No is not valid : /s2",
      "Node not empty: /s2",
      "version No is not valid : /s2/a/b",
      "Node does not exist: /s2/nope",
      "Created /s2/mine",
      "Insufficient permission : /s2/mine",
      "bogus does not have the form scheme:id:perm",
      "KeeperErrorCode = InvalidACL",
      "Acl is not valid : null",
      "Unknown perm type: x",
      "Created /s2/c",
    ]);
  });

  it("prints watch events as zkCli does, and printwatches turns them off", async () => {
    await zk.create("/s3", "x");
    const r = await session([
      "get -w /s3",
      "set /s3 y",
      "ls -w /s3",
      "create /s3/k",
      "stat -w /s3/k",
      "delete /s3/k",
      "addWatch /s3",
      "create /s3/deep",
      "removewatches /s3 -c",
      "get -w /s3",
      "removewatches /s3 -d",
      "printwatches",
      "printwatches off",
      "set /s3 z",
      "printwatches on",
      "printwatches",
    ]);
    expectLines(r.stdout, [
      ...banner(),
      "x",
      ...event("NodeDataChanged", "/s3"),
      "[]",
      ...event("NodeChildrenChanged", "/s3"),
      ...STAT_BLOCK,
      ...event("NodeDeleted", "/s3/k"),
      ...event("NodeCreated", "/s3/deep"),
      "y",
      ...event("DataWatchRemoved", "/s3"),
      "printwatches is on",
      "printwatches is on",
      ...CLOSED,
    ]);
    expectLines(r.stderr, ["Created /s3/k", "Created /s3/deep", "KeeperErrorCode = No such watcher for /s3"]);
  });

  it("keeps zkCli's history, redo, close and connect", async () => {
    const r = await session(["create /s4 a", "get /s4", "redo 1", "redo 7", "history", "close", "get /s4", "connect " + t.connectString, "get /s4"]);
    expectLines(r.stdout, [
      ...banner(),
      "a",
      "a",
      "0 - create /s4 a",
      "1 - get /s4",
      "2 - get /s4",
      "3 - redo 7",
      "4 - history",
      ...CLOSED,
      "Not connected",
      "",
      "WATCHER::",
      "",
      "WatchedEvent state:SyncConnected type:None path:null",
      "a",
      ...CLOSED,
    ]);
    expectLines(r.stderr, ["Created /s4", "Command index out of range"]);
  });

  it("fails unknown commands and bad options with zkCli's usage and messages", async () => {
    const r = await session(["bogus", "create -x /a", "create /a -t", "create", "ls /s5 extra", "get //x", "get noslash", "create -c -s /a"], false);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toBe("ZooKeeper -server host:port -client-configuration properties-file cmd args");
    expect(r.stderr).toContain("\taddWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE");
    expect(r.stderr).toContain("\tclose ");
    expect(r.stderr).toContain("\tlock read|write path");
    const after = r.stderr.slice(r.stderr.indexOf("Command not found: Command not found bogus"));
    expectLines(after, [
      "Command not found: Command not found bogus",
      "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x",
      "org.apache.commons.cli.MissingArgumentException: Missing argument for option: t",
      "create [-s] [-e] [-c] [-t ttl] path [data] [acl]",
      "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.",
      "Node does not exist: /s5",
      'Invalid path string "//x" caused by empty node name specified @1',
      "Path must start with / character",
      "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
    ]);
  });
});

describe("corral cli, one command", () => {
  it("runs the command and exits with its status: 0, 1, 127", async () => {
    const created = await cli(["create", "/one", "data"]);
    expect(created.code).toBe(0);
    expectLines(created.stdout, [`Connecting to ${t.connectString}`, "", "WATCHER::", "", "WatchedEvent state:SyncConnected type:None path:null"]);
    expectLines(created.stderr, ["Created /one"]);
    const got = await cli(["get", "-s", "/one"]);
    expect(got.code).toBe(0);
    expectLines(got.stdout.slice(5), ["data", ...statLines((await zk.exists("/one"))!)]);
    const missing = await cli(["get", "/none"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toEqual(["Node does not exist: /none"]);
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(127);
    expect(unknown.stderr.at(-1)).toBe("Command not found: Command not found frobnicate");
    const usage = await cli(["set", "/one"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toEqual(["set [-s] [-v version] path data"]);
  });

  it("fails with ConnectionLoss, quickly, when no server answers", async () => {
    const port = await freePort();
    const started = performance.now();
    const r = await cli(["-timeout", "2000", "ls", "/"], "", `127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([`Connecting to 127.0.0.1:${port}`]);
    expect(r.stderr).toEqual(["KeeperErrorCode = ConnectionLoss for /"]);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("closes its session on exit, so its ephemerals go at once", async () => {
    const r = await cli(["create", "-e", "/one-eph"]);
    expect(r.code).toBe(0);
    expect(await zk.exists("/one-eph")).toBeNull();
  });
});

/** A shell kept open, driven line by line (for commands that block). */
class LiveShell {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly done: Promise<number | null>;

  constructor(args: string[] = []) {
    this.child = spawn(process.execPath, [CORRAL, "cli", "-server", t.connectString, ...args], { env: ENV, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (c: string) => (this.stdout += c));
    this.child.stderr!.setEncoding("utf8").on("data", (c: string) => (this.stderr += c));
    this.done = new Promise((resolve) => this.child.once("close", resolve));
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async waitFor(pattern: RegExp, stream: "stdout" | "stderr" = "stdout"): Promise<RegExpMatchArray> {
    for (let i = 0; i < 500; i++) {
      const m = this[stream].match(pattern);
      if (m !== null) return m;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${pattern} on ${stream}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
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

describe("corral cli, recipes", () => {
  it("lock: waits behind a holder, prints the fencing token, holds until Enter", async () => {
    const held = await zk.writeLock("/rlock");
    const sh = new LiveShell();
    sh.send("lock write /rlock");
    await sh.waitFor(/WatchedEvent state:SyncConnected type:None/);
    // Blocked behind the holder, it says what it waits for (on stderr), and acquires nothing.
    await sh.waitFor(/Waiting for the write lock on \/rlock; Ctrl-C to give up\n/, "stderr");
    expect(sh.stdout).not.toContain("Acquired");
    await held.release();
    const m = await sh.waitFor(/Acquired write lock on \/rlock: (\/rlock\/(?:_c_[0-9a-f-]+-)?write__lock__\d{10}), fencing token (\d+)\n/);
    const node = m[1]!;
    expect(BigInt(m[2]!)).toBe((await zk.exists(node))!.czxid);
    expect(BigInt(m[2]!)).toBeGreaterThan(held.token);
    // Held until Enter: the node is still there.
    expect(await zk.exists(node)).not.toBeNull();
    sh.send("");
    await sh.waitFor(new RegExp(`Released ${node}\\n`), "stderr");
    expect(await zk.exists(node)).toBeNull();
    sh.send("lock read /rlock");
    sh.send("ls /rlock");
    await sh.waitFor(/Acquired read lock on \/rlock: \/rlock\/(?:_c_[0-9a-f-]+-)?read__rlock__\d{10}, fencing token \d+\n/);
    // `ls` typed while holding releases the lock and then runs.
    await sh.waitFor(/\n\[\]\n/);
    expect(await sh.end()).toBe(0);
  });

  it("one-shot lock: Enter on stdin releases it", async () => {
    const r = await cli(["lock", "write", "/rlock1"], "\n");
    expect(r.code).toBe(0);
    // The engine names the node for the request (protected: "_c_<requestId>-").
    const m = /^Acquired write lock on \/rlock1: (\/rlock1\/(?:_c_[0-9a-f-]+-)?write__lock__0000000000), fencing token \d+$/.exec(r.stdout.at(-1) ?? "");
    expect(m).not.toBeNull();
    // (A "Waiting for ..." note would only come if the uncontended grant took over a second.)
    expect(r.stderr.filter((l) => !l.startsWith("Waiting for "))).toEqual([`Released ${m![1]}`]);
  });

  it("queue: offer, size, peek, take (waiting for an item), empty", async () => {
    const r = await session(["create /rq", "queue offer /rq one", "queue offer /rq two", "queue size /rq", "queue peek /rq", "queue take /rq", "queue take /rq", "queue size /rq", "queue peek /rq"]);
    expectLines(r.stdout, [...banner(), "2", "one", "one", "two", "0", ...CLOSED]);
    expectLines(r.stderr, ["Created /rq", "Offered /rq/qn-0000000000", "Offered /rq/qn-0000000001", "Queue is empty: /rq"]);
    const sh = new LiveShell();
    sh.send("queue take /rq");
    await sh.waitFor(/type:None path:null\n/);
    await zk.queue("/rq").offer("late");
    await sh.waitFor(/\nlate\n/);
    expect(await sh.end()).toBe(0);
  });

  it("election: join leads an empty election, leader and members report it", async () => {
    const other = zk.election("/rel", "in-process");
    const sh = new LiveShell();
    sh.send("election join /rel shell");
    await sh.waitFor(/Joined election \/rel\n/, "stderr");
    await sh.waitFor(/Leading \/rel\n/);
    await other.join();
    const r = await session(["election leader /rel", "election members /rel"]);
    expectLines(r.stdout, [...banner(), "shell", "[shell, in-process]", ...CLOSED]);
    sh.send("");
    await sh.waitFor(/Left election \/rel\n/, "stderr");
    expect(await sh.end()).toBe(0);
    await new Promise((r) => setTimeout(r, 0));
    expect((await zk.election("/rel").leader())?.data.toString()).toBe("in-process");
    await other.leave();
  });

  it("barrier: wait blocks until the barrier is removed", async () => {
    const sh = new LiveShell();
    sh.send("barrier set /rb");
    await sh.waitFor(/Barrier set: \/rb\n/, "stderr");
    sh.send("barrier wait /rb");
    sh.send("get /rb");
    // The shell's session has sent its wait (xid 1 was the set, 2 the recipe-mode probe, 3 the wait).
    const shellConn = (): { lastCxid: number } | undefined => [...t.server.connections()].find((c) => c.sessionId !== zk.sessionId);
    for (let i = 0; i < 500 && (shellConn()?.lastCxid ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(shellConn()?.lastCxid).toBe(3);
    await zk.sync("/rb");
    expect(sh.stderr).not.toContain("Barrier passed");
    expect(sh.stdout).not.toMatch(/\nnull\n/);
    await zk.delete("/rb");
    await sh.waitFor(/Barrier passed: \/rb\n/, "stderr");
    await sh.waitFor(/Node does not exist: \/rb\n/, "stderr");
    expect(await sh.end()).toBe(1);
  });
});

const zkCliSkip = findZooKeeperInstall().zkCli === undefined && !inCi() ? `zkCli.sh not found; ${INSTALL_HINT}` : undefined;

describe.skipIf(zkCliSkip !== undefined)("corral cli against Apache zkCli", () => {
  it("prints exactly what zkCli prints for the same session", async () => {
    const script = (root: string): string[] => [
      `create ${root} hello`,
      `create ${root} again`,
      `create -s ${root}/seq- a`,
      `create -e ${root}/eph`,
      `get -s ${root}`,
      `ls -s ${root}`,
      `ls -R ${root}`,
      `stat ${root}/eph`,
      `set -s ${root} v2`,
      `set -v 99 ${root} v3`,
      `get -w ${root}`,
      `set ${root} v4`,
      `ls -w ${root}`,
      `create ${root}/child`,
      `getAcl -s ${root}`,
      `setAcl ${root}/child world:anyone:cdr`,
      `getAcl ${root}/child`,
      `delete ${root}`,
      `deleteall ${root}/nothing`,
      `getAllChildrenNumber ${root}`,
      `getEphemerals ${root}`,
      `sync ${root}`,
      `whoami`,
      `addauth digest who:pw`,
      `whoami`,
      `create ${root}/p x digest:who:bm8=:r`,
      `set ${root}/p y`,
      `history`,
      `printwatches`,
      `get noslash`,
      `create -t x ${root}/t`,
      `bogus`,
    ];
    const mask = (text: string, root: string): string =>
      text
        .replaceAll(root, "ROOT")
        .replace(/0x[0-9a-f]+/g, "0xZ")
        .replace(/\w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}/g, "DATE");
    const java = await zkCliSession(t.connectString, script("/diff-java"));
    const ours = await session(script("/diff-corral"), true);
    // zkCli's helper strips its banner, connection events and noise; do the same to ours.
    const oursOut = ours.stdout
      .slice(banner().length)
      .join("\n")
      .replace(/\n?\nWATCHER::\n\n(WatchedEvent state:(SyncConnected|Closed) type:None path:null)/g, "")
      .replace(/\n?\nWATCHER::\n/g, "")
      .replace(/\n\n(WatchedEvent )/g, "\n$1");
    const javaOut = java.stdout.join("\n");
    // Corral's recipe commands are the only additions to zkCli's usage.
    const ourErr = ours.stderr.filter((l) => !/^\t(barrier|doublebarrier|election|jobqueue|lock|queue|semaphore) /.test(l));
    // A watch event is printed when it arrives, by both shells, so where it falls among
    // the next commands' output is a race in either (zkCli prints from its event thread):
    // compare the command output in order and the events as a set.
    const isEvent = (l: string): boolean => l.startsWith("WatchedEvent ");
    const ourLines = mask(oursOut, "/diff-corral").split("\n");
    const javaLines = mask(javaOut, "/diff-java").split("\n");
    expect(ourLines.filter((l) => !isEvent(l))).toEqual(javaLines.filter((l) => !isEvent(l)));
    expect(ourLines.filter(isEvent).sort()).toEqual(javaLines.filter(isEvent).sort());
    expect(mask(ourErr.join("\n"), "/diff-corral").split("\n")).toEqual(mask(java.stderr.join("\n"), "/diff-java").split("\n"));
    expect(ours.code).toBe(java.exitCode);
  }, 60_000);
});
