// The durability property (issue 4): drive writes through the real Pipeline and Storage
// on a FakeDisk that dies at a random operation and keeps only a random part of what
// was not fsynced; recover; repeat. After every recovery the tree must equal, field for
// field, a tree built by applying the logged txns 1..R in order to an empty tree, where
// R >= every zxid that had been applied (and so acknowledged) before the crash: no
// acknowledged write lost, no half multi (a multi is one txn), nothing invented. Fuzzy
// snapshots run throughout (tiny slices, small snapCount), so this also checks that
// replaying the log over a fuzzy snapshot ends exactly where an exact replay ends.
// Sessions survive, zxids and session ids never go backwards.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CreateMode, OpCode, Perms, type ACL } from "../../../src/jute/index.js";
import { Pipeline, type Conn, type SessionQueue } from "../../../src/pipeline/index.js";
import type { Request, WriteReq } from "../../../src/pipeline/requests.js";
import { SessionTable } from "../../../src/session/index.js";
import { FakeDisk, Storage } from "../../../src/storage/index.js";
import { DataTree, OPEN_ACL_UNSAFE } from "../../../src/tree/index.js";
import type { TxnEntry } from "../../../src/txn/index.js";
import { ManualClock, SeededPrng, silentLogger, type SessionId } from "../../../src/util/index.js";
import { WatchRegistry } from "../../../src/watch/index.js";
import { treeText } from "./helpers.js";

const KINDS = ["create", "createEph", "createSeq", "delete", "setData", "setACL", "multi", "multiFail", "close", "newSession", "snapshot"] as const;

interface Op {
  readonly kind: (typeof KINDS)[number];
  readonly client: number;
  readonly a: number;
  readonly b: number;
  /** Event-loop turns to let pass after submitting. */
  readonly pause: number;
}

interface World {
  readonly tree: DataTree;
  readonly sessions: SessionTable;
  readonly pipeline: Pipeline;
  readonly storage: Storage;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom(...KINDS),
  client: fc.nat(3),
  a: fc.nat(4),
  b: fc.nat(2),
  pause: fc.oneof(fc.constant(0), fc.constant(0), fc.nat(4)),
});

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const SECRET = Buffer.alloc(32, 7);
const OTHER_ACL: ACL[] = [{ perms: Perms.Read | Perms.Write | Perms.Admin | Perms.Create | Perms.Delete, id: { scheme: "world", id: "anyone" } }];

/** Opens storage (recovery) and wires a pipeline as StandaloneServer does; undefined if the disk died. */
async function openWorld(disk: FakeDisk, snapCount: number, seed: number, recorded: TxnEntry[], preallocBytes: number): Promise<World | undefined> {
  const tree = new DataTree();
  const opened = await Promise.race([
    Storage.open(
      {
        disk,
        dataDir: "/d",
        dataLogDir: "/l",
        snapCount,
        forceSync: true,
        preallocBytes,
        prng: new SeededPrng(seed),
        log: silentLogger,
        nowMs: () => 1_700_000_000_000,
        randomBytes: () => SECRET,
        snapshotSliceBytes: 90,
      },
      tree,
    ),
    disk.whenCrashed.then(() => undefined),
  ]);
  if (opened === undefined) return undefined;
  const storage = opened;
  const clock = new ManualClock(); // same start every time: session ids rely on the floor
  const sessions = new SessionTable({ tickMs: 100, passwordFor: () => SECRET.subarray(0, 16) });
  for (const [id, timeoutMs] of storage.recovered.sessions) sessions.add(id, timeoutMs, clock.monotonicMs());
  const pipeline = new Pipeline({
    tree,
    sessions,
    watches: new WatchRegistry(),
    log: {
      append: (e) => {
        recorded.push(e);
        return storage.append(e);
      },
    },
    clock,
    serverId: 1n,
    extendedTypesEnabled: false,
    outstandingMax: 1000,
    sessionIdFloor: storage.highestSessionId,
  });
  pipeline.subscribe((e, _r, effects) => storage.applied(e, effects));
  storage.setSessionSource(() => sessions.all());
  return { tree, sessions, pipeline, storage };
}

function fakeConn(sessionId: SessionId): Conn {
  return {
    sessionId,
    authIds: [],
    watchId: sessionId,
    deliver: () => {},
    reply: () => {},
    close: () => {},
    setBackpressure: () => {},
  };
}

