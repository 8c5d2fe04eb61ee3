// Dynamic reconfiguration on the leader (ZooKeeper 3.5's reconfig): turns a reconfig
// request into the next configuration, with PrepRequestProcessor's checks in its order:
// ReconfigInProgress, BadVersion (curConfigId is neither -1 nor the current version),
// BadArguments (bad server specs, mixed modes, too few participants), and
// NewConfigNoQuorum (a majority of the new participants must already be this leader
// and followers synced with it). Also recognises a committed reconfig txn for ZAB.
// Pure: no I/O.

import { duplicateAddress, dynamicConfigText, parseDynamicConfig, parseServerEntry, type ServerSpec } from "../config/index.js";
import { Err, OpCode } from "../jute/index.js";
import { CONFIG_NODE, type ReconfigReq } from "../pipeline/index.js";
import { decodeTxnEntry } from "../txn/index.js";
import type { Member } from "../zab/index.js";

export interface ReconfigState {
  /** The committed configuration and its version. */
  servers: readonly ServerSpec[];
  version: bigint;
  /** A reconfig is proposed and not yet committed. */
  pending: boolean;
  /** standaloneEnabled: a configuration then needs at least two participants. */
  standaloneEnabled: boolean;
  /** Whether a majority of these participants are the leader and followers synced with it. */
  isQuorumSynced(voters: readonly bigint[]): boolean;
}

export type ReconfigPlan = { ok: true; servers: ServerSpec[]; data: Buffer } | { ok: false; err: number; reason: string };

function refuse(err: number, reason: string): ReconfigPlan {
  return { ok: false, err, reason };
}

export function planReconfig(req: ReconfigReq, zxid: bigint, st: ReconfigState): ReconfigPlan {
  if (st.pending) return refuse(Err.ReconfigInProgress, "another reconfiguration is in progress");
  if (req.curConfigId !== -1n && req.curConfigId !== st.version) {
    return refuse(Err.BadVersion, `reconfiguration from version ${req.curConfigId.toString(16)} failed -- last seen version is ${st.version.toString(16)}`);
  }
  const next = req.newMembers.trim() !== "" ? bulk(req) : incremental(req, st.servers);
  if (!next.ok) return next;
  const voters = next.servers.filter((s) => s.role === "participant").map((s) => s.id);
  const votersMin = st.standaloneEnabled ? 2 : 1;
  if (voters.length < votersMin) {
    return refuse(Err.BadArguments, `reconfig failed - new configuration must include at least ${votersMin} participant${votersMin > 1 ? "s" : ""}`);
  }
  if (!st.isQuorumSynced(voters)) {
    return refuse(Err.NewConfigNoQuorum, "reconfig failed - there must be a connected and synced quorum in new configuration");
  }
  return { ok: true, servers: next.servers, data: Buffer.from(dynamicConfigText(next.servers, zxid), "utf8") };
}

/** Non-incremental: newMembers is the whole new configuration. */
function bulk(req: ReconfigReq): ReconfigPlan {
  if (req.joiningServers.trim() !== "" || req.leavingServers.trim() !== "") {
    return refuse(Err.BadArguments, "mixing incremental and non-incremental reconfiguration is not allowed");
  }
  const parsed = parseDynamicConfig(req.newMembers);
  if (!parsed.ok) return refuse(Err.BadArguments, parsed.problem);
  const dup = duplicateAddress(parsed.value.servers);
  if (dup !== undefined) return refuse(Err.BadArguments, dup);
  return { ok: true, servers: [...parsed.value.servers], data: Buffer.alloc(0) };
}

/** Incremental: remove the leaving ids, then add (or replace) each joiner. */
function incremental(req: ReconfigReq, current: readonly ServerSpec[]): ReconfigPlan {
  const next = new Map(current.map((s) => [s.id, s]));
  for (const raw of splitList(req.leavingServers)) {
    if (!/^[0-9]+$/.test(raw)) return refuse(Err.BadArguments, `${JSON.stringify(raw)} is not a server id`);
    next.delete(BigInt(raw));
  }
  for (const raw of splitList(req.joiningServers)) {
    const spec = parseServerEntry(raw);
    if (!spec.ok) return refuse(Err.BadArguments, `wrong format of server string: ${spec.problem}`);
    if (spec.value.clientPort === undefined) {
      return refuse(Err.BadArguments, "wrong format of server string - each server should have at least 3 ports specified");
    }
    next.set(spec.value.id, spec.value);
  }
  const servers = [...next.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const dup = duplicateAddress(servers);
  if (dup !== undefined) return refuse(Err.BadArguments, dup);
  return { ok: true, servers, data: Buffer.alloc(0) };
}

function splitList(s: string): string[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** Byte offset of the op code in an encoded txn entry (txn/codec.ts: long, int, long, long, int). */
const ENTRY_OPCODE_OFFSET = 28;

/**
 * ZAB's reconfigOf: the membership a logged txn installs if it is a reconfig (op code
 * reconfig, a setData of /zookeeper/config), else undefined. Other txns are told apart
 * by their header alone, without decoding them.
 */
export function reconfigMembersOf(data: Uint8Array): Member[] | undefined {
  return reconfigServersOf(data)?.map((s) => ({ id: s.id, role: s.role }));
}

export function reconfigServersOf(data: Uint8Array): readonly ServerSpec[] | undefined {
  if (data.length < ENTRY_OPCODE_OFFSET + 4) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getInt32(ENTRY_OPCODE_OFFSET) !== OpCode.reconfig) return undefined;
  const { txn } = decodeTxnEntry(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (txn.type !== "setData" || txn.path !== CONFIG_NODE || txn.data === null) return undefined;
  const parsed = parseDynamicConfig(txn.data.toString("utf8"));
  return parsed.ok ? parsed.value.servers : undefined;
}
