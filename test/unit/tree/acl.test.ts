// ACLs as ZooKeeper enforces them (ZOOKEEPER.md §1.9): per node and not inherited;
// CREATE/DELETE on the parent gate child ops; WRITE for setData, READ for getData and
// getChildren, ADMIN for setACL, READ or ADMIN for getACL (digests masked without ADMIN);
// schemes world, auth, digest and ip (CIDR, v4 and v6); the super identity passes every check.

import { describe, expect, it } from "vitest";
import { Err, Perms, type ACL, type Id } from "../../../src/jute/index.js";
import { OPEN_ACL_UNSAFE, checkAcl, fixupAcl, ipMatches, maskDigests, SUPER_ID, WORLD_ANYONE } from "../../../src/tree/index.js";
import { Harness } from "../pipeline/harness.js";

const ALICE: Id = { scheme: "digest", id: "alice:X/8Mh0xRnU0rhP8w5bdJY6u8Wyo=" };
const BOB: Id = { scheme: "digest", id: "bob:ZyQ5hbC7x8W9tJ8QKk1k0yP0vW4=" };
const acl = (perms: number, id: Id): ACL => ({ perms, id });
const world = (perms: number): ACL[] => [acl(perms, WORLD_ANYONE)];

describe("checkAcl", () => {
  it("world:anyone grants exactly the listed permissions", () => {
    expect(checkAcl(world(Perms.Read), Perms.Read, [])).toBe(true);
    expect(checkAcl(world(Perms.Read), Perms.Write, [])).toBe(false);
    expect(checkAcl(world(Perms.All), Perms.Admin, [])).toBe(true);
  });

  it("an id matches only the same scheme and id", () => {
    const a = [acl(Perms.All, ALICE)];
    expect(checkAcl(a, Perms.Read, [ALICE])).toBe(true);
    expect(checkAcl(a, Perms.Read, [BOB])).toBe(false);
    expect(checkAcl(a, Perms.Read, [{ scheme: "sasl", id: ALICE.id }])).toBe(false);
  });

  it("a request for several bits passes when an entry holds any of them (READ|ADMIN for getACL)", () => {
    expect(checkAcl(world(Perms.Admin), Perms.Read | Perms.Admin, [])).toBe(true);
    expect(checkAcl(world(Perms.Write), Perms.Read | Perms.Admin, [])).toBe(false);
  });

  it("the super identity passes every check", () => {
    expect(checkAcl([acl(0, ALICE)], Perms.Admin, [SUPER_ID])).toBe(true);
    expect(checkAcl([acl(Perms.Read, BOB)], Perms.Delete, [{ scheme: "ip", id: "1.2.3.4" }, SUPER_ID])).toBe(true);
  });

  it("an empty ACL (never stored by create/setACL) allows everything, as ZooKeeper's checkACL", () => {
    expect(checkAcl([], Perms.Admin, [])).toBe(true);
  });
});

describe("ip scheme", () => {
  it("matches IPv4 addresses and CIDR ranges", () => {
    expect(ipMatches("10.1.2.3", "10.1.2.3")).toBe(true);
    expect(ipMatches("10.1.2.4", "10.1.2.3")).toBe(false);
    expect(ipMatches("10.1.2.3", "10.0.0.0/8")).toBe(true);
    expect(ipMatches("11.0.0.1", "10.0.0.0/8")).toBe(false);
    expect(ipMatches("192.168.1.7", "192.168.1.0/25")).toBe(true);
    expect(ipMatches("192.168.1.200", "192.168.1.0/25")).toBe(false);
    expect(ipMatches("8.8.8.8", "0.0.0.0/0")).toBe(true);
    // Host bits in the spec are masked off.
    expect(ipMatches("10.9.9.9", "10.1.2.3/8")).toBe(true);
  });

  it("matches IPv6 addresses and CIDR ranges", () => {
    expect(ipMatches("::1", "::1")).toBe(true);
    expect(ipMatches("2001:db8:1::5", "2001:db8::/32")).toBe(true);
    expect(ipMatches("2001:db9::1", "2001:db8::/32")).toBe(false);
    expect(ipMatches("fe80::1:2", "fe80:0:0:0:0:0:1:2")).toBe(true);
    expect(ipMatches("fe80::1:3", "fe80::1:2/127")).toBe(true);
    expect(ipMatches("fe80::1:4", "fe80::1:2/127")).toBe(false);
  });

  it("a v4-mapped v6 client address matches a v4 range; v4 and v6 never match each other otherwise", () => {
    expect(ipMatches("::ffff:10.0.0.1", "10.0.0.0/8")).toBe(true);
    expect(ipMatches("::1", "127.0.0.1")).toBe(false);
    expect(ipMatches("127.0.0.1", "::1")).toBe(false);
  });

  it("malformed specs or addresses never match", () => {
    expect(ipMatches("10.0.0.1", "10.0.0.0/33")).toBe(false);
    expect(ipMatches("10.0.0.1", "10.0.0/8")).toBe(false);
    expect(ipMatches("10.0.0.1", "10.0.0.256")).toBe(false);
    expect(ipMatches("not-an-ip", "0.0.0.0/0")).toBe(false);
    expect(ipMatches("::1", "::1/129")).toBe(false);
  });
});

