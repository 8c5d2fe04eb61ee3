/**
 * Apache zkCli (the Java CLI from the zookeeper package) against the target
 * server, asserting on exactly what zkCli prints.
 *
 * zkCli is driven as described in test/helpers/zkcli.ts: several commands per
 * JVM through stdin (one session each), a live stdin session for `-w` watches,
 * and a couple of one-shot `zkCli.sh -server S cmd args` runs. node-zookeeper-client
 * is the second party: it triggers watch events and cross-checks stat lines.
 *
 * Stream placement is part of what is checked: results go to stdout,
 * "Created ..." and error messages to stderr (zkCli 3.8).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, CreateMode, digestId, uniquePath, type ZkSession } from "../helpers/nzk.js";
import { startTarget, targetKind, targetSkipReason, type Target } from "../helpers/target.js";
import { hexLong, javaDateUtc, statLines, zkCliCommand, ZkCliProcess, zkCliSession } from "../helpers/zkcli.js";
import { findZooKeeperInstall, inCi, INSTALL_HINT } from "../helpers/zookeeper-install.js";

function skipReason(): string | undefined {
  if (findZooKeeperInstall().zkCli === undefined && !inCi()) return `zkCli.sh not found; ${INSTALL_HINT}`;
  return targetSkipReason();
}
const skip = skipReason();
if (skip !== undefined) console.warn(`[zkcli.test] skipped: ${skip}`);

/** The same 11 lines as patterns, for nodes no other client can stat. */
const STAT_LINE_PATTERNS = [
  /^cZxid = 0x[0-9a-f]+$/,
  /^ctime = (Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}$/,
  /^mZxid = 0x[0-9a-f]+$/,
  /^mtime = (Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}$/,
  /^pZxid = 0x[0-9a-f]+$/,
  /^cversion = -?\d+$/,
  /^dataVersion = \d+$/,
  /^aclVersion = \d+$/,
  /^ephemeralOwner = 0x[0-9a-f]+$/,
  /^dataLength = \d+$/,
  /^numChildren = \d+$/,
];

function expectStatShape(lines: string[]): void {
  expect(lines).toHaveLength(11);
  lines.forEach((line, i) => expect(line).toMatch(STAT_LINE_PATTERNS[i] ?? /^$/));
}

