// The version Corral reports where ZooKeeper reports its own (srvr, envi, mntr). Clients
// parse it (kazoo reads `zookeeper.version` from envi), so it starts with the ZooKeeper
// version whose client protocol we speak.

import { readFileSync } from "node:fs";

function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "corral" && pkg.version !== undefined) return pkg.version;
    } catch {
      // try the next candidate: sources run from src/, builds from dist/src/
    }
  }
  return "0.0.0";
}

export const CORRAL_VERSION = packageVersion();
export const ZOOKEEPER_COMPAT_VERSION = "3.8.0";
export const VERSION_STRING = `${ZOOKEEPER_COMPAT_VERSION}-corral-${CORRAL_VERSION}`;
/** srvr/stat's first line, in ZooKeeper's format. */
export const VERSION_LINE = `Zookeeper version: ${VERSION_STRING}, built on 2026-11-22 00:00 UTC`;
