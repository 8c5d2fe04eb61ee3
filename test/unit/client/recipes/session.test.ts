// SessionTracker and SessionScope, driven by a fake client that only announces connection
// states: which scopes a state ends (and with what), when `usable()` settles, and that
// scopes, waits and the tracker leave no listener behind.

import { getEventListeners, setMaxListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { ClientClosedError, SessionLostError, ZooKeeperError } from "../../../../src/client/errors.js";
import { SessionTracker, type SessionScope } from "../../../../src/client/recipes/session.js";
import { Err } from "../../../../src/jute/index.js";
import { FakeClient, SESSION, peek } from "./fakes.js";

const NEW_SESSION = 0x200n;

function tracked(): { client: FakeClient; tracker: SessionTracker } {
  const client = new FakeClient();
  const tracker = new SessionTracker(client.asClient());
  client.announce("CONNECTED");
  return { client, tracker };
}

/** Counts `lost` firings and keeps their reasons. */
function lostLog(scope: SessionScope): unknown[] {
  const reasons: unknown[] = [];
  scope.lost.addEventListener("abort", () => reasons.push(scope.lost.reason));
  return reasons;
}

function abortListeners(s: AbortSignal): number {
  return getEventListeners(s, "abort").length;
}

describe("SessionTracker: SUSPENDED, then RECONNECTED on the same session", () => {
  it("a scope made while SUSPENDED lives on: usable() waits for RECONNECTED, lost never fires", async () => {
    const { client, tracker } = tracked();
    client.announce("SUSPENDED");
    expect(tracker.connected).toBe(false);
    const scope = tracker.scope();
    const reasons = lostLog(scope);
    const usable = scope.usable();
    expect(await peek(usable)).toEqual({ state: "pending" });

    client.announce("RECONNECTED");
    expect(await peek(usable)).toEqual({ state: "resolved", value: undefined });
    expect(tracker.state).toBe("RECONNECTED");
    expect(tracker.connected).toBe(true);
    expect(tracker.reconnects).toBe(1);
    expect(scope.lost.aborted).toBe(false);
    expect(reasons).toEqual([]);
    expect(abortListeners(scope.lost)).toBe(1); // only the test's own
    scope.dispose();
  });

  it("a scope made before SUSPENDED lives on too, and usable() resolves at once when connected", async () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    expect(await peek(scope.usable())).toEqual({ state: "resolved", value: undefined });
    client.announce("SUSPENDED");
    client.announce("RECONNECTED");
    client.announce("SUSPENDED");
    client.announce("RECONNECTED");
    expect(tracker.reconnects).toBe(2);
    expect(scope.lost.aborted).toBe(false);
    expect(await peek(scope.usable())).toEqual({ state: "resolved", value: undefined });
    scope.dispose();
  });
});

