// corral/testing: real Corral servers for an application's own tests, and faults on purpose.
//
// Every server runs in a child process (`corral server start-foreground`), not in the test's
// process: a kill is a real kill -9, a restart a real process restart, the server's timers do
// not share the test's event loop (fake timers in a test cannot stall it) and a test that
// blocks its loop does not stall the server. The cost is a process start (a few hundred ms)
// per server. The project's own tests use the same code (test/chaos, test/integration).
//
// It sits above every other folder of src/ (it imports client, net and the CLI's entry, see
// test/unit/layers); nothing in src/ imports it.

export { TestingServer, TESTING_TICK_MS, type TestingServerOptions } from "./testing-server.js";
export { TestingCluster, type TestingClusterOptions, type TestingMember } from "./testing-cluster.js";
export { ConnectionFaults, expireSession, type HasConnectString, type SessionOf } from "./faults.js";
export { FaultProxy, type FaultProxyOptions } from "./fault-proxy.js";
export { killAllServerProcesses } from "./server-process.js";
export type { ConfigValue } from "./config.js";
