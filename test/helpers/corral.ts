/**
 * Starts Corral's own standalone server in-process for integration tests.
 *
 * The server team provides `startStandaloneForTest` from `src/server/index.ts`.
 * It is imported lazily through a string variable so this helper type-checks
 * (and the zookeeper target runs) before that module exists; the local
 * interfaces below are the contract.
 */

export interface StandaloneForTestOptions {
  host?: string;
  clientPort?: number;
  superDigest?: string;
  extendedTypesEnabled?: boolean;
  skipAcl?: boolean;
  tickMs?: number;
  fourLetterWordWhitelist?: "*" | string[];
}

export interface CorralTestServer {
  host: string;
  port: number;
  stop(): Promise<void>;
}

interface CorralServerModule {
  startStandaloneForTest(opts: StandaloneForTestOptions): Promise<CorralTestServer>;
}

const SERVER_MODULE = "../../src/server/index.js";

export async function startCorral(opts: StandaloneForTestOptions = {}): Promise<CorralTestServer> {
  let mod: Partial<CorralServerModule>;
  try {
    mod = (await import(SERVER_MODULE)) as Partial<CorralServerModule>;
  } catch (error) {
    throw new Error(
      `cannot load Corral's server (${SERVER_MODULE}): ${error instanceof Error ? error.message : String(error)}. ` +
        "Until it exists, run the integration tests with CORRAL_TEST_TARGET=zookeeper.",
      { cause: error },
    );
  }
  if (typeof mod.startStandaloneForTest !== "function") {
    throw new Error(`${SERVER_MODULE} does not export startStandaloneForTest()`);
  }
  return await mod.startStandaloneForTest({ clientPort: 0, host: "127.0.0.1", ...opts });
}
