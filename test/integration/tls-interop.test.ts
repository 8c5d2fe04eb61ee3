/**
 * Other clients over TLS against Corral's secureClientPort (PEM stores on the server,
 * ssl.clientAuth=need, the x509 provider): Apache zkCli with its Netty client socket and
 * PEM or PKCS#12 stores, kazoo with use_ssl, and `corral cli -client-configuration`.
 *
 * zkCli needs netty-codec and netty-resolver for ClientCnxnSocketNetty; Debian's
 * zkEnv.sh leaves them off the classpath, so the test appends them (a later -cp in
 * CLIENT_JVMFLAGS wins; zookeeper.jar's manifest brings the rest).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { parseConfig } from "../../src/config/index.js";
import { StandaloneServer } from "../../src/server/index.js";
import { CLIENT1_DN, CLIENT2_DN, makePki, STORE_PASSWORD, type Pki } from "../helpers/tls-certs.js";
import { cleanStderr, cleanStdout, zkCliEnv } from "../helpers/zkcli.js";
import { findZooKeeperInstall } from "../helpers/zookeeper-install.js";
import { runProcess, type ProcessRun } from "../helpers/run-process.js";

const CORRAL = fileURLToPath(new URL("../../bin/corral.js", import.meta.url));
const NETTY_JARS = ["/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"];
const ZK_CLASSPATH = ["/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar", ...NETTY_JARS];
const zkCli = findZooKeeperInstall().zkCli;
// Debian's python3-kazoo is installed for the system python, not for a pyenv one first on PATH.
const PYTHON = "/usr/bin/python3";
const hasKazoo = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import kazoo"]).status === 0;
const RUN_MS = 30_000;

type Run = ProcessRun;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return runProcess(cmd, args, { env, timeoutMs: RUN_MS, ...(input === undefined ? {} : { input }) });
}

const KAZOO = `
import sys
from kazoo.client import KazooClient
hosts, ca, cert, key = sys.argv[1:5]
zk = KazooClient(hosts=hosts, timeout=10, use_ssl=True, ca=ca, certfile=cert, keyfile=key, verify_certs=True)
zk.start(timeout=15)
zk.create("/kazoo-tls", b"from kazoo", makepath=True)
data, stat = zk.get("/kazoo-tls")
print(data.decode(), stat.version)
print(",".join(sorted(zk.get_children("/kazoo-tls-parent"))))
zk.set("/kazoo-tls", b"changed")
print(zk.get("/kazoo-tls")[0].decode())
zk.stop()
`;

describe("TLS interop: zkCli, kazoo and corral cli on the secure port", () => {
  let pki: Pki;
  let server: StandaloneServer;
  let cs: string;
  let corral: CorralClient;

  beforeAll(async () => {
    pki = makePki();
    const { config } = parseConfig([
      "secureClientPort=1",
      "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
      `ssl.keyStore.location=${pki.server.storePem}`,
      `ssl.trustStore.location=${pki.caPem}`,
      "ssl.clientAuth=need",
    ].join("\n"));
    server = new StandaloneServer({ config: { ...config, secureClientPort: 0, clientPortAddress: "127.0.0.1", dataDir: undefined, dataLogDir: undefined, adminServerEnabled: false } });
    await server.start();
    cs = `127.0.0.1:${server.secureAddress!.port}`;
    corral = await connect(cs, { sessionTimeoutMs: 10_000, tls: { ca: readFileSync(pki.caPem), cert: readFileSync(pki.client1.certPem), key: readFileSync(pki.client1.keyPem) } });
    await corral.create("/kazoo-tls-parent");
    await corral.create("/kazoo-tls-parent/a");
    await corral.create("/kazoo-tls-parent/b");
  });
  afterAll(async () => {
    await corral?.close();
    await server?.stop();
    pki?.remove();
  });

  it.skipIf(zkCli === undefined || !NETTY_JARS.every(existsSync))("Apache zkCli (Netty, PKCS#12 key store, PEM trust store) runs commands as its certificate's x509 identity", async () => {
    const tlsFlags = [
      "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
      "-Dzookeeper.client.secure=true",
      // Java reads an OpenSSL-made PKCS#12 key store, but finds no trust anchors in an
      // OpenSSL-made certificate-only one (it lacks Java's trusted-cert attribute): PEM.
      `-Dzookeeper.ssl.keyStore.location=${pki.client2.storeP12}`,
      `-Dzookeeper.ssl.keyStore.password=${STORE_PASSWORD}`,
      "-Dzookeeper.ssl.keyStore.type=PKCS12",
      `-Dzookeeper.ssl.trustStore.location=${pki.caPem}`,
      "-Dzookeeper.ssl.trustStore.type=PEM",
      "-cp", ZK_CLASSPATH.join(":"),
    ].join(" ");
    const env = zkCliEnv();
    env["CLIENT_JVMFLAGS"] = `${env["CLIENT_JVMFLAGS"] ?? ""} ${tlsFlags}`;
    // zkCli's setAcl splits on commas, so it cannot write a multi-RDN x509 id: Corral's client does.
    await corral.create("/client1-only", Buffer.from("secret"), { acl: [{ perms: 31, id: { scheme: "x509", id: CLIENT1_DN } }] });
    const r = await run(zkCli!, ["-server", cs], env, [
      "create /zkcli-tls hello",
      "get /zkcli-tls",
      "whoami",
      "get /client1-only",
      "quit",
      "",
    ].join("\n"));
    expect(cleanStderr(r.stderr)).toEqual(["Created /zkcli-tls", "Insufficient permission : /client1-only"]);
    expect(cleanStdout(r.stdout)).toEqual([
      "hello",
      "Auth scheme: User",
      "ip: 127.0.0.1",
      `x509: ${CLIENT2_DN}`,
    ]);
    expect((await corral.getData("/zkcli-tls")).data?.toString()).toBe("hello");
  });

  it.skipIf(!hasKazoo)("kazoo with use_ssl and a client certificate", async () => {
    const r = await run(PYTHON, ["-c", KAZOO, cs, pki.caPem, pki.client1.certPem, pki.client1.keyPem], process.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["from kazoo 0", "a,b", "changed"]);
    expect((await corral.getData("/kazoo-tls")).data?.toString()).toBe("changed");
  });

  it("corral server start-foreground: a key store with a wrong password exits 2 naming file, line and key", async () => {
    const cfg = join(pki.dir, "bad-tls.cfg");
    writeFileSync(cfg, [`dataDir=${join(pki.dir, "data")}`, "clientPort=1", "secureClientPort=2", `ssl.keyStore.location=${pki.server.storeP12}`, "ssl.keyStore.password=nope", "admin.enableServer=false", ""].join("\n"));
    const r = await run(process.execPath, [CORRAL, "server", "start-foreground", cfg], { ...process.env, CORRAL_LOG_LEVEL: "silent" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^corral: invalid configuration: ${cfg.replace(/[.]/g, "\\.")}:5: ssl\\.keyStore\\.password: cannot open the key store .*server\\.p12: wrong password`));
  });

  it("corral cli -client-configuration with zookeeper.client.secure and PKCS#12 stores", async () => {
    const file = join(pki.dir, "client.properties");
    writeFileSync(file, [
      "zookeeper.client.secure=true",
      "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
      `zookeeper.ssl.keyStore.location=${pki.client1.storeP12}`,
      `zookeeper.ssl.keyStore.password=${STORE_PASSWORD}`,
      "zookeeper.ssl.keyStore.type=PKCS12",
      `zookeeper.ssl.trustStore.location=${pki.caP12}`,
      `zookeeper.ssl.trustStore.password=${STORE_PASSWORD}`,
      "",
    ].join("\n"));
    const r = await run(process.execPath, [CORRAL, "cli", "-server", cs, "-client-configuration", file], { ...process.env, TZ: "UTC" },
      "create /cli-tls over-tls\nget /cli-tls\nwhoami\nquit\n");
    expect(r.stderr).toContain("Created /cli-tls");
    expect(r.stdout).toContain("over-tls\n");
    expect(r.stdout).toContain(`x509: ${CLIENT1_DN}\n`);
    expect((await corral.getData("/cli-tls")).data?.toString()).toBe("over-tls");

    writeFileSync(file, `zookeeper.client.secure=true\nzookeeper.ssl.trustStore.location=${pki.caP12}\nzookeeper.ssl.trustStore.password=wrong\n`);
    const bad = await run(process.execPath, [CORRAL, "cli", "-server", cs, "-client-configuration", file, "ls", "/"], process.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`corral cli: -client-configuration: ${file}:3: zookeeper.ssl.trustStore.password: cannot open the trust store ${pki.caP12}: MAC check failed: wrong password, or the file is damaged\n`);
  });
});
