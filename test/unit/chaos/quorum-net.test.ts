// The quorum links' fault proxies (test/chaos/lib/quorum-net.ts) in front of three echo
// servers standing in for members' quorum ports: the higher id reaches the lower through
// its pair's proxy; isolating a member cuts or silences exactly its links; heal undoes
// one member's isolation and keeps the other end's.

import { createConnection, createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { QuorumNet } from "../../chaos/lib/quorum-net.js";

const HOST = "127.0.0.1";
const SILENT_MS = 300;

let servers: Server[] = [];
let net: QuorumNet | undefined;
afterEach(async () => {
  await net?.close();
  for (const s of servers) s.close();
  servers = [];
  net = undefined;
});

async function members(n: number): Promise<{ net: QuorumNet; portsSeenBy: number[][]; real: number[] }> {
  const real: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer((c) => {
      c.on("error", () => {});
      c.pipe(c);
    });
    await new Promise<void>((r) => s.listen(0, HOST, r));
    servers.push(s);
    real.push((s.address() as { port: number }).port);
  }
  const started = await QuorumNet.start(real);
  net = started.net;
  return { ...started, real };
}

/** Connects to `port`, sends a byte: "echo" back, "closed" before, or "silent" for SILENT_MS. */
function probe(port: number): Promise<"echo" | "closed" | "silent"> {
  return new Promise((resolve) => {
    const s = createConnection({ host: HOST, port });
    const done = (r: "echo" | "closed" | "silent"): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done("silent"), SILENT_MS);
    s.on("error", () => {});
    s.on("data", () => done("echo"));
    s.on("close", () => done("closed"));
    s.write("x");
  });
}

describe("QuorumNet", () => {
  it("routes each higher id to each lower one through its pair's proxy; the rest are real ports", async () => {
    const { portsSeenBy, real } = await members(3);
    expect(portsSeenBy[0]).toEqual(real); // member 1 dials nobody
    expect(portsSeenBy[2]![2]).toBe(real[2]); // its own line
    for (const [from, to] of [[2, 1], [3, 1], [3, 2]] as const) {
      expect(portsSeenBy[from - 1]![to - 1]).not.toBe(real[to - 1]);
      expect(await probe(portsSeenBy[from - 1]![to - 1]!)).toBe("echo");
    }
  });

  it("isolating a member cuts (or silences) its links only, and heal restores them", async () => {
    const { portsSeenBy } = await members(3);
    const link = (from: number, to: number): number => portsSeenBy[from - 1]![to - 1]!;
    net!.isolate(1, "cut");
    expect(await probe(link(2, 1))).toBe("closed");
    expect(await probe(link(3, 1))).toBe("closed");
    expect(await probe(link(3, 2))).toBe("echo");
    net!.heal(1);
    expect(await probe(link(3, 1))).toBe("echo");
    net!.isolate(2, "blackhole");
    expect(await probe(link(2, 1))).toBe("silent");
    expect(await probe(link(3, 2))).toBe("silent");
    expect(await probe(link(3, 1))).toBe("echo");
  });

  it("healing one end of a link keeps the other end's isolation", async () => {
    const { portsSeenBy } = await members(3);
    const link = (from: number, to: number): number => portsSeenBy[from - 1]![to - 1]!;
    net!.isolate(3, "blackhole");
    net!.isolate(1, "cut");
    net!.heal(1);
    expect(await probe(link(3, 1))).toBe("silent");
    expect(await probe(link(2, 1))).toBe("echo");
    net!.isolate(1, "cut");
    net!.heal(3);
    expect(await probe(link(3, 1))).toBe("closed");
    expect(await probe(link(3, 2))).toBe("echo");
    net!.healAll();
    expect(await probe(link(3, 1))).toBe("echo");
  });
});