describe("SessionTracker: LOST, then RECONNECTED on a new session", () => {
  it("a scope made while SUSPENDED ends at LOST, once, with the LOST reason; a scope made after LOST lives on the new session", async () => {
    const { client, tracker } = tracked();
    client.announce("SUSPENDED");
    const old = tracker.scope();
    const reasons = lostLog(old);
    const oldUsable = old.usable();

    const reason = new SessionLostError(SESSION, 2400, 3000);
    client.announce("LOST", { reason });
    expect(reasons).toEqual([reason]);
    expect(old.lost.reason).toBe(reason);
    expect(await peek(oldUsable)).toEqual({ state: "rejected", error: reason });
    expect(tracker.closed).toBe(false);

    // Made between LOST and the new session: it belongs to the new session.
    const fresh = tracker.scope();
    expect(fresh.lost.aborted).toBe(false);
    const freshUsable = fresh.usable();
    expect(await peek(freshUsable)).toEqual({ state: "pending" });

    client.announce("RECONNECTED", { sessionId: NEW_SESSION, previousSessionId: SESSION });
    expect(await peek(freshUsable)).toEqual({ state: "resolved", value: undefined });
    expect(fresh.lost.aborted).toBe(false);
    // The old scope heard of its end once, and stays ended.
    expect(reasons).toEqual([reason]);
    await expect(old.usable()).rejects.toBe(reason);
    fresh.dispose();
  });

  it("a session-expired LOST said by the server is the reason as given", async () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    const reason = new ZooKeeperError(Err.SessionExpired);
    client.announce("LOST", { reason });
    expect(scope.lost.reason).toBe(reason);
    await expect(scope.usable()).rejects.toBe(reason);
  });

  it("a LOST without a reason ends scopes with a SessionLostError of that session", () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    client.announce("LOST", { sessionId: 0x1234n });
    expect(scope.lost.reason).toBeInstanceOf(SessionLostError);
    expect((scope.lost.reason as SessionLostError).sessionId).toBe(0x1234n);
  });

  it("a new session announced without LOST first still ends the old session's scopes", () => {
    const { client, tracker } = tracked();
    client.announce("SUSPENDED");
    const scope = tracker.scope();
    const reasons = lostLog(scope);
    client.announce("RECONNECTED", { sessionId: NEW_SESSION, previousSessionId: SESSION });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(SessionLostError);
    expect((reasons[0] as SessionLostError).sessionId).toBe(SESSION);
  });

  it("a disposed scope is not told of LOST, but usable() still refuses its ended session", async () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    const reasons = lostLog(scope);
    scope.dispose();
    const reason = new SessionLostError(SESSION, 2400, 3000);
    client.announce("LOST", { reason });
    client.announce("RECONNECTED", { sessionId: NEW_SESSION, previousSessionId: SESSION });
    expect(reasons).toEqual([]);
    await expect(scope.usable()).rejects.toBe(reason);
  });

  it("LOST with afterLost 'close' (the client's state is final) ends the tracker: later scopes are born lost", () => {
    const { client, tracker } = tracked();
    const reason = new ZooKeeperError(Err.SessionExpired);
    client.state = "EXPIRED"; // the client sets it before it announces LOST
    client.announce("LOST", { reason });
    expect(tracker.closed).toBe(true);
    const later = tracker.scope();
    expect(later.lost.aborted).toBe(true);
    expect(later.lost.reason).toBe(reason);
    // close() afterwards: the CLOSED that follows changes nothing.
    tracker.closing(SESSION);
    client.announce("CLOSED", { reason: new ClientClosedError() });
    expect(tracker.scope().lost.reason).toBe(reason);
  });
});

describe("SessionTracker: CLOSED", () => {
  it("close(): closing() then the client's CLOSED fire lost once, with a ClientClosedError", async () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    const reasons = lostLog(scope);
    const usable = (client.announce("SUSPENDED"), scope.usable());
    tracker.closing(SESSION);
    client.announce("CLOSED", { reason: new ClientClosedError() });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(ClientClosedError);
    expect(tracker.closed).toBe(true);
    expect(tracker.state).toBe("CLOSED");
    expect(await peek(usable)).toEqual({ state: "rejected", error: reasons[0] });
    const after = tracker.scope();
    expect(after.lost.aborted).toBe(true);
    expect(after.lost.reason).toBe(reasons[0]);
  });

  it("a CLOSED announced by the client alone (no reason given) ends scopes with a ClientClosedError", () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    client.announce("CLOSED");
    expect(scope.lost.reason).toBeInstanceOf(ClientClosedError);
  });

  it("CLOSED with the client's own reason (auth refused) passes that reason on", () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    const reason = new ZooKeeperError(Err.AuthFailed);
    client.announce("CLOSED", { reason });
    expect(scope.lost.reason).toBe(reason);
  });

  it("LOST then CLOSED: lost fires once, with the LOST reason; a scope of the next session gets ClientClosedError", () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    const reasons = lostLog(scope);
    const reason = new SessionLostError(SESSION, 2400, 3000);
    client.announce("LOST", { reason });
    const next = tracker.scope(); // waits for the new session
    client.announce("CLOSED", { reason: new ClientClosedError() });
    expect(reasons).toEqual([reason]);
    expect(next.lost.reason).toBeInstanceOf(ClientClosedError);
  });
});

describe("SessionScope: its end without an AbortSignal of its own", () => {
  it("ended, endReason and onEnd say the end once; `lost`, asked for before or after, aborts with the same reason", () => {
    const { client, tracker } = tracked();
    const early = tracker.scope();
    const late = tracker.scope();
    const earlyLost = early.lost; // made before the end: aborted by it
    const heard: unknown[] = [];
    const off = early.onEnd(() => heard.push("a"));
    early.onEnd(() => heard.push("b"));
    off();
    expect(early.ended).toBe(false);
    const reason = new SessionLostError(SESSION, 2400, 3000);
    client.announce("LOST", { reason });
    expect(heard).toEqual(["b"]);
    expect(early.ended && late.ended).toBe(true);
    expect(early.endReason).toBe(reason);
    expect(earlyLost.aborted && earlyLost.reason === reason).toBe(true);
    // Made only now, after the end: born aborted, with the reason.
    expect(late.lost.aborted).toBe(true);
    expect(late.lost.reason).toBe(reason);
    expect(early.endListeners).toBe(0);
    // A second end (CLOSED after LOST) changes nothing and tells nobody again.
    client.announce("CLOSED");
    expect(heard).toEqual(["b"]);
    expect(early.endReason).toBe(reason);
  });

  it("a disposed scope is not told; its listeners are never called", () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    let told = 0;
    scope.onEnd(() => told++);
    scope.dispose();
    client.announce("LOST", { reason: new SessionLostError(SESSION, 2400, 3000) });
    expect(told).toBe(0);
    expect(scope.ended).toBe(false);
  });
});

