// examples/service-discovery/discovery.mjs as users run it, against a real server with
// short sessions (corral/testing's TestingServer): a watching client sees each instance
// appear when it registers, an instance killed with SIGKILL disappear once its session
// expires, and one stopped with SIGTERM disappear at once (it closes its session), and one
// paused past its session's expiry register again once resumed; all of them exit 0 on
// SIGTERM. (The run is in ./scenarios.ts: the package test runs it too, from an app that
// installed the packed package.)

import { afterAll, beforeAll, describe, it } from "vitest";
import { TestingServer } from "../../src/testing/index.js";
import { serviceDiscoveryRun, shortSessions } from "./scenarios.js";

/** Sessions of at most 20 ticks (3 s): a killed instance's session expires quickly. */
const TICK_MS = 150;

describe.skipIf(process.platform === "win32")("examples/service-discovery", () => {
  let srv: TestingServer | undefined;

  beforeAll(async () => {
    srv = await TestingServer.start(shortSessions(TICK_MS));
  });

  afterAll(async () => {
    await srv?.stop();
  });

  it("lists instances as they register, drops a killed one when its session expires and a stopped one at once, and a paused one registers again", async () => {
    await serviceDiscoveryRun(srv!.connectString);
  });
});
