// Quorum message encoding, our own format (DESIGN.md: quorum formats need not match
// Apache ZooKeeper's): int type, then the fields in the order of types.ts.

import { JuteError, JuteReader, JuteWriter } from "../jute/index.js";
import { assertNever } from "../util/index.js";
import { PeerState, type Vote, type ZabMsg, type ZabMsgType } from "./types.js";

const TYPES: readonly ZabMsgType[] = [
  "NOTIFICATION", "FOLLOWERINFO", "LEADERINFO", "ACKEPOCH", "DIFF", "TRUNC", "SNAP", "PROPOSAL",
  "COMMIT", "INFORM", "NEWLEADER", "ACK", "UPTODATE", "PING", "REQUEST", "SNAPCHUNK", "SNAPEND",
];
const STATES: readonly PeerState[] = [PeerState.LOOKING, PeerState.FOLLOWING, PeerState.LEADING, PeerState.OBSERVING];

function writeVote(w: JuteWriter, v: Vote): void {
  w.long(v.leader);
  w.long(v.zxid);
  w.int(v.peerEpoch);
}

function readVote(r: JuteReader): Vote {
  return { leader: r.long(), zxid: r.long(), peerEpoch: r.int() };
}

function bytes(r: JuteReader): Uint8Array {
  return r.buffer() ?? new Uint8Array(0);
}

export function encodeZabMsg(w: JuteWriter, m: ZabMsg): void {
  w.int(TYPES.indexOf(m.type));
  switch (m.type) {
    case "NOTIFICATION":
      w.int(STATES.indexOf(m.state));
      writeVote(w, m.vote);
      w.int(m.electionEpoch);
      w.long(m.configVersion);
      return;
    case "FOLLOWERINFO":
      w.int(m.acceptedEpoch);
      w.bool(m.role === "observer");
      return;
    case "LEADERINFO":
      w.int(m.newEpoch);
      return;
    case "ACKEPOCH":
      w.int(m.currentEpoch);
      w.long(m.lastZxid);
      return;
    case "DIFF":
    case "TRUNC":
    case "COMMIT":
    case "ACK":
    case "SNAP":
    case "SNAPEND":
      w.long(m.zxid);
      return;
    case "PROPOSAL":
    case "INFORM":
      w.long(m.zxid);
      w.buffer(m.data);
      return;
    case "NEWLEADER":
      w.int(m.epoch);
      w.long(m.zxid);
      return;
    case "UPTODATE":
      return;
    case "PING":
      w.buffer(m.sessions);
      return;
    case "REQUEST":
    case "SNAPCHUNK":
      w.buffer(m.data);
      return;
    default:
      assertNever(m, "zab message");
  }
}

export function decodeZabMsg(r: JuteReader): ZabMsg {
  const type = TYPES[r.int()];
  switch (type) {
    case "NOTIFICATION": {
      const state = STATES[r.int()];
      if (state === undefined) throw new JuteError("bad peer state");
      return { type, state, vote: readVote(r), electionEpoch: r.int(), configVersion: r.long() };
    }
    case "FOLLOWERINFO":
      return { type, acceptedEpoch: r.int(), role: r.bool() ? "observer" : "participant" };
    case "LEADERINFO":
      return { type, newEpoch: r.int() };
    case "ACKEPOCH":
      return { type, currentEpoch: r.int(), lastZxid: r.long() };
    case "DIFF":
    case "TRUNC":
    case "COMMIT":
    case "ACK":
    case "SNAP":
    case "SNAPEND":
      return { type, zxid: r.long() };
    case "PROPOSAL":
    case "INFORM":
      return { type, zxid: r.long(), data: bytes(r) };
    case "NEWLEADER":
      return { type, epoch: r.int(), zxid: r.long() };
    case "UPTODATE":
      return { type };
    case "PING":
      return { type, sessions: bytes(r) };
    case "REQUEST":
    case "SNAPCHUNK":
      return { type, data: bytes(r) };
    default:
      throw new JuteError("unknown zab message type");
  }
}
