import { it, expect } from "vitest";
import { QuorumServer } from "../../src/server/index.js";
import { parseConfig } from "../../src/config/index.js";
import { connect } from "../../src/client/index.js";
import { freePort } from "../helpers/net.js";

it("3-node in-memory ensemble", async () => {
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const lines = [1, 2, 3].map((i) => `server.${i}=127.0.0.1:${ports[i - 1]}:${ports[i - 1]! + 0};${ports[i + 2]}`);
  const servers = [1, 2, 3].map((i) => {
    const { config } = parseConfig(`tickTime=200\ninitLimit=10\nsyncLimit=5\nadmin.enableServer=false\n${lines.join("\n")}\n`);
    return new QuorumServer({ config: { ...config, myid: BigInt(i), dataDir: undefined } });
  });
  await Promise.all(servers.map((s) => s.start()));
  const t0 = Date.now();
  while (!servers.every((s) => s.serving) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
  console.log("modes", servers.map((s) => s.mode), "after", Date.now() - t0, "ms");
  const cs = `127.0.0.1:${ports[3]},127.0.0.1:${ports[4]},127.0.0.1:${ports[5]}`;
  const clients = await Promise.all([3, 4, 5].map((k) => connect(`127.0.0.1:${ports[k]}`)));
  for (let i = 0; i < 20; i++) await clients[i % 3]!.create(`/n${i}`, `v${i}`);
  await clients[0]!.create("/seq-", "x", { mode: "ephemeralSequential" });
  for (const c of clients) expect((await c.getChildren("/")).length).toBeGreaterThanOrEqual(21);
  const leader = servers.find((s) => s.mode === "leader")!;
  const c = await connect(cs, { sessionTimeoutMs: 4000 });
  await c.create("/before", "1");
  const tk = Date.now();
  await leader.stop();
  let ok = false;
  while (!ok && Date.now() - tk < 10000) {
    try { await c.create(`/after-${Date.now()}`, "2"); ok = true; } catch (e) { await new Promise((r) => setTimeout(r, 10)); }
  }
  console.log("failover write after", Date.now() - tk, "ms", servers.map((s) => s.mode));
  expect(ok).toBe(true);
  expect((await c.getData("/n7")).data?.toString()).toBe("v7");
  await c.close();
  for (const cl of clients) await cl.close().catch(() => {});
  await Promise.all(servers.filter((s) => s !== leader).map((s) => s.stop()));
}, 30000);
