// Prep's Corral-only create flag PROTECTED_CREATE_FLAG (Curator's protected mode on the
// server) and the session-end moves of a closeSession, in the pipeline harness.

import { describe, expect, it } from "vitest";
import { CreateMode, Err, OpCode, PROTECTED_CREATE_FLAG } from "../../../src/jute/index.js";
import { DataTree } from "../../../src/tree/index.js";
import { decodeTxnEntry, encodeTxnEntry } from "../../../src/txn/index.js";
import { Harness, ManualCommitLog, rq } from "./harness.js";

const P = PROTECTED_CREATE_FLAG;
const ID = "0123abcd-0000-4000-8000-00000000beef";
const ID2 = "0123abcd-0000-4000-8000-00000000cafe";

describe("PROTECTED_CREATE_FLAG", () => {
  it("refuses with NodeExists, changing nothing, when the session already owns an ephemeral with the same token under the parent", () => {
    const h = new Harness();
    const a = h.connect();
    a.create("/l", "");
    const first = a.create(`/l/_c_${ID}-write__lock__`, "", { mode: CreateMode.EphemeralSequential | P });
    expect(first).toMatchObject({ err: Err.Ok, path: `/l/_c_${ID}-write__lock__0000000000` });
    const before = h.snapshot();
    expect(a.create(`/l/_c_${ID}-write__lock__`, "", { mode: CreateMode.EphemeralSequential | P }).err).toBe(Err.NodeExists);
    expect(h.snapshot()).toEqual(before);
  });

  it("another token, another parent or another session is not a conflict; the flag is stripped from the mode", () => {
    const h = new Harness();
    const a = h.connect();
    const b = h.connect();
    a.create("/l", "");
    a.create("/m", "");
    const mode = CreateMode.EphemeralSequential | P;
    a.create(`/l/_c_${ID}-write__lock__`, "", { mode });
    expect(a.create(`/l/_c_${ID2}-write__lock__`, "", { mode }).err).toBe(Err.Ok);
    expect(a.create(`/m/_c_${ID}-write__lock__`, "", { mode }).err).toBe(Err.Ok);
    const other = b.create(`/l/_c_${ID}-write__lock__`, "", { mode });
    expect(other.err).toBe(Err.Ok);
    expect(other.stat!.ephemeralOwner).toBe(b.sessionId);
    // A plain (persistent) create with the flag is just a create.
    expect(a.create(`/l/_c_${ID}-x`, "", { mode: CreateMode.Persistent | P }).stat!.ephemeralOwner).toBe(0n);
  });

  it("sees ephemerals the session will own once txns in flight apply", async () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    const a = h.connect();
    a.create("/l", "");
    log.holding = true;
    const mode = CreateMode.EphemeralSequential | P;
    const x1 = a.send(rq.create(`/l/_c_${ID}-read__rlock__`, "", { mode }));
    const x2 = a.send(rq.create(`/l/_c_${ID}-read__rlock__`, "", { mode }));
    await log.releaseAll();
    expect(a.replyTo(x1)!.err).toBe(Err.Ok);
    expect(a.replyTo(x2)!.err).toBe(Err.NodeExists);
    expect(h.tree.get("/l")!.children!.size).toBe(1);
  });

  it("a node the session deletes in flight no longer counts", async () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    const a = h.connect();
    a.create("/l", "");
    const mode = CreateMode.EphemeralSequential | P;
    const first = a.create(`/l/_c_${ID}-write__lock__`, "", { mode });
    log.holding = true;
    a.send(rq.delete(first.path));
    const x = a.send(rq.create(`/l/_c_${ID}-write__lock__`, "", { mode }));
    await log.releaseAll();
    expect(a.replyTo(x)!.err).toBe(Err.Ok);
  });

  it("two of the session's nodes share a token: it counts until the last of them is gone, also after a restart from the snapshot", () => {
    const h = new Harness();
    const a = h.connect();
    a.create("/l", "");
    const mode = CreateMode.EphemeralSequential | P;
    a.create(`/l/_c_${ID}-x`, "", { mode: CreateMode.Ephemeral });
    a.create(`/l/_c_${ID}-y`, "", { mode: CreateMode.Ephemeral });
    a.delete(`/l/_c_${ID}-x`);
    expect(a.create(`/l/_c_${ID}-write__lock__`, "", { mode }).err).toBe(Err.NodeExists);
    // A tree rebuilt from a snapshot of this one answers the same.
    const restored = new DataTree();
    for (const [path, node] of h.tree.nodes()) expect(restored.restoreNode(path, node.toRecord())).toBe(true);
    expect(restored.protectedPathsOf(`/l/_c_${ID}-`)).toBe(`/l/_c_${ID}-y`);
    a.delete(`/l/_c_${ID}-y`);
    expect(a.create(`/l/_c_${ID}-write__lock__`, "", { mode }).err).toBe(Err.Ok);
  });

  it("inside a multi the whole multi fails, also against an earlier op of the same multi", () => {
    const h = new Harness();
    const a = h.connect();
    a.create("/q", "");
    a.create("/q/qn-", "item", { mode: CreateMode.PersistentSequential });
    const mode = CreateMode.Ephemeral | P;
    const take = (name: string) => [rq.create(`/q/_c_${ID}-inflight-${name}`, "item", { mode }), rq.delete(`/q/${name}`)];
    expect(a.multi(take("qn-0000000000")).results.every((r) => r.err === 0)).toBe(true);
    a.create("/q/qn-", "item2", { mode: CreateMode.PersistentSequential });
    const before = h.snapshot();
    const again = a.multi(take("qn-0000000002"));
    expect(again.results.map((r) => r.err)).toEqual([Err.NodeExists, Err.RuntimeInconsistency]);
    expect(h.snapshot()).toEqual(before);
    const twice = a.multi([rq.create(`/q/_c_${ID2}-a`, "", { mode }), rq.create(`/q/_c_${ID2}-b`, "", { mode })]);
    expect(twice.results.map((r) => r.err)).toEqual([Err.Ok, Err.NodeExists]);
    expect(h.snapshot()).toEqual(before);
  });
});

