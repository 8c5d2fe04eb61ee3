// Authentication providers for auth packets (`addauth`): digest and ip, with the super
// user from DigestAuthenticationProvider.superDigest. Hashing lives here, at the edge,
// so the tree's ACL checks stay pure string comparisons.

import { createHash } from "node:crypto";
import type { Id } from "../jute/index.js";
import { SUPER_ID } from "../tree/index.js";

/** ZooKeeper's digest id for "user:password": `user:` + base64(sha1("user:password")). */
export function digestOf(userPassword: string): string {
  const user = userPassword.slice(0, userPassword.indexOf(":"));
  return `${user}:${createHash("sha1").update(userPassword, "utf8").digest("base64")}`;
}

export function makeAuthenticator(
  superDigest: string | undefined,
): (scheme: string, auth: Buffer, remoteAddress: string) => Id[] | undefined {
  return (scheme, auth, remoteAddress) => {
    if (scheme === "digest") {
      const text = auth.toString("utf8");
      if (!text.includes(":")) return undefined;
      const id = digestOf(text);
      const ids: Id[] = [{ scheme: "digest", id }];
      if (superDigest !== undefined && id === superDigest) ids.push(SUPER_ID);
      return ids;
    }
    if (scheme === "ip") return [{ scheme: "ip", id: remoteAddress }];
    return undefined;
  };
}

/**
 * The identities of a TLS client whose certificate verified: `x509:<subject DN>` (the DN
 * as Java prints it), and super when the DN is X509AuthenticationProvider.superUser.
 */
export function x509Ids(subjectDn: string, superUser: string | undefined): Id[] {
  const ids: Id[] = [{ scheme: "x509", id: subjectDn }];
  if (superUser !== undefined && subjectDn === superUser) ids.push(SUPER_ID);
  return ids;
}
