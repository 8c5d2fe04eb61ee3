// Admin `queues` lists each queue's in-flight items (issue 17: the console shows them):
// the in-flight node, its item and sequence, the session holding it, when it was taken
// and the lease deadline its visibility timeout gives (null: held until the session
// ends); the first IN_FLIGHT_SHOWN_MAX by sequence, with the total in `in_flight`.

import { afterEach, describe, expect, it } from "vitest";
import { connect, type CorralClient } from "../../src/client/index.js";
import { IN_FLIGHT_SHOWN_MAX } from "../../src/server/recipe-views.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";

interface InFlightJson {
  node: string;
  item: string;
  sequence: number;
  deliveries: number;
  session_id: string;
  taken_at: number;
  visibility_timeout_ms: number | null;
  lease_deadline: number | null;
}
interface QueueJson {
  path: string;
  depth: number;
  in_flight: number;
  in_flight_items: InFlightJson[];
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function client(t: TestServer): Promise<CorralClient> {
  const c = await connect(t.connectString, { sessionTimeoutMs: 4000 });
  cleanups.push(() => c.close());
  return c;
}

async function queue(t: TestServer, path: string): Promise<QueueJson | undefined> {
  const r = (await (await fetch(`${t.adminUrl}/commands/queues`)).json()) as { queues: QueueJson[]; in_flight_shown_max: number };
  expect(r.in_flight_shown_max).toBe(IN_FLIGHT_SHOWN_MAX);
  return r.queues.find((q) => q.path === path);
}

const hex = (id: bigint): string => `0x${id.toString(16)}`;

describe("admin queues: in-flight items", () => {
  it("names each taken item, its holder, when it was taken and its lease deadline; an ack or a session's end removes it", async () => {
    const t = await startStandaloneForTest({ adminServer: true });
    cleanups.push(() => t.stop());
    const [producer, leased, held] = [await client(t), await client(t), await client(t)];
    const q = producer.jobQueue("/jobs");
    for (const item of ["a", "b", "c", "d"]) await q.offer(item);
    const before = Date.now();
    const first = await leased.jobQueue("/jobs", { visibilityTimeoutMs: 600_000 }).take();
    const second = await held.jobQueue("/jobs").take();
    const after = Date.now();

    const json = (await queue(t, "/jobs"))!;
    expect([json.depth, json.in_flight, json.in_flight_items.length]).toEqual([2, 2, 2]);
    const [a, b] = json.in_flight_items as [InFlightJson, InFlightJson];
    expect(a).toMatchObject({ node: first.id, item: "qn-0000000000", sequence: 0, deliveries: 0, session_id: hex(leased.sessionId), visibility_timeout_ms: 600_000 });
    expect(b).toMatchObject({ node: second.id, item: "qn-0000000001", sequence: 1, deliveries: 0, session_id: hex(held.sessionId), visibility_timeout_ms: null, lease_deadline: null });
    for (const i of [a, b]) {
      expect(i.taken_at).toBeGreaterThanOrEqual(before - 1000);
      expect(i.taken_at).toBeLessThanOrEqual(after + 1000);
    }
    expect(a.lease_deadline).toBe(a.taken_at + 600_000);
    // taken_at is the in-flight node's ctime, as a client reads it.
    expect(a.taken_at).toBe(Number((await producer.exists(first.id))!.ctime));

    // Extending re-creates the node: the new one shows with its new deadline.
    await first.extend(900_000);
    const extended = (await queue(t, "/jobs"))!.in_flight_items[0]!;
    expect(extended).toMatchObject({ node: first.id, item: "qn-0000000000", visibility_timeout_ms: 900_000 });
    expect(extended.lease_deadline).toBe(extended.taken_at + 900_000);

    await first.ack();
    expect((await queue(t, "/jobs"))!.in_flight_items.map((i) => i.item)).toEqual(["qn-0000000001"]);
    // The holder's session ends: the item goes back, counted, and is no longer in flight.
    await held.close();
    const back = (await queue(t, "/jobs"))!;
    expect([back.depth, back.in_flight, back.in_flight_items]).toEqual([3, 0, []]);
    const again = await producer.jobQueue("/jobs").take();
    expect((await queue(t, "/jobs"))!.in_flight_items).toMatchObject([{ node: again.id, item: "qn-d1-0000000001", sequence: 1, deliveries: 1 }]);
  });

  it("lists the first IN_FLIGHT_SHOWN_MAX by sequence, with the total", async () => {
    const t = await startStandaloneForTest({ adminServer: true });
    cleanups.push(() => t.stop());
    const [producer, worker] = [await client(t), await client(t)];
    const n = IN_FLIGHT_SHOWN_MAX + 5;
    for (let i = 0; i < n; i++) await producer.jobQueue("/many").offer(String(i));
    for (let i = 0; i < n; i++) await worker.jobQueue("/many").take();
    const json = (await queue(t, "/many"))!;
    expect([json.depth, json.in_flight, json.in_flight_items.length]).toEqual([0, n, IN_FLIGHT_SHOWN_MAX]);
    expect(json.in_flight_items.map((i) => i.sequence)).toEqual(Array.from({ length: IN_FLIGHT_SHOWN_MAX }, (_, i) => i));
  });
});
