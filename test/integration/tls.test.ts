/**
 * Client TLS as ZooKeeper 3.8 configures it: secureClientPort with PEM and PKCS#12 stores,
 * client.portUnification, ssl.clientAuth refusals (logged with the reason), x509
 * identities and ACLs, certificate reload, and config errors that name file, line and key.
 * Certificates are made with openssl in a temp dir (test/helpers/tls-certs.ts).
 */
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, CREATOR_ALL_ACL, type CorralClient } from "../../src/client/index.js";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { runAdminCommand } from "../../src/net/index.js";
import { StandaloneServer, adminSource } from "../../src/server/index.js";
import { silentLogger, type Logger } from "../../src/util/index.js";
import { CLIENT1_DN, CLIENT2_DN, makePki, STORE_PASSWORD, tlsConfig, type Pki } from "../helpers/tls-certs.js";

type Line = { level: string; obj: Record<string, unknown>; msg: string };

/** A logger that keeps warn/info lines and lets a test wait for one. */
function recordingLogger(): Logger & { lines: Line[]; waitFor(re: RegExp): Promise<Line> } {
  const lines: Line[] = [];
  const waiters: { re: RegExp; resolve: (l: Line) => void }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string): void => {
    const line = { level, obj: typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>) : {}, msg: msg ?? String(obj) };
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.re.test(line.msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  const log = {
    ...silentLogger,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    lines,
    waitFor: (re: RegExp) => {
      const seen = lines.find((l) => re.test(l.msg));
      return seen !== undefined ? Promise.resolve(seen) : new Promise<Line>((resolve) => waiters.push({ re, resolve }));
    },
  };
  return { ...log, child: () => log } as Logger & { lines: Line[]; waitFor(re: RegExp): Promise<Line> };
}

async function startServer(lines: string[]): Promise<{ server: StandaloneServer; log: ReturnType<typeof recordingLogger> }> {
  const log = recordingLogger();
  const server = new StandaloneServer({ config: tlsConfig(lines), log });
  await server.start();
  return { server, log };
}

/** Resolves with the server's certificate, or rejects with why the handshake or connection failed. */
function handshake(port: number, opts: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ...opts }, () => resolve(s));
    s.on("error", reject);
  });
}

