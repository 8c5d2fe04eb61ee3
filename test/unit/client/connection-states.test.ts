// The client's connection states against a scripted server on a fake clock: when
// SUSPENDED, LOST (presumed or said by the server), RECONNECTED and CLOSED are announced,
// and how calls settle meanwhile. Time moves only when the test says, so every bound is
// checked to the millisecond.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Client,
  ClientClosedError,
  SessionLostError,
  ZooKeeperError,
  type ConnectionState,
} from "../../../src/client/index.js";
import { next } from "../../helpers/connection-states.js";
import { FakeClock, FakeZkServer } from "./fake-server.js";

const TIMEOUT_MS = 3000;

function settledState<T>(p: Promise<T>): { readonly value: "pending" | "resolved" | "rejected"; error: unknown } {
  const s = { value: "pending" as "pending" | "resolved" | "rejected", error: undefined as unknown };
  p.then(
    () => (s.value = "resolved"),
    (e: unknown) => {
      s.value = "rejected";
      s.error = e;
    },
  );
  return s;
}

/** Lets socket I/O and promise callbacks run (the fake clock does not move). */
const io = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe("connection states", () => {
  let server: FakeZkServer;
  let clock: FakeClock;
  const clients: Client[] = [];

  beforeEach(async () => {
    server = await FakeZkServer.start();
    server.timeOutMs = TIMEOUT_MS;
    clock = new FakeClock();
  });

  afterEach(async () => {
    // A close() that tries a silent server would wait for the fake clock: refuse instead.
    server.mode = "refuse";
    server.cutAll();
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    await server.close();
  });

  async function connected(opts: ConstructorParameters<typeof Client>[1] = {}): Promise<Client> {
    const c = new Client(server.connectString, { sessionTimeoutMs: TIMEOUT_MS, clock, ...opts });
    clients.push(c);
    const first = next(c, "CONNECTED");
    await c.start();
    expect((await first).sessionId).toBe(c.sessionId);
    expect(c.connectionState).toBe("CONNECTED");
    return c;
  }

  it("a black hole: SUSPENDED at the read timeout, LOST presumed at 0.8 of the timeout, then a new session after closing the old one", async () => {
    const c = await connected();
    const oldId = c.sessionId;
    server.mode = "silent";
    c.disconnectForTest(); // the next connection is accepted but never answered
    await next(c, "SUSPENDED");
    const queued = c.request(3, "/q", undefined, undefined);
    const call = settledState(queued);
    const lost = next(c, "LOST");
    clock.advance(0.8 * TIMEOUT_MS - 1);
    await io();
    expect(c.connectionState).toBe("SUSPENDED");
    expect(call.value).toBe("pending");
    clock.advance(1);
    const info = await lost;
    expect(info.sessionId).toBe(oldId);
    expect(info.reason).toBeInstanceOf(SessionLostError);
    expect((info.reason as SessionLostError).code).toBe("ConnectionLoss");
    expect(info.reason!.message).toContain(`no answer for ${0.8 * TIMEOUT_MS} ms`);
    await expect(queued).rejects.toBe(info.reason);
    // The network heals: the client closes the old session, then opens a new one.
    server.mode = "live";
    const back = await next(c, "RECONNECTED");
    expect(server.closed).toEqual([oldId]);
    expect(back.previousSessionId).toBe(oldId);
    expect(back.sessionId).not.toBe(oldId);
    expect(c.sessionId).toBe(back.sessionId);
    expect(server.connects.at(-1)!.sessionId).toBe(0n);
    expect(c.state).toBe("CONNECTED");
  });

  it("an open connection that goes silent is dropped at 2/3 of the timeout (SUSPENDED) before LOST", async () => {
    const c = await connected();
    const seen: [ConnectionState, number][] = [];
    c.on("connectionState", (s: ConnectionState) => seen.push([s, clock.nowMs()]));
    server.mode = "silent";
    server.silenceAll();
    const suspended = next(c, "SUSPENDED");
    for (let t = 0; t < TIMEOUT_MS; t += 50) {
      clock.advance(50);
      await io();
    }
    await suspended;
    expect(seen.map(([s]) => s)).toEqual(["SUSPENDED", "LOST"]);
    const [suspendedAt, lostAt] = seen.map(([, at]) => at) as [number, number];
    expect(suspendedAt).toBeGreaterThan((2 / 3) * TIMEOUT_MS);
    expect(suspendedAt).toBeLessThan(lostAt);
    expect(lostAt).toBe(0.8 * TIMEOUT_MS);
  });

  it("pings keep the session: a live connection is never presumed lost", async () => {
    const c = await connected();
    const seen: ConnectionState[] = [];
    c.on("connectionState", (s: ConnectionState) => seen.push(s));
    for (let i = 0; i < 40; i++) {
      clock.advance(TIMEOUT_MS / 12);
      await io();
    }
    expect(seen).toEqual([]);
    expect(c.connectionState).toBe("CONNECTED");
  });

  it("SUSPENDED then RECONNECTED on the same session when the connection comes back in time", async () => {
    const c = await connected();
    const id = c.sessionId;
    const suspended = next(c, "SUSPENDED");
    const back = next(c, "RECONNECTED");
    const reconnected = new Promise((r) => c.once("reconnected", r));
    server.cutAll();
    expect((await suspended).sessionId).toBe(id);
    const info = await back;
    await reconnected;
    expect(info).toEqual({ sessionId: id });
    expect(c.sessionId).toBe(id);
  });

  it("LOST said by the server: SessionExpired, no attempt at closing, then a new session", async () => {
    const c = await connected();
    const oldId = c.sessionId;
    server.sessions.delete(oldId); // the server expired it while the client was away
    const lost = next(c, "LOST");
    const expired = new Promise((r) => c.once("expired", r));
    const back = next(c, "RECONNECTED");
    server.cutAll();
    const info = await lost;
    expect(info.reason).toBeInstanceOf(ZooKeeperError);
    expect((info.reason as ZooKeeperError).code).toBe("SessionExpired");
    expect(info.reason).not.toBeInstanceOf(SessionLostError);
    expect(await expired).toBe(info.reason);
    expect((await back).previousSessionId).toBe(oldId);
    expect(server.closed).toEqual([]);
  });

  it('afterLost "close" ends the client: legacy state EXPIRED, calls fail SessionExpired', async () => {
    const c = await connected({ afterLost: "close" });
    server.sessions.delete(c.sessionId);
    const lost = next(c, "LOST");
    server.cutAll();
    await lost;
    expect(c.state).toBe("EXPIRED");
    await expect(c.request(3, "/", undefined, undefined)).rejects.toMatchObject({ code: "SessionExpired" });
    const closed = next(c, "CLOSED");
    await c.close();
    expect((await closed).reason).toBeInstanceOf(ClientClosedError);
  });

  it("a call made while disconnected settles with ConnectionLoss at operationTimeoutMs", async () => {
    const c = await connected({ operationTimeoutMs: 1000 });
    server.mode = "refuse";
    const suspended = next(c, "SUSPENDED");
    server.cutAll();
    await suspended;
    const call = settledState(c.request(3, "/x", undefined, undefined));
    clock.advance(999);
    await io();
    expect(call.value).toBe("pending");
    clock.advance(1);
    await io();
    expect(call.value).toBe("rejected");
    expect(call.error).toMatchObject({ code: "ConnectionLoss", path: "/x" });
    expect(call.error).not.toBeInstanceOf(SessionLostError);
  });

  it("a call nobody answers on a live connection fails with RequestTimeout after requestTimeoutMs", async () => {
    const c = await connected({ requestTimeoutMs: 500 });
    server.answerRequests = false;
    const call = settledState(c.request(3, "/slow", undefined, undefined));
    await io();
    clock.advance(499);
    await io();
    expect(call.value).toBe("pending");
    clock.advance(1);
    await io();
    expect(call.error).toMatchObject({ code: "RequestTimeout", errno: -122, path: "/slow" });
    expect(c.connectionState).toBe("CONNECTED");
  });

  it("close() announces CLOSED with ClientClosedError, fails later calls with it, and ends the iterator", async () => {
    const c = await connected();
    const states = c.connectionStates();
    const collected: ConnectionState[] = [];
    const loop = (async () => {
      for await (const { state } of states) collected.push(state);
    })();
    server.cutAll();
    await next(c, "RECONNECTED");
    await c.close();
    await loop;
    expect(collected).toEqual(["SUSPENDED", "RECONNECTED", "CLOSED"]);
    expect(c.connectionState).toBe("CLOSED");
    await expect(c.request(3, "/", undefined, undefined)).rejects.toBeInstanceOf(ClientClosedError);
    expect(server.closed).toContain(c.sessionId);
  });

  it("an aborted queued call is not sent when the connection comes back", async () => {
    const c = await connected();
    server.mode = "refuse";
    const suspended = next(c, "SUSPENDED");
    server.cutAll();
    await suspended;
    const ctrl = new AbortController();
    const call = c.request(3, "/aborted", undefined, undefined, { signal: ctrl.signal });
    ctrl.abort(new Error("stop"));
    await expect(call).rejects.toThrow("stop");
    const seen: number[] = [];
    server.on("request", (h: { type: number }) => seen.push(h.type));
    server.mode = "live";
    await next(c, "RECONNECTED");
    await expect(c.request(4, "/after", undefined, undefined)).rejects.toMatchObject({ code: "NoNode" });
    expect(seen).toEqual([4]);
  });

  it("close() while SUSPENDED still closes the session on the server (one bounded try)", async () => {
    const c = await connected();
    const sid = c.sessionId;
    const suspended = next(c, "SUSPENDED");
    c.disconnectForTest(60_000); // the fake clock never gets there: no reconnect
    await suspended;
    const closed = next(c, "CLOSED");
    await c.close();
    expect((await closed).reason).toBeInstanceOf(ClientClosedError);
    expect(server.closed).toEqual([sid]);
  });

  it("start() with a session the server no longer knows rejects with SessionExpired and ends the client", async () => {
    const c = new Client(server.connectString, { sessionTimeoutMs: TIMEOUT_MS, clock });
    clients.push(c);
    const lost = next(c, "LOST");
    await expect(c.start({ sessionId: 0x999n, password: Buffer.alloc(16) })).rejects.toMatchObject({ code: "SessionExpired" });
    expect((await lost).sessionId).toBe(0x999n);
    expect(c.state).toBe("EXPIRED");
    expect(server.connects.map((r) => r.sessionId)).toEqual([0x999n]);
  });

  it("client.retry() retries ConnectionLoss while SUSPENDED and stops at LOST with the LOST reason", async () => {
    const c = await connected({ operationTimeoutMs: 200 });
    server.mode = "refuse";
    const suspended = next(c, "SUSPENDED");
    server.cutAll();
    await suspended;
    let attempts = 0;
    const policy = { nextDelayMs: () => 100 };
    const call = c.retry(() => {
      attempts++;
      return c.request(3, "/r", undefined, undefined);
    }, policy);
    const outcome = settledState(call);
    const lost = next(c, "LOST");
    for (let t = 0; t < 0.8 * TIMEOUT_MS; t += 50) {
      clock.advance(50);
      await io();
    }
    const info = await lost;
    await io();
    expect(outcome.value).toBe("rejected");
    expect(outcome.error).toBe(info.reason);
    // Every 300 ms (200 queued, 100 asleep) until LOST at 2400 ms.
    expect(attempts).toBe(8);
  });

  it("a retry asleep when close() is called ends at once with ClientClosedError", async () => {
    const c = await connected({ operationTimeoutMs: 100 });
    server.mode = "refuse";
    const suspended = next(c, "SUSPENDED");
    server.cutAll();
    await suspended;
    const call = settledState(c.retry(() => c.request(3, "/r", undefined, undefined), { nextDelayMs: () => 60_000 }));
    clock.advance(100); // the first try fails ConnectionLoss; the retry sleeps a minute
    await io();
    expect(call.value).toBe("pending");
    await c.close();
    await io();
    expect(call.value).toBe("rejected");
    expect(call.error).toBeInstanceOf(ClientClosedError);
  });

  it('the legacy "state", "expired" and "reconnected" events: same session back, then LOST and a new session', async () => {
    const c = await connected();
    const legacy: string[] = [];
    c.on("state", (s: string) => legacy.push(`state:${s}`));
    c.on("expired", () => legacy.push("expired"));
    c.on("reconnected", () => legacy.push("reconnected"));
    const back = next(c, "RECONNECTED");
    server.cutAll();
    await back;
    expect(legacy).toEqual(["state:SUSPENDED", "state:CONNECTED", "reconnected"]);
    legacy.length = 0;
    server.sessions.delete(c.sessionId);
    const renewed = next(c, "RECONNECTED");
    server.cutAll();
    expect((await renewed).previousSessionId).toBeDefined();
    // A new session is not "reconnected" (that means: the same session is back).
    expect(legacy).toEqual(["state:SUSPENDED", "state:CONNECTING", "expired", "state:CONNECTED"]);
  });
});
