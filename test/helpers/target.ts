/**
 * The server an integration test talks to, chosen by env `CORRAL_TEST_TARGET`:
 * - `corral` (default): Corral's standalone server, in-process (`./corral.js`);
 * - `zookeeper`: a real Apache ZooKeeper started by `./apache-zk.js`.
 *
 * Tests written against `Target` must not care which one they got: the point is
 * that the same assertions pass on both.
 */
import { startApacheZooKeeper } from "./apache-zk.js";
import { startCorral } from "./corral.js";
import { startEnsembleForTest } from "../../src/server/index.js";
import { findZooKeeperInstall, inCi, INSTALL_HINT } from "./zookeeper-install.js";

/**
 * `corral-follower` / `corral-observer`: a member of an in-process Corral ensemble of
 * three participants and one observer; the tests talk to a follower or the observer.
 */
export const TARGET_KINDS = ["corral", "zookeeper", "corral-follower", "corral-observer"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface Target {
  kind: TargetKind;
  host: string;
  port: number;
  /** `host:port`, as ZooKeeper clients take it. */
  connectString: string;
  stop(): Promise<void>;
}

/** Server settings both targets understand (named as in `startStandaloneForTest`). */
export interface TargetOptions {
  superDigest?: string;
  extendedTypesEnabled?: boolean;
  /** skipACL=yes (ZooKeeper reads it from zoo.cfg as the zookeeper.skipACL property). */
  skipAcl?: boolean;
  tickMs?: number;
  fourLetterWordWhitelist?: "*" | string[];
}

export function targetKind(): TargetKind {
  const raw = process.env["CORRAL_TEST_TARGET"] ?? "corral";
  const kind = TARGET_KINDS.find((k) => k === raw);
  if (kind === undefined) {
    throw new Error(`CORRAL_TEST_TARGET must be one of ${TARGET_KINDS.join(", ")}; got ${JSON.stringify(raw)}`);
  }
  return kind;
}

/**
 * Why the chosen target cannot run here, or undefined when it can. Only the
 * `zookeeper` target has an external dependency. In CI nothing is skipped: the
 * caller gets undefined and the start fails loudly instead.
 */
export function targetSkipReason(): string | undefined {
  if (targetKind() !== "zookeeper" || inCi()) return undefined;
  const install = findZooKeeperInstall();
  if (install.java !== undefined && install.serverClasspath !== undefined) return undefined;
  return `CORRAL_TEST_TARGET=zookeeper but no Apache ZooKeeper server was found; ${INSTALL_HINT}`;
}

export async function startTarget(opts: TargetOptions = {}): Promise<Target> {
  const kind = targetKind();
  const server =
    kind === "zookeeper"
      ? await startApacheZooKeeper(opts)
      : kind === "corral"
        ? await startCorral(opts)
        : await startEnsembleMember(kind === "corral-observer" ? "observer" : "follower", opts);
  return {
    kind,
    host: server.host,
    port: server.port,
    connectString: `${server.host}:${server.port}`,
    stop: () => server.stop(),
  };
}

/** A follower or the observer of a 3 + 1 Corral ensemble; stop() stops the whole ensemble. */
async function startEnsembleMember(
  role: "follower" | "observer",
  opts: TargetOptions,
): Promise<{ host: string; port: number; stop(): Promise<void> }> {
  const ens = await startEnsembleForTest({ participants: 3, observers: 1, ...opts });
  const member = role === "observer" ? ens.observers()[0] : ens.followers()[0];
  if (member === undefined) throw new Error(`the ensemble has no ${role}`);
  const [host, port] = ens.connectStringOf(member).split(":");
  return { host: host!, port: Number(port), stop: () => ens.stop() };
}
