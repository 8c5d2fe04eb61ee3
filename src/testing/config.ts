// zoo.cfg text for testing servers: ZooKeeper's keys, short ticks so failover and session
// expiry take a second or two, not a minute, and the caller's keys on top.

/** Values a zoo.cfg line can take. */
export type ConfigValue = string | number | boolean;

/** The defaults every testing server and cluster member runs with, before the caller's keys. */
export function testingConfig(tickTimeMs: number): Map<string, ConfigValue> {
  return new Map<string, ConfigValue>([
    ["tickTime", tickTimeMs],
    ["initLimit", 20],
    ["syncLimit", 5],
    // A client's requested session timeout is honoured from 2 ticks up to a minute, so a
    // test can ask for a short one (expiry in a test) or a long one (no expiry mid-test).
    ["minSessionTimeout", 2 * tickTimeMs],
    ["maxSessionTimeout", 60_000],
    ["admin.enableServer", false],
    ["4lw.commands.whitelist", "*"],
  ]);
}

/** One `key=value` line per entry; `extra` replaces defaults of the same key. */
export function renderConfig(base: Map<string, ConfigValue>, extra: Readonly<Record<string, ConfigValue>> | undefined): string {
  const all = new Map(base);
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (/[\n=]/.test(k) || /\n/.test(String(v))) throw new Error(`corral/testing: bad config entry ${JSON.stringify(k)}=${JSON.stringify(v)}`);
    all.set(k, v);
  }
  return [...all].map(([k, v]) => `${k}=${String(v)}`).join("\n") + "\n";
}
