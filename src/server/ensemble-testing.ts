// An in-process ensemble on loopback, for tests and benchmarks: N participants and M
// observers, each a QuorumServer with its own client port, all in one process. Real
// sockets between them; no files unless a data dir root is given. Servers can join
// (started with the ensemble's server lines plus their own, as ZooKeeper's docs tell
// joiners) and members can be restarted (durable ones keep their data dir).

import { freePort } from "../net/index.js";
import { join } from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { parseConfig, type CorralConfig } from "../config/index.js";
import type { Disk } from "../storage/index.js";
import { silentLogger, type Clock, type Logger } from "../util/index.js";
import { QuorumServer } from "./quorum.js";

export interface EnsembleForTestOptions {
  participants?: number;
  observers?: number;
  tickMs?: number;
  superDigest?: string;
  extendedTypesEnabled?: boolean;
  skipAcl?: boolean;
  fourLetterWordWhitelist?: "*" | string[];
  readOnlyModeEnabled?: boolean;
  localSessionsEnabled?: boolean;
  localSessionsUpgradingEnabled?: boolean;
  reconfigEnabled?: boolean;
  /** Durable members, each under <dataDirRoot>/<id>. */
  dataDirRoot?: string;
  log?: Logger;
  /** Each member's clock, by server id (default the system clock). */
  clockOf?: (id: bigint) => Clock;
  /** Each durable member's disk, by server id (default the real file system). */
  diskOf?: (id: bigint) => Disk;
  /** More zoo.cfg lines for every member (e.g. sslQuorum and its stores). */
  extraConfig?: readonly string[];
  /** More zoo.cfg lines for one member, by server id (after extraConfig). */
  extraConfigOf?: (id: number) => readonly string[];
  /** false: resolve once every member started, without waiting for one leader (default true). */
  settle?: boolean;
  /**
   * TLS on every port: sslQuorum=true with these stores as ssl.quorum.*, and a
   * secureClientPort per member with them as ssl.* (ssl.clientAuth=need, ZooKeeper's
   * default). connectString and connectStringOf then name the secure ports; clientPorts
   * stay the plain ones (the server lines' client ports: four-letter words, admin).
   */
  tls?: EnsembleTls;
}

/** PEM stores for an ensemble with TLS everywhere (see EnsembleForTestOptions.tls). */
export interface EnsembleTls {
  /** Key and certificate (one PEM file) each member presents, to members and to clients. */
  keyStore: string;
  /** CA certificates (PEM) members and client certificates are checked against. */
  trustStore: string;
}

