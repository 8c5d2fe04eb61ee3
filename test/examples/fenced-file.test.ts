// examples/fenced-file/fenced-file.mjs as users run it, against a real server with short
// sessions (corral/testing's TestingServer): a writer whose write is on its way when it is
// paused (SIGSTOP, as a GC pause or a stalled VM) loses its session and its lock; a second
// writer takes the lock with a higher token and writes; the first one, resumed, has its
// write refused by the token check (exit 2), and a reader under the read lock sees the
// second writer's value.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestingServer } from "../../src/testing/index.js";
import { ExampleProcess } from "./run-example.js";
import { shortSessions } from "./scenarios.js";

const SCRIPT = "fenced-file/fenced-file.mjs";
/** Sessions of at most 20 ticks (3 s): a paused writer's session expires quickly. */
const TICK_MS = 150;

describe.skipIf(process.platform === "win32")("examples/fenced-file", () => {
  let srv: TestingServer;
  let dir: string;
  const procs: ExampleProcess[] = [];

  beforeAll(async () => {
    srv = await TestingServer.start(shortSessions(TICK_MS));
    dir = mkdtempSync(join(tmpdir(), "corral-fenced-"));
  });

  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGCONT");
    await Promise.all(procs.map((p) => p.kill()));
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: Record<string, string> = {}): ExampleProcess => {
    const p = new ExampleProcess(SCRIPT, [...args, srv.connectString], { FENCED_FILE: join(dir, "fenced.txt"), ...env });
    procs.push(p);
    return p;
  };
  const tokenOf = (line: string): bigint => BigInt(/token (\d+)/.exec(line)![1]!);

  it("refuses the write of a writer whose lock was taken over while it was paused, and keeps the newer write", async () => {
    const first = run(["write", "v0"]);
    expect(await first.exit()).toEqual({ code: 0, signal: null });
    expect(first.lines).toContain(`wrote "v0" with token ${tokenOf(first.lines[0]!)}`);

    // The stale writer: locked, its write on its way (for 4 s, so the pause lands first even
    // on a loaded machine), then paused (no pings: the server expires its session, and with
    // it the lock node).
    const stale = run(["write", "from-stale"], { WRITE_DELAY_MS: "4000" });
    const staleToken = tokenOf(await stale.line(/^locked for writing, token \d+$/));
    await stale.line(/^write on its way/);
    stale.proc.kill("SIGSTOP");

    const next = run(["write", "from-next"]);
    expect(await next.exit()).toEqual({ code: 0, signal: null });
    const nextToken = tokenOf(await next.line(/^locked for writing, token \d+$/));
    expect(nextToken).toBeGreaterThan(staleToken);
    expect(next.lines).toContain(`wrote "from-next" with token ${nextToken}`);

    // Resumed, it still believes it holds the lock; its write reaches the file and is refused.
    stale.proc.kill("SIGCONT");
    expect(await stale.exit()).toEqual({ code: 2, signal: null });
    expect(stale.lines).toContain(`refused: stale token ${staleToken}: the file holds a write with token ${nextToken}`);
    expect(stale.lines.some((l) => l.startsWith("wrote"))).toBe(false);
    expect(readFileSync(join(dir, "fenced.txt"), "utf8")).toBe(`${nextToken}\nfrom-next`);

    const reader = run(["read"]);
    expect(await reader.exit()).toEqual({ code: 0, signal: null });
    expect(reader.lines).toEqual([`read "from-next" written with token ${nextToken}`]);
  });
});
