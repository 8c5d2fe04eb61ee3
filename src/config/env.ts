// The few settings Corral takes from the environment, read from the map the caller
// passes in (the CLI passes process.env): CORRAL_LOG_LEVEL, else `corral.logLevel` from
// zoo.cfg, else info; CORRAL_LOG_DIR, where `corral server start` writes the server's
// output (default: dataDir, as zkServer.sh's ZOO_LOG_DIR). Pure.

import { LOG_LEVELS, type CorralConfig, type LogLevel } from "./types.js";

export const LOG_LEVEL_ENV = "CORRAL_LOG_LEVEL";

export function logLevelOf(
  config: Pick<CorralConfig, "logLevel"> | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { level: LogLevel; warning?: string } {
  const raw = env[LOG_LEVEL_ENV];
  const fallback = config?.logLevel ?? "info";
  if (raw === undefined || raw.trim() === "") return { level: fallback };
  const level = LOG_LEVELS.find((l) => l === raw.trim().toLowerCase());
  if (level !== undefined) return { level };
  return { level: fallback, warning: `${LOG_LEVEL_ENV}=${JSON.stringify(raw)} is not one of ${LOG_LEVELS.join(", ")}; using ${fallback}` };
}

export const LOG_DIR_ENV = "CORRAL_LOG_DIR";

/** CORRAL_LOG_DIR, or undefined when unset or empty. */
export function logDirOf(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const dir = env[LOG_DIR_ENV];
  return dir === undefined || dir.trim() === "" ? undefined : dir;
}
