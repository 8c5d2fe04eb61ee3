// src/config: zoo.cfg parsing, ZooKeeper's defaults, errors that name file, line and key,
// and loadConfigFile's myid handling.

import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import {
  ConfigError,
  type ConfigWarning,
  type CorralConfig,
  defaultConfig,
  extraSetting,
  loadConfigFile,
  parseConfig,
} from "../../../src/config/index.js";

const DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

function cfg(text: string): CorralConfig {
  return parseConfig(text).config;
}

function warningsOf(text: string): ConfigWarning[] {
  return parseConfig(text).warnings;
}

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

function parseError(text: string, sourceName?: string): ConfigError {
  return errorOf(() => parseConfig(text, { sourceName }));
}

async function loadError(path: string): Promise<ConfigError> {
  try {
    await loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const lines = (...ls: string[]) => ls.join("\n");

describe("defaults", () => {
  it("an empty file gives ZooKeeper's defaults", () => {
    const { config, warnings } = parseConfig("");
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      tickMs: 2000,
      initLimitTicks: 10,
      syncLimitTicks: 5,
      sessionTimeoutMsMin: 4000,
      sessionTimeoutMsMax: 40000,
      clientPort: 2181,
      maxClientCnxns: 60,
      maxCnxns: 0,
      autopurgeSnapRetainCount: 3,
      autopurgePurgeIntervalHours: 0,
      servers: [],
      peerType: "participant",
      adminServerEnabled: true,
      adminServerPort: 8080,
      adminServerAddress: "0.0.0.0",
      extendedTypesEnabled: false,
      enforceQuota: false,
      snapCount: 100000,
      forceSync: true,
      juteMaxBufferBytes: 1048575,
      readOnlyModeEnabled: false,
      reconfigEnabled: false,
      standaloneEnabled: true,
      localSessionsEnabled: false,
      localSessionsUpgradingEnabled: false,
      skipAcl: false,
      globalOutstandingLimit: 1000,
      preAllocSizeBytes: 65536 * 1024,
      containerCheckIntervalMs: 60000,
      containerMaxPerMinute: 10000,
      metricsHttpPort: 7000,
      metricsHttpHost: "0.0.0.0",
      quorumListenOnAllIPs: false,
    });
    expect(config.dataDir).toBeUndefined();
    expect(config.dataLogDir).toBeUndefined();
    expect(config.clientPortAddress).toBeUndefined();
    expect(config.superDigest).toBeUndefined();
    expect(config.txnLogSizeLimitBytes).toBeUndefined();
    expect(config.metricsProviderClassName).toBeUndefined();
    expect(config.dynamicConfigFile).toBeUndefined();
    expect(config.myid).toBeUndefined();
    expect(config.fourLetterWordWhitelist).toEqual(new Set(["srvr"]));
    expect(config.extra.size).toBe(0);
  });

  it("defaultConfig is the same with dataDir and dataLogDir ./data", () => {
    const config = defaultConfig();
    expect(config.dataDir).toBe("./data");
    expect(config.dataLogDir).toBe("./data");
    expect({ ...config, dataDir: undefined, dataLogDir: undefined }).toEqual(cfg(""));
  });

  it("defaultConfig returns a fresh object each time", () => {
    expect(defaultConfig()).not.toBe(defaultConfig());
    expect(defaultConfig().extra).not.toBe(defaultConfig().extra);
  });
});

describe("file syntax (java.util.Properties, then trimmed as ZooKeeper does)", () => {
  it("skips # and ! comments and blank lines, and trims key and value", () => {
    const config = cfg(lines("# a comment", "! also a comment", "", "   ", "  tickTime  =  3000  ", "\tclientPort=2182\t"));
    expect(config.tickMs).toBe(3000);
    expect(config.clientPort).toBe(2182);
  });

  it("accepts ':' and whitespace as separators", () => {
    const config = cfg(lines("tickTime: 3000", "clientPort 2182", "initLimit = 7"));
    expect([config.tickMs, config.clientPort, config.initLimitTicks]).toEqual([3000, 2182, 7]);
  });

  it("keeps '=' and ':' inside the value", () => {
    const config = cfg("server.1=zk1:2888:3888");
    expect(config.servers[0]?.host).toBe("zk1");
  });

  it("joins a line ending in a backslash with the next and reports the first line", () => {
    const joined = lines("tickTime=2000", "4lw.commands.whitelist=ruok, \\", "    stat, mntr");
    expect(cfg(joined).fourLetterWordWhitelist).toEqual(new Set(["ruok", "stat", "mntr", "srvr"]));
    expect(parseError(lines(joined, "clientPort=abc")).line).toBe(4);
    expect(parseError(lines("# c", "clientPort=\\", "  abc")).line).toBe(2);
  });

  it("a continued line is not a comment even if it starts with #", () => {
    expect(cfg(lines("dataDir=/a\\", "#b")).dataDir).toBe("/a#b");
  });

  it("an escaped trailing backslash does not continue the line", () => {
    const config = cfg(lines("dataDir=/a\\\\", "clientPort=2190"));
    expect(config.dataDir).toBe("/a\\");
    expect(config.clientPort).toBe(2190);
  });

  it("decodes Java escapes", () => {
    const config = cfg(lines("dataDir=/zk/\\u0064ata", "my\\:key=v"));
    expect(config.dataDir).toBe("/zk/data");
    expect(config.extra.get("my:key")).toBe("v");
  });

  it("rejects a malformed \\u escape, naming the line", () => {
    const err = parseError(lines("tickTime=2000", "dataDir=/zk/\\u00zz"));
    expect(err.line).toBe(2);
    expect(err.message).toContain("zoo.cfg:2:");
  });

  it("counts CRLF and CR line endings as one line each", () => {
    expect(parseError("tickTime=2000\r\n\r\nclientPort=x\r\n").line).toBe(3);
    expect(parseError("tickTime=2000\r\rclientPort=x").line).toBe(3);
  });

  it("a key with no value has the empty value", () => {
    expect(parseError("clientPort").message).toBe('zoo.cfg:1: clientPort: expected a port number 1-65535, got ""');
    expect(cfg("someFlag").extra.get("someFlag")).toBe("");
  });
});

