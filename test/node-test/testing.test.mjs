// corral/testing under node:test, as an application's test file would use it (this one
// imports the package by its name: `corral` and `corral/testing` resolve to the built
// dist/). Run: `node --test test/node-test/` after `npm run build`; `npm test` runs it
// through test/integration/node-test.test.ts.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect } from "corral";
import { ConnectionFaults, TestingCluster, TestingServer, expireSession } from "corral/testing";

/** Resolves with the info of the client's next `state` announcement. */
function next(client, state) {
  return new Promise((resolve) => {
    const listener = (s, info) => {
      if (s !== state) return;
      client.off("connectionState", listener);
      resolve(info);
    };
    client.on("connectionState", listener);
  });
}

describe("a TestingServer", () => {
  let server;
  before(async () => {
    server = await TestingServer.start();
  });
  after(async () => {
    await server.stop();
  });

  test("keeps what was written across a restart", async () => {
    const client = await connect(server.connectString, { sessionTimeoutMs: 10_000 });
    await client.create("/config", "v1");
    await server.restart();
    assert.equal(String((await client.getData("/config")).data), "v1");
    await client.close();
  });

  test("a cut connection: the client reconnects to the same session", async () => {
    const faults = await ConnectionFaults.start(server);
    const client = await connect(faults.connectString, { sessionTimeoutMs: 10_000 });
    const session = client.sessionId;
    const back = next(client, "RECONNECTED");
    faults.cut();
    await back;
    assert.equal(client.sessionId, session);
    await client.close();
    await faults.close();
  });

  test("an expired session: its ephemeral node is gone and the client sees SessionExpired", async () => {
    const client = await connect(server.connectString, { sessionTimeoutMs: 10_000 });
    await client.create("/member", "", { mode: "ephemeral" });
    const lost = next(client, "LOST");
    await expireSession(server, client);
    assert.equal((await lost).reason.code, "SessionExpired");
    const other = await connect(server.connectString);
    assert.equal(await other.exists("/member"), null);
    await Promise.all([client.close(), other.close()]);
  });
});

test("a TestingCluster elects a new leader when the leader is killed, and the old one rejoins", async () => {
  const cluster = await TestingCluster.start({ size: 3 });
  try {
    const client = await connect(cluster.connectString, { sessionTimeoutMs: 10_000 });
    const leader = await cluster.leaderIndex();
    await cluster.kill(leader);
    const newLeader = await cluster.leaderIndex();
    assert.notEqual(newLeader, leader);
    await client.create("/after-failover", "ok");
    await cluster.restart(leader);
    assert.equal(cluster.members[leader].running, true);
    assert.equal(await cluster.leaderIndex(), newLeader);
    await client.close();
  } finally {
    await cluster.stop();
  }
});
