// Lookup of keys Corral does not know (CorralConfig.extra). ZooKeeper turns an unknown
// zoo.cfg key `k` into system property `zookeeper.k`, so `k` and `zookeeper.k` name the
// same setting; parseConfig keeps at most one of the two spellings. Pure.

import { SYSPROP_PREFIX } from "./keys.js";
import type { CorralConfig } from "./types.js";

/** The value of an unknown key, looked up with or without the "zookeeper." prefix. */
export function extraSetting(config: Pick<CorralConfig, "extra">, name: string): string | undefined {
  const bare = name.startsWith(SYSPROP_PREFIX) ? name.slice(SYSPROP_PREFIX.length) : name;
  return config.extra.get(bare) ?? config.extra.get(`${SYSPROP_PREFIX}${bare}`);
}