describe("every key maps to its typed field", () => {
  const cases: ReadonlyArray<readonly [string, keyof CorralConfig, unknown]> = [
    ["tickTime=3000", "tickMs", 3000],
    ["initLimit=20", "initLimitTicks", 20],
    ["syncLimit=7", "syncLimitTicks", 7],
    ["dataDir=/var/lib/zk", "dataDir", "/var/lib/zk"],
    ["dataLogDir=/var/log/zk", "dataLogDir", "/var/log/zk"],
    ["clientPort=2182", "clientPort", 2182],
    ["clientPortAddress=127.0.0.1", "clientPortAddress", "127.0.0.1"],
    ["clientPortAddress=[::1]", "clientPortAddress", "::1"],
    ["clientPortAddress=zk1.example.com", "clientPortAddress", "zk1.example.com"],
    ["maxClientCnxns=0", "maxClientCnxns", 0],
    ["maxClientCnxns=500", "maxClientCnxns", 500],
    ["minSessionTimeout=1000", "sessionTimeoutMsMin", 1000],
    ["maxSessionTimeout=60000", "sessionTimeoutMsMax", 60000],
    ["autopurge.snapRetainCount=5", "autopurgeSnapRetainCount", 5],
    ["autopurge.purgeInterval=24", "autopurgePurgeIntervalHours", 24],
    ["peerType=observer", "peerType", "observer"],
    ["peerType=Participant", "peerType", "participant"],
    ["admin.enableServer=false", "adminServerEnabled", false],
    ["admin.serverPort=9090", "adminServerPort", 9090],
    ["admin.serverAddress=127.0.0.1", "adminServerAddress", "127.0.0.1"],
    ["extendedTypesEnabled=true", "extendedTypesEnabled", true],
    ["enforceQuota=true", "enforceQuota", true],
    ["snapCount=5000", "snapCount", 5000],
    ["forceSync=no", "forceSync", false],
    ["forceSync=yes", "forceSync", true],
    ["jute.maxbuffer=4194304", "juteMaxBufferBytes", 4194304],
    ["jute.maxbuffer=0x400000", "juteMaxBufferBytes", 4194304],
    [`DigestAuthenticationProvider.superDigest=${DIGEST}`, "superDigest", DIGEST],
    ["readonlymode.enabled=true", "readOnlyModeEnabled", true],
    ["reconfigEnabled=true", "reconfigEnabled", true],
    ["localSessionsEnabled=true", "localSessionsEnabled", true],
    ["localSessionsUpgradingEnabled=true", "localSessionsUpgradingEnabled", true],
    ["skipACL=yes", "skipAcl", true],
    ["skipACL=no", "skipAcl", false],
    ["globalOutstandingLimit=500", "globalOutstandingLimit", 500],
    ["preAllocSize=1024", "preAllocSizeBytes", 1024 * 1024],
    ["txnLogSizeLimitInKb=100", "txnLogSizeLimitBytes", 100 * 1024],
    ["txnLogSizeLimitInKb=-1", "txnLogSizeLimitBytes", undefined],
    ["txnLogSizeLimitInKb=0", "txnLogSizeLimitBytes", undefined],
    ["znode.container.checkIntervalMs=1000", "containerCheckIntervalMs", 1000],
    ["znode.container.maxPerMinute=50", "containerMaxPerMinute", 50],
    ["metricsProvider.httpPort=7001", "metricsHttpPort", 7001],
    ["metricsProvider.httpHost=127.0.0.1", "metricsHttpHost", "127.0.0.1"],
    [
      "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
      "metricsProviderClassName",
      "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
    ],
    ["dynamicConfigFile=/etc/zk/zoo.cfg.dynamic.100000000", "dynamicConfigFile", "/etc/zk/zoo.cfg.dynamic.100000000"],
    ["quorumListenOnAllIPs=true", "quorumListenOnAllIPs", true],
    ["maxCnxns=100", "maxCnxns", 100],
  ];

  it.each(cases)("%s -> %s", (line, field, expected) => {
    const { config, warnings } = parseConfig(line);
    expect(config[field]).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it("standaloneEnabled=false is read (with an ensemble to go with it)", () => {
    const config = cfg(lines("standaloneEnabled=false", "server.1=a:2888:3888"));
    expect(config.standaloneEnabled).toBe(false);
  });

  it("electionAlg accepts only 3", () => {
    expect(warningsOf("electionAlg=3")).toEqual([]);
    const err = parseError("electionAlg=1");
    expect(err.key).toBe("electionAlg");
    expect(err.message).toContain("only 3");
  });

  it("4lw.commands.whitelist is a trimmed comma list, with srvr always enabled", () => {
    expect(cfg("4lw.commands.whitelist=ruok, stat ,,mntr").fourLetterWordWhitelist).toEqual(
      new Set(["ruok", "stat", "mntr", "srvr"]),
    );
    expect(cfg("4lw.commands.whitelist=").fourLetterWordWhitelist).toEqual(new Set(["srvr"]));
  });

  it('4lw.commands.whitelist "*" enables every command', () => {
    expect(cfg("4lw.commands.whitelist=*").fourLetterWordWhitelist).toBe("*");
    expect(cfg("4lw.commands.whitelist=ruok, *").fourLetterWordWhitelist).toBe("*");
  });

  it("read-only mode adds isro to the whitelist, wherever the key is", () => {
    const config = cfg(lines("4lw.commands.whitelist=ruok", "readonlymode.enabled=true"));
    expect(config.fourLetterWordWhitelist).toEqual(new Set(["ruok", "srvr", "isro"]));
  });

  it("an unknown four letter word is kept but warned about", () => {
    const { config, warnings } = parseConfig(lines("tickTime=2000", "4lw.commands.whitelist=ruok,bogus"));
    expect(config.fourLetterWordWhitelist).toEqual(new Set(["ruok", "bogus", "srvr"]));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 2, key: "4lw.commands.whitelist" });
    expect(warnings[0]?.message).toContain("bogus");
  });

  it.each([
    ["zookeeper.extendedTypesEnabled=true", "extendedTypesEnabled", true],
    ["zookeeper.enforceQuota=true", "enforceQuota", true],
    ["zookeeper.snapCount=7", "snapCount", 7],
    ["zookeeper.forceSync=no", "forceSync", false],
    ["zookeeper.skipACL=yes", "skipAcl", true],
    ["zookeeper.4lw.commands.whitelist=*", "fourLetterWordWhitelist", "*"],
    ["zookeeper.admin.serverPort=9191", "adminServerPort", 9191],
    ["zookeeper.jute.maxbuffer=2048", "juteMaxBufferBytes", 2048],
    ["zookeeper.maxCnxns=9", "maxCnxns", 9],
    ["zookeeper.preAllocSize=1", "preAllocSizeBytes", 1024],
  ] as const)("system-property key %s is accepted with the zookeeper. prefix", (line, field, expected) => {
    const { config, warnings } = parseConfig(line);
    expect(config[field]).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it("a QuorumPeerConfig key with the zookeeper. prefix is not that key", () => {
    const { config, warnings } = parseConfig("zookeeper.tickTime=5000");
    expect(config.tickMs).toBe(2000);
    expect(config.extra.get("zookeeper.tickTime")).toBe("5000");
    expect(warnings).toHaveLength(1);
  });
});

describe("value checking", () => {
  it.each(["true", "TRUE", "True", "yes", "YES"])("boolean %s is true", (raw) => {
    expect(cfg(`reconfigEnabled=${raw}`).reconfigEnabled).toBe(true);
  });

  it.each(["false", "FALSE", "no", "No"])("boolean %s is false", (raw) => {
    expect(cfg(`admin.enableServer=${raw}`).adminServerEnabled).toBe(false);
  });

  it.each(["1", "0", "on", "", "truee"])("boolean %j is rejected", (raw) => {
    const err = parseError(`forceSync=${raw}`);
    expect(err.message).toBe(`zoo.cfg:1: forceSync: expected true/false or yes/no, got ${JSON.stringify(raw)}`);
  });

  it("a bad port names file, line and key", () => {
    const text = lines("# zoo.cfg", "tickTime=2000", "initLimit=10", "syncLimit=5", "dataDir=/tmp/zk", "", "clientPort=abc");
    const err = parseError(text);
    expect(err.message).toBe('zoo.cfg:7: clientPort: expected a port number 1-65535, got "abc"');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("ConfigError");
    expect(err.line).toBe(7);
    expect(err.key).toBe("clientPort");
    expect(err.sourceName).toBe("zoo.cfg");
  });

  it.each(["0", "65536", "-1", "21.81", "2181x", ""])("clientPort %j is rejected", (raw) => {
    expect(parseError(`clientPort=${raw}`).key).toBe("clientPort");
  });

  it.each(["65535", "1", "+2181", "02181"])("clientPort %j is accepted", (raw) => {
    expect(cfg(`clientPort=${raw}`).clientPort).toBe(Number(raw));
  });

  it("uses the sourceName in messages", () => {
    const err = parseError("tickTime=fast", "/etc/zk/zoo.cfg");
    expect(err.sourceName).toBe("/etc/zk/zoo.cfg");
    expect(err.message).toBe('/etc/zk/zoo.cfg:1: tickTime: expected an integer from 1 to 2147483647 (milliseconds), got "fast"');
  });

  it.each(["1.5", "1e3", "0x10", "0", "-5", "2147483648", "99999999999999999999"])(
    "tickTime %j is rejected",
    (raw) => {
      const err = parseError(`tickTime=${raw}`);
      expect(err.key).toBe("tickTime");
      expect(err.message).toContain(`got ${JSON.stringify(raw)}`);
    },
  );

  it.each([
    ["initLimit=0", "initLimit"],
    ["syncLimit=-1", "syncLimit"],
    ["maxClientCnxns=-1", "maxClientCnxns"],
    ["maxCnxns=-1", "maxCnxns"],
    ["minSessionTimeout=-2", "minSessionTimeout"],
    ["globalOutstandingLimit=0", "globalOutstandingLimit"],
    ["preAllocSize=0", "preAllocSize"],
    ["jute.maxbuffer=0", "jute.maxbuffer"],
    ["jute.maxbuffer=lots", "jute.maxbuffer"],
    ["znode.container.checkIntervalMs=0", "znode.container.checkIntervalMs"],
    ["znode.container.maxPerMinute=0", "znode.container.maxPerMinute"],
    ["admin.serverPort=0", "admin.serverPort"],
    ["metricsProvider.httpPort=70000", "metricsProvider.httpPort"],
    ["autopurge.purgeInterval=daily", "autopurge.purgeInterval"],
    ["autopurge.snapRetainCount=3.5", "autopurge.snapRetainCount"],
    ["snapCount=many", "snapCount"],
    ["peerType=leader", "peerType"],
    ["dataDir=", "dataDir"],
    ["dataLogDir=", "dataLogDir"],
    ["clientPortAddress=", "clientPortAddress"],
    ["clientPortAddress=a b", "clientPortAddress"],
    ["admin.serverAddress=", "admin.serverAddress"],
    ["metricsProvider.className=", "metricsProvider.className"],
    ["dynamicConfigFile=", "dynamicConfigFile"],
  ])("%s is rejected", (line, key) => {
    const err = parseError(lines("tickTime=2000", line));
    expect(err.key).toBe(key);
    expect(err.line).toBe(2);
  });

  it("refuses a leading-zero number where ZooKeeper would read octal", () => {
    expect(parseError("jute.maxbuffer=010").key).toBe("jute.maxbuffer");
    expect(cfg("jute.maxbuffer=#10").juteMaxBufferBytes).toBe(16);
  });
});

describe("superDigest", () => {
  it("is read without the zookeeper. prefix", () => {
    expect(cfg(`DigestAuthenticationProvider.superDigest=${DIGEST}`).superDigest).toBe(DIGEST);
  });

  it("is read with the zookeeper. prefix", () => {
    const { config, warnings } = parseConfig(`zookeeper.DigestAuthenticationProvider.superDigest=${DIGEST}`);
    expect(config.superDigest).toBe(DIGEST);
    expect(warnings).toEqual([]);
    expect(config.extra.size).toBe(0);
  });

  it("the two spellings are one key: the later wins, with a warning", () => {
    const other = "admin:x2QRG2R16qxmnZd0eFwHqdrTDAs=";
    const { config, warnings } = parseConfig(
      lines(`DigestAuthenticationProvider.superDigest=${DIGEST}`, `zookeeper.DigestAuthenticationProvider.superDigest=${other}`),
    );
    expect(config.superDigest).toBe(other);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.line).toBe(2);
  });

  it.each(["super", "super:", ":abc=", "super:not base64!", "super:abc", "a:b:c"])("rejects %j", (raw) => {
    const err = parseError(`DigestAuthenticationProvider.superDigest=${raw}`);
    expect(err.key).toBe("DigestAuthenticationProvider.superDigest");
    expect(err.message).toContain("user:base64");
  });
});

describe("derived defaults", () => {
  it("session timeouts default to 2 and 20 ticks", () => {
    const config = cfg("tickTime=3000");
    expect(config.sessionTimeoutMsMin).toBe(6000);
    expect(config.sessionTimeoutMsMax).toBe(60000);
  });

  it("are computed after every line, so tickTime may come last", () => {
    const config = cfg(lines("dataDir=/zk", "clientPort=2181", "tickTime=1000"));
    expect(config.sessionTimeoutMsMin).toBe(2000);
    expect(config.sessionTimeoutMsMax).toBe(20000);
  });

  it("an explicit timeout is kept and the other still derived", () => {
    const config = cfg(lines("minSessionTimeout=500", "tickTime=1000"));
    expect(config.sessionTimeoutMsMin).toBe(500);
    expect(config.sessionTimeoutMsMax).toBe(20000);
  });

  it("-1 means derived", () => {
    const config = cfg(lines("minSessionTimeout=-1", "maxSessionTimeout=-1", "tickTime=100"));
    expect([config.sessionTimeoutMsMin, config.sessionTimeoutMsMax]).toEqual([200, 2000]);
  });

  it("min above a derived max is an error naming minSessionTimeout", () => {
    const err = parseError(lines("tickTime=1000", "minSessionTimeout=30000"));
    expect(err.key).toBe("minSessionTimeout");
    expect(err.line).toBe(2);
    expect(err.message).toContain("20000");
  });

  it("max below a derived min is an error naming maxSessionTimeout, even with tickTime later", () => {
    const err = parseError(lines("maxSessionTimeout=3000", "tickTime=2000"));
    expect(err.key).toBe("maxSessionTimeout");
    expect(err.line).toBe(1);
    expect(err.message).toBe("zoo.cfg:1: maxSessionTimeout: 3000 ms is below minSessionTimeout, 4000 ms (2 x tickTime)");
  });

  it("when both are written, the later line is named", () => {
    expect(parseError(lines("minSessionTimeout=9000", "maxSessionTimeout=8000")).key).toBe("maxSessionTimeout");
    expect(parseError(lines("maxSessionTimeout=8000", "minSessionTimeout=9000")).key).toBe("minSessionTimeout");
  });

  it("min equal to max is fine", () => {
    const config = cfg(lines("minSessionTimeout=5000", "maxSessionTimeout=5000"));
    expect(config.sessionTimeoutMsMin).toBe(config.sessionTimeoutMsMax);
  });

  it("dataLogDir defaults to dataDir", () => {
    expect(cfg("dataDir=/zk").dataLogDir).toBe("/zk");
    expect(cfg(lines("dataLogDir=/log", "dataDir=/zk")).dataLogDir).toBe("/log");
  });

  it("relative paths are resolved against baseDir, without a warning (the stock zoo.cfg has one)", () => {
    const { config, warnings } = parseConfig(lines("dataDir=data", "dataLogDir=/abs/log"), { baseDir: "/srv/zk" });
    expect(config.dataDir).toBe(resolve("/srv/zk", "data"));
    expect(config.dataLogDir).toBe("/abs/log");
    expect(warnings).toEqual([]);
  });

  it("relative paths are left alone without baseDir", () => {
    const { config, warnings } = parseConfig("dataDir=./data");
    expect(config.dataDir).toBe("./data");
    expect(config.dataLogDir).toBe("./data");
    expect(warnings).toEqual([]);
  });

  it("autopurge.snapRetainCount below 3 is raised to 3 with a warning", () => {
    const { config, warnings } = parseConfig(lines("tickTime=2000", "autopurge.snapRetainCount=1"));
    expect(config.autopurgeSnapRetainCount).toBe(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 2, key: "autopurge.snapRetainCount" });
    expect(warnings[0]?.message).toMatch(/^zoo\.cfg:2: autopurge\.snapRetainCount: /);
  });

  it("a negative autopurge.purgeInterval turns autopurge off with a warning", () => {
    const { config, warnings } = parseConfig("autopurge.purgeInterval=-1");
    expect(config.autopurgePurgeIntervalHours).toBe(0);
    expect(warnings).toHaveLength(1);
  });

  it("snapCount below 2 is raised to 2 with a warning", () => {
    const { config, warnings } = parseConfig("snapCount=1");
    expect(config.snapCount).toBe(2);
    expect(warnings[0]?.key).toBe("snapCount");
  });
});

