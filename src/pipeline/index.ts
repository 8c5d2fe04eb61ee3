// The request path: per-session FIFO, prep -> commit -> apply -> reply.
export { Pipeline, SessionQueue, SYNC_WRITE, type PipelineOptions, type ApplySubscriber } from "./pipeline.js";
export { decodeRequest, isWrite, type Request, type WriteReq, type ReadReq, type ReconfigReq } from "./requests.js";
export {
  memoryCommitLog,
  type CommitLog,
  type Conn,
  type ExtensionCall,
  type PlanContext,
  type ReconfigPlanner,
  type RequestExtension,
  type SessionEndPlanner,
} from "./types.js";
export { CONFIG_NODE, TREE_NODES_MAX } from "./prep.js";
export { encodeForward, decodeForward, opCodeOfWrite, type Forwarded, type ForwardedBody } from "./forward.js";
export { initialSessionId } from "../session/index.js";
