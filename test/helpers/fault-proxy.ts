// The fault proxy is public now (corral/testing); the tests import it from here as before.
export { FaultProxy, type FaultProxyOptions } from "../../src/testing/fault-proxy.js";
