// The node:test example of corral/testing (test/node-test/) runs in `npm test` through this
// file: node's own runner, in a child process, against the built package (dist/).

import { spawn } from "node:child_process";
import { expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

it("the node:test files of test/node-test pass under `node --test`", async () => {
  const p = spawn(process.execPath, ["--test", "--test-reporter=tap", "test/node-test/"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  p.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
  p.stderr.on("data", (b: Buffer) => (out += b.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => p.once("exit", (c) => resolve(c)));
  expect({ code, out }).toMatchObject({ code: 0 });
  expect(out).toMatch(/^# fail 0$/m);
  expect(Number(/^# pass (\d+)$/m.exec(out)?.[1])).toBeGreaterThanOrEqual(4);
}, 60_000);