describe("fixupAcl (create and setACL)", () => {
  it("an empty ACL is InvalidACL", () => {
    expect(fixupAcl([], [])).toBe(Err.InvalidAcl);
  });

  it("auth expands to the session's authenticated ids (digest, sasl, x509), not ip or super", () => {
    const ids: Id[] = [{ scheme: "ip", id: "1.2.3.4" }, ALICE, SUPER_ID, { scheme: "x509", id: "CN=a" }];
    expect(fixupAcl([acl(Perms.Read, { scheme: "auth", id: "" })], ids)).toEqual([
      acl(Perms.Read, ALICE),
      acl(Perms.Read, { scheme: "x509", id: "CN=a" }),
    ]);
  });

  it("auth with no authenticated id is InvalidACL", () => {
    expect(fixupAcl([acl(Perms.All, { scheme: "auth", id: "" })], [{ scheme: "ip", id: "1.2.3.4" }])).toBe(
      Err.InvalidAcl,
    );
    expect(fixupAcl([acl(Perms.All, { scheme: "auth", id: "" })], [SUPER_ID])).toBe(Err.InvalidAcl);
  });

  it("unknown schemes and malformed ids are InvalidACL", () => {
    for (const id of [
      { scheme: "foo", id: "bar" },
      { scheme: "world", id: "everyone" },
      { scheme: "digest", id: "no-colon" },
      { scheme: "digest", id: "a:b:c" },
      { scheme: "digest", id: "alice:" }, // Java's split drops the empty hash: one part
      { scheme: "digest", id: "" },
      { scheme: "ip", id: "300.1.1.1" },
      { scheme: "ip", id: "10.0.0.0/33" },
      { scheme: "ip", id: "10.0.0.0/x" },
      { scheme: "ip", id: "::1/129" },
      { scheme: "super", id: "" },
    ]) {
      expect(fixupAcl([acl(Perms.Read, id)], []), JSON.stringify(id)).toBe(Err.InvalidAcl);
    }
  });

  it("well-formed ids pass; duplicate entries are dropped", () => {
    const list = [
      acl(Perms.Read, WORLD_ANYONE),
      acl(Perms.Read, WORLD_ANYONE),
      acl(Perms.All, ALICE),
      acl(Perms.Read, { scheme: "ip", id: "10.0.0.0/8" }),
      acl(Perms.Read, { scheme: "ip", id: "2001:db8::/32" }),
      acl(Perms.All, ALICE),
    ];
    expect(fixupAcl(list, [])).toEqual([list[0], list[2], list[3], list[4]]);
    // As Java's String.split, trailing empty parts do not count.
    expect(fixupAcl([acl(Perms.Read, { scheme: "digest", id: "alice:hash:" })], [])).not.toBe(Err.InvalidAcl);
  });
});

describe("maskDigests", () => {
  it("hides the hash of digest ids as user:x and leaves other schemes alone", () => {
    const list = [acl(Perms.All, ALICE), acl(Perms.Read, WORLD_ANYONE), acl(Perms.Read, { scheme: "ip", id: "1.2.3.4" })];
    expect(maskDigests(list)).toEqual([acl(Perms.All, { scheme: "digest", id: "alice:x" }), list[1], list[2]]);
  });
});

