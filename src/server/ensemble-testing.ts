// An in-process ensemble on loopback, for tests and benchmarks: N participants and M
// observers, each a QuorumServer with its own client port, all in one process. Real
// sockets between them; no files unless a data dir root is given.

import { freePort } from "../net/index.js";
import { join } from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { parseConfig, type CorralConfig } from "../config/index.js";
import { silentLogger, type Logger } from "../util/index.js";
import { QuorumServer } from "./quorum.js";

export interface EnsembleForTestOptions {
  participants?: number;
  observers?: number;
  tickMs?: number;
  superDigest?: string;
  extendedTypesEnabled?: boolean;
  fourLetterWordWhitelist?: "*" | string[];
  readOnlyModeEnabled?: boolean;
  localSessionsEnabled?: boolean;
  localSessionsUpgradingEnabled?: boolean;
  /** Durable members, each under <dataDirRoot>/<id>. */
  dataDirRoot?: string;
  log?: Logger;
}

export interface TestEnsemble {
  members: QuorumServer[];
  clientPorts: number[];
  /** host:port of every member, for a connect string. */
  connectString: string;
  connectStringOf(member: QuorumServer): string;
  leader(): QuorumServer | undefined;
  followers(): QuorumServer[];
  observers(): QuorumServer[];
  /** Stops one member (a crash from the others' point of view: its connections drop). */
  stopMember(member: QuorumServer): Promise<void>;
  /** Resolves once every running member serves under one leader (bounded). */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startEnsembleForTest(opts: EnsembleForTestOptions = {}): Promise<TestEnsemble> {
  const n = opts.participants ?? 3;
  const m = opts.observers ?? 0;
  const ids = Array.from({ length: n + m }, (_, i) => i + 1);
  const quorumPorts = await Promise.all(ids.map(() => freePort()));
  const clientPorts = await Promise.all(ids.map(() => freePort()));
  const serverLines = ids.map((id, i) => `server.${id}=127.0.0.1:${quorumPorts[i]}:${quorumPorts[i]}${id > n ? ":observer" : ""};127.0.0.1:${clientPorts[i]}`);
  const tickMs = opts.tickMs ?? 200;
  const wl = opts.fourLetterWordWhitelist ?? "*";
  const base = [
    `tickTime=${tickMs}`,
    "initLimit=10",
    "syncLimit=5",
    "admin.enableServer=false",
    `4lw.commands.whitelist=${wl === "*" ? "*" : wl.join(",")}`,
    `extendedTypesEnabled=${opts.extendedTypesEnabled === true}`,
    `readonlymode.enabled=${opts.readOnlyModeEnabled === true}`,
    `localSessionsEnabled=${opts.localSessionsEnabled === true}`,
    `localSessionsUpgradingEnabled=${opts.localSessionsUpgradingEnabled === true}`,
    ...(opts.superDigest === undefined ? [] : [`DigestAuthenticationProvider.superDigest=${opts.superDigest}`]),
    ...serverLines,
  ].join("\n");
  const members: QuorumServer[] = [];
  for (const id of ids) {
    const dataDir = opts.dataDirRoot === undefined ? undefined : join(opts.dataDirRoot, String(id));
    if (dataDir !== undefined) {
      await mkdir(dataDir, { recursive: true });
      await writeFile(join(dataDir, "myid"), `${id}\n`);
    }
    const { config } = parseConfig(base, { sourceName: `ensemble-${id}.cfg` });
    const c: CorralConfig = { ...config, myid: BigInt(id), dataDir, dataLogDir: dataDir };
    members.push(new QuorumServer({ config: c, log: opts.log ?? silentLogger }));
  }
  await Promise.all(members.map((s) => s.start()));
  const running = new Set(members);
  const portOf = (s: QuorumServer): number => clientPorts[members.indexOf(s)]!;
  const ens: TestEnsemble = {
    members,
    clientPorts,
    connectString: clientPorts.map((p) => `127.0.0.1:${p}`).join(","),
    connectStringOf: (s) => `127.0.0.1:${portOf(s)}`,
    leader: () => [...running].find((s) => s.serving && s.mode === "leader"),
    followers: () => [...running].filter((s) => s.serving && s.mode === "follower"),
    observers: () => [...running].filter((s) => s.serving && s.mode === "observer"),
    async settled(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const live = [...running];
        if (live.every((s) => s.serving) && live.filter((s) => s.mode === "leader").length === 1) return;
        if (Date.now() > deadline) throw new Error(`ensemble did not settle: ${live.map((s) => `${s.me.id}:${s.mode}${s.serving ? "*" : ""}`).join(" ")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stopMember(member) {
      running.delete(member);
      await member.stop();
    },
    async stop() {
      await Promise.all([...running].map((s) => s.stop()));
      running.clear();
    },
  };
  await ens.settled();
  return ens;
}