/** Waits until the server closes the socket. */
function closed(s: { once(e: "close", f: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => s.once("close", () => resolve()));
}

const ALL = 31;

describe("client TLS", () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => pki?.remove());

  describe("secureClientPort with PEM stores, ssl.clientAuth=need", () => {
    let server: StandaloneServer;
    let log: ReturnType<typeof recordingLogger>;
    let securePort: number;
    const clients: CorralClient[] = [];
    const tlsClient = async (id: "client1" | "client2" | "server"): Promise<CorralClient> => {
      const c = await connect(`127.0.0.1:${securePort}`, {
        sessionTimeoutMs: 6000,
        tls: { ca: readFileSync(pki.caPem), cert: readFileSync(pki[id].certPem), key: readFileSync(pki[id].keyPem) },
      });
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      ({ server, log } = await startServer([
        "secureClientPort=1",
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
        "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
        `ssl.keyStore.location=${pki.server.storePem}`,
        "ssl.keyStore.type=PEM",
        `ssl.trustStore.location=${pki.caPem}`,
        "ssl.trustStore.type=PEM",
        "ssl.clientAuth=need",
        // The server's own certificate (it has clientAuth usage too) is the super user.
        "X509AuthenticationProvider.superUser=CN=127.0.0.1",
      ]));
      securePort = server.secureAddress!.port;
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await server?.stop();
    });

    it("serves Corral's client over TLS, with the certificate's subject DN as its x509 identity", async () => {
      // Only secureClientPort was written: no plain port is opened.
      expect(server.config.plainClientPortEnabled).toBe(false);
      expect(server.address).toEqual(server.secureAddress);
      expect(server.configLines().slice(0, 2)).toEqual(["clientPort=-1", `secureClientPort=${securePort}`]);
      const c = await tlsClient("client1");
      await c.create("/tls-pem", Buffer.from("over tls"));
      expect((await c.getData("/tls-pem")).data?.toString()).toBe("over tls");
      expect(await c.whoAmI()).toEqual([
        { authScheme: "ip", user: "127.0.0.1" },
        { authScheme: "x509", user: CLIENT1_DN },
      ]);
    });

    it("an x509 ACL admits only the certificate it names (a DN with an escaped comma included)", async () => {
      const [one, two] = await Promise.all([tlsClient("client1"), tlsClient("client2")]);
      expect((await two.whoAmI()).find((i) => i.authScheme === "x509")?.user).toBe(CLIENT2_DN);
      await one.create("/x509-one", Buffer.from("one's"), { acl: [{ perms: ALL, id: { scheme: "x509", id: CLIENT1_DN } }] });
      await two.create("/x509-two", Buffer.from("two's"), { acl: [{ perms: ALL, id: { scheme: "x509", id: CLIENT2_DN } }] });
      expect((await one.getData("/x509-one")).data?.toString()).toBe("one's");
      expect((await two.getData("/x509-two")).data?.toString()).toBe("two's");
      await expect(two.getData("/x509-one")).rejects.toMatchObject({ code: "NoAuth" });
      await expect(one.getData("/x509-two")).rejects.toMatchObject({ code: "NoAuth" });
      // The "auth" scheme (CREATOR_ALL_ACL) expands to the certificate's identity.
      await one.create("/x509-creator", Buffer.from("c"), { acl: CREATOR_ALL_ACL });
      expect((await one.getACL("/x509-creator")).acl).toEqual([{ perms: ALL, id: { scheme: "x509", id: CLIENT1_DN } }]);
      await expect(two.getData("/x509-creator")).rejects.toMatchObject({ code: "NoAuth" });
      // addauth x509 succeeds for a client with a certificate (ZooKeeper's provider ignores the data).
      await one.addAuth("x509", Buffer.alloc(0));
      expect((await one.getData("/x509-one")).data?.toString()).toBe("one's");
      // X509AuthenticationProvider.superUser: that certificate reads everything.
      const admin = await tlsClient("server");
      expect(await admin.whoAmI()).toEqual([
        { authScheme: "ip", user: "127.0.0.1" },
        { authScheme: "x509", user: "CN=127.0.0.1" },
        { authScheme: "super", user: "" },
      ]);
      expect((await admin.getData("/x509-one")).data?.toString()).toBe("one's");
      expect((await admin.getData("/x509-two")).data?.toString()).toBe("two's");
    });

    it("refuses a plain client on the secure port and says why in the log", async () => {
      const s = tcpConnect({ host: "127.0.0.1", port: securePort });
      s.on("error", () => undefined);
      s.on("connect", () => s.write(Buffer.from("0000002c00000000", "hex")));
      await closed(s);
      const line = await log.waitFor(/refused client connection/);
      expect(line.level).toBe("warn");
      expect(String(line.obj.reason)).toMatch(/^not a TLS handshake: a plain client on the secure port\?/);
    });

    it("refuses a TLS client without a certificate, and one whose certificate the trust store does not hold", async () => {
      const noCert = handshake(securePort, { ca: readFileSync(pki.caPem) }).then(async (s) => {
        s.on("error", () => undefined);
        await closed(s); // TLS 1.2: the server's alert ends the connection after the client's Finished
      }, () => undefined);
      await noCert;
      await expect.poll(() => log.lines.some((l) => /no client certificate on the secure port \(ssl\.clientAuth=need\)/.test(String(l.obj.reason)))).toBe(true);
      const rogue = await handshake(securePort, { ca: readFileSync(pki.caPem), cert: readFileSync(pki.rogue.certPem), key: readFileSync(pki.rogue.keyPem) })
        .then(async (s) => { s.on("error", () => undefined); await closed(s); return "closed"; }, () => "failed");
      expect(rogue).toMatch(/closed|failed/);
      await expect.poll(() => log.lines.some((l) => /^client certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) on the secure port$/.test(String(l.obj.reason)))).toBe(true);
    });

    it("reloads the key store when its file changes: new connections get the new certificate, open ones keep working", async () => {
      const open = await tlsClient("client1");
      const before = await handshake(securePort, { ca: readFileSync(pki.caPem), cert: readFileSync(pki.client1.certPem), key: readFileSync(pki.client1.keyPem) });
      const oldSerial = before.getPeerX509Certificate()?.serialNumber;
      before.destroy();
      const reloaded = log.waitFor(/TLS certificates reloaded/);
      pki.reissueServer();
      await reloaded;
      const after = await handshake(securePort, { ca: readFileSync(pki.caPem), cert: readFileSync(pki.client1.certPem), key: readFileSync(pki.client1.keyPem) });
      const newSerial = after.getPeerX509Certificate()?.serialNumber;
      after.destroy();
      expect(newSerial).toBeDefined();
      expect(newSerial).not.toBe(oldSerial);
      expect(newSerial).toBe(new (await import("node:crypto")).X509Certificate(readFileSync(pki.server.certPem)).serialNumber);
      await open.create("/after-reload");
      expect((await open.exists("/after-reload")) !== null).toBe(true);
    });
  });

  describe("client.portUnification with PKCS#12 stores, ssl.clientAuth=want", () => {
    let server: StandaloneServer;
    const clients: CorralClient[] = [];
    beforeAll(async () => {
      ({ server } = await startServer([
        "client.portUnification=true",
        `ssl.keyStore.location=${pki.server.storeP12}`,
        `ssl.keyStore.password=${STORE_PASSWORD}`,
        `ssl.trustStore.location=${pki.caP12}`,
        `ssl.trustStore.password=${STORE_PASSWORD}`,
        "ssl.trustStore.type=PKCS12",
        "ssl.clientAuth=want",
      ]));
    });
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await server?.stop();
    });

    it("serves plain clients, TLS clients with a PKCS#12 certificate and TLS clients without one on the same port", async () => {
      const cs = `127.0.0.1:${server.address.port}`;
      expect(server.secureAddress).toBeUndefined();
      const plain = await connect(cs, { sessionTimeoutMs: 6000 });
      const withCert = await connect(cs, { sessionTimeoutMs: 6000, tls: { ca: readFileSync(pki.caPem), pfx: readFileSync(pki.client1.storeP12), passphrase: STORE_PASSWORD } });
      const noCert = await connect(cs, { sessionTimeoutMs: 6000, tls: { ca: readFileSync(pki.caPem) } });
      clients.push(plain, withCert, noCert);
      await plain.create("/unified", Buffer.from("p"));
      expect((await withCert.getData("/unified")).data?.toString()).toBe("p");
      expect((await noCert.getData("/unified")).data?.toString()).toBe("p");
      expect(await withCert.whoAmI()).toEqual([{ authScheme: "ip", user: "127.0.0.1" }, { authScheme: "x509", user: CLIENT1_DN }]);
      expect(await noCert.whoAmI()).toEqual([{ authScheme: "ip", user: "127.0.0.1" }]);
      expect(await plain.whoAmI()).toEqual([{ authScheme: "ip", user: "127.0.0.1" }]);
      expect(server.listener.connections.size).toBe(3);
      // The admin `cons` lists TLS clients under secure_connections, as ZooKeeper does.
      const cons = JSON.parse(runAdminCommand("cons", adminSource(server))) as { connections: unknown[]; secure_connections: unknown[] };
      expect([cons.connections.length, cons.secure_connections.length]).toEqual([1, 2]);
      expect(server.configLines().slice(0, 2)).toEqual([`clientPort=${server.address.port}`, "secureClientPort=-1"]);
    });
  });

  it("ssl.ciphersuites (Java names) and ssl.protocol / ssl.enabledProtocols choose what is negotiated", async () => {
    const stores = [`ssl.keyStore.location=${pki.server.storePem}`, `ssl.trustStore.location=${pki.caPem}`, "ssl.clientAuth=none"];
    const opts = { ca: readFileSync(pki.caPem) };
    const a = await startServer(["secureClientPort=1", ...stores, "ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]);
    const b = await startServer(["secureClientPort=1", ...stores, "ssl.protocol=TLSv1.3"]);
    const c = await startServer(["secureClientPort=1", ...stores, "ssl.enabledProtocols=TLSv1.2,TLSv1.3"]);
    try {
      const sa = await handshake(a.server.secureAddress!.port, opts);
      expect([sa.getProtocol(), sa.getCipher().standardName]).toEqual(["TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]);
      sa.destroy();
      const sb = await handshake(b.server.secureAddress!.port, opts);
      expect(sb.getProtocol()).toBe("TLSv1.3");
      sb.destroy();
      await expect(handshake(b.server.secureAddress!.port, { ...opts, maxVersion: "TLSv1.2" })).rejects.toThrow();
      const sc = await handshake(c.server.secureAddress!.port, { ...opts, maxVersion: "TLSv1.2" });
      expect(sc.getProtocol()).toBe("TLSv1.2");
      sc.destroy();
    } finally {
      await Promise.all([a.server.stop(), b.server.stop(), c.server.stop()]);
    }
  });

  it("refused TLS handshakes give back their maxClientCnxns slot", async () => {
    const { server } = await startServer([
      "secureClientPort=1",
      "maxClientCnxns=1",
      `ssl.keyStore.location=${pki.server.storePem}`,
      `ssl.trustStore.location=${pki.caPem}`,
    ]);
    try {
      const port = server.secureAddress!.port;
      for (let i = 0; i < 3; i++) {
        // No certificate under clientAuth=need (the default): refused.
        await handshake(port, { ca: readFileSync(pki.caPem) }).then(async (s) => {
          s.on("error", () => undefined);
          await closed(s);
        }, () => undefined);
      }
      const c = await connect(`127.0.0.1:${port}`, {
        sessionTimeoutMs: 6000,
        tls: { ca: readFileSync(pki.caPem), cert: readFileSync(pki.client1.certPem), key: readFileSync(pki.client1.keyPem) },
      });
      expect(await c.exists("/")).not.toBeNull();
      await c.close();
    } finally {
      await server.stop();
    }
  });

  describe("bad TLS config fails the start with file:line:key", () => {
    const startError = async (lines: string[]): Promise<string> => {
      const server = new StandaloneServer({ config: tlsConfig(lines), log: silentLogger });
      const e = await server.start().then(() => server.stop().then(() => undefined), (err: unknown) => err);
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    };

    it("a missing key store, a wrong PKCS#12 password, a wrong trust store password, JKS, no key store", async () => {
      expect(await startError(["secureClientPort=1", `ssl.keyStore.location=${pki.dir}/nope.pem`]))
        .toBe(`zoo.cfg:2: ssl.keyStore.location: cannot read the key store ${pki.dir}/nope.pem: ENOENT`);
      expect(await startError(["secureClientPort=1", `ssl.keyStore.location=${pki.server.storeP12}`, "ssl.keyStore.password=wrong"]))
        .toMatch(new RegExp(`^zoo\\.cfg:3: ssl\\.keyStore\\.password: cannot open the key store ${pki.server.storeP12}: wrong password`));
      expect(await startError(["secureClientPort=1", `ssl.keyStore.location=${pki.server.storePem}`, `ssl.trustStore.location=${pki.caP12}`, "ssl.trustStore.password=nope"]))
        .toBe(`zoo.cfg:4: ssl.trustStore.password: cannot open the trust store ${pki.caP12}: MAC check failed: wrong password, or the file is damaged`);
      expect(() => parseConfig(["secureClientPort=2281", "ssl.keyStore.location=/etc/zk/keystore.jks", "ssl.keyStore.type=JKS"].join("\n")))
        .toThrow(/^zoo\.cfg:3: ssl\.keyStore\.type: JKS stores are not supported/);
      expect(() => parseConfig("ssl.trustStore.location=/etc/zk/trust.jks\nclient.portUnification=true\nssl.keyStore.location=/k.pem"))
        .toThrow(/^zoo\.cfg:1: ssl\.trustStore\.location: JKS stores are not supported/);
      expect(() => parseConfig("secureClientPort=2281")).toThrow("zoo.cfg:1: secureClientPort: serving TLS needs ssl.keyStore.location (the server's key and certificate)");
      expect(() => parseConfig("secureClientPort=2281\nssl.keyStore.location=/k.pem\nssl.clientAuth=maybe")).toThrow('zoo.cfg:3: ssl.clientAuth: expected none, want or need, got "maybe"');
    });

    it("only secureClientPort written: no plain port; both written: both", () => {
      const only = parseConfig("secureClientPort=2281\nssl.keyStore.location=/k.pem").config;
      expect(only.plainClientPortEnabled).toBe(false);
      expect(only.clientTls).toMatchObject({ clientAuth: "need", protocol: "TLSv1.2", keyStore: { location: "/k.pem", type: "PEM" } });
      expect(parseConfig("clientPort=2181\nsecureClientPort=2281\nzookeeper.ssl.keyStore.location=/k.p12").config).toMatchObject({
        plainClientPortEnabled: true, secureClientPort: 2281, clientTls: { keyStore: { type: "PKCS12" } },
      });
    });
  });
});
