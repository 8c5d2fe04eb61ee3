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
import { findZooKeeperInstall, inCi, INSTALL_HINT } from "./zookeeper-install.js";

export const TARGET_KINDS = ["corral", "zookeeper"] as const;
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
  const server = kind === "zookeeper" ? await startApacheZooKeeper(opts) : await startCorral(opts);
  return {
    kind,
    host: server.host,
    port: server.port,
    connectString: `${server.host}:${server.port}`,
    stop: () => server.stop(),
  };
}
