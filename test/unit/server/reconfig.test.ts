// The leader's reconfig planner (PrepRequestProcessor's reconfig checks, in its order)
// and the dynamic configuration text it writes, without an ensemble.

import { describe, expect, it } from "vitest";
import { dynamicConfigText, parseDynamicConfig, parseServerEntry, type ServerSpec } from "../../../src/config/index.js";
import { Err } from "../../../src/jute/index.js";
import type { ReconfigReq } from "../../../src/pipeline/index.js";
import { planReconfig, reconfigMembersOf, type ReconfigState } from "../../../src/server/reconfig.js";
import { encodeTxnEntry } from "../../../src/txn/index.js";
import { asSessionId, asZxid } from "../../../src/util/index.js";

const servers: ServerSpec[] = [1, 2, 3].map((i) => ({
  id: BigInt(i),
  host: "127.0.0.1",
  quorumPort: 2880 + i,
  electionPort: 3880 + i,
  role: "participant",
  clientPort: 2180 + i,
}));

function state(over: Partial<ReconfigState> = {}): ReconfigState {
  return { servers, version: 0x100000002n, pending: false, standaloneEnabled: true, isQuorumSynced: () => true, ...over };
}

function req(over: Partial<ReconfigReq>): ReconfigReq {
  return { kind: "reconfig", joiningServers: "", leavingServers: "", newMembers: "", curConfigId: -1n, ...over };
}

const errOf = (r: ReturnType<typeof planReconfig>): number => (r.ok ? 0 : r.err);

describe("reconfig planning", () => {
  it("adds and removes incrementally; the text is QuorumMaj's with the zxid as version", () => {
    const r = planReconfig(req({ joiningServers: "server.4=127.0.0.1:2884:3884:observer;2184", leavingServers: "2" }), 0x100000007n, state());
    expect(r.ok && r.data.toString()).toBe(
      [
        "server.1=127.0.0.1:2881:3881:participant;0.0.0.0:2181",
        "server.3=127.0.0.1:2883:3883:participant;0.0.0.0:2183",
        "server.4=127.0.0.1:2884:3884:observer;0.0.0.0:2184",
        "version=100000007",
      ].join("\n"),
    );
  });

  it("updates a server named again (a role change) and takes N= for server.N=", () => {
    const r = planReconfig(req({ joiningServers: "3=127.0.0.1:2883:3883:observer;2183" }), 9n, state());
    expect(r.ok && r.servers.find((s) => s.id === 3n)?.role).toBe("observer");
  });

  it("checks in ZooKeeper's order: in progress, version, arguments, quorum", () => {
    expect(errOf(planReconfig(req({ curConfigId: 5n, joiningServers: "junk" }), 9n, state({ pending: true })))).toBe(Err.ReconfigInProgress);
    expect(errOf(planReconfig(req({ curConfigId: 5n, joiningServers: "junk" }), 9n, state()))).toBe(Err.BadVersion);
    expect(errOf(planReconfig(req({ curConfigId: 0x100000002n, joiningServers: "junk" }), 9n, state({ isQuorumSynced: () => false })))).toBe(Err.BadArguments);
    expect(errOf(planReconfig(req({ leavingServers: "3" }), 9n, state({ isQuorumSynced: () => false })))).toBe(Err.NewConfigNoQuorum);
  });

  it("refuses too few participants, duplicate addresses and mixed modes", () => {
    expect(errOf(planReconfig(req({ leavingServers: "1,2" }), 9n, state()))).toBe(Err.BadArguments);
    expect(planReconfig(req({ leavingServers: "1,2" }), 9n, state({ standaloneEnabled: false })).ok).toBe(true);
    expect(errOf(planReconfig(req({ joiningServers: "server.4=127.0.0.1:2881:3999;2184" }), 9n, state()))).toBe(Err.BadArguments);
    expect(errOf(planReconfig(req({ newMembers: "server.1=127.0.0.1:1:2;3", joiningServers: "server.4=127.0.0.1:2884:3884;2184" }), 9n, state()))).toBe(Err.BadArguments);
  });

  it("bulk: newMembers is the whole configuration, comma or newline separated", () => {
    const r = planReconfig(req({ newMembers: "server.7=h7:1:2;3,server.8=h8:1:2;3" }), 0x20n, state());
    expect(r.ok && r.data.toString()).toBe("server.7=h7:1:2:participant;0.0.0.0:3\nserver.8=h8:1:2:participant;0.0.0.0:3\nversion=20");
  });

  it("a committed reconfig txn is recognised by its header, any other txn is not", () => {
    const hdr = { sessionId: asSessionId(1n), cxid: 1, zxid: asZxid(9n), timeMs: 0 };
    const data = Buffer.from(dynamicConfigText(servers, 9n));
    const reconfig = encodeTxnEntry({ hdr: { ...hdr, opCode: 16 }, txn: { type: "setData", path: "/zookeeper/config", data, version: -1 } });
    expect(reconfigMembersOf(reconfig)?.map((m) => m.id)).toEqual([1n, 2n, 3n]);
    const plain = encodeTxnEntry({ hdr: { ...hdr, opCode: 5 }, txn: { type: "setData", path: "/zookeeper/config", data, version: 1 } });
    expect(reconfigMembersOf(plain)).toBeUndefined();
  });
});

describe("dynamic configuration text", () => {
  it("round-trips through parse and print, IPv6 hosts bracketed", () => {
    const text = "server.1=[::1]:2888:3888:participant;[::1]:2181\nserver.2=h2:2888:3888:observer\nversion=1f";
    const parsed = parseDynamicConfig(text);
    expect(parsed.ok && dynamicConfigText(parsed.value.servers, parsed.value.version)).toBe(text);
  });

  it("refuses keys other than server.N and version, and bad entries", () => {
    expect(parseDynamicConfig("group.1=1:2").ok).toBe(false);
    expect(parseDynamicConfig("server.1=h:1:2\nserver.1=h:3:4").ok).toBe(false);
    expect(parseServerEntry("server.x=h:1:2;3").ok).toBe(false);
    expect(parseServerEntry("a=b=c").ok).toBe(false);
  });
});
