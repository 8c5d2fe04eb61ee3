// Corral's client connection bounds in zoo.cfg (issue 14, item 3): the output soft and
// hard maxima and the handshake timeout. Defaults follow jute.maxbuffer exactly as
// src/net/connection.ts derives them for a host that passes none; a bad value, or a soft
// max above the hard max, names the file, line and key.

import { describe, expect, it } from "vitest";
import {
  CLIENT_HANDSHAKE_TIMEOUT_MS_DEFAULT,
  ConfigError,
  clientOutboundLimitsFor,
  parseConfig,
} from "../../../src/config/index.js";
import { HANDSHAKE_TIMEOUT_MS_DEFAULT, outboundLimitsFor } from "../../../src/net/index.js";

const lines = (...ls: string[]): string => ls.join("\n");
const cfg = (text: string) => parseConfig(text).config;

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, { sourceName: "zoo.cfg" });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const MiB = 1024 * 1024;

describe("client connection bounds in zoo.cfg", () => {
  it("default to 2 and 32 x jute.maxbuffer and 10 s, with no warning", () => {
    const { config, warnings } = parseConfig("");
    expect(warnings).toEqual([]);
    expect(config.clientOutboundBytesSoftMax).toBe(2 * 0xfffff);
    expect(config.clientOutboundBytesHardMax).toBe(32 * 0xfffff);
    expect(config.clientHandshakeTimeoutMs).toBe(10_000);
  });

  it("derive their defaults from jute.maxbuffer, wherever it is written, with a 256 KiB floor", () => {
    expect(cfg(lines("corral.clientHandshakeTimeoutMs=500", "jute.maxbuffer=4194304"))).toMatchObject({
      clientOutboundBytesSoftMax: 8 * MiB,
      clientOutboundBytesHardMax: 128 * MiB,
    });
    expect(cfg("jute.maxbuffer=1000")).toMatchObject({ clientOutboundBytesSoftMax: 256 * 1024, clientOutboundBytesHardMax: MiB });
  });

  it("derive as src/net/connection.ts does for a host that passes none", () => {
    for (const jute of [1, 1000, 0xfffff, 4 * MiB, 100 * MiB]) {
      expect(clientOutboundLimitsFor(jute)).toEqual(outboundLimitsFor(jute));
    }
    expect(CLIENT_HANDSHAKE_TIMEOUT_MS_DEFAULT).toBe(HANDSHAKE_TIMEOUT_MS_DEFAULT);
  });

  it("are read from their keys", () => {
    expect(
      cfg(lines("corral.clientOutboundBytesSoftMax=65536", "corral.clientOutboundBytesHardMax=1048576", "corral.clientHandshakeTimeoutMs=250")),
    ).toMatchObject({ clientOutboundBytesSoftMax: 65536, clientOutboundBytesHardMax: MiB, clientHandshakeTimeoutMs: 250 });
  });

  it("a written soft max with no hard max moves the derived hard max up to 4 x soft", () => {
    expect(cfg("corral.clientOutboundBytesSoftMax=67108864")).toMatchObject({
      clientOutboundBytesSoftMax: 64 * MiB,
      clientOutboundBytesHardMax: 256 * MiB,
    });
    // A small soft max leaves the derived hard max where it was.
    expect(cfg("corral.clientOutboundBytesSoftMax=1024").clientOutboundBytesHardMax).toBe(32 * 0xfffff);
  });

  it("a soft max equal to the hard max is fine", () => {
    expect(cfg(lines("corral.clientOutboundBytesSoftMax=4096", "corral.clientOutboundBytesHardMax=4096"))).toMatchObject({
      clientOutboundBytesSoftMax: 4096,
      clientOutboundBytesHardMax: 4096,
    });
  });

  it.each([
    ["corral.clientOutboundBytesSoftMax", "0"],
    ["corral.clientOutboundBytesSoftMax", "-5"],
    ["corral.clientOutboundBytesHardMax", "lots"],
    ["corral.clientOutboundBytesHardMax", "2147483648"],
    ["corral.clientHandshakeTimeoutMs", "0"],
    ["corral.clientHandshakeTimeoutMs", "10s"],
  ])("%s=%s is an error naming the line and the key", (key, value) => {
    const e = errorOf(lines("tickTime=2000", `${key}=${value}`));
    expect(e.line).toBe(2);
    expect(e.key).toBe(key);
    expect(e.message).toBe(`zoo.cfg:2: ${key}: expected an integer from 1 to 2147483647 (${key.endsWith("Ms") ? "milliseconds" : "bytes"}), got ${JSON.stringify(value)}`);
  });

  it("a hard max below a written soft max names the later line", () => {
    const hardLater = errorOf(lines("corral.clientOutboundBytesSoftMax=8192", "# x", "corral.clientOutboundBytesHardMax=4096"));
    expect(hardLater.message).toBe("zoo.cfg:3: corral.clientOutboundBytesHardMax: 4096 bytes is below corral.clientOutboundBytesSoftMax, 8192 bytes");
    const softLater = errorOf(lines("corral.clientOutboundBytesHardMax=4096", "corral.clientOutboundBytesSoftMax=8192"));
    expect(softLater.message).toBe("zoo.cfg:2: corral.clientOutboundBytesSoftMax: 8192 bytes is above corral.clientOutboundBytesHardMax, 4096 bytes");
  });

  it("a hard max below the derived soft max names the hard max's line and says the soft max is derived", () => {
    const e = errorOf(lines("jute.maxbuffer=1048576", "corral.clientOutboundBytesHardMax=1048576"));
    expect(e.line).toBe(2);
    expect(e.key).toBe("corral.clientOutboundBytesHardMax");
    expect(e.detail).toBe("1048576 bytes is below corral.clientOutboundBytesSoftMax, 2097152 bytes (derived from jute.maxbuffer)");
  });

  it("a hard max below jute.maxbuffer is kept, with a warning on its line (one large reply closes the connection)", () => {
    const { config, warnings } = parseConfig(lines("corral.clientOutboundBytesSoftMax=1024", "corral.clientOutboundBytesHardMax=4096"));
    expect(config.clientOutboundBytesHardMax).toBe(4096);
    expect(warnings.map((w) => w.message)).toEqual([
      "zoo.cfg:2: corral.clientOutboundBytesHardMax: 4096 bytes is below jute.maxbuffer, 1048575 bytes: a client reading one reply that large is disconnected",
    ]);
  });

  it("are Corral's own: the zookeeper. prefix does not reach them", () => {
    const { config, warnings } = parseConfig("zookeeper.corral.clientHandshakeTimeoutMs=5");
    expect(config.clientHandshakeTimeoutMs).toBe(10_000);
    expect(warnings.map((w) => w.key)).toEqual(["zookeeper.corral.clientHandshakeTimeoutMs"]);
  });
});
