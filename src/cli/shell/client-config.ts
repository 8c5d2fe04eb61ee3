// `corral cli -client-configuration FILE`: zkCli's client properties file, for TLS.
// Read: zookeeper.client.secure, zookeeper.ssl.keyStore.location/.password/.type,
// zookeeper.ssl.trustStore.location/.password/.type (PEM or PKCS12; JKS refused) and
// zookeeper.ssl.hostnameVerification. zookeeper.clientCnxnSocket is accepted and ignored
// (Corral's client has one socket implementation); other keys are ignored too.

import { readFile } from "node:fs/promises";
import type { ClientTlsOptions } from "../../client/index.js";
import { ConfigError, readProperties, type TlsStore, type TlsStoreType } from "../../config/index.js";
import { readKeyStore, readTrustStore } from "../../server/index.js";

type Where = { sourceName: string; line: number; key: string };

/**
 * The TLS options a client configuration file asks for; undefined when it does not ask
 * for TLS (zookeeper.client.secure is not true). Throws ConfigError naming file, line, key.
 */
export async function clientTlsFromFile(path: string): Promise<ClientTlsOptions | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError({ sourceName: path, line: 0, key: "" }, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const props = new Map<string, { value: string; where: Where }>();
  for (const e of readProperties(text, path)) props.set(e.key, { value: e.value, where: { sourceName: path, line: e.line, key: e.key } });
  const secure = props.get("zookeeper.client.secure");
  if (secure === undefined || secure.value.toLowerCase() !== "true") return undefined;
  const opts: ClientTlsOptions = {};
  const keyStore = storeOf(props, "keyStore", path);
  if (keyStore !== undefined) {
    const o = await readKeyStore(keyStore);
    if (o.pfx !== undefined) opts.pfx = o.pfx as Buffer;
    if (o.key !== undefined) opts.key = o.key as string;
    if (o.cert !== undefined) opts.cert = o.cert as string;
    if (o.passphrase !== undefined) opts.passphrase = o.passphrase;
  }
  const trustStore = storeOf(props, "trustStore", path);
  if (trustStore !== undefined) opts.ca = await readTrustStore(trustStore);
  const hv = props.get("zookeeper.ssl.hostnameVerification");
  if (hv !== undefined && hv.value.toLowerCase() === "false") opts.hostnameVerification = false;
  return opts;
}

function storeOf(props: Map<string, { value: string; where: Where }>, which: "keyStore" | "trustStore", path: string): TlsStore | undefined {
  const prefix = `zookeeper.ssl.${which}`;
  const location = props.get(`${prefix}.location`);
  if (location === undefined || location.value === "") return undefined;
  const password = props.get(`${prefix}.password`);
  const typeProp = props.get(`${prefix}.type`);
  const lower = location.value.toLowerCase();
  const written = typeProp?.value.toUpperCase();
  const guessed = written ?? (lower.endsWith(".pem") ? "PEM" : lower.endsWith(".p12") || lower.endsWith(".pfx") ? "PKCS12" : lower.endsWith(".jks") ? "JKS" : undefined);
  const typeWhere = typeProp?.where ?? location.where;
  if (guessed !== "PEM" && guessed !== "PKCS12") {
    const detail = guessed === "JKS"
      ? "JKS stores are not supported; convert it with `keytool -importkeystore -deststoretype PKCS12`, or use PEM"
      : `expected PEM or PKCS12${guessed === undefined ? ` (cannot tell from the file name; set ${prefix}.type)` : `, got ${JSON.stringify(typeProp?.value)}`}`;
    throw new ConfigError(typeWhere, detail);
  }
  return {
    location: location.value,
    password: password?.value,
    type: guessed as TlsStoreType,
    where: location.where,
    passwordWhere: password?.where ?? { sourceName: path, line: location.where.line, key: `${prefix}.password` },
  };
}