describe("unknown keys", () => {
  it("are kept and warned about with their line", () => {
    const { config, warnings } = parseConfig(lines("tickTime=2000", "", "fancyFeature=on"));
    expect(config.extra.get("fancyFeature")).toBe("on");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ sourceName: "zoo.cfg", line: 3, key: "fancyFeature" });
    expect(warnings[0]?.message).toMatch(/^zoo\.cfg:3: fancyFeature: unknown key/);
    expect(warnings[0]?.message).toContain("zookeeper.fancyFeature");
  });

  it("are found with or without the zookeeper. prefix", () => {
    const config = cfg(lines("ssl.quorum.context.supplier.class=org.example.Ctx", "zookeeper.authProvider.1=org.example.Auth"));
    expect(extraSetting(config, "ssl.quorum.context.supplier.class")).toBe("org.example.Ctx");
    expect(extraSetting(config, "zookeeper.ssl.quorum.context.supplier.class")).toBe("org.example.Ctx");
    expect(extraSetting(config, "authProvider.1")).toBe("org.example.Auth");
    expect(extraSetting(config, "zookeeper.authProvider.1")).toBe("org.example.Auth");
    expect(extraSetting(config, "nothing")).toBeUndefined();
  });

  it("k and zookeeper.k are the same setting: the later wins", () => {
    const { config, warnings } = parseConfig(lines("foo=1", "zookeeper.foo=2"));
    expect(extraSetting(config, "foo")).toBe("2");
    expect([...config.extra.keys()]).toEqual(["zookeeper.foo"]);
    // Line 2 is both a repeat and unknown; the overridden line 1 is not checked at all.
    expect(warnings.map((w) => w.line)).toEqual([2, 2]);
  });

  it("group and weight keys say hierarchical quorums are unsupported", () => {
    const warnings = warningsOf("group.1=1:2:3");
    expect(warnings[0]?.message).toContain("hierarchical");
  });
});

