// Corral's admin command `learners` (the web console's ensemble view): each member of the
// ensemble with its role, addresses, zxid and lag, as this member's ZAB peer knows them.
// ZooKeeper's leader knows each learner's progress (its LearnerHandlers); no ZooKeeper
// admin command lists it, so this is Corral's own. Read-only.
//
// On the leader: every configured server, and for each connected learner its sync phase,
// the last zxid it acked and how many proposals it has not acked yet (lag); a member that
// is not connected shows as such. On a follower or observer: only its own zxid (applied)
// and the last zxid it heard from the leader; the leader's console has the others.

import type { JsonObject, JsonValue } from "../net/index.js";
import { counterOf, epochOf, asZxid, hex64 } from "../util/index.js";
import type { OperatedServer } from "./operations.js";
import type { ZabProgress } from "./standalone.js";
import type { LearnerProgress } from "../zab/index.js";

/** Proposals after `from` up to `to` when both are of one epoch (zxids count up without gaps there). */
function txnsBetween(to: bigint, from: bigint): number | null {
  if (from >= to) return 0;
  return epochOf(asZxid(to)) === epochOf(asZxid(from)) ? counterOf(asZxid(to)) - counterOf(asZxid(from)) : null;
}

const zxidText = (z: bigint | undefined): JsonValue => (z === undefined ? null : hex64(z));

export function learnersView(server: OperatedServer, zab: ZabProgress | undefined): JsonObject {
  const c = server.config;
  if (server.mode === "standalone" || zab === undefined) return { error: "standalone: this server has no learners" };
  const own = server.lastZxid();
  const myId = c.myid;
  const leaderId = server.leaderId;
  const state = server.mode === "read-only" ? "read-only" : zab.leading ? "leader" : leaderId === undefined ? "looking" : server.mode;
  const byId = new Map<bigint, LearnerProgress>(zab.learners.map((l) => [l.id, l]));
  const ids = [...new Set([...c.servers.map((s) => s.id), ...byId.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const members: JsonValue[] = [];
  for (const id of ids) {
    const spec = c.servers.find((s) => s.id === id);
    const self = id === myId;
    // Only the leader knows the others; a learner lists itself alone.
    if (!zab.leading && !self) continue;
    const l = byId.get(id);
    const role = self ? state : spec?.role === "observer" || l?.role === "observer" ? "observer" : id === leaderId ? "leader" : "follower";
    const base: Record<string, JsonValue> = {
      id,
      role,
      this_server: self,
      quorum_address: spec === undefined ? null : `${spec.host}:${spec.quorumPort}`,
      client_address: spec === undefined ? null : `${spec.clientHost ?? "0.0.0.0"}:${spec.clientPort ?? c.clientPort}`,
    };
    if (self) {
      // Its own zxid is what it applied; lag: proposals it heard of and has not applied.
      members.push({ ...base, connected: true, phase: zab.leading ? "leading" : state === "looking" ? "looking" : "synced", synced: state !== "looking" && server.serving?.() !== false, zxid: hex64(own), lag: txnsBetween(zab.lastLogged, own), last_heard_ms_ago: 0 });
    } else if (l === undefined) {
      members.push({ ...base, connected: false, phase: "not connected", synced: false, zxid: null, lag: null, last_heard_ms_ago: null });
    } else {
      members.push({
        ...base,
        connected: true,
        phase: l.phase,
        synced: l.phase === "synced",
        zxid: zxidText(l.lastAckedZxid),
        lag: l.lagTxns ?? null,
        last_heard_ms_ago: l.ticksSinceHeard * zab.tickMs,
      });
    }
  }
  return {
    server_id: myId ?? -1n,
    state,
    leader_id: leaderId ?? -1n,
    last_zxid: hex64(own),
    // Leader: its last proposal. Learner: the last proposal or commit heard from the leader.
    leader_last_zxid: hex64(zab.lastLogged),
    members,
    note: zab.leading
      ? null
      : leaderId === undefined
        ? "no leader now: this member is looking for one"
        : `this member knows only its own progress: open the leader's (server ${leaderId}) console for the other members`,
  };
}
