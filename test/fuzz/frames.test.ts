// Frame fuzzing of the client port (ZOOKEEPER.md §1.1 framing, §1.4 handshake): random
// bytes, random length-prefixed frames and mutated valid requests of every op, sent on
// fresh connections before and after a valid handshake, must never crash the server, and
// a connection given bad input must be closed or answered with well-formed error replies
// -- never left hanging on bytes that form whole frames. Meanwhile a healthy session keeps
// doing create/getData/setData round trips, which must all succeed with correct data.
//
// Oracle per case (see judgeStream in wire.ts): a length prefix out of range (or a
// four-letter word) obliges the server to close; a stream of whole frames obliges it to
// answer a probe sent after them, or to close; an incomplete frame is completed with zero
// padding when that is small, else the test closes the connection itself.
//
// Seeds are fixed; a failure prints `seed=N` and the command that replays it. Every seed
// that ever failed goes into REGRESSION_SEEDS so it is re-run on every run.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Err,
  JuteReader,
  OpCode,
  WatcherEventSchema,
  Xid,
  decodeRecord,
  errName,
  readConnectResponse,
  readReplyHeader,
  writeConnectRequest,
} from "../../src/jute/index.js";
import { FOUR_LETTER_WORDS } from "../../src/net/index.js";
import { startStandaloneForTest, type TestServer } from "../../src/server/index.js";
import { fourLetterWord } from "../helpers/net.js";
import { connect as connectNzk, within, type ZkSession } from "../helpers/nzk.js";
import {
  PROBE_XID,
  encodeSpec,
  interestingInt,
  mutate,
  mutation,
  requestSpec,
  unknownOp,
  type Mutation,
  type RequestSpec,
} from "./requests.js";
import {
  RawClient,
  RecordingWriter,
  encodeRequest,
  existsRootFrame,
  frameOf,
  judgeStream,
  type StreamVerdict,
} from "./wire.js";

const CLOSE_WAIT_MS = 2_000;
const REPLY_WAIT_MS = 2_000;
/** An incomplete frame missing at most this many bytes is completed with zeros. */
const PAD_BYTES_MAX = 64 * 1024;
/** Per property, shrinking included; a passing run takes a small fraction of it. */
const PROPERTY_TIME_LIMIT_MS = 15_000;

const SEEDS = {
  randomBeforeHandshake: 0x0c0a_1001,
  randomAfterHandshake: 0x0c0a_1002,
  mutatedRequests: 0x0c0a_1003,
  unknownOps: 0x0c0a_1004,
} as const;
type PropertyName = keyof typeof SEEDS;
/** Seeds that once failed, re-run every time (STYLE.md: keep every failing seed). */
const REGRESSION_SEEDS: Record<PropertyName, readonly number[]> = {
  randomBeforeHandshake: [],
  randomAfterHandshake: [],
  mutatedRequests: [],
  unknownOps: [],
};

const TEST_NAMES = {
  randomBeforeHandshake: "random bytes and frames before the handshake never crash the server and end in a close or an answer",
  randomAfterHandshake: "random bytes and frames after a handshake never crash the server and end in a close or an answer",
  mutatedRequests: "mutated requests of every op never crash the server and end in a close or well-formed replies",
  unknownOps: "an unknown op code is answered with Unimplemented and the connection stays usable",
} as const satisfies Record<PropertyName, string>;

function seedsFor(name: PropertyName): number[] {
  const fromEnv = process.env["FUZZ_SEED"];
  if (fromEnv !== undefined && fromEnv !== "") return [Number(fromEnv)];
  return [SEEDS[name], ...REGRESSION_SEEDS[name]];
}

async function checkProperty<T>(name: PropertyName, prop: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  for (const seed of seedsFor(name)) {
    try {
      await fc.assert(prop, {
        seed,
        numRuns,
        plugins: [fc.interruptAfterTimeLimit(PROPERTY_TIME_LIMIT_MS, { failOnInterrupt: true })],
      });
    } catch (e) {
      const replay = `FUZZ_SEED=${seed} npx vitest run test/fuzz -t "${TEST_NAMES[name]}"`;
      throw new Error(`seed=${seed} -- replay: ${replay}\n${(e as Error).message}`, { cause: e });
    }
  }
}

// ---- process faults: an uncaught exception or unhandled rejection is a server crash ----

const faults: string[] = [];
let currentCase = "setup";