describe("duplicate keys", () => {
  it("the later value wins, with a warning on the later line naming the earlier", () => {
    const { config, warnings } = parseConfig(lines("clientPort=2181", "tickTime=2000", "clientPort=2182"));
    expect(config.clientPort).toBe(2182);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 3, key: "clientPort" });
    expect(warnings[0]?.message).toContain("line 1");
  });

  it("an overridden bad value is not an error (java.util.Properties keeps only the last)", () => {
    const { config, warnings } = parseConfig(lines("clientPort=abc", "clientPort=2182"));
    expect(config.clientPort).toBe(2182);
    expect(warnings).toHaveLength(1);
  });

  it("a bad last value is an error on its own line", () => {
    expect(parseError(lines("clientPort=2182", "clientPort=abc")).line).toBe(2);
  });

  it("a sysprop key and its zookeeper.-prefixed spelling are duplicates", () => {
    const { config, warnings } = parseConfig(lines("snapCount=10", "zookeeper.snapCount=20"));
    expect(config.snapCount).toBe(20);
    expect(warnings).toHaveLength(1);
  });

  it("three copies warn twice", () => {
    const { config, warnings } = parseConfig(lines("tickTime=1", "tickTime=2", "tickTime=3"));
    expect(config.tickMs).toBe(3);
    expect(warnings.map((w) => w.line)).toEqual([2, 3]);
  });

  it("warnings come out in line order", () => {
    const { warnings } = parseConfig(lines("a=1", "tickTime=1", "b=2", "tickTime=2", "c=3"));
    expect(warnings.map((w) => w.line)).toEqual([1, 3, 4, 5]);
  });
});

