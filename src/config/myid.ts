// The `myid` file and what it settles in a parsed config. ZooKeeper's
// QuorumPeerConfig.setupMyId reads the first line of <dataDir>/myid as a long; then
// setupClientPort and setupPeerType let this server's server.N line decide its client
// port and its role. parseMyid and applyMyid are pure; load.ts reads the file.

import { ConfigError, type Where, expectedGot, makeWarning } from "./errors.js";
import { EXTENDED_TYPES_SERVER_ID_MAX, extendedTypesIdDetail } from "./parse.js";
import { parseServerId } from "./values.js";
import type { ConfigResult, ConfigWarning, CorralConfig, ServerSpec } from "./types.js";

export const MYID_FILE_NAME = "myid";

/** The first line, trimmed, as a server id. `where` names the myid file. */
export function parseMyid(text: string, where: Where): bigint {
  const first = (text.split(/\r\n|\r|\n/)[0] ?? "").trim();
  const id = parseServerId(first);
  if (id === undefined) {
    throw new ConfigError(where, expectedGot("a server id (an integer from 0 to 9223372036854775807)", first));
  }
  return id;
}

export function applyMyid(
  config: CorralConfig,
  myid: bigint,
  myidWhere: Where,
  located: ReadonlyMap<string, Where>,
): ConfigResult {
  if (config.extendedTypesEnabled && myid > EXTENDED_TYPES_SERVER_ID_MAX) {
    throw new ConfigError(myidWhere, extendedTypesIdDetail(myid));
  }
  const withId = { ...config, myid };
  if (config.servers.length === 0) return { config: withId, warnings: [] };
  const me = config.servers.find((s) => s.id === myid);
  if (me === undefined) {
    const warning = makeWarning(myidWhere, `server id ${myid} has no server.${myid} line`);
    return { config: withId, warnings: [warning] };
  }
  const warnings: ConfigWarning[] = [];
  const peerType = roleFromServerLine(config, me, located, warnings);
  const client = clientFromServerLine(config, me, located, warnings);
  return { config: { ...withId, peerType, ...client }, warnings };
}

// setupPeerType: the server.N line decides; a peerType key that disagrees is warned about.
function roleFromServerLine(
  config: CorralConfig,
  me: ServerSpec,
  located: ReadonlyMap<string, Where>,
  warnings: ConfigWarning[],
): CorralConfig["peerType"] {
  const where = located.get("peerType");
  if (where !== undefined && config.peerType !== me.role) {
    const detail = `${config.peerType} does not match server.${me.id} (${me.role}); using the server line`;
    warnings.push(makeWarning(where, detail));
  }
  return me.role;
}

// setupClientPort: a client port on the server.N line wins; one that contradicts an
// explicit clientPort is an error. (ZooKeeper also compares resolved addresses; we
// compare host text and only warn, to stay free of DNS.)
function clientFromServerLine(
  config: CorralConfig,
  me: ServerSpec,
  located: ReadonlyMap<string, Where>,
  warnings: ConfigWarning[],
): Pick<CorralConfig, "clientPort" | "clientPortAddress"> {
  const { clientPort, clientPortAddress } = config;
  if (me.clientPort === undefined) return { clientPort, clientPortAddress };
  const portWhere = located.get("clientPort");
  if (portWhere !== undefined && clientPort !== me.clientPort) {
    const detail = `${clientPort} differs from the client port of server.${me.id} (${me.clientPort})`;
    throw new ConfigError(portWhere, detail);
  }
  const hostWhere = located.get("clientPortAddress");
  if (hostWhere !== undefined && me.clientHost !== undefined && me.clientHost !== clientPortAddress) {
    const detail = `differs from the client address of server.${me.id} (${me.clientHost}); using the server line`;
    warnings.push(makeWarning(hostWhere, detail));
  }
  return { clientPort: me.clientPort, clientPortAddress: me.clientHost ?? clientPortAddress };
}