function requestFor(op: Op, xid: number): WriteReq {
  const parent = `/p${op.b}`;
  const child = `${parent}/c${op.a}`;
  const data = Buffer.from(`x${xid}`);
  const create = (path: string, flags: number): WriteReq => ({ kind: "create", opCode: OpCode.create, path, data, acl: OPEN_ACL_UNSAFE, flags, ttl: -1n });
  switch (op.kind) {
    case "create":
      return create(op.a === 0 ? parent : child, CreateMode.Persistent);
    case "createEph":
      return create(child, CreateMode.Ephemeral);
    case "createSeq":
      return create(`${parent}/s-`, op.a % 2 === 0 ? CreateMode.PersistentSequential : CreateMode.EphemeralSequential);
    case "delete":
      return { kind: "delete", path: op.a === 0 ? parent : child, version: -1 };
    case "setData":
      return { kind: "setData", path: op.a === 0 ? parent : child, data, version: -1 };
    case "setACL":
      return { kind: "setACL", path: parent, acl: op.a % 2 === 0 ? OTHER_ACL : OPEN_ACL_UNSAFE, version: -1 };
    case "multi":
      return {
        kind: "multi",
        ops: [
          { kind: "create", opCode: OpCode.create, path: parent, data, acl: OPEN_ACL_UNSAFE, flags: 0, ttl: -1n },
          { kind: "create", opCode: OpCode.create, path: child, data, acl: OPEN_ACL_UNSAFE, flags: 0, ttl: -1n },
          { kind: "setData", path: parent, data, version: -1 },
        ],
      };
    case "multiFail":
      return {
        kind: "multi",
        ops: [
          { kind: "setData", path: parent, data, version: -1 },
          { kind: "delete", path: "/nope", version: -1 },
        ],
      };
    default:
      return { kind: "closeSession" };
  }
}

interface Clients {
  readonly queues: (SessionQueue | undefined)[];
}

async function newSession(world: World, clients: Clients, slot: number): Promise<void> {
  world.pipeline.createSession(1000 + slot, (id) => {
    clients.queues[slot] = world.pipeline.attach(fakeConn(id));
  });
  await turn();
}

/** Runs ops until they are done or the disk dies. */
async function drive(world: World, disk: FakeDisk, ops: readonly Op[], clients: Clients): Promise<void> {
  let xid = 1;
  for (const op of ops) {
    if (disk.crashed) return;
    const q = clients.queues[op.client];
    if (op.kind === "newSession" || q === undefined || q.closed) {
      await newSession(world, clients, op.client);
    } else if (op.kind === "snapshot") {
      void world.storage.snapshotNow();
    } else {
      const req = requestFor(op, xid);
      const opCode = req.kind === "closeSession" ? OpCode.closeSession : req.kind === "multi" ? OpCode.multi : OpCode.create;
      world.pipeline.submit(q, xid++, opCode, req as Request);
    }
    for (let i = 0; i < op.pause; i++) await turn();
  }
  // Let what is in flight finish (or the disk die), then pull the plug.
  for (let i = 0; i < 30 && !disk.crashed; i++) await turn();
}

function referenceOf(entries: readonly TxnEntry[]): { tree: DataTree; sessions: Map<bigint, number>; highestSessionId: bigint } {
  const tree = new DataTree();
  const sessions = new Map<bigint, number>();
  let highestSessionId = 0n;
  for (const e of entries) {
    tree.apply(e, []);
    if (e.txn.type === "createSession") {
      sessions.set(e.hdr.sessionId, e.txn.timeoutMs);
      if (e.hdr.sessionId > highestSessionId) highestSessionId = e.hdr.sessionId;
    } else if (e.txn.type === "closeSession") sessions.delete(e.hdr.sessionId);
  }
  return { tree, sessions, highestSessionId };
}

/** What the runs exercised: the property is only as good as this coverage. */
const seen = { recoveries: 0, fromSnapshot: 0, fromFuzzySnapshot: 0, truncatedTail: 0, preallocated: 0, replayedClosesInWindow: 0, crashedInRecovery: 0 };