describe("SessionTracker: state changes and listeners", () => {
  it("changed() resolves at the next announcement; listen() hears each until unsubscribed", async () => {
    const { client, tracker } = tracked();
    const changed = tracker.changed();
    expect(await peek(changed)).toEqual({ state: "pending" });
    const heard: string[] = [];
    const unlisten = tracker.listen((s) => heard.push(s));
    client.announce("SUSPENDED");
    expect(await peek(changed)).toEqual({ state: "resolved", value: undefined });
    expect(await peek(tracker.changed())).toEqual({ state: "pending" });
    unlisten();
    client.announce("RECONNECTED");
    expect(heard).toEqual(["SUSPENDED"]);
  });

  it("holdOpen() is the client's", () => {
    const { client, tracker } = tracked();
    const release = tracker.holdOpen();
    expect(client.holds).toBe(1);
    release();
    expect(client.holds).toBe(0);
  });

  it("one client listener serves every scope, whatever their number", () => {
    const { client, tracker } = tracked();
    expect(client.listenerCount("connectionState")).toBe(1);
    const scopes = Array.from({ length: 1000 }, () => tracker.scope());
    expect(client.listenerCount("connectionState")).toBe(1);
    for (const s of scopes.slice(0, 500)) s.dispose();
    client.announce("LOST", { reason: new SessionLostError(SESSION, 2400, 3000) });
    expect(scopes.slice(0, 500).every((s) => !s.lost.aborted)).toBe(true);
    expect(scopes.slice(500).every((s) => s.lost.aborted)).toBe(true);
    expect(client.listenerCount("connectionState")).toBe(1);
  });

  it("usable() given up by a signal rejects with its reason and leaves no listener on the signal or on the scope", async () => {
    const { client, tracker } = tracked();
    client.announce("SUSPENDED");
    const scope = tracker.scope();
    const ctrl = new AbortController();
    setMaxListeners(0, ctrl.signal); // a hundred waits on one caller's signal, on purpose
    const waits = Array.from({ length: 100 }, () => scope.usable(ctrl.signal));
    expect(await peek(waits[0]!)).toEqual({ state: "pending" });
    expect(scope.endListeners).toBe(100);
    expect(abortListeners(ctrl.signal)).toBe(100);
    const why = new Error("gave up");
    ctrl.abort(why);
    for (const w of waits) expect(await peek(w)).toEqual({ state: "rejected", error: why });
    expect(scope.endListeners).toBe(0);
    expect(abortListeners(ctrl.signal)).toBe(0);
    scope.dispose();
  });

  it("usable() across many state changes leaves no listener behind once it settles", async () => {
    const { client, tracker } = tracked();
    const scope = tracker.scope();
    const ctrl = new AbortController();
    client.announce("SUSPENDED");
    const wait = scope.usable(ctrl.signal);
    for (let i = 0; i < 50; i++) {
      // Waking on every change without being connected: the wait goes round again.
      client.announce("SUSPENDED");
      expect(await peek(wait)).toEqual({ state: "pending" });
    }
    expect(scope.endListeners).toBe(1);
    client.announce("RECONNECTED");
    expect(await peek(wait)).toEqual({ state: "resolved", value: undefined });
    expect(scope.endListeners).toBe(0);
    expect(abortListeners(ctrl.signal)).toBe(0);
    scope.dispose();
  });

  it("usable() woken by LOST leaves no listener on the caller's signal", async () => {
    const { client, tracker } = tracked();
    client.announce("SUSPENDED");
    const scope = tracker.scope();
    const ctrl = new AbortController();
    const wait = scope.usable(ctrl.signal);
    expect(await peek(wait)).toEqual({ state: "pending" });
    const reason = new SessionLostError(SESSION, 2400, 3000);
    client.announce("LOST", { reason });
    expect(await peek(wait)).toEqual({ state: "rejected", error: reason });
    expect(abortListeners(ctrl.signal)).toBe(0);
  });
});
