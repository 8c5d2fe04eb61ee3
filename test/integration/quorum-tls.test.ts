/**
 * Quorum TLS: a 3-member ensemble with sslQuorum=true and ssl.quorum.* PEM stores elects a
 * leader, replicates writes and survives the leader's loss over TLS; a plain connection to
 * a quorum port is refused with a logged reason; and one with portUnification=true also
 * lets plain members in (the middle step of a rolling upgrade to TLS).
 */
import { lookupService } from "node:dns/promises";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/index.js";
import { parseConfig } from "../../src/config/index.js";
import { peerNameProblem } from "../../src/net/tls.js";
import { startEnsembleForTest, type TestEnsemble } from "../../src/server/ensemble-testing.js";
import { silentLogger, type Logger } from "../../src/util/index.js";
import { issueFromCa, makePki, type Identity, type Pki } from "../helpers/tls-certs.js";

function recordingLog(): Logger & { reasons: string[]; quiet: string[]; waitFor(re: RegExp): Promise<string> } {
  const reasons: string[] = [];
  /** Debug lines: what is no longer worth a warning. */
  const quiet: string[] = [];
  const waiters: { re: RegExp; resolve: (m: string) => void }[] = [];
  const warn = (obj: unknown, msg?: string): void => {
    const text = msg ?? String(obj);
    reasons.push(text);
    for (const w of [...waiters]) {
      if (w.re.test(text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(text);
      }
    }
  };
  const log = {
    ...silentLogger,
    warn,
    debug: (obj: unknown, msg?: string) => void quiet.push(msg ?? String(obj)),
    reasons,
    quiet,
    waitFor: (re: RegExp) => {
      const seen = reasons.find((r) => re.test(r));
      return seen !== undefined ? Promise.resolve(seen) : new Promise<string>((resolve) => waiters.push({ re, resolve }));
    },
  };
  return { ...log, child: () => log };
}

describe("quorum TLS", () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => pki?.remove());

  const sslLines = (): string[] => [
    `ssl.quorum.keyStore.location=${pki.server.storePem}`,
    `ssl.quorum.trustStore.location=${pki.caPem}`,
  ];

  describe("sslQuorum=true", () => {
    let ensemble: TestEnsemble;
    const log = recordingLog();
    beforeAll(async () => {
      ensemble = await startEnsembleForTest({ participants: 3, log, extraConfig: ["sslQuorum=true", ...sslLines()] });
      await ensemble.settled(20_000);
    });
    afterAll(async () => ensemble?.stop());

    it("elects, replicates and fails over with every quorum connection over TLS", async () => {
      const c = await connect(ensemble.connectString, { sessionTimeoutMs: 6000 });
      try {
        await c.create("/over-quorum-tls", Buffer.from("v1"));
        for (const m of ensemble.members) {
          const one = await connect(ensemble.connectStringOf(m), { sessionTimeoutMs: 6000 });
          await one.sync("/over-quorum-tls");
          expect((await one.getData("/over-quorum-tls")).data?.toString()).toBe("v1");
          await one.close();
        }
        const leader = ensemble.leader();
        expect(leader).toBeDefined();
        await ensemble.stopMember(leader!);
        await ensemble.settled(20_000);
        const rest = ensemble.members.filter((m) => m !== leader);
        const after = await connect(ensemble.connectStringOf(rest[0]!), { sessionTimeoutMs: 6000 });
        await after.setData("/over-quorum-tls", Buffer.from("v2"));
        expect((await after.getData("/over-quorum-tls")).data?.toString()).toBe("v2");
        await after.close();
      } finally {
        await c.close();
      }
    });

    it("refuses a plain connection to a quorum port and says why", async () => {
      const m = ensemble.members.find((x) => x !== ensemble.leader() && ensemble.members.indexOf(x) >= 0)!;
      const s = tcpConnect({ host: "127.0.0.1", port: m.me.quorumPort });
      s.on("error", () => undefined);
      s.on("connect", () => s.write(Buffer.from("434f525100000000000000ff", "hex")));
      await new Promise<void>((resolve) => s.once("close", () => resolve()));
      expect(await log.waitFor(/refused quorum connection/)).toMatch(/not a TLS handshake \(sslQuorum=true, portUnification=false\)$/);
    });
  });

  it("portUnification=true accepts TLS and plain members: a mixed ensemble forms", async () => {
    // The middle of a rolling upgrade: every member accepts both kinds; members 1 and 2
    // already dial with TLS (2 -> 1), member 3 still dials plain (3 -> 1, 3 -> 2).
    const ensemble = await startEnsembleForTest({
      participants: 3,
      extraConfig: ["portUnification=true", ...sslLines()],
      extraConfigOf: (id) => [`sslQuorum=${id !== 3}`],
    });
    try {
      await ensemble.settled(20_000);
      const c = await connect(ensemble.connectString, { sessionTimeoutMs: 6000 });
      await c.create("/unified-quorum");
      expect(await c.exists("/unified-quorum")).not.toBeNull();
      await c.close();
    } finally {
      await ensemble.stop();
    }
  });

  it("a member whose certificate the others' trust store does not hold is refused, with the reason logged", async () => {
    const log = recordingLog();
    const ensemble = await startEnsembleForTest({
      participants: 3,
      log,
      settle: false,
      extraConfig: ["sslQuorum=true", ...sslLines()],
      // Member 3 presents a certificate from a CA the others do not trust (later lines win).
      extraConfigOf: (id) => (id === 3 ? [`ssl.quorum.keyStore.location=${pki.rogue.storePem}`] : []),
    });
    try {
      expect(await log.waitFor(/refused quorum connection/)).toMatch(/peer certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
      // Members 1 and 2 are a quorum on their own; 3 never joins.
      await expect.poll(() => ensemble.members.filter((m) => m.serving).map((m) => Number(m.me.id)).sort(), { timeout: 10_000 }).toEqual([1, 2]);
    } finally {
      await ensemble.stop();
    }
  });

  describe("ssl.quorum.hostnameVerification on accepted connections", () => {
    // From the trusted CA, but naming another host: only the address check can refuse it.
    let elsewhere: Identity;
    // What 127.0.0.1 reverse-resolves to here (/etc/hosts: localhost on most machines),
    // looked up as the server does, so the expected log line holds on any machine.
    let localName: string;
    let refusedLine: string;
    beforeAll(async () => {
      elsewhere = issueFromCa(pki, "elsewhere.example", "DNS:elsewhere.example");
      localName = await lookupService("127.0.0.1", 0).then((r) => r.hostname, () => "127.0.0.1");
      const via = localName === "127.0.0.1" ? "" : ` nor its host name ${localName}`;
      refusedLine = `peer certificate does not name the peer's address 127.0.0.1${via} (ssl.quorum.hostnameVerification=true)`;
    });
    // Member 3 carries it: it dials 1 and 2, so they judge it as connections they accept.
    const misnamedThree = (id: number): readonly string[] => (id === 3 ? [`ssl.quorum.keyStore.location=${elsewhere.storePem}`] : []);

    it("a member whose certificate does not name its address is refused, with the reason and the address logged, and cannot join", async () => {
      const log = recordingLog();
      const ensemble = await startEnsembleForTest({ participants: 3, log, settle: false, extraConfig: ["sslQuorum=true", ...sslLines()], extraConfigOf: misnamedThree });
      try {
        expect(await log.waitFor(/refused quorum connection/)).toBe(`refused quorum connection from 127.0.0.1: ${refusedLine}`);
        await expect.poll(() => ensemble.members.filter((m) => m.serving).map((m) => Number(m.me.id)).sort(), { timeout: 10_000 }).toEqual([1, 2]);
        // Its redials are refused too, but said once per member (then at debug level).
        await expect.poll(() => log.quiet.filter((r) => r.startsWith("refused quorum connection from 127.0.0.1: peer certificate does not name")).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
        expect(log.reasons.filter((r) => r.startsWith("refused quorum connection")), log.reasons.join("\n")).toHaveLength(2);
        expect(ensemble.members[2]!.serving).toBe(false);
      } finally {
        await ensemble.stop();
      }
    });

    it("the address check: an IP SAN (IPv4-mapped addresses too), else the reverse-resolved name against the DNS SANs", async () => {
      const cert = (pem: string): X509Certificate => new X509Certificate(readFileSync(pem));
      const byName = issueFromCa(pki, "localhost-only", `DNS:${localName}`);
      expect(await peerNameProblem(cert(pki.server.certPem), "127.0.0.1")).toBeNull();
      expect(await peerNameProblem(cert(pki.server.certPem), "::ffff:127.0.0.1")).toBeNull();
      // 127.0.0.1 reverse-resolves to localName, which the certificate names.
      if (localName !== "127.0.0.1") expect(await peerNameProblem(cert(byName.certPem), "127.0.0.1")).toBeNull();
      expect(await peerNameProblem(cert(elsewhere.certPem), "::ffff:127.0.0.1")).toBe(refusedLine);
      expect(await peerNameProblem(cert(pki.server.certPem), "")).toBe("no peer address to check the peer certificate against");
    });

    it("with ssl.quorum.hostnameVerification=false the same member joins", async () => {
      const ensemble = await startEnsembleForTest({
        participants: 3,
        extraConfig: ["sslQuorum=true", "ssl.quorum.hostnameVerification=false", ...sslLines()],
        extraConfigOf: misnamedThree,
      });
      try {
        await ensemble.settled(20_000);
        expect(ensemble.members.every((m) => m.serving)).toBe(true);
      } finally {
        await ensemble.stop();
      }
    });
  });

  it("config: sslQuorum without a key store, a JKS quorum store", () => {
    expect(() => parseConfig("sslQuorum=true")).toThrow("zoo.cfg:1: sslQuorum: true needs ssl.quorum.keyStore.location (this server's key and certificate)");
    expect(() => parseConfig("sslQuorum=true\nssl.quorum.keyStore.location=/q.jks")).toThrow(/^zoo\.cfg:2: ssl\.quorum\.keyStore\.location: JKS stores are not supported/);
    expect(parseConfig("sslQuorum=true\nzookeeper.ssl.quorum.keyStore.location=/q.p12\nssl.quorum.hostnameVerification=false").config).toMatchObject({
      sslQuorum: true, quorumTls: { keyStore: { type: "PKCS12" }, hostnameVerification: false },
    });
  });
});