describe("server.N", () => {
  const ensemble = (...servers: string[]) => lines("tickTime=2000", ...servers);

  it("reads host:quorumPort:electionPort as a participant", () => {
    const config = cfg(ensemble("server.1=zk1:2888:3888", "server.2=zk2:2888:3888", "server.3=zk3:2888:3888"));
    expect(config.servers).toEqual([
      { id: 1n, host: "zk1", quorumPort: 2888, electionPort: 3888, role: "participant" },
      { id: 2n, host: "zk2", quorumPort: 2888, electionPort: 3888, role: "participant" },
      { id: 3n, host: "zk3", quorumPort: 2888, electionPort: 3888, role: "participant" },
    ]);
  });

  it("reads the role, case-insensitively", () => {
    const config = cfg(
      ensemble("server.1=a:1:2", "server.2=b:1:2:participant", "server.3=c:1:2", "server.4=d:1:2:OBSERVER"),
    );
    expect(config.servers.map((s) => s.role)).toEqual(["participant", "participant", "participant", "observer"]);
  });

  it("reads a client port, with or without a client host", () => {
    const config = cfg(
      ensemble("server.1=a:2888:3888;2181", "server.2=b:2888:3888:observer;10.0.0.2:2182", "server.3=c:2888:3888", "server.4=d:2888:3888"),
    );
    expect(config.servers[0]).toEqual({ id: 1n, host: "a", quorumPort: 2888, electionPort: 3888, role: "participant", clientPort: 2181 });
    expect(config.servers[1]).toEqual({
      id: 2n,
      host: "b",
      quorumPort: 2888,
      electionPort: 3888,
      role: "observer",
      clientHost: "10.0.0.2",
      clientPort: 2182,
    });
  });

  it("accepts IPv6 hosts in brackets", () => {
    const config = cfg(ensemble("server.1=[::1]:2888:3888:participant;[::1]:2181", "server.2=[fe80::1]:2889:3889"));
    expect(config.servers[0]).toMatchObject({ host: "::1", quorumPort: 2888, electionPort: 3888, clientHost: "::1", clientPort: 2181 });
    expect(config.servers[1]).toMatchObject({ host: "fe80::1", quorumPort: 2889, electionPort: 3889 });
  });

  it("sorts servers by id and keeps ids as bigint", () => {
    const config = cfg(ensemble("server.10=c:1:2", "server.9223372036854775807=b:1:2", "server.0=a:1:2"));
    expect(config.servers.map((s) => s.id)).toEqual([0n, 10n, 9223372036854775807n]);
  });

  it("ignores a trailing ':' or ';' as Java's split does", () => {
    const config = cfg(ensemble("server.1=a:1:2:", "server.2=b:1:2;", "server.3=c:1:2"));
    expect(config.servers.map((s) => s.clientPort)).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ["server.x=a:1:2", "server id must be a non-negative integer"],
    ["server.-1=a:1:2", "server id must be a non-negative integer"],
    ["server.=a:1:2", "server id must be a non-negative integer"],
    ["server.9223372036854775808=a:1:2", "server id must be a non-negative integer"],
    ["server.1=a:2888", "host:quorumPort:electionPort"],
    ["server.1=a", "host:quorumPort:electionPort"],
    ["server.1=", "host:quorumPort:electionPort"],
    ["server.1=a:1:2:observer:x", "host:quorumPort:electionPort"],
    ["server.1=a:1:2;h:1:x", "host:quorumPort:electionPort"],
    ["server.1=a:1:2;1;2", "host:quorumPort:electionPort"],
    ["server.1=a:x:2", "quorum port: expected a port number 1-65535"],
    ["server.1=a:1:99999", "election port: expected a port number 1-65535"],
    ["server.1=a:1:2;0", "client port: expected a port number 1-65535"],
    ["server.1=a:1:2:leader", "expected participant or observer"],
    ["server.1=:1:2", "expected a host name or address"],
    ["server.1=[::1:2888:3888", "no matching ']:'"],
    ["server.1=a:1:2|b:1:2", "multiple addresses"],
  ])("%s is rejected", (line, text) => {
    const err = parseError(ensemble(line));
    expect(err.line).toBe(2);
    expect(err.key).toBe(line.slice(0, line.indexOf("=")));
    expect(err.message).toContain(text);
  });

  it("a repeated id is an error, whether or not the key is spelled the same", () => {
    const same = parseError(ensemble("server.1=a:1:2", "server.2=b:1:2", "server.1=c:1:2"));
    expect(same.line).toBe(4);
    expect(same.message).toContain("duplicate server id 1");
    expect(same.message).toContain("line 2");
    const padded = parseError(ensemble("server.1=a:1:2", "server.01=c:1:2"));
    expect(padded.key).toBe("server.01");
  });

  it("server lines with dynamicConfigFile are an error", () => {
    const err = parseError(lines("dynamicConfigFile=/zk/zoo.cfg.dynamic", "server.1=a:1:2", "server.2=b:1:2"));
    expect(err.key).toBe("server.1");
    expect(err.line).toBe(2);
  });

  it("with dynamicConfigFile the ensemble is not checked here (its servers live in that file)", () => {
    const config = cfg(lines("dynamicConfigFile=/zk/zoo.cfg.dynamic", "standaloneEnabled=false"));
    expect(config.servers).toEqual([]);
    expect(config.dynamicConfigFile).toBe("/zk/zoo.cfg.dynamic");
  });

  it("observers without participants are an error", () => {
    expect(parseError(ensemble("server.1=a:1:2:observer")).message).toContain("observers without participants");
  });

  it("one participant with observers is an error while standaloneEnabled", () => {
    expect(parseError(ensemble("server.1=a:1:2", "server.2=b:1:2:observer")).message).toContain("observers without a quorum");
    const config = cfg(ensemble("standaloneEnabled=false", "server.1=a:1:2", "server.2=b:1:2:observer"));
    expect(config.servers).toHaveLength(2);
  });

  it("standaloneEnabled=false needs a participant", () => {
    const err = parseError(lines("tickTime=2000", "standaloneEnabled=false"));
    expect(err.key).toBe("standaloneEnabled");
    expect(err.line).toBe(2);
  });

  it("warns about ensembles that tolerate no failure or have an even size", () => {
    expect(warningsOf(ensemble("server.1=a:1:2"))).toEqual([]);
    expect(warningsOf(ensemble("server.1=a:1:2", "server.2=b:1:2"))[0]?.message).toContain("at least 3");
    expect(warningsOf(ensemble("server.1=a:1:2", "server.2=b:1:2", "server.3=c:1:2"))).toEqual([]);
    expect(warningsOf(ensemble("server.1=a:1:2", "server.2=b:1:2", "server.3=c:1:2", "server.4=d:1:2"))[0]?.message).toContain(
      "odd number",
    );
    const withObserver = ensemble("server.1=a:1:2", "server.2=b:1:2", "server.3=c:1:2", "server.4=d:1:2:observer");
    expect(warningsOf(withObserver)).toEqual([]);
  });

  it("server ids above 254 are refused when extendedTypesEnabled", () => {
    expect(cfg(ensemble("server.255=a:1:2")).servers).toHaveLength(1);
    const err = parseError(ensemble("extendedTypesEnabled=true", "server.254=a:1:2", "server.255=b:1:2", "server.1=c:1:2"));
    expect(err.key).toBe("server.255");
    expect(err.line).toBe(4);
  });
});