/** Checks a freshly recovered world against the log; cuts `recorded` to the surviving history. */
function verify(world: World, recorded: TxnEntry[], appliedBeforeCrash: bigint): void {
  const r = world.tree.lastProcessedZxid;
  const rec = world.storage.recovered;
  seen.recoveries++;
  if (rec.snapshot !== undefined) seen.fromSnapshot++;
  if (rec.snapshotZxids !== undefined && rec.snapshotZxids.to > rec.snapshotZxids.from) {
    seen.fromFuzzySnapshot++;
    const { from, to } = rec.snapshotZxids;
    if (recorded.some((e) => e.hdr.zxid > from && e.hdr.zxid <= to && e.txn.type === "closeSession")) seen.replayedClosesInWindow++;
  }
  if (rec.truncated !== undefined) seen.truncatedTail++;
  expect(r).toBeGreaterThanOrEqual(appliedBeforeCrash);
  const history = recorded.filter((e) => e.hdr.zxid <= r);
  expect(history.map((e) => Number(e.hdr.zxid))).toEqual(history.map((_, i) => i + 1));
  expect(history.length).toBe(Number(r));
  const ref = referenceOf(history);
  expect(treeText(world.tree)).toBe(treeText(ref.tree));
  expect(new Map([...world.storage.recovered.sessions].map(([k, v]) => [k as bigint, v]))).toEqual(ref.sessions);
  expect(world.storage.highestSessionId).toBeGreaterThanOrEqual(ref.highestSessionId);
  recorded.length = history.length;
}

describe("crash recovery (property)", () => {
  it("recovers exactly an applied prefix of the log after crashes at random points", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 4, max: 16 }),
        fc.array(fc.array(opArb, { minLength: 5, maxLength: 40 }), { minLength: 2, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 3, maxLength: 3 }),
        async (seed, snapCount, rounds, crashPoints) => {
          const prng = new SeededPrng(seed);
          // Half the runs preallocate the log in small blocks, so crashes land around zero tails.
          const prealloc = seed % 2 === 0 ? 0 : 64 + (seed % 200);
          const diskOpts = (i: number) => ({ prng: new SeededPrng(seed + i), maxDelayTurns: 2, syncTurns: 1, crashAtOp: crashPoints[i % 3]! });
          let disk = new FakeDisk(diskOpts(0));
          const recorded: TxnEntry[] = [];
          let applied = 0n;
          for (let round = 0; round <= rounds.length; round++) {
            const last = round === rounds.length;
            const world = await openWorld(disk, snapCount, seed + round, recorded, prealloc);
            if (world === undefined) seen.crashedInRecovery++;
            else {
              verify(world, recorded, applied);
              if (prealloc > 0) seen.preallocated++;
              if (last) return;
              const clients: Clients = { queues: [] };
              // Sessions that survived re-attach, as reconnecting clients would.
              let slot = 0;
              for (const s of world.sessions.all()) if (slot < 4) clients.queues[slot++] = world.pipeline.attach(fakeConn(s.id));
              const before = recorded.length;
              // Ids of sessions that became durable; one lost in a crash was never handed out.
              let sessionIdsSeen = 0n;
              for (const e of recorded) if (e.txn.type === "createSession" && e.hdr.sessionId > sessionIdsSeen) sessionIdsSeen = e.hdr.sessionId;
              await drive(world, disk, rounds[round]!, clients);
              disk.crash();
              applied = world.tree.lastProcessedZxid > applied ? world.tree.lastProcessedZxid : applied;
              // Session ids issued after a restart are above every earlier one.
              for (const e of recorded.slice(before)) {
                if (e.txn.type !== "createSession") continue;
                expect(e.hdr.sessionId).toBeGreaterThan(sessionIdsSeen);
                sessionIdsSeen = e.hdr.sessionId;
              }
            }
            const next = last ? { prng: new SeededPrng(seed) } : diskOpts(round + 1);
            disk = disk.afterCrash(prng, last ? next : next);
            if (last) {
              const final = await openWorld(disk, snapCount, seed, recorded, prealloc);
              verify(final!, recorded, applied);
              return;
            }
          }
        },
      ),
      { numRuns: 300, seed: 0x5eed, endOnFailure: true },
    );
    if (process.env["STORAGE_PROPERTY_STATS"] !== undefined) console.log(seen);
    expect(seen.fromFuzzySnapshot).toBeGreaterThan(50);
    expect(seen.replayedClosesInWindow).toBeGreaterThan(5);
    // Torn tails are rare (5-6 of 843 recoveries with this seed, moving with any change to
    // the order of disk operations): the floor only says the case is reached at all.
    expect(seen.truncatedTail).toBeGreaterThan(2);
    expect(seen.preallocated).toBeGreaterThan(200);
    expect(seen.crashedInRecovery).toBeGreaterThan(5);
  }, 120_000);
});
