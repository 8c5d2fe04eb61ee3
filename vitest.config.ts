import { defineConfig } from "vitest/config";

// The interop suites (node-zookeeper-client, Apache zkCli) run three times: against a
// standalone server, and against a follower and an observer of a 3 + 1 ensemble.
const INTEROP = ["test/integration/node-zookeeper-client.test.ts", "test/integration/zkcli.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "main", include: ["test/**/*.test.ts"] } },
      { extends: true, test: { name: "follower", include: INTEROP, env: { CORRAL_TEST_TARGET: "corral-follower" } } },
      { extends: true, test: { name: "observer", include: INTEROP, env: { CORRAL_TEST_TARGET: "corral-observer" } } },
    ],
  },
});
