// Real processes (issue 6): a 3-node and a 5-node ensemble on loopback, each server a
// `corral server start-foreground` child with its own data dir. Under write load from
// several clients (Corral's client and node-zookeeper-client), SIGKILL the leader, then a
// follower, then restart both: writes resume after the leader's death, and every write
// that was acknowledged is present on every server afterwards.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import zookeeper from "node-zookeeper-client";
import { connect, type CorralClient } from "../../src/client/index.js";
import { freePort } from "../../src/server/index.js";
import { fourLetterWord } from "../helpers/net.js";

const MAIN = new URL("../../dist/src/cli/main.js", import.meta.url).pathname;

interface Member {
  id: number;
  clientPort: number;
  dir: string;
  cfg: string;
  proc: ChildProcess | undefined;
}

class ProcEnsemble {
  readonly members: Member[] = [];
  root = "";

  static async start(n: number): Promise<ProcEnsemble> {
    const e = new ProcEnsemble();
    e.root = await mkdtemp(join(tmpdir(), "corral-chaos-"));
    const quorum = await Promise.all(Array.from({ length: n }, () => freePort()));
    const client = await Promise.all(Array.from({ length: n }, () => freePort()));
    const lines = quorum.map((q, i) => `server.${i + 1}=127.0.0.1:${q}:${q};127.0.0.1:${client[i]}`);
    for (let i = 0; i < n; i++) {
      const dir = join(e.root, String(i + 1));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "myid"), `${i + 1}\n`);
      const cfg = join(dir, "zoo.cfg");
      await writeFile(
        cfg,
        [`tickTime=200`, `initLimit=10`, `syncLimit=5`, `dataDir=${dir}`, `admin.enableServer=false`, `4lw.commands.whitelist=*`, `snapCount=200`, ...lines, ""].join("\n"),
      );
      e.members.push({ id: i + 1, clientPort: client[i]!, dir, cfg, proc: undefined });
    }
    for (const m of e.members) e.launch(m);
    await e.settled();
    return e;
  }

  launch(m: Member): void {
    m.proc = spawn(process.execPath, [MAIN, "server", "start-foreground", m.cfg], { stdio: ["ignore", process.env["CHAOS_LOG"] === undefined ? "ignore" : "inherit", "inherit"], env: { ...process.env, CORRAL_LOG_LEVEL: process.env["CHAOS_LOG"] ?? "warn" } });
  }

  kill(m: Member): Promise<void> {
    const p = m.proc!;
    m.proc = undefined;
    return new Promise((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    });
  }

  async modeOf(m: Member): Promise<string | undefined> {
    try {
      return /Mode: (\w+)/.exec(await fourLetterWord("127.0.0.1", m.clientPort, "srvr"))?.[1];
    } catch {
      return undefined;
    }
  }

  /** Every running member answers srvr, with exactly one leader (bounded wait). */
  async settled(): Promise<Member> {
    for (let i = 0; i < 400; i++) {
      const live = this.members.filter((m) => m.proc !== undefined);
      const modes = await Promise.all(live.map((m) => this.modeOf(m)));
      if (modes.every((x) => x !== undefined) && modes.filter((x) => x === "leader").length === 1) return live[modes.indexOf("leader")]!;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("ensemble did not settle");
  }

  get connectString(): string {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`).join(",");
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.filter((m) => m.proc !== undefined).map((m) => this.kill(m)));
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Writers that keep creating nodes until stopped; `acked` holds what was acknowledged. */
function startLoad(corral: CorralClient[], nzk: zookeeper.Client[]): { acked: Map<string, string>; stop: () => Promise<void> } {
  const acked = new Map<string, string>();
  let running = true;
  let n = 0;
  const loops = [
    ...corral.map(async (c, ci) => {
      while (running) {
        const path = `/load/c${ci}-${n++}`;
        await c.create(path, path).then(
          () => acked.set(path, path),
          () => undefined,
        );
      }
    }),
    ...nzk.map(async (c, ci) => {
      while (running) {
        const path = `/load/z${ci}-${n++}`;
        await new Promise<void>((resolve) =>
          c.create(path, Buffer.from(path), (e: Error | null) => {
            if (e === null) acked.set(path, path);
            setImmediate(resolve);
          }),
        );
      }
    }),
  ];
  return {
    acked,
    stop: async () => {
      running = false;
      // A request lost with a dead server may never be answered by its client library;
      // it was never acknowledged either, so it is not waited for past a bound.
      await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}

async function nzkClient(connectString: string): Promise<zookeeper.Client> {
  const c = zookeeper.createClient(connectString, { sessionTimeout: 8000, spinDelay: 20 });
  await new Promise<void>((resolve) => {
    c.once("connected", () => resolve());
    c.connect();
  });
  return c;
}

let ens: ProcEnsemble | undefined;
afterEach(async () => {
  await ens?.stop();
  ens = undefined;
});

describe.each((process.env["CHAOS_SIZES"] ?? "3,5").split(",").map(Number))("a %i-server ensemble of real processes", (n) => {
  it("survives SIGKILL of the leader and then a follower, losing no acknowledged write", async () => {
    ens = await ProcEnsemble.start(n);
    const setup = await connect(ens.connectString);
    await setup.create("/load");
    const corral = await Promise.all([1, 2].map(() => connect(ens!.connectString, { sessionTimeoutMs: 8000 })));
    const nzk = await Promise.all([1].map(() => nzkClient(ens!.connectString)));
    const load = startLoad(corral, nzk);
    const waitAcks = async (more: number): Promise<void> => {
      const target = load.acked.size + more;
      for (let i = 0; i < 1000 && load.acked.size < target; i++) await new Promise((r) => setTimeout(r, 10));
      expect(load.acked.size).toBeGreaterThanOrEqual(target);
    };
    await waitAcks(100);
    const leader = await ens.settled();
    await ens.kill(leader);
    const killedAt = load.acked.size;
    await waitAcks(100); // writes resume after the leader's death
    expect(load.acked.size).toBeGreaterThan(killedAt);
    ens.launch(leader);
    const newLeader = await ens.settled();
    const follower = ens.members.find((m) => m.proc !== undefined && m !== newLeader)!;
    await ens.kill(follower);
    await waitAcks(50); // a follower's death does not stop writes
    ens.launch(follower);
    await ens.settled();
    await waitAcks(50);
    await load.stop();
    for (const m of ens.members) {
      const c = await connect(`127.0.0.1:${m.clientPort}`, { connectTimeoutMs: 10_000 });
      await c.sync("/load");
      const have = new Set(await c.getChildren("/load"));
      const missing = [...load.acked.keys()].filter((p) => !have.has(p.slice("/load/".length)));
      expect(missing, `server ${m.id} lacks acknowledged writes`).toEqual([]);
      await c.close();
    }
    for (const c of corral) await c.close().catch(() => undefined);
    for (const c of nzk) c.close();
    await setup.close().catch(() => undefined);
  }, 120_000);
});
