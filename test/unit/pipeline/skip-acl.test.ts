// skipACL=yes (ZooKeeper's zookeeper.skipACL): every ACL check is skipped, for writes,
// reads, getACL's digest masking and persistent-watch filtering, while ACLs are still
// validated and stored. Each case runs with and without it, so the same requests show
// both answers.

import { describe, expect, it } from "vitest";
import { AddWatchMode, Err, EventType, Perms } from "../../../src/jute/index.js";
import { Harness } from "./harness.js";

const alice = { scheme: "digest", id: "alice:h4sh" };
const onlyAlice = [{ perms: Perms.All, id: alice }];

function setUp(skipAcl: boolean) {
  const h = new Harness({ skipAcl });
  const owner = h.connect({ authIds: [alice] });
  const anyone = h.connect();
  expect(owner.create("/secret", "s", { acl: onlyAlice }).err).toBe(Err.Ok);
  expect(owner.create("/secret/kid", "k", { acl: onlyAlice }).err).toBe(Err.Ok);
  return { h, owner, anyone };
}

describe.each([
  [true, Err.Ok],
  [false, Err.NoAuth],
])("skipACL=%s", (skipAcl, expected) => {
  it("reads and writes of a node whose ACL grants the session nothing", () => {
    const { anyone } = setUp(skipAcl);
    expect(anyone.getData("/secret").err).toBe(expected);
    expect(anyone.getChildren("/secret").err).toBe(expected);
    expect(anyone.setData("/secret", "x").err).toBe(expected);
    expect(anyone.create("/secret/new", "n").err).toBe(expected);
    expect(anyone.delete("/secret/kid")).toBe(expected);
    expect(anyone.setACL("/secret", onlyAlice).err).toBe(expected);
  });

  it("getACL shows digests unmasked only where the check passes", () => {
    const { anyone } = setUp(skipAcl);
    const r = anyone.getACL("/secret");
    expect(r.err).toBe(expected);
    if (skipAcl) expect(r.acl).toEqual(onlyAlice);
  });

  it("a persistent watch hears of an unreadable node only when checks are skipped", () => {
    const { owner, anyone } = setUp(skipAcl);
    anyone.addWatch("/", AddWatchMode.PersistentRecursive);
    owner.setData("/secret", "t");
    owner.create("/open", "o");
    const heard = anyone.conn.eventList();
    expect(heard).toContainEqual([EventType.NodeCreated, "/open"]);
    expect(heard.some(([, p]) => p === "/secret")).toBe(skipAcl);
  });

  it("ACLs are still validated: an auth ACL without credentials is InvalidAcl", () => {
    const { anyone } = setUp(skipAcl);
    const r = anyone.create("/mine", "m", { acl: [{ perms: Perms.All, id: { scheme: "auth", id: "" } }] });
    expect(r.err).toBe(Err.InvalidAcl);
  });
});
