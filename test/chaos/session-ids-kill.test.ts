// Real processes (issue 14, item 0): a 3-member ensemble, each member a `corral server
// start-foreground` child with its own data dir; clients open sessions on every member
// all the time while a follower, then the leader, is killed with SIGKILL and started again
// from its data dir. No session id is handed out twice, and every id carries the server
// id of the member that handed it out. (Before, a restarted member continued above the
// highest id in its log, usually another member's: up to 15 duplicates in one run.)
// Needs a build: dist/src/cli/main.js.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../src/server/index.js";
import { fourLetterWord } from "../helpers/net.js";
import { SessionIdLedger } from "../helpers/session-ids.js";

const MAIN = new URL("../../dist/src/cli/main.js", import.meta.url).pathname;

interface Member {
  id: number;
  clientPort: number;
  cfg: string;
  proc: ChildProcess | undefined;
}

let root: string | undefined;
const members: Member[] = [];

afterEach(async () => {
  await Promise.all(members.filter((m) => m.proc !== undefined).map((m) => kill(m)));
  members.length = 0;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

function launch(m: Member): void {
  m.proc = spawn(process.execPath, [MAIN, "server", "start-foreground", m.cfg], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CORRAL_LOG_LEVEL: "warn" },
  });
}

function kill(m: Member): Promise<void> {
  const p = m.proc!;
  m.proc = undefined;
  return new Promise((resolve) => {
    p.once("exit", () => resolve());
    p.kill("SIGKILL");
  });
}

async function modeOf(m: Member): Promise<string | undefined> {
  try {
    return /Mode: (\w+)/.exec(await fourLetterWord("127.0.0.1", m.clientPort, "srvr"))?.[1];
  } catch {
    return undefined;
  }
}

/** Every running member answers srvr, with exactly one leader (bounded wait). */
async function settled(): Promise<Member> {
  for (let i = 0; i < 800; i++) {
    const live = members.filter((m) => m.proc !== undefined);
    const modes = await Promise.all(live.map((m) => modeOf(m)));
    if (modes.every((x) => x !== undefined) && modes.filter((x) => x === "leader").length === 1) return live[modes.indexOf("leader")]!;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("ensemble did not settle");
}

describe("session ids when members are killed and restarted (real processes)", () => {
  it("are never handed out twice", async () => {
    root = await mkdtemp(join(tmpdir(), "corral-chaos-ids-"));
    const quorum = await Promise.all([1, 2, 3].map(() => freePort()));
    const client = await Promise.all([1, 2, 3].map(() => freePort()));
    const lines = quorum.map((q, i) => `server.${i + 1}=127.0.0.1:${q}:${q};127.0.0.1:${client[i]}`);
    for (let i = 0; i < 3; i++) {
      const dir = join(root, String(i + 1));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "myid"), `${i + 1}\n`);
      const cfg = join(dir, "zoo.cfg");
      await writeFile(cfg, ["tickTime=200", "initLimit=10", "syncLimit=5", `dataDir=${dir}`, "admin.enableServer=false", "4lw.commands.whitelist=*", "snapCount=100", ...lines, ""].join("\n"));
      members.push({ id: i + 1, clientPort: client[i]!, cfg, proc: undefined });
    }
    for (const m of members) launch(m);
    await settled();

    const ledger = new SessionIdLedger();
    const workers = members.flatMap((m) => [0, 1].map((w) => ledger.worker(m.id, w, () => (m.proc === undefined ? undefined : `127.0.0.1:${m.clientPort}`), 4000)));

    for (let round = 0; round < 4; round++) {
      await ledger.enoughSessions(40);
      const leader = await settled();
      const victim = round % 2 === 0 ? members.find((m) => m !== leader && m.proc !== undefined)! : leader;
      await kill(victim);
      launch(victim);
      await settled();
    }
    await ledger.enoughSessions(40);
    ledger.stop = true;
    await Promise.all(workers);

    expect(ledger.duplicates).toEqual([]);
    expect(ledger.wrongByte).toEqual([]);
    expect(ledger.handedOut.size).toBeGreaterThanOrEqual(200);
    expect(new Set(ledger.handedOut.values())).toEqual(new Set([1, 2, 3]));
  }, 180_000);
});