function faultRecorder(kind: string): (e: unknown) => void {
  return (e) => faults.push(`${kind} during ${currentCase}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}
const onUncaught = faultRecorder("uncaughtException");
const onUnhandled = faultRecorder("unhandledRejection");

// ---- the healthy session ----------------------------------------------------------

const HEALTHY_ROOT = "/healthy";
const HEALTHY_NODES = 12;
const ROUND_TRIP_MS = 5_000;

/** create/getData/setData round trips in a loop, checking every answer against a model. */
class HealthySession {
  readonly zk: ZkSession;
  readonly model = new Map<string, Buffer>();
  readonly failures: string[] = [];
  rounds = 0;
  #stopping = false;
  #done: Promise<void> | undefined;

  constructor(zk: ZkSession) {
    this.zk = zk;
  }

  start(): void {
    this.#done = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#done;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      await this.#round(this.rounds++);
      // Yield a macrotask turn so the fuzzing connections share the event loop fairly.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #round(i: number): Promise<void> {
    const path = `${HEALTHY_ROOT}/n-${i % HEALTHY_NODES}`;
    const data = Buffer.from(`round ${i} of ${path}`);
    const during = currentCase;
    try {
      if (this.model.has(path)) await within(this.zk.setData(path, data), `setData ${path}`, ROUND_TRIP_MS);
      else await within(this.zk.create(path, { data }), `create ${path}`, ROUND_TRIP_MS);
      this.model.set(path, data);
      const got = await within(this.zk.getData(path), `getData ${path}`, ROUND_TRIP_MS);
      if (got.data === undefined || !got.data.equals(data)) {
        this.failures.push(`round ${i} (during ${during}): ${path} holds ${String(got.data)}, expected ${data.toString()}`);
      }
    } catch (e) {
      this.failures.push(`round ${i} (during ${during}): ${(e as Error).message}`);
    }
  }
}

// ---- the per-connection oracle ----------------------------------------------------

let ts: TestServer;
let frameBytesMax: number;
let healthy: HealthySession;

async function writeInChunks(c: RawClient, stream: Buffer, splits: readonly number[]): Promise<void> {
  const cuts = [...new Set(splits.map((s) => s % (stream.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut <= from) continue;
    await c.write(stream.subarray(from, cut));
    from = cut;
  }
}

function describeVerdict(v: StreamVerdict): string {
  switch (v.kind) {
    case "fourLetterWord":
      return "a four-letter word";
    case "badLength":
      return `length prefix ${v.length}`;
    case "complete":
      return `${v.frames} whole frame(s)`;
    case "incomplete":
      return `an incomplete frame missing ${v.missing} bytes`;
  }
}

/**
 * After the server ended its side of `c`, its socket must close too: a half-closed socket
 * would stay open (and count against maxClientCnxns) for as long as the client likes.
 * Our side stays open (allowHalfOpen), so only the server can make this true.
 */
async function serverClosed(c: RawClient, ms: number): Promise<boolean> {
  const conn = [...ts.server.listener.connections].find((x) => x.remotePort === c.socket.localPort);
  if (conn === undefined || conn.socket.destroyed) return true;
  return await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(conn.socket.destroyed), ms);
    conn.socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Every frame the server sent must be a well-formed reply (or the ConnectResponse first). */
function checkReplies(c: RawClient, fresh: boolean): void {
  if (c.unframed !== undefined) throw new Error(`server sent bytes that are not frames: ${c.unframed}`);
  c.frames.forEach((f, i) => {
    const r = new JuteReader(f);
    if (i === 0) {
      const resp = readConnectResponse(r);
      if (r.remaining() !== 0) throw new Error(`ConnectResponse has ${r.remaining()} trailing bytes`);
      if (!fresh && resp.sessionId === 0n) throw new Error("handshake was refused");
      return;
    }
    if (f.length < 16) throw new Error(`reply frame ${i} is ${f.length} bytes, shorter than a ReplyHeader`);
    const hdr = readReplyHeader(r);
    // A client may pick xid -1 itself; only a notification carries zxid -1.
    if (hdr.xid === Xid.notification && hdr.zxid === -1n) {
      decodeRecord(r, WatcherEventSchema);
      if (r.remaining() !== 0) throw new Error(`notification ${i} has ${r.remaining()} trailing bytes`);
      return;
    }
    if (errName(hdr.err) === undefined) throw new Error(`reply ${i} (xid ${hdr.xid}) carries unknown err ${hdr.err}`);
    if (hdr.err !== Err.Ok && r.remaining() !== 0) {
      throw new Error(`error reply ${i} (xid ${hdr.xid}, err ${hdr.err}) has a ${r.remaining()}-byte body`);
    }
  });
}

/**
 * Sends `stream` (split at `splits`) and checks what the server must do with it.
 * `fresh`: nothing was sent before, so the first bytes may be a four-letter word and the
 * first frame is read as a ConnectRequest.
 */
async function exercise(c: RawClient, stream: Buffer, splits: readonly number[], fresh: boolean): Promise<void> {
  const words = fresh ? FOUR_LETTER_WORDS : undefined;
  await writeInChunks(c, stream, splits);
  let sent = stream;
  let verdict = judgeStream(sent, frameBytesMax, words);
  // Completing a prefix can reveal a body still to come: at most a prefix and a body.
  for (let i = 0; i < 2 && verdict.kind === "incomplete" && verdict.missing <= PAD_BYTES_MAX; i++) {
    const pad = Buffer.alloc(verdict.missing);
    await c.write(pad);
    sent = Buffer.concat([sent, pad]);
    verdict = judgeStream(sent, frameBytesMax, words);
  }
  switch (verdict.kind) {
    case "fourLetterWord":
    case "badLength":
      if (!(await c.until(() => c.ended, CLOSE_WAIT_MS))) {
        throw new Error(`server kept the connection open ${CLOSE_WAIT_MS} ms after ${describeVerdict(verdict)}`);
      }
      break;
    case "complete": {
      const from = fresh ? 0 : 1;
      await c.write(existsRootFrame(PROBE_XID));
      const settled = await c.until(() => c.ended || c.replyIndex(PROBE_XID, from) >= 0, REPLY_WAIT_MS);
      if (!settled) {
        throw new Error(`after ${describeVerdict(verdict)} the server neither answered a probe nor closed in ${REPLY_WAIT_MS} ms`);
      }
      break;
    }
    case "incomplete":
      // A large frame still in flight: waiting for it is right; the test hangs up.
      break;
  }
  if (c.ended && !(await serverClosed(c, CLOSE_WAIT_MS))) {
    throw new Error(`after ${describeVerdict(verdict)} the server ended its side but left its socket open`);
  }
  if (verdict.kind !== "fourLetterWord") checkReplies(c, fresh);
}

/** One fuzz case on a fresh connection; fails on a process fault raised meanwhile. */
async function runCase(label: string, stream: Buffer, splits: readonly number[], handshakeFirst: boolean): Promise<void> {
  currentCase = label;
  const faultsBefore = faults.length;
  const c = await RawClient.open(ts.port);
  try {
    if (handshakeFirst) await c.handshake(REPLY_WAIT_MS);
    await exercise(c, stream, splits, !handshakeFirst);
  } finally {
    c.destroy();
  }
  if (faults.length > faultsBefore) throw new Error(faults.slice(faultsBefore).join("\n"));
}

// ---- generators for raw streams ---------------------------------------------------

const randomBytes = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b));

/** Frames whose prefix is the body length, or an edge value. */
const randomFrames = fc
  .array(fc.record({ length: fc.option(interestingInt, { nil: undefined }), body: fc.uint8Array({ maxLength: 64 }) }), {
    maxLength: 4,
  })
  .map((fs) =>
    Buffer.concat(
      fs.map((f) => {
        const b = frameOf(f.body);
        if (f.length !== undefined) b.writeInt32BE(f.length | 0, 0);
        return b;
      }),
    ),
  );

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

/** ConnectRequests with edge fields (reconnects to unknown sessions, zxids from the future), mutated. */
const connectRequest = fc
  .record({
    protocolVersion: fc.oneof(fc.constant(0), fc.integer()),
    lastZxidSeen: fc.oneof(fc.constant(0n), int64),
    timeOut: fc.oneof(fc.constant(30_000), fc.integer()),
    sessionId: fc.oneof(fc.constant(0n), int64),
    passwd: fc.uint8Array({ maxLength: 20 }),
    readOnly: fc.option(fc.boolean(), { nil: undefined }),
    mutations: fc.array(mutation, { maxLength: 2 }),
  })
  .map(({ mutations, ...c }) => {
    const w = new RecordingWriter(64);
    w.int(0);
    writeConnectRequest(w, { ...c, passwd: Buffer.from(c.passwd) });
    w.intAt(0, w.length - 4);
    return mutate({ bytes: w.toBuffer(), intOffsets: w.intOffsets.slice(1) }, mutations);
  });

const encodedRequests = fc.array(requestSpec, { maxLength: 2 }).map((specs) => Buffer.concat(specs.map((s) => encodeSpec(s).bytes)));

const splits = fc.array(fc.nat(), { maxLength: 4 });

// ---- the tests --------------------------------------------------------------------

describe("client port under malformed frames (fuzz)", () => {
  beforeAll(async () => {
    process.on("uncaughtException", onUncaught);
    process.on("unhandledRejection", onUnhandled);
    ts = await startStandaloneForTest({ host: "127.0.0.1" });
    frameBytesMax = ts.server.config.juteMaxBufferBytes;
    const zk = await connectNzk(ts.connectString, 30_000);
    await zk.create(HEALTHY_ROOT);
    await zk.create("/fuzz");
    healthy = new HealthySession(zk);
    healthy.start();
  });

  afterAll(async () => {
    await healthy?.stop();
    await healthy?.zk.close();
    await ts?.stop();
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUnhandled);
  });

  it(TEST_NAMES.randomBeforeHandshake, async () => {
    let n = 0;
    const stream = fc.oneof(
      randomBytes,
      randomFrames,
      fc.tuple(fc.constantFrom(...FOUR_LETTER_WORDS), randomBytes).map(([w, b]) => Buffer.concat([Buffer.from(w), b])),
      fc.tuple(connectRequest, encodedRequests).map(([c, r]) => Buffer.concat([c, r])),
      fc.tuple(connectRequest, randomFrames).map(([c, r]) => Buffer.concat([c, r])),
    );
    await checkProperty(
      "randomBeforeHandshake",
      fc.asyncProperty(stream, splits, (s, cuts) => runCase(`randomBeforeHandshake#${n++}`, s, cuts, false)),
      100,
    );
  });

  it(TEST_NAMES.randomAfterHandshake, async () => {
    let n = 0;
    await checkProperty(
      "randomAfterHandshake",
      fc.asyncProperty(fc.oneof(randomBytes, randomFrames), splits, (s, cuts) =>
        runCase(`randomAfterHandshake#${n++}`, s, cuts, true),
      ),
      100,
    );
  });

  it(TEST_NAMES.mutatedRequests, async () => {
    let n = 0;
    // A quarter of the frames go unmutated, so later frames meet a session in varied states.
    const mutations = fc.oneof(
      { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
      { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
    );
    const mutated = fc.array(fc.record({ spec: requestSpec, mutations }), {
      minLength: 1,
      maxLength: 4,
    });
    const toStream = (reqs: { spec: RequestSpec; mutations: Mutation[] }[]): Buffer =>
      Buffer.concat(reqs.map((r) => mutate(encodeSpec(r.spec), r.mutations)));
    await checkProperty(
      "mutatedRequests",
      fc.asyncProperty(mutated, splits, (reqs, cuts) => runCase(`mutatedRequests#${n++}`, toStream(reqs), cuts, true)),
      260,
    );
  });

  it("a length prefix above jute.maxbuffer, or negative, closes the connection before any body is sent", async () => {
    currentCase = "oversized length prefix";
    const lengths = [frameBytesMax + 1, frameBytesMax + 2, 2 * frameBytesMax, 0x7fff_ffff, -1, -0x8000_0000];
    for (const length of lengths) {
      for (const afterHandshake of [false, true]) {
        const c = await RawClient.open(ts.port);
        try {
          if (afterHandshake) await c.handshake(REPLY_WAIT_MS);
          const prefix = Buffer.alloc(4);
          prefix.writeInt32BE(length, 0);
          await c.write(prefix);
          // Only the prefix has been sent: the server must hang up without waiting for a body.
          const ended = await c.until(() => c.ended, CLOSE_WAIT_MS);
          expect(ended, `length ${length} (after handshake: ${afterHandshake}) left the connection open`).toBe(true);
          expect(await serverClosed(c, CLOSE_WAIT_MS), `length ${length}: server socket still open`).toBe(true);
          expect(c.frames.length).toBe(afterHandshake ? 1 : 0);
        } finally {
          c.destroy();
        }
      }
    }
    // The limit itself is allowed: a frame of exactly jute.maxbuffer bytes is read and answered.
    const c = await RawClient.open(ts.port);
    try {
      await c.handshake(REPLY_WAIT_MS);
      const body = Buffer.alloc(frameBytesMax);
      body.writeInt32BE(77, 0);
      body.writeInt32BE(9_999, 4);
      await c.write(frameOf(body));
      expect(await c.until(() => c.ended || c.replyIndex(77) >= 0, REPLY_WAIT_MS)).toBe(true);
      expect(c.ended).toBe(false);
      expect(readReplyHeader(new JuteReader(c.frames[c.replyIndex(77)]!)).err).toBe(Err.Unimplemented);
    } finally {
      c.destroy();
    }
    expect(faults).toEqual([]);
  });

  it("a four-letter word is answered and the server closes its socket even if the client keeps its side open", async () => {
    for (const word of ["ruok", "srvr", "conf"]) {
      currentCase = `four-letter word ${word}`;
      const c = await RawClient.open(ts.port);
      try {
        await c.write(Buffer.from(word));
        expect(await c.until(() => c.ended, CLOSE_WAIT_MS), `${word}: no reply and FIN`).toBe(true);
        expect(await serverClosed(c, CLOSE_WAIT_MS), `${word}: server socket left half-open`).toBe(true);
        if (word === "ruok") expect(c.text()).toBe("imok");
        else expect(c.text().length).toBeGreaterThan(0);
      } finally {
        c.destroy();
      }
    }
    expect(faults).toEqual([]);
  });

  it(TEST_NAMES.unknownOps, async () => {
    currentCase = "unknown ops";
    const c = await RawClient.open(ts.port);
    let nextXid = 1;
    /** Sends one request and returns its reply header and body length; fails if the server closes. */
    const call = async (op: number, tail: Uint8Array): Promise<{ err: number; bodyBytes: number }> => {
      const xid = nextXid++;
      const from = c.frames.length;
      await c.write(encodeRequest(xid, op, (w) => w.raw(tail)).bytes);
      await c.until(() => c.ended || c.replyIndex(xid, from) >= 0, REPLY_WAIT_MS);
      const at = c.replyIndex(xid, from);
      if (at < 0) throw new Error(`no reply to op ${op} (xid ${xid}); connection ended: ${c.ended}`);
      const r = new JuteReader(c.frames[at]!);
      const { err } = readReplyHeader(r);
      return { err, bodyBytes: r.remaining() };
    };
    const existsRoot = existsRootFrame(0).subarray(12); // the body after prefix, xid and op
    try {
      await c.handshake(REPLY_WAIT_MS);
      await checkProperty(
        "unknownOps",
        fc.asyncProperty(unknownOp, fc.uint8Array({ maxLength: 16 }), async (op, tail) => {
          currentCase = `unknown op ${op}`;
          expect(await call(op, tail)).toEqual({ err: Err.Unimplemented, bodyBytes: 0 });
          // Still usable: exists("/") is answered with a Stat.
          expect(await call(OpCode.exists, existsRoot)).toEqual({ err: Err.Ok, bodyBytes: 68 });
          expect(c.ended).toBe(false);
        }),
        40,
      );
    } finally {
      c.destroy();
    }
    expect(faults).toEqual([]);
  });

  it("throughout, the healthy session's round trips succeed, its nodes stay intact, and the server still serves", async () => {
    currentCase = "final checks";
    await healthy.stop();
    expect(healthy.failures).toEqual([]);
    expect(healthy.rounds).toBeGreaterThan(HEALTHY_NODES);
    for (const [path, data] of healthy.model) {
      const got = await within(healthy.zk.getData(path), `getData ${path}`, ROUND_TRIP_MS);
      expect(got.data?.toString(), path).toBe(data.toString());
    }
    const { children } = await within(healthy.zk.getChildren(HEALTHY_ROOT), "getChildren", ROUND_TRIP_MS);
    expect(children.sort()).toEqual([...healthy.model.keys()].map((p) => p.slice(HEALTHY_ROOT.length + 1)).sort());

    const fresh = await RawClient.open(ts.port);
    try {
      await fresh.handshake(REPLY_WAIT_MS);
      await fresh.write(existsRootFrame(PROBE_XID));
      expect(await fresh.until(() => fresh.replyIndex(PROBE_XID) >= 0, REPLY_WAIT_MS)).toBe(true);
      expect(fresh.ended).toBe(false);
    } finally {
      fresh.destroy();
    }
    expect(await fourLetterWord(ts.host, ts.port, "ruok")).toBe("imok");
    expect(faults).toEqual([]);
  });
});