describe.skipIf(skip !== undefined)(`zkCli against ${targetKind()}`, () => {
  let target: Target;
  let nzk: ZkSession;
  let server: string;

  beforeAll(async () => {
    target = await startTarget();
    server = target.connectString;
    nzk = await connect(server);
  });

  afterAll(async () => {
    await nzk?.close();
    await target?.stop();
  });

  it("one-shot mode: runs the command given on the command line and exits with its status", async () => {
    const p = uniquePath("oneshot");
    const [created, missing] = await Promise.all([
      zkCliCommand(server, ["create", p, "d"]),
      zkCliCommand(server, ["get", `${p}-missing`]),
    ]);
    expect(created).toMatchObject({ exitCode: 0, stdout: [], stderr: [`Created ${p}`] });
    expect(missing).toMatchObject({ exitCode: 1, stdout: [], stderr: [`Node does not exist: ${p}-missing`] });
    expect((await nzk.getData(p)).data?.toString()).toBe("d");
  });

  it("create in every mode, ls sorted, stat of an ephemeral and a container", async () => {
    const p = uniquePath("create");
    const r = await zkCliSession(server, [
      `create ${p} root-data`,
      `create -s ${p}/seq- a`,
      `create -s ${p}/seq- b`,
      `create -e ${p}/eph e`,
      `create -e -s ${p}/ephseq- f`,
      `create -c ${p}/cont`,
      `create ${p}/plain`,
      `ls ${p}`,
      `stat ${p}/eph`,
      `stat ${p}/cont`,
      `create ${p}/eph/child`,
      `create -e ${p}/eph2`,
    ]);
    expect(r.stderr).toEqual([
      `Created ${p}`,
      `Created ${p}/seq-0000000000`,
      `Created ${p}/seq-0000000001`,
      `Created ${p}/eph`,
      `Created ${p}/ephseq-0000000003`,
      `Created ${p}/cont`,
      `Created ${p}/plain`,
      `Ephemerals cannot have children: ${p}/eph/child`,
      `Created ${p}/eph2`,
    ]);
    expect(r.exitCode).toBe(0);
    const [ls, ...stats] = r.stdout;
    // zkCli sorts the children it prints; servers return them in any order.
    expect(ls).toBe("[cont, eph, ephseq-0000000003, plain, seq-0000000000, seq-0000000001]");
    expect(stats).toHaveLength(22);
    const ephStat = stats.slice(0, 11);
    const contStat = stats.slice(11);
    expectStatShape(ephStat);
    expectStatShape(contStat);
    expect(ephStat[8]).not.toBe("ephemeralOwner = 0x0"); // the zkCli session's id
    expect(ephStat.slice(5)).toEqual([
      "cversion = 0",
      "dataVersion = 0",
      "aclVersion = 0",
      ephStat[8],
      "dataLength = 1",
      "numChildren = 0",
    ]);
    // A container reports ephemeralOwner 0 to clients (internally it is
    // Long.MIN_VALUE; DataNode.copyStat hides non-session owners).
    expect(contStat[8]).toBe("ephemeralOwner = 0x0");
    expect(contStat[9]).toBe("dataLength = 0"); // create without data stores null

    // The zkCli session ended with `quit`, which closes it: its ephemerals are gone.
    expect((await nzk.getChildren(p)).children.sort()).toEqual(["cont", "plain", "seq-0000000000", "seq-0000000001"]);
  });

  it("get -s, stat and ls -s print data and the 11 stat lines matching the node's Stat", async () => {
    const p = uniquePath("getstat");
    await nzk.create(p, { data: Buffer.from("v0") });
    await nzk.create(`${p}/kid`, { mode: CreateMode.EPHEMERAL }); // owned by nzk's session
    await nzk.create(`${p}/gone`);
    await nzk.remove(`${p}/gone`);
    await nzk.setData(p, Buffer.from("hello world"));
    const stat = await nzk.exists(p);
    const kid = await nzk.exists(`${p}/kid`);
    if (stat === null || kid === null) throw new Error("nodes vanished");
    expect(kid.ephemeralOwner).toBe(nzk.sessionId);

    const r = await zkCliSession(server, [`get -s ${p}`, `stat ${p}`, `ls -s ${p}`, `get -s ${p}/kid`, `get ${p}/kid`]);
    expect(r.stderr).toEqual([]);
    expect(r.stdout).toEqual([
      "hello world",
      ...statLines(stat),
      ...statLines(stat),
      "[kid]",
      ...statLines(stat),
      "null", // created without data: zkCli prints "null"
      ...statLines(kid),
      "null",
    ]);
    // Spot-check the formatting rules statLines encodes.
    expect(statLines(stat)).toContain("dataVersion = 1");
    expect(statLines(stat)).toContain("cversion = 3"); // 2 creates + 1 delete
    expect(statLines(kid)[8]).toBe(`ephemeralOwner = 0x${nzk.sessionId.toString(16)}`);
  });

  it("set, delete -v and deleteall, with zkCli's error messages", async () => {
    const p = uniquePath("setdel");
    const r = await zkCliSession(server, [
      `create ${p} v0`,
      `set ${p} v1`,
      `set -v 1 ${p} v2`,
      `set -v 7 ${p} stale`,
      `get ${p}`,
      `create ${p}/kid`,
      `delete ${p}`,
      `delete -v 9 ${p}/kid`,
      `create ${p}`,
      `get ${p}/missing`,
      `set ${p}/missing x`,
      `delete ${p}/missing`,
      `delete -v 0 ${p}/kid`,
      `delete -v 2 ${p}`,
      `stat ${p}`,
    ]);
    expect(r.stdout).toEqual(["v2"]);
    expect(r.stderr).toEqual([
      `Created ${p}`,
      `version No is not valid : ${p}`,
      `Created ${p}/kid`,
      `Node not empty: ${p}`,
      `version No is not valid : ${p}/kid`,
      `Node already exists: ${p}`,
      `Node does not exist: ${p}/missing`,
      `Node does not exist: ${p}/missing`,
      `Node does not exist: ${p}/missing`,
      `Node does not exist: ${p}`,
    ]);
    // The exit status after `quit` is that of the last command (stat failed).
    expect(r.exitCode).toBe(1);
    expect(await nzk.exists(p)).toBeNull();
  });

  it("ls -R lists a subtree level by level with sorted children; deleteall removes it", async () => {
    const p = uniquePath("tree");
    for (const rel of ["", "/b", "/a", "/b/y", "/b/x", "/a/q", "/a/q/deep"]) await nzk.create(`${p}${rel}`);
    const r = await zkCliSession(server, [`ls -R ${p}`, `deleteall ${p}`, `ls ${p}`]);
    // ZKUtil.visitSubTreeDFS: print the node, then all its (sorted) children,
    // then recurse into each child in order.
    expect(r.stdout).toEqual([p, `${p}/a`, `${p}/b`, `${p}/a/q`, `${p}/a/q/deep`, `${p}/b/x`, `${p}/b/y`]);
    expect(r.stderr).toEqual([`Node does not exist: ${p}`]);
    expect(await nzk.exists(p)).toBeNull();
  });

  it("get -w, ls -w and stat -w print the events another client triggers, each watch once", async () => {
    const p = uniquePath("watch");
    await nzk.create(p, { data: Buffer.from("d0") });
    const cli = ZkCliProcess.start(server);
    try {
      const events = (type: string, path: string): number =>
        cli.stdout.filter((l) => l === `WatchedEvent state:SyncConnected type:${type} path:${path}`).length;

      cli.send(`get -w ${p}`);
      await cli.waitFor((out) => out.includes("d0"), "get -w output");
      await nzk.setData(p, Buffer.from("d1"));
      await cli.waitFor(() => events("NodeDataChanged", p) === 1, "NodeDataChanged");
      await nzk.setData(p, Buffer.from("d2")); // no watch left: must not print

      cli.send(`ls -w ${p}`);
      await cli.waitFor((out) => out.includes("[]"), "ls -w output");
      await nzk.create(`${p}/kid`);
      // zkCli's event thread prints events in arrival order, so a stray second
      // NodeDataChanged would already be above this line.
      await cli.waitFor(() => events("NodeChildrenChanged", p) === 1, "NodeChildrenChanged");
      expect(events("NodeDataChanged", p)).toBe(1);

      cli.send(`stat -w ${p}/kid`);
      // Each stat line is its own println: wait for the last one before triggering.
      await cli.waitFor((out) => out.some((l) => l.startsWith("numChildren = ")), "stat -w output");
      await nzk.remove(`${p}/kid`);
      await cli.waitFor(() => events("NodeDeleted", `${p}/kid`) === 1, "NodeDeleted");

      cli.send(`stat -w ${p}/later`);
      await cli.waitFor((_, err) => err.includes(`Node does not exist: ${p}/later`), "stat -w on a missing node");
      await nzk.create(`${p}/later`);
      await cli.waitFor(() => events("NodeCreated", `${p}/later`) === 1, "NodeCreated");

      const r = await cli.quit();
      expect(r.exitCode).toBe(1); // the last command before quit (stat -w of a missing node) failed
      const kidStat = r.stdout.slice(r.stdout.indexOf("[]") + 2, r.stdout.indexOf("[]") + 13);
      expectStatShape(kidStat);
      expect(r.stdout).toEqual([
        "d0",
        `WatchedEvent state:SyncConnected type:NodeDataChanged path:${p}`,
        "[]",
        `WatchedEvent state:SyncConnected type:NodeChildrenChanged path:${p}`,
        ...kidStat,
        `WatchedEvent state:SyncConnected type:NodeDeleted path:${p}/kid`,
        `WatchedEvent state:SyncConnected type:NodeCreated path:${p}/later`,
      ]);
      expect(r.stderr).toEqual([`Node does not exist: ${p}/later`]);
      // Raw form: a "WATCHER::" header, each message preceded by a blank line.
      expect(r.rawStdout).toContain(
        `\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:${p}\n`,
      );
    } finally {
      cli.kill();
    }
  });

  it("addauth digest + create with an auth ACL; other sessions get Insufficient permission", async () => {
    const p = uniquePath("auth");
    const owner = await zkCliSession(server, [
      "addauth digest u:p",
      `create ${p} secret auth:u:p:cdwra`,
      `getAcl ${p}`,
      `get ${p}`,
      "whoami",
    ]);
    expect(owner.stderr).toEqual([`Created ${p}`]);
    expect(owner.stdout).toEqual([
      `'digest,'${digestId("u", "p")}`,
      ": cdrwa", // permissions always print in the order c d r w a
      "secret",
      "Auth scheme: User",
      "ip: 127.0.0.1",
      "digest: u",
    ]);

    const other = await zkCliSession(server, [
      `get ${p}`,
      `getAcl ${p}`,
      `set ${p} hijack`,
      `ls ${p}`,
      `create ${p}/kid`,
      "addauth digest u:wrong",
      `get ${p}`,
      "addauth digest u:p",
      `get ${p}`,
    ]);
    expect(other.stderr).toEqual([
      `Insufficient permission : ${p}`,
      `Insufficient permission : ${p}`,
      `Insufficient permission : ${p}`,
      `Insufficient permission : ${p}`,
      `Insufficient permission : ${p}/kid`, // the message names the request's path, not the parent checked
      `Insufficient permission : ${p}`,
    ]);
    // Adding the right credentials later in the same session grants access.
    expect(other.stdout).toEqual(["secret"]);
    expect(other.exitCode).toBe(0);
  });

  it("getAcl and setAcl (with -s and -v) print ACLs and stats", async () => {
    const p = uniquePath("acl");
    const id = digestId("u", "p");
    const r = await zkCliSession(server, [
      `create ${p} data`,
      `getAcl ${p}`,
      `setAcl ${p} world:anyone:rwa`,
      `setAcl -v 0 ${p} world:anyone:cdrwa`,
      `setAcl -s -v 1 ${p} world:anyone:ra,digest:${id}:cdrwa`,
      `getAcl -s ${p}`,
      `set ${p} nope`,
      `getAcl /`,
    ]);
    const stat = await nzk.exists(p);
    if (stat === null) throw new Error(`${p} vanished`);
    expect(stat.aversion).toBe(2);
    expect(r.stderr).toEqual([
      `Created ${p}`,
      `version No is not valid : ${p}`,
      `Insufficient permission : ${p}`,
    ]);
    expect(r.stdout).toEqual([
      "'world,'anyone",
      ": cdrwa",
      ...statLines(stat), // setAcl -s
      "'world,'anyone",
      ": ra",
      `'digest,'${id}`,
      ": cdrwa",
      ...statLines(stat), // getAcl -s
      "'world,'anyone",
      ": cdrwa",
    ]);
    expect((await nzk.getACL(p)).acls).toEqual([
      { permission: 17, id: { scheme: "world", id: "anyone" } },
      { permission: 31, id: { scheme: "digest", id } },
    ]);
  });
});
