// The data tree face: znodes, paths, ACL rules, deterministic apply.
export { DataTree, EffectKind, QUOTA_WARNINGS_MAX, ZNode, latin1Of, childCount, isContainerOwner, isEphemeralOwner, ttlOfOwner } from "./tree.js";
export type { ZNodeRecord, ZNodeStat, Effect, OpResult, ApplyResult, QuotaWarning } from "./tree.js";
export {
  QUOTA_LIMITS_NODE,
  QUOTA_PREFIX,
  QUOTA_STATS_NODE,
  formatStatsTrack,
  limitsPathOf,
  parseLimits,
  parseStatsTrack,
  parseUsage,
  quotaNodeOf,
  statsPathOf,
} from "./quota.js";
export type { QuotaLimits, QuotaUsage } from "./quota.js";
export { invalidPathReason, parentOf, basenameOf, joinPath, isUnder, sequenceSuffix, protectedKeyOf, protectedTokenOf } from "./paths.js";
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
