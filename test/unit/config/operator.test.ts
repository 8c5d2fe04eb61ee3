// Config keys and environment settings of the operator surface: when /metrics is on,
// the log level, the log directory.
import { describe, expect, it } from "vitest";
import { ConfigError, logDirOf, logLevelOf, parseConfig } from "../../../src/config/index.js";

const cfg = (text: string) => parseConfig(text).config;

describe("metrics and admin keys", () => {
  it("serves /metrics only when metricsProvider.className or httpPort is written, as ZooKeeper", () => {
    expect(cfg("").metricsEnabled).toBe(false);
    expect(cfg("metricsProvider.httpHost=127.0.0.1").metricsEnabled).toBe(false);
    expect(cfg("metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider").metricsEnabled).toBe(true);
    expect(cfg("metricsProvider.httpPort=7001")).toMatchObject({ metricsEnabled: true, metricsHttpPort: 7001 });
    expect(cfg("").adminServerEnabled).toBe(true);
  });
});

describe("log level", () => {
  it("comes from CORRAL_LOG_LEVEL, else corral.logLevel, else info", () => {
    expect(logLevelOf(cfg(""), {})).toEqual({ level: "info" });
    expect(logLevelOf(cfg("corral.logLevel=WARN"), {})).toEqual({ level: "warn" });
    expect(logLevelOf(cfg("corral.logLevel=warn"), { CORRAL_LOG_LEVEL: "debug" })).toEqual({ level: "debug" });
    const bad = logLevelOf(cfg("corral.logLevel=error"), { CORRAL_LOG_LEVEL: "loud" });
    expect(bad.level).toBe("error");
    expect(bad.warning).toContain('CORRAL_LOG_LEVEL="loud"');
  });

  it("rejects an unknown corral.logLevel naming the line", () => {
    expect(() => parseConfig("tickTime=2000\ncorral.logLevel=chatty\n")).toThrow(ConfigError);
    expect(() => parseConfig("tickTime=2000\ncorral.logLevel=chatty\n")).toThrow(/^zoo\.cfg:2: corral\.logLevel: expected one of trace/);
  });

  it("CORRAL_LOG_DIR names where `corral server start` writes the server's output", () => {
    expect(logDirOf({})).toBeUndefined();
    expect(logDirOf({ CORRAL_LOG_DIR: " " })).toBeUndefined();
    expect(logDirOf({ CORRAL_LOG_DIR: "/var/log/corral" })).toBe("/var/log/corral");
  });
});
