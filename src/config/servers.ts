// Parses one `server.N` value, following ZooKeeper's QuorumServer(long, String):
//   host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
// An IPv6 host is written in brackets ("[::1]:2888:3888"). Like Java's String.split,
// trailing empty parts are dropped ("h:1:2:" reads as "h:1:2"). ZooKeeper 3.6's
// multi-address form ("a:1:2|b:1:2") is refused with a clear message.
// Pure: no I/O.

import { type Parsed, bad, ok, parseHost, parsePort } from "./values.js";
import type { ServerRole, ServerSpec } from "./types.js";

export const SERVER_FORM =
  "host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]";

export function parseServerSpec(id: bigint, raw: string): Parsed<ServerSpec> {
  if (raw.includes("|")) {
    return { ok: false, problem: "multiple addresses per server (|) are not supported" };
  }
  const halves = javaSplit(raw, ";");
  if (halves.length < 1 || halves.length > 2) return bad(SERVER_FORM, raw);
  const quorum = parseQuorumPart(halves[0] ?? "", raw);
  if (!quorum.ok) return quorum;
  const clientRaw = halves[1];
  if (clientRaw === undefined) return ok({ id, ...quorum.value });
  const client = parseClientPart(clientRaw, raw);
  if (!client.ok) return client;
  return ok({ id, ...quorum.value, ...client.value });
}

type QuorumPart = Omit<ServerSpec, "id" | "clientHost" | "clientPort">;

function parseQuorumPart(part: string, raw: string): Parsed<QuorumPart> {
  const pieces = splitHostFirst(part);
  if (!pieces.ok) return pieces;
  const [hostRaw, quorumRaw, electionRaw, roleRaw] = pieces.value;
  if (pieces.value.length < 3 || pieces.value.length > 4) return bad(SERVER_FORM, raw);
  const host = parseHost(hostRaw ?? "");
  if (!host.ok) return host;
  const quorumPort = labelled("quorum port", parsePort(quorumRaw ?? ""));
  if (!quorumPort.ok) return quorumPort;
  const electionPort = labelled("election port", parsePort(electionRaw ?? ""));
  if (!electionPort.ok) return electionPort;
  const role = roleRaw === undefined ? ok<ServerRole>("participant") : parseRole(roleRaw);
  if (!role.ok) return role;
  return ok({
    host: host.value,
    quorumPort: quorumPort.value,
    electionPort: electionPort.value,
    role: role.value,
  });
}

type ClientPart = Pick<ServerSpec, "clientHost" | "clientPort">;

function parseClientPart(part: string, raw: string): Parsed<ClientPart> {
  const pieces = splitHostFirst(part);
  if (!pieces.ok) return pieces;
  if (pieces.value.length < 1 || pieces.value.length > 2) return bad(SERVER_FORM, raw);
  const portRaw = pieces.value[pieces.value.length - 1] ?? "";
  const clientPort = labelled("client port", parsePort(portRaw));
  if (!clientPort.ok) return clientPort;
  if (pieces.value.length === 1) return ok({ clientPort: clientPort.value });
  const clientHost = parseHost(pieces.value[0] ?? "");
  if (!clientHost.ok) return clientHost;
  return ok({ clientHost: clientHost.value, clientPort: clientPort.value });
}

export function parseRole(raw: string): Parsed<ServerRole> {
  const role = raw.toLowerCase();
  if (role === "participant" || role === "observer") return ok(role);
  return bad("participant or observer", raw);
}

/** Splits on ':' but keeps a leading "[ipv6]" whole (ZooKeeper's splitWithLeadingHostname). */
function splitHostFirst(s: string): Parsed<string[]> {
  if (!s.startsWith("[")) return ok(javaSplit(s, ":"));
  const close = s.indexOf("]:");
  if (close < 0) return { ok: false, problem: `${JSON.stringify(s)} starts with '[' but has no matching ']:'` };
  return ok([s.slice(1, close), ...javaSplit(s.slice(close + 2), ":")]);
}

/** Java's String.split: trailing empty strings are removed. */
function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep);
  while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

function labelled<T>(label: string, parsed: Parsed<T>): Parsed<T> {
  return parsed.ok ? parsed : { ok: false, problem: `${label}: ${parsed.problem}` };
}
