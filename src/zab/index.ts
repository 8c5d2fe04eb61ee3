// ZAB as pure state machines: election, discovery, synchronization, broadcast, observers.
export { ZabPeer, betterVote } from "./peer.js";
export type { LearnerProgress } from "./leader.js";
export * from "./types.js";
export { encodeZabMsg, decodeZabMsg } from "./codec.js";
