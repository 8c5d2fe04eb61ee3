// A cluster whose servers exit while starting fails at once and says why (their stderr),
// instead of waiting out the settle timeout with "1:down 2:down".

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ProcCluster, killAllChildren } from "../../chaos/lib/cluster.js";

afterAll(() => killAllChildren());

it("reports the stderr of members that exit while starting", async () => {
  const c = await ProcCluster.start({ members: 1 });
  const m = c.members[0]!;
  await c.kill9(m);
  await writeFile(m.cfg, "tickTime=abc\n");
  const t0 = performance.now();
  c.launch(m);
  await expect(c.settled(20_000)).rejects.toThrow(/did not settle/);
  expect(performance.now() - t0).toBeLessThan(10_000);
  expect(c.crashes.join("\n")).toMatch(/member 1 exited by itself \(code [1-9]/);
  await c.stop();
}, 30_000);
