export { WatchRegistry, WatchKind, type WatchTarget } from "./registry.js";