describe("loadConfigFile", () => {
  let dir = "";

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-config-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeCfg(text: string): Promise<string> {
    const path = join(dir, "zoo.cfg");
    await writeFile(path, text);
    return path;
  }

  it("reads the file, naming it in messages", async () => {
    const path = await writeCfg(lines(`dataDir=${dir}`, "clientPort=2190", "mystery=1"));
    const { config, warnings } = await loadConfigFile(path);
    expect(config.clientPort).toBe(2190);
    expect(config.dataDir).toBe(dir);
    expect(config.myid).toBeUndefined();
    expect(warnings[0]?.message).toBe(`${path}:3: mystery: unknown key; kept as system property zookeeper.mystery but unused by Corral`);
  });

  it("throws a ConfigError naming the file and line for a bad value", async () => {
    const path = await writeCfg(lines(`dataDir=${dir}`, "tickTime=soon"));
    const err = await loadError(path);
    expect(err.sourceName).toBe(path);
    expect(err.line).toBe(2);
    expect(err.message.startsWith(`${path}:2: tickTime: `)).toBe(true);
  });

  it("a missing file is a ConfigError naming it", async () => {
    const path = join(dir, "nope.cfg");
    const err = await loadError(path);
    expect(err.sourceName).toBe(path);
    expect(err.message).toContain("missing");
  });

  it("reads myid from dataDir", async () => {
    await writeFile(join(dir, "myid"), "2\n");
    const path = await writeCfg(lines(`dataDir=${dir}`, "server.1=a:1:2", "server.2=b:1:2", "server.3=c:1:2"));
    const { config, warnings } = await loadConfigFile(path);
    expect(config.myid).toBe(2n);
    expect(warnings).toEqual([]);
  });

  it("tolerates whitespace around the id", async () => {
    await writeFile(join(dir, "myid"), "  7 \r\n");
    const { config } = await loadConfigFile(await writeCfg(`dataDir=${dir}`));
    expect(config.myid).toBe(7n);
  });

  it("resolves a relative dataDir against the working directory and finds myid there", async () => {
    await writeFile(join(dir, "myid"), "5");
    const rel = relative(process.cwd(), dir);
    const { config, warnings } = await loadConfigFile(await writeCfg(`dataDir=${rel}`));
    expect(isAbsolute(config.dataDir ?? "")).toBe(true);
    expect(config.dataDir).toBe(resolve(process.cwd(), rel));
    expect(config.dataLogDir).toBe(config.dataDir);
    expect(config.myid).toBe(5n);
    expect(warnings).toEqual([]);
  });

  it.each(["abc", "", "-1", "1.0", "9223372036854775808"])("myid %j is a ConfigError naming the myid file", async (content) => {
    const myidPath = join(dir, "myid");
    await writeFile(myidPath, content);
    const err = await loadError(await writeCfg(`dataDir=${dir}`));
    expect(err.sourceName).toBe(myidPath);
    expect(err.key).toBe("myid");
    expect(err.message).toContain(myidPath);
  });

  it("a myid that is a directory counts as absent", async () => {
    await mkdir(join(dir, "myid"));
    const { config } = await loadConfigFile(await writeCfg(`dataDir=${dir}`));
    expect(config.myid).toBeUndefined();
  });

  it("without dataDir no myid is looked for", async () => {
    const { config } = await loadConfigFile(await writeCfg("clientPort=2181"));
    expect(config.dataDir).toBeUndefined();
    expect(config.myid).toBeUndefined();
  });

  it("the server line decides the role; a contradicting peerType is warned about", async () => {
    await writeFile(join(dir, "myid"), "4");
    const servers = ["server.1=a:1:2", "server.2=b:1:2", "server.3=c:1:2", "server.4=d:1:2:observer"];
    const plain = await loadConfigFile(await writeCfg(lines(`dataDir=${dir}`, ...servers)));
    expect(plain.config.peerType).toBe("observer");
    expect(plain.warnings).toEqual([]);
    const contradicted = await loadConfigFile(await writeCfg(lines(`dataDir=${dir}`, "peerType=participant", ...servers)));
    expect(contradicted.config.peerType).toBe("observer");
    expect(contradicted.warnings).toHaveLength(1);
    expect(contradicted.warnings[0]).toMatchObject({ line: 2, key: "peerType" });
  });

  it("the server line's client port and host are this server's", async () => {
    await writeFile(join(dir, "myid"), "2");
    const servers = ["server.1=a:1:2;2181", "server.2=b:1:2;127.0.0.2:2182", "server.3=c:1:2;2183"];
    const { config } = await loadConfigFile(await writeCfg(lines(`dataDir=${dir}`, ...servers)));
    expect(config.clientPort).toBe(2182);
    expect(config.clientPortAddress).toBe("127.0.0.2");
  });

  it("an explicit clientPort that contradicts the server line is an error naming clientPort", async () => {
    await writeFile(join(dir, "myid"), "1");
    const path = await writeCfg(lines(`dataDir=${dir}`, "clientPort=2181", "server.1=a:1:2;2191", "server.2=b:1:2", "server.3=c:1:2"));
    const err = await loadError(path);
    expect(err).toMatchObject({ sourceName: path, line: 2, key: "clientPort" });
  });

  it("warns when myid has no server line", async () => {
    await writeFile(join(dir, "myid"), "9");
    const { config, warnings } = await loadConfigFile(await writeCfg(lines(`dataDir=${dir}`, "server.1=a:1:2", "server.2=b:1:2", "server.3=c:1:2")));
    expect(config.myid).toBe(9n);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.key).toBe("myid");
  });

  it("refuses a myid above 254 when extendedTypesEnabled", async () => {
    const myidPath = join(dir, "myid");
    await writeFile(myidPath, "255");
    const err = await loadError(await writeCfg(lines(`dataDir=${dir}`, "extendedTypesEnabled=true")));
    expect(err.sourceName).toBe(myidPath);
    expect(err.message).toContain("254");
    await writeFile(myidPath, "254");
    expect((await loadConfigFile(await writeCfg(lines(`dataDir=${dir}`, "extendedTypesEnabled=true")))).config.myid).toBe(254n);
  });
});