describe("session-end moves", () => {
  const plannerFor = (h: Harness): void =>
    h.pipeline.setSessionEndPlanner((_sid, paths) =>
      paths.filter((p) => p.includes("inflight-")).map((from) => ({ from, to: from.replace(/_c_[0-9a-f-]+?-inflight-/, "") })),
    );

  it("a closeSession re-creates the planned ephemerals as persistent nodes, with their data, before they go", () => {
    const h = new Harness();
    plannerFor(h);
    const a = h.connect();
    const b = h.connect();
    a.create("/q", "");
    a.create(`/q/_c_${ID}-inflight-qn-0000000007`, "seven", { mode: CreateMode.Ephemeral | P });
    a.create(`/q/other`, "", { mode: CreateMode.Ephemeral });
    b.exists("/q/qn-0000000007", true);
    const cversion = h.tree.get("/q")!.cversion;
    expect(a.closeSession()).toBe(Err.Ok);
    const back = h.tree.get("/q/qn-0000000007")!;
    expect(back).toMatchObject({ data: Buffer.from("seven"), ephemeralOwner: 0n });
    expect([...h.tree.get("/q")!.children!]).toEqual(["qn-0000000007"]);
    // As a create would: the parent's cversion counts it, its pzxid is the close's zxid.
    expect(h.tree.get("/q")!.cversion).toBe(cversion + 1);
    expect(h.tree.get("/q")!.pzxid).toBe(back.czxid);
    // A Created effect: the exists watch fired.
    expect(b.conn.eventList()).toEqual([[1, "/q/qn-0000000007"]]);
  });

  it("a move whose target exists is skipped; prep sees planned targets as pending", async () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    plannerFor(h);
    const a = h.connect();
    const c = h.connect();
    a.create("/q", "");
    a.create(`/q/_c_${ID}-inflight-qn-0000000001`, "one", { mode: CreateMode.Ephemeral | P });
    a.create(`/q/_c_${ID2}-inflight-qn-0000000002`, "two", { mode: CreateMode.Ephemeral | P });
    c.create("/q/qn-0000000002", "someone else's");
    log.holding = true;
    a.send(rq.closeSession());
    const x = c.send(rq.create("/q/qn-0000000001", "late"));
    await log.releaseAll();
    expect(c.replyTo(x)!.err).toBe(Err.NodeExists);
    expect(h.tree.get("/q/qn-0000000001")!.data).toEqual(Buffer.from("one"));
    expect(h.tree.get("/q/qn-0000000002")!.data).toEqual(Buffer.from("someone else's"));
  });

  it("the moves are in the logged closeSession: replaying the log alone puts the item back (a crash right after the close)", () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    plannerFor(h);
    const a = h.connect();
    a.create("/q", "");
    a.create(`/q/_c_${ID}-inflight-qn-0000000004`, "four", { mode: CreateMode.Ephemeral | P });
    a.closeSession();
    const close = log.appended.at(-1)!;
    expect(close.hdr.opCode).toBe(OpCode.closeSession);
    expect(close.txn).toEqual({
      type: "closeSession",
      moves: [{ from: `/q/_c_${ID}-inflight-qn-0000000004`, to: "/q/qn-0000000004", parentCVersion: h.tree.get("/q")!.cversion }],
    });
    // Recovery: the records as the disk holds them, replayed into a fresh tree.
    const recovered = new DataTree();
    for (const e of log.appended) recovered.replay(decodeTxnEntry(encodeTxnEntry(e)));
    expect(recovered.get("/q/qn-0000000004")?.data).toEqual(Buffer.from("four"));
    expect([...recovered.get("/q")!.children!]).toEqual(["qn-0000000004"]);
    expect(recovered.get("/q")!.cversion).toBe(h.tree.get("/q")!.cversion);
  });

  it("replayed over a fuzzy snapshot that already holds the re-created node, the close leaves the parent as the first apply did", () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log });
    plannerFor(h);
    const a = h.connect();
    a.create("/q", "");
    const from = `/q/_c_${ID}-inflight-qn-0000000004`;
    a.create(from, "four", { mode: CreateMode.Ephemeral | P });
    a.closeSession();
    const close = log.appended.at(-1)!;
    const before = log.appended.slice(0, -1);
    // The snapshot walked /q before the close and the re-created node after it.
    const fuzzy = new DataTree();
    for (const e of before) fuzzy.replay(e);
    const to = h.tree.get("/q/qn-0000000004")!;
    fuzzy.restoreNode("/q/qn-0000000004", to.toRecord());
    fuzzy.replay(close, [from]);
    expect(fuzzy.get("/q")!.cversion).toBe(h.tree.get("/q")!.cversion);
    expect(fuzzy.get("/q")!.pzxid).toBe(h.tree.get("/q")!.pzxid);
    expect([...fuzzy.get("/q")!.children!]).toEqual(["qn-0000000004"]);
  });
});
