// What docs/recipes.md tells users, checked against a real server: locks are not
// re-entrant (a second acquire from the same client queues behind the first and, on its
// timeout, leaves no node behind), `await using` releases, `lost` fires on close() with
// ClientClosedError and never after release(), tokens of successive writers grow, and the
// documented errors of offer/peek/size/barrier.set.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientClosedError, connect, ZooKeeperError, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest } from "../../src/server/index.js";

let server: Awaited<ReturnType<typeof startStandaloneForTest>>;
let client: CorralClient;

beforeAll(async () => {
  server = await startStandaloneForTest();
  client = await connect(server.connectString);
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

async function rejection(p: Promise<unknown>): Promise<ZooKeeperError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ZooKeeperError);
  return e as ZooKeeperError;
}

describe("docs/recipes.md", () => {
  it("locks are not re-entrant: a second acquire from the same client waits behind the first, and its timeout removes its node", async () => {
    const first = await client.writeLock("/docs/lock");
    expect((await rejection(client.writeLock("/docs/lock", { timeoutMs: 200 }))).code).toBe("OperationTimeout");
    expect((await rejection(client.readLock("/docs/lock", { timeoutMs: 200 }))).code).toBe("OperationTimeout");
    expect(await client.getChildren("/docs/lock")).toEqual([first.node.slice("/docs/lock/".length)]);
    const second = client.writeLock("/docs/lock");
    await first.release();
    const held = await second;
    expect(held.token).toBeGreaterThan(first.token);
    await held.release();
    expect(await client.getChildren("/docs/lock").catch(() => [])).toEqual([]);
  });

  it("`await using` releases the lock at the end of the block; release() is idempotent", async () => {
    let node = "";
    {
      await using lock = await client.mutex("/docs/using");
      node = lock.node;
      expect(await client.exists(node)).not.toBeNull();
    }
    expect(await client.exists(node)).toBeNull();
    const lock = await client.mutex("/docs/using");
    const [a, b] = [lock.release(), lock.release()];
    expect(a).toBe(b);
    await a;
  });

  it("`lost` fires with ClientClosedError on close(), and not after release()", async () => {
    const other = await connect(server.connectString);
    const released = await other.mutex("/docs/lost-a");
    await released.release();
    const held = await other.mutex("/docs/lost-b");
    await other.close();
    expect(held.lost.aborted).toBe(true);
    expect(held.lost.reason).toBeInstanceOf(ClientClosedError);
    expect(released.lost.aborted).toBe(false);
  });

  it("offer names the item qn-N; peek and size reject NoNode on a missing queue; barrier.set needs its parent", async () => {
    expect(await client.queue("/docs/q").offer("x")).toBe("qn-0000000000");
    expect((await client.queue("/docs/q").peek())?.toString()).toBe("x");
    expect((await rejection(client.queue("/docs/none").peek())).code).toBe("NoNode");
    expect((await rejection(client.queue("/docs/none").size())).code).toBe("NoNode");
    expect((await rejection(client.barrier("/docs/no-parent/b").set())).code).toBe("NoNode");
    await client.barrier("/docs/b").wait({ timeoutMs: 1000 }); // not set: resolves at once
  });
});
