/**
 * javaSubjectDn against Java itself: X500Principal.getName() on the same certificates,
 * including escapes, spaces at the ends, multi-valued RDNs, non-keyword attributes
 * (printed as OID=#hex) and UTF-8.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { javaSubjectDn } from "../../../src/net/x509-name.js";

const hasJava = spawnSync("java", ["-version"]).status === 0;

const SUBJECTS = [
  "/O=corral/OU=test/CN=client1",
  "/O=corral/OU=test/CN=client2, the second",
  "/C=DE/O=a=b;c/OU=x<y>\"q\\\\/CN= lead trail /emailAddress=a@b.c",
  "/DC=com/DC=example/UID=u1/serialNumber=42/title=Boss/CN=Ünïcode ☃",
  "/CN=a+OU=b/O=multi+L=town",
  "/CN=#hash/O=\\+plus",
];

const JAVA = `
import java.io.FileInputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
public class Dn {
  public static void main(String[] args) throws Exception {
    CertificateFactory f = CertificateFactory.getInstance("X.509");
    java.io.PrintStream out = new java.io.PrintStream(System.out, true, "UTF-8");
    for (String p : args) try (FileInputStream in = new FileInputStream(p)) {
      out.println(((X509Certificate) f.generateCertificate(in)).getSubjectX500Principal().getName());
    }
  }
}
`;

describe.skipIf(!hasJava)("javaSubjectDn", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-dn-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints every subject exactly as Java's X500Principal.getName() does", () => {
    const files = SUBJECTS.map((subj, i) => {
      const file = join(dir, `c${i}.pem`);
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "k.pem"),
        "-out", file, "-days", "1", "-utf8", "-multivalue-rdn", "-subj", subj], { stdio: "ignore" });
      return file;
    });
    writeFileSync(join(dir, "Dn.java"), JAVA);
    const java = execFileSync("java", [join(dir, "Dn.java"), ...files], { encoding: "utf8" }).trimEnd().split("\n");
    const ours = files.map((f) => javaSubjectDn(new X509Certificate(readFileSync(f))));
    expect(ours).toEqual(java);
    expect(ours[0]).toBe("CN=client1,OU=test,O=corral");
    expect(ours[1]).toBe("CN=client2\\, the second,OU=test,O=corral");
  });
});
