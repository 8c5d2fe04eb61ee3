/**
 * Where the local Apache ZooKeeper installation lives: the `java` binary, the
 * server classpath and `zkCli.sh`. The benchmark and the integration tests use it
 * for the reference implementation (the real server); tests also for a third-party
 * client (zkCli).
 *
 * Looked up in this order (first hit wins):
 * - env `CORRAL_ZK_CLASSPATH`, `CORRAL_ZKCLI`, `JAVA` — explicit overrides
 *   (`CORRAL_ZKCLI` or `JAVA` set to a non-executable path means "none");
 * - Debian/Ubuntu package `zookeeper` (`scripts/install-test-deps.sh` installs it):
 *   `/usr/share/java/zookeeper.jar` (its manifest Class-Path names every dependency)
 *   and `/usr/share/zookeeper/bin/zkCli.sh`;
 * - an upstream tarball under env `ZOOKEEPER_HOME` (`lib/*`, `bin/zkCli.sh`);
 * - `zkCli.sh` on `PATH`.
 *
 * Pure lookup: no process is started here.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface ZooKeeperInstall {
  /** The java launcher, or undefined when none was found. */
  java: string | undefined;
  /** Classpath that holds `org.apache.zookeeper.server.ZooKeeperServerMain`. */
  serverClasspath: string | undefined;
  /** Absolute path of `zkCli.sh`. */
  zkCli: string | undefined;
}

const DEBIAN_JAR = "/usr/share/java/zookeeper.jar";
const DEBIAN_ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function findJava(): string | undefined {
  const fromEnv = process.env["JAVA"];
  if (fromEnv !== undefined && fromEnv !== "") return isExecutable(fromEnv) ? fromEnv : undefined;
  const javaHome = process.env["JAVA_HOME"];
  if (javaHome !== undefined && isExecutable(join(javaHome, "bin", "java"))) {
    return join(javaHome, "bin", "java");
  }
  return onPath("java");
}

function findServerClasspath(): string | undefined {
  const fromEnv = process.env["CORRAL_ZK_CLASSPATH"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (existsSync(DEBIAN_JAR)) return DEBIAN_JAR;
  const home = process.env["ZOOKEEPER_HOME"];
  if (home !== undefined && existsSync(join(home, "lib"))) {
    // The JVM expands "dir/*" to every jar in dir.
    return [join(home, "lib", "*"), join(home, "conf")].join(delimiter);
  }
  return undefined;
}

function findZkCli(): string | undefined {
  // An explicit override wins even when it is wrong (no fallback), so
  // `CORRAL_ZKCLI=/nonexistent` simulates a machine without zkCli.
  const fromEnv = process.env["CORRAL_ZKCLI"];
  if (fromEnv !== undefined && fromEnv !== "") return isExecutable(fromEnv) ? fromEnv : undefined;
  if (isExecutable(DEBIAN_ZKCLI)) return DEBIAN_ZKCLI;
  const home = process.env["ZOOKEEPER_HOME"];
  if (home !== undefined && isExecutable(join(home, "bin", "zkCli.sh"))) {
    return join(home, "bin", "zkCli.sh");
  }
  return onPath("zkCli.sh");
}

export function findZooKeeperInstall(): ZooKeeperInstall {
  return { java: findJava(), serverClasspath: findServerClasspath(), zkCli: findZkCli() };
}

/** True in CI, where a missing dependency must fail the run instead of skipping. */
export function inCi(): boolean {
  const ci = process.env["CI"];
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

export const INSTALL_HINT =
  "run scripts/install-test-deps.sh (installs Debian's zookeeper package), " +
  "or point CORRAL_ZKCLI / CORRAL_ZK_CLASSPATH / ZOOKEEPER_HOME at an Apache ZooKeeper 3.8+";