describe("ACL enforcement in the pipeline", () => {
  it("create needs CREATE on the parent, and the child's ACL is its own (not inherited)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/nocreate", "", { acl: world(Perms.All & ~Perms.Create) });
    c.create("/createonly", "", { acl: world(Perms.Create) });
    expect(c.create("/nocreate/x").err).toBe(Err.NoAuth);
    expect(c.create("/createonly/x", "v").err).toBe(Err.Ok);
    expect(c.getData("/createonly").err).toBe(Err.NoAuth);
    expect(c.getData("/createonly/x")).toMatchObject({ err: Err.Ok, data: "v" });
  });

  it("delete needs DELETE on the parent, whatever the node's own ACL", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/p", "", { acl: world(Perms.All) });
    c.create("/p/locked", "", { acl: [acl(Perms.All, ALICE)] });
    c.create("/q", "", { acl: world(Perms.All & ~Perms.Delete) });
    c.create("/q/open");
    expect(c.delete("/q/open")).toBe(Err.NoAuth);
    expect(c.delete("/p/locked")).toBe(Err.Ok);
  });

  it("delete checks the parent's DELETE permission before looking the node up (NoAuth, not NoNode)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/q", "", { acl: world(Perms.All & ~Perms.Delete) });
    expect(c.delete("/q/missing")).toBe(Err.NoAuth);
    expect(c.delete("/missing/child")).toBe(Err.NoNode);
  });

  it("setData needs WRITE; getData, getChildren and getChildren2 need READ", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/w", "", { acl: world(Perms.Write) });
    c.create("/r", "", { acl: world(Perms.Read) });
    expect(c.setData("/w", "x").err).toBe(Err.Ok);
    expect(c.setData("/r", "x").err).toBe(Err.NoAuth);
    expect(c.getData("/w").err).toBe(Err.NoAuth);
    expect(c.getChildren("/w").err).toBe(Err.NoAuth);
    expect(c.getChildren2("/w").err).toBe(Err.NoAuth);
    expect(c.getData("/r").err).toBe(Err.Ok);
    expect(c.getChildren("/r").err).toBe(Err.Ok);
    expect(c.getAllChildrenNumber("/w").err).toBe(Err.NoAuth);
  });

  it("setACL needs ADMIN", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/a", "", { acl: world(Perms.All & ~Perms.Admin) });
    expect(c.setACL("/a", OPEN_ACL_UNSAFE).err).toBe(Err.NoAuth);
    c.create("/b", "", { acl: world(Perms.Admin) });
    expect(c.setACL("/b", world(Perms.Read)).err).toBe(Err.Ok);
  });

  it("getACL needs READ or ADMIN; without ADMIN digest ids read as user:x", () => {
    const h = new Harness();
    const owner = h.connect({ authIds: [ALICE] });
    const stored = [acl(Perms.All, ALICE), acl(Perms.Read, WORLD_ANYONE)];
    owner.create("/a", "", { acl: stored });
    owner.create("/none", "", { acl: [acl(Perms.All, ALICE), acl(Perms.Write, WORLD_ANYONE)] });
    const other = h.connect();
    expect(other.getACL("/a").acl).toEqual([acl(Perms.All, { scheme: "digest", id: "alice:x" }), stored[1]]);
    expect(owner.getACL("/a").acl).toEqual(stored);
    expect(other.getACL("/none").err).toBe(Err.NoAuth);
    const admin = h.connect();
    admin.create("/adm", "", { acl: [acl(Perms.All, ALICE), acl(Perms.Admin, WORLD_ANYONE)] });
    expect(admin.getACL("/adm").acl).toEqual([acl(Perms.All, ALICE), acl(Perms.Admin, WORLD_ANYONE)]);
  });

  it("an auth ACL stores the creator's digest ids and then admits that user only", () => {
    const h = new Harness();
    const alice = h.connect({ authIds: [{ scheme: "ip", id: "10.0.0.1" }, ALICE] });
    const bob = h.connect({ authIds: [BOB] });
    expect(alice.create("/mine", "s", { acl: [acl(Perms.All, { scheme: "auth", id: "" })] }).err).toBe(Err.Ok);
    expect(h.tree.get("/mine")!.acl).toEqual([acl(Perms.All, ALICE)]);
    expect(alice.getData("/mine").err).toBe(Err.Ok);
    expect(bob.getData("/mine").err).toBe(Err.NoAuth);
  });

  it("an auth ACL from a session with no digest identity is InvalidACL (create and setACL)", () => {
    const h = new Harness();
    const c = h.connect({ authIds: [{ scheme: "ip", id: "10.0.0.1" }] });
    const authAcl = [acl(Perms.All, { scheme: "auth", id: "" })];
    expect(c.create("/x", "", { acl: authAcl }).err).toBe(Err.InvalidAcl);
    c.create("/y");
    expect(c.setACL("/y", authAcl).err).toBe(Err.InvalidAcl);
  });

  it("an empty ACL or a bad scheme is InvalidACL and creates nothing", () => {
    const h = new Harness();
    const c = h.connect();
    expect(c.create("/x", "", { acl: [] }).err).toBe(Err.InvalidAcl);
    expect(c.create("/x", "", { acl: [acl(Perms.All, { scheme: "nope", id: "a" })] }).err).toBe(Err.InvalidAcl);
    expect(c.exists("/x").err).toBe(Err.NoNode);
  });

  it("duplicate ACL entries are stored once", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/d", "", { acl: [...OPEN_ACL_UNSAFE, ...OPEN_ACL_UNSAFE] });
    expect(c.getACL("/d").acl).toEqual(OPEN_ACL_UNSAFE);
  });

  it("ip ACLs admit clients inside the CIDR range (v4 and v6)", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/net4", "", { acl: [acl(Perms.Read, { scheme: "ip", id: "192.168.0.0/16" })] });
    c.create("/net6", "", { acl: [acl(Perms.Read, { scheme: "ip", id: "fd00::/8" })] });
    const inside4 = h.connect({ authIds: [{ scheme: "ip", id: "192.168.44.2" }] });
    const outside4 = h.connect({ authIds: [{ scheme: "ip", id: "192.169.0.1" }] });
    const inside6 = h.connect({ authIds: [{ scheme: "ip", id: "fd12:3456::1" }] });
    expect(inside4.getData("/net4").err).toBe(Err.Ok);
    expect(outside4.getData("/net4").err).toBe(Err.NoAuth);
    expect(inside6.getData("/net6").err).toBe(Err.Ok);
    expect(inside4.getData("/net6").err).toBe(Err.NoAuth);
  });

  it("the super identity passes every check and sees unmasked digests", () => {
    const h = new Harness();
    const alice = h.connect({ authIds: [ALICE] });
    alice.create("/s", "v", { acl: [acl(Perms.All, ALICE)] });
    const root = h.connect({ authIds: [SUPER_ID] });
    expect(root.getData("/s").err).toBe(Err.Ok);
    expect(root.create("/s/c").err).toBe(Err.Ok);
    expect(root.setData("/s", "w").err).toBe(Err.Ok);
    expect(root.getACL("/s").acl).toEqual([acl(Perms.All, ALICE)]);
    expect(root.delete("/s/c")).toBe(Err.Ok);
    expect(root.setACL("/s", OPEN_ACL_UNSAFE).err).toBe(Err.Ok);
  });

  it("setACL's version is checked against aversion (BadVersion), not version", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/v");
    c.setData("/v", "1");
    c.setData("/v", "2"); // version 2, aversion 0
    expect(c.setACL("/v", world(Perms.All), 2).err).toBe(Err.BadVersion);
    expect(c.setACL("/v", world(Perms.All), 0).stat).toMatchObject({ aversion: 1, version: 2 });
    expect(c.setACL("/v", world(Perms.All), 0).err).toBe(Err.BadVersion);
    expect(c.setACL("/v", world(Perms.All), -1).stat).toMatchObject({ aversion: 2 });
  });

  it("an ACL check happens against the ACL as a prepared setACL will leave it", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/x");
    c.setACL("/x", world(Perms.Read));
    expect(c.setData("/x", "no").err).toBe(Err.NoAuth);
  });
});
