// The data tree face: znodes, paths, ACL rules, deterministic apply.
export { DataTree, EffectKind, childCount, isContainerOwner, isEphemeralOwner, ttlOfOwner } from "./tree.js";
export type { ZNode, ZNodeRecord, Effect, OpResult, ApplyResult } from "./tree.js";
export { invalidPathReason, parentOf, basenameOf, joinPath, isUnder, sequenceSuffix } from "./paths.js";
export {
  accessCheck,
  checkAcl,
  fixupAcl,
  maskDigests,
  ipMatches,
  isSuper,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  SUPER_ID,
  WORLD_ANYONE,
} from "./acl.js";
export type { AccessCheck } from "./acl.js";
