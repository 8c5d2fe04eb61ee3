// Locks interoperate across implementations (issue 5): a lock held through Corral's
// engine blocks kazoo's WriteLock on the same path and the other way round, and the
// ZooKeeper docs' recipe spoken by node-zookeeper-client sees Corral's contenders.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import zookeeper, { type NzkClient } from "node-zookeeper-client";
import { connect, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { inCi } from "../helpers/zookeeper-install.js";

const DEBIAN_PYTHON = "/usr/bin/python3";
const haveKazoo = existsSync("/usr/lib/python3/dist-packages/kazoo/__init__.py") && existsSync(DEBIAN_PYTHON);

class Kazoo {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;

  constructor(hosts: string) {
    const script = new URL("../helpers/kazoo_driver.py", import.meta.url).pathname;
    this.#proc = spawn(DEBIAN_PYTHON, [script, hosts], { stdio: ["pipe", "pipe", "pipe"] });
    this.#lines = createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }

  async next(): Promise<string> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error("kazoo driver exited");
    return r.value;
  }

  async send(cmd: string): Promise<string> {
    this.#proc.stdin.write(cmd + "\n");
    return this.next();
  }

  async close(): Promise<void> {
    this.#proc.stdin.end("quit\n");
    await new Promise((r) => this.#proc.once("exit", r));
  }
}

describe.skipIf(!haveKazoo && !inCi())("kazoo's locks and Corral's engine exclude each other", () => {
  let srv: TestServer;
  let kz: Kazoo;
  let corral: CorralClient;

  beforeAll(async () => {
    srv = await startStandaloneForTest();
    kz = new Kazoo(srv.connectString);
    expect(await kz.next()).toBe("ready");
    corral = await connect(srv.connectString);
  }, 30_000);

  afterAll(async () => {
    await kz.close();
    await corral.close();
    await srv.stop();
  });

  it("a Corral write lock blocks kazoo's WriteLock until released", async () => {
    const held = await corral.writeLock("/interop/a");
    expect(await kz.send("lock /interop/a 0.3")).toBe("timeout");
    await held.release();
    expect(await kz.send("lock /interop/a 5")).toBe("acquired");
    expect(await kz.send("release")).toBe("released");
  });

  it("kazoo's WriteLock blocks a Corral write lock, and a Corral read lock", async () => {
    expect(await kz.send("lock /interop/b 5")).toBe("acquired");
    await expect(corral.writeLock("/interop/b", { timeoutMs: 200 })).rejects.toMatchObject({ code: "OperationTimeout" });
    await expect(corral.readLock("/interop/b", { timeoutMs: 200 })).rejects.toMatchObject({ code: "OperationTimeout" });
    const waiting = corral.writeLock("/interop/b");
    expect(await kz.send("release")).toBe("released");
    await (await waiting).release();
  });

  it("Corral read locks and kazoo's ReadLock share; kazoo's WriteLock waits for both", async () => {
    const r = await corral.readLock("/interop/c");
    expect(await kz.send("rlock /interop/c 5")).toBe("acquired");
    expect(await kz.send("release")).toBe("released");
    expect(await kz.send("lock /interop/c 0.3")).toBe("timeout");
    await r.release();
    expect(await kz.send("lock /interop/c 5")).toBe("acquired");
    expect(await kz.send("release")).toBe("released");
  });
});

describe("the ZooKeeper docs' lock recipe over node-zookeeper-client sees Corral's contenders", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startStandaloneForTest();
  });
  afterAll(() => srv.stop());

  const nzk = async (): Promise<NzkClient> => {
    const c = zookeeper.createClient(srv.connectString, { sessionTimeout: 5000 });
    await new Promise<void>((resolve) => {
      c.once("connected", () => resolve());
      c.connect();
    });
    return c;
  };
  const nzkCreate = (c: NzkClient, path: string): Promise<string> =>
    new Promise((resolve, reject) =>
      c.create(path, null, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (e: Error | null, p: string) => (e ? reject(e) : resolve(p))),
    );
  const nzkChildren = (c: NzkClient, path: string): Promise<string[]> =>
    new Promise((resolve, reject) => c.getChildren(path, (e: Error | null, ch: string[]) => (e ? reject(e) : resolve(ch))));
  const nzkDelete = (c: NzkClient, path: string): Promise<void> =>
    new Promise((resolve, reject) => c.remove(path, -1, (e: Error | null) => (e ? reject(e) : resolve())));
  const lowest = (names: string[]): string => [...names].sort((a, b) => Number(a.slice(-10)) - Number(b.slice(-10)))[0]!;

  it("a docs-recipe write lock blocks Corral's engine, and Corral's holder blocks the docs recipe", async () => {
    const corral = await connect(srv.connectString);
    const c = await nzk();
    await corral.create("/docs");
    const mine = await nzkCreate(c, "/docs/write-");
    expect(lowest(await nzkChildren(c, "/docs"))).toBe(mine.slice("/docs/".length));
    await expect(corral.writeLock("/docs", { timeoutMs: 200 })).rejects.toMatchObject({ code: "OperationTimeout" });
    const waiting = corral.writeLock("/docs");
    await nzkDelete(c, mine);
    const held = await waiting;
    const second = await nzkCreate(c, "/docs/write-");
    expect(lowest(await nzkChildren(c, "/docs"))).not.toBe(second.slice("/docs/".length));
    await held.release();
    expect(lowest(await nzkChildren(c, "/docs"))).toBe(second.slice("/docs/".length));
    c.close();
    await corral.close();
  });
});