export interface TestEnsemble {
  members: QuorumServer[];
  /** Each member's plain client port, in members' order. */
  clientPorts: number[];
  /** Each member's secureClientPort with `tls`, in members' order; empty without. */
  securePorts: number[];
  /** A member's plain client port (four-letter words answer there, with or without `tls`). */
  clientPortOf(member: QuorumServer): number;
  /** host:port of every member, for a connect string. */
  connectString: string;
  connectStringOf(member: QuorumServer): string;
  leader(): QuorumServer | undefined;
  followers(): QuorumServer[];
  observers(): QuorumServer[];
  /** Stops one member (a crash from the others' point of view: its connections drop). */
  stopMember(member: QuorumServer): Promise<void>;
  /** Stops a member and starts it again with the same zoo.cfg and data dir. */
  restartMember(member: QuorumServer): Promise<QuorumServer>;
  /**
   * Starts a new server, not yet in the configuration, whose zoo.cfg lists the ensemble's
   * servers and itself; resolves once it serves (synced with the leader). `spec` is its
   * server line's value, for `reconfig -add <id>=<spec>`.
   */
  startJoiner(role?: "participant" | "observer"): Promise<{ member: QuorumServer; id: bigint; spec: string }>;
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
  const tls = opts.tls;
  const securePorts = tls === undefined ? [] : await Promise.all(ids.map(() => freePort()));
  const specOf = (quorumPort: number, clientPort: number, observer: boolean): string =>
    `127.0.0.1:${quorumPort}:${quorumPort}${observer ? ":observer" : ""};127.0.0.1:${clientPort}`;
  const serverLines = ids.map((id, i) => `server.${id}=${specOf(quorumPorts[i]!, clientPorts[i]!, id > n)}`);
  const tickMs = opts.tickMs ?? 200;
  const wl = opts.fourLetterWordWhitelist ?? "*";
  const base = [
    `tickTime=${tickMs}`,
    "initLimit=10",
    "syncLimit=5",
    "admin.enableServer=false",
    `4lw.commands.whitelist=${wl === "*" ? "*" : wl.join(",")}`,
    `extendedTypesEnabled=${opts.extendedTypesEnabled === true}`,
    `skipACL=${opts.skipAcl === true ? "yes" : "no"}`,
    `readonlymode.enabled=${opts.readOnlyModeEnabled === true}`,
    `localSessionsEnabled=${opts.localSessionsEnabled === true}`,
    `localSessionsUpgradingEnabled=${opts.localSessionsUpgradingEnabled === true}`,
    `reconfigEnabled=${opts.reconfigEnabled === true}`,
    ...(opts.superDigest === undefined ? [] : [`DigestAuthenticationProvider.superDigest=${opts.superDigest}`]),
    ...(tls === undefined ? [] : [
      "sslQuorum=true",
      `ssl.quorum.keyStore.location=${tls.keyStore}`,
      `ssl.quorum.trustStore.location=${tls.trustStore}`,
      `ssl.keyStore.location=${tls.keyStore}`,
      `ssl.trustStore.location=${tls.trustStore}`,
      "ssl.clientAuth=need",
    ]),
    ...(opts.extraConfig ?? []),
  ].join("\n");
  /** Member id -> its secureClientPort line (with `tls`). */
  const secureLine = (id: number): string[] => (tls === undefined ? [] : [`secureClientPort=${securePorts[id - 1]!}`]);
  const makeMember = async (id: number, lines: readonly string[]): Promise<QuorumServer> => {
    const dataDir = opts.dataDirRoot === undefined ? undefined : join(opts.dataDirRoot, String(id));
    if (dataDir !== undefined) {
      await mkdir(dataDir, { recursive: true });
      await writeFile(join(dataDir, "myid"), `${id}\n`);
    }
    const { config } = parseConfig([base, ...secureLine(id), ...(opts.extraConfigOf?.(id) ?? []), ...lines].join("\n"), { sourceName: `ensemble-${id}.cfg` });
    const c: CorralConfig = { ...config, myid: BigInt(id), dataDir, dataLogDir: dataDir };
    return new QuorumServer({ config: c, log: opts.log ?? silentLogger, ...seamsFor(BigInt(id)) });
  };
  const seamsFor = (id: bigint): { clock?: Clock; disk?: Disk } => ({
    ...(opts.clockOf === undefined ? {} : { clock: opts.clockOf(id) }),
    ...(opts.diskOf === undefined ? {} : { disk: opts.diskOf(id) }),
  });
  const members: QuorumServer[] = [];
  for (const id of ids) members.push(await makeMember(id, serverLines));
  await Promise.all(members.map((s) => s.start()));
  const running = new Set(members);
  const clientPortOf = (s: QuorumServer): number => clientPorts[members.indexOf(s)]!;
  /** The port clients use: the secure one with `tls`. */
  const portOf = (s: QuorumServer): number => (tls === undefined ? clientPorts : securePorts)[members.indexOf(s)]!;
  const ens: TestEnsemble = {
    members,
    clientPorts,
    securePorts,
    clientPortOf,
    connectString: (tls === undefined ? clientPorts : securePorts).map((p) => `127.0.0.1:${p}`).join(","),
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
    async restartMember(member) {
      const i = members.indexOf(member);
      running.delete(member);
      await member.stop();
      const again = new QuorumServer({ config: member.config, log: opts.log ?? silentLogger, ...seamsFor(member.me.id) });
      members[i] = again;
      running.add(again);
      await again.start();
      return again;
    },
    async startJoiner(role = "participant") {
      const id = members.length + 1;
      const quorumPort = await freePort();
      const clientPort = await freePort();
      if (tls !== undefined) securePorts[id - 1] = await freePort();
      const spec = specOf(quorumPort, clientPort, role === "observer");
      const member = await makeMember(id, [...serverLines, `server.${id}=${spec}`]);
      members.push(member);
      clientPorts.push(clientPort);
      running.add(member);
      await member.start();
      const deadline = Date.now() + 10_000;
      while (!member.serving) {
        if (Date.now() > deadline) throw new Error(`joiner ${id} did not sync with the leader`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return { member, id: BigInt(id), spec };
    },
    async stop() {
      await Promise.all([...running].map((s) => s.stop()));
      running.clear();
    },
  };
  if (opts.settle !== false) await ens.settled();
  return ens;
}
