/**
 * Durability with real processes (issue 4): a Corral server child process
 * (`node dist/src/cli/main.js server start-foreground CONF`) under concurrent, pipelined
 * write load from several clients is killed with SIGKILL at seeded random moments; after
 * every restart each acknowledged write must be there with its data and version, and the
 * sequential-node counter must not go backwards. Then: a session's ephemeral survives a
 * SIGKILL and restart when the client re-attaches within its timeout, and is deleted by
 * expiry when it does not.
 *
 * "Random moments" are counted in acknowledgements (a seeded target per round), so the
 * test never sleeps. Only 127.0.0.1 is used. `npm test` builds dist/ first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateMode, Err, EventType } from "../../src/jute/index.js";
import { SeededPrng } from "../../src/util/index.js";
import { freePort, LOOPBACK } from "../helpers/net.js";
import { RawClient, SessionExpiredError } from "./crash-client.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/src/cli/main.js");
const ROUNDS = 22;
const WRITERS = 4;
const IN_FLIGHT = 16;
const KEYS = 4;

interface Server {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly output: string[];
}

/** Server processes still running: a failing test must not leave one behind. */
const live = new Set<ChildProcess>();

/** Starts the server and resolves once it logged that it listens (or rejects if it exits). */
async function startServer(conf: string): Promise<Server> {
  const child = spawn(process.execPath, [MAIN, "server", "start-foreground", conf], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CORRAL_LOG_LEVEL: "info" },
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        if (line.includes("corral standalone server started")) resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    void exited.then((code) => reject(new Error(`server exited (${code}) before it started:\n${output.join("\n")}`)));
  });
  return { child, exited, output };
}

async function kill(server: Server): Promise<void> {
  server.child.kill("SIGKILL");
  await server.exited;
}

async function writeConf(dir: string, port: number, extra: string): Promise<string> {
  const conf = join(dir, "zoo.cfg");
  await writeFile(
    conf,
    [`dataDir=${join(dir, "data")}`, `clientPort=${port}`, `clientPortAddress=${LOOPBACK}`, "maxClientCnxns=0", "admin.enableServer=false", extra].join("\n") + "\n",
  );
  return conf;
}

/** What the clients were told, and what they tried. */
interface Model {
  /** Create-once nodes whose create was acknowledged: path -> data. */
  readonly created: Map<string, string>;
  /** Keys written with setData: acknowledged version and data, and the write in flight. */
  readonly keys: Map<string, { version: number; data: string; pending: string | undefined }>;
  /** The highest sequence number handed out in an acknowledged sequential create. */
  seqMax: number;
  acks: number;
  /** setData writes in flight at a kill that turned out durable (allowed, and counted). */
  inFlightLanded: number;
}

function seqOf(path: string): number {
  return Number(path.slice(-10));
}

/** A request's reply, or undefined once the connection died (the server was killed). */
function orDead<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch(() => undefined);
}

/** One writer: keeps IN_FLIGHT requests going until the connection dies. */
async function writer(client: RawClient, w: number, round: number, model: Model, prng: SeededPrng, onAck: () => void): Promise<void> {
  let n = 0;
  const busyKeys = new Set<string>();
  const one = async (): Promise<void> => {
    for (;;) {
      const pick = prng.nextInt(10);
      const id = `${round}-${w}-${n++}`;
      if (pick < 4) {
        const path = `/crash/w${w}/c${id}`;
        const r = await orDead(client.create(path, Buffer.from(`data ${id}`)));
        if (r === undefined) return;
        expect(r.err).toBe(Err.Ok);
        model.created.set(path, `data ${id}`);
      } else if (pick < 8) {
        const key = `/crash/w${w}/k${prng.nextInt(KEYS)}`;
        if (busyKeys.has(key)) continue;
        busyKeys.add(key);
        const k = model.keys.get(key)!;
        k.pending = `value ${id}`;
        const r = await orDead(client.setData(key, Buffer.from(k.pending)));
        if (r === undefined) return;
        expect(r.err).toBe(Err.Ok);
        expect(r.stat!.version).toBe(k.version + 1);
        model.keys.set(key, { version: r.stat!.version, data: k.pending, pending: undefined });
        busyKeys.delete(key);
      } else {
        const r = await orDead(client.create("/crash/seq/s-", Buffer.from(id), CreateMode.PersistentSequential));
        if (r === undefined) return;
        expect(r.err).toBe(Err.Ok);
        model.seqMax = Math.max(model.seqMax, seqOf(r.path));
      }
      model.acks++;
      onAck();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, () => one()));
}

/** Every acknowledged write is there with the right data and version; counters moved on. */
async function verify(client: RawClient, model: Model): Promise<void> {
  const checks: Promise<void>[] = [];
  for (const [path, data] of model.created) {
    checks.push(
      client.getData(path).then((r) => {
        expect(r.err, path).toBe(Err.Ok);
        expect(r.data?.toString()).toBe(data);
        expect(r.stat!.version).toBe(0);
      }),
    );
  }
  for (const [path, k] of model.keys) {
    checks.push(
      client.getData(path).then((r) => {
        expect(r.err, path).toBe(Err.Ok);
        // The acknowledged write, or the one in flight when the server died (never older).
        if (r.stat!.version === k.version) expect(r.data?.toString(), path).toBe(k.data);
        else {
          model.inFlightLanded++;
          expect(r.stat!.version, path).toBe(k.version + 1);
          expect(r.data?.toString(), path).toBe(k.pending);
          k.version++;
          k.data = k.pending!;
        }
        k.pending = undefined;
      }),
    );
  }
  await Promise.all(checks);
  const next = await client.create("/crash/seq/s-", Buffer.from("probe"), CreateMode.PersistentSequential);
  expect(next.err).toBe(Err.Ok);
  expect(seqOf(next.path)).toBeGreaterThan(model.seqMax);
  model.seqMax = seqOf(next.path);
}

describe.skipIf(!existsSync(MAIN))("crash recovery with a real server process", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "corral-crash-"));
  });

  afterAll(async () => {
    for (const child of live) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged write across ${ROUNDS} SIGKILLs under load`, async () => {
    const port = await freePort();
    const conf = await writeConf(dir, port, "tickTime=200\nsnapCount=100\nautopurge.snapRetainCount=3\nautopurge.purgeInterval=0");
    const prng = new SeededPrng(20261122);
    const model: Model = { created: new Map(), keys: new Map(), seqMax: -1, acks: 0, inFlightLanded: 0 };
    const logLines: string[] = [];
    let server = await startServer(conf);
    const setup = await RawClient.connect(LOOPBACK, port);
    for (const p of ["/crash", "/crash/seq", ...Array.from({ length: WRITERS }, (_, w) => `/crash/w${w}`)]) {
      expect((await setup.create(p, Buffer.alloc(0))).err).toBe(Err.Ok);
    }
    for (let w = 0; w < WRITERS; w++) {
      for (let k = 0; k < KEYS; k++) {
        const key = `/crash/w${w}/k${k}`;
        expect((await setup.create(key, Buffer.from("init"))).err).toBe(Err.Ok);
        model.keys.set(key, { version: 0, data: "init", pending: undefined });
      }
    }
    await setup.close();
    const restarts: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const target = model.acks + 10 + prng.nextInt(400);
      const clients = await Promise.all(Array.from({ length: WRITERS }, () => RawClient.connect(LOOPBACK, port)));
      let killed: Promise<void> | undefined;
      const onAck = (): void => {
        if (model.acks >= target && killed === undefined) killed = kill(server);
      };
      const writers = clients.map((c, w) => writer(c, w, round, model, prng, onAck));
      await Promise.all(writers);
      await killed;
      const t0 = performance.now();
      logLines.push(...server.output);
      server = await startServer(conf);
      restarts.push(performance.now() - t0);
      const checker = await RawClient.connect(LOOPBACK, port);
      await verify(checker, model);
      await checker.close();
    }
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(model.acks).toBeGreaterThan(ROUNDS * 10);
    // Each restart recovered and verified; the log line says what was replayed.
    expect(server.output.some((l) => l.includes('"msg":"recovered"'))).toBe(true);
    expect(Math.max(...restarts)).toBeLessThan(10_000);
    logLines.push(...server.output);
    if (process.env["CRASH_TEST_STATS"] !== undefined) {
      const count = (msg: string): number => logLines.filter((l) => l.includes(msg)).length;
      console.log({
        acks: model.acks,
        inFlightLanded: model.inFlightLanded,
        snapshots: count("snapshot written"),
        truncatedTails: count("truncating a torn record"),
        restartMsMax: Math.round(Math.max(...restarts)),
      });
    }
  }, 90_000);

  it("an ephemeral survives a restart if its session re-attaches in time, and expires otherwise", async () => {
    const port = await freePort();
    const sub = await mkdtemp(join(dir, "eph-"));
    // tickTime 50: sessions of 500..1000 ms.
    const conf = await writeConf(sub, port, "tickTime=50\nminSessionTimeout=500\nmaxSessionTimeout=1000");
    let server = await startServer(conf);
    const keeper = await RawClient.connect(LOOPBACK, port, { timeoutMs: 1000 });
    const leaver = await RawClient.connect(LOOPBACK, port, { timeoutMs: 1000 });
    expect((await keeper.create("/kept", Buffer.from("k"), CreateMode.Ephemeral)).err).toBe(Err.Ok);
    const made = await leaver.create("/left", Buffer.from("l"), CreateMode.Ephemeral);
    expect(made.err).toBe(Err.Ok);
    await kill(server);
    keeper.destroy();
    leaver.destroy();
    server = await startServer(conf);
    const restartedAt = performance.now();
    const watcher = await RawClient.connect(LOOPBACK, port);
    // Right after the restart both ephemerals are back, owned by their sessions.
    const kept = await watcher.getData("/kept");
    expect(kept.stat?.ephemeralOwner).toBe(keeper.sessionId);
    expect((await watcher.getData("/left", true)).stat?.ephemeralOwner).toBe(leaver.sessionId);
    // The keeper re-attaches with its id and password (and the zxid it had seen).
    const back = await RawClient.connect(LOOPBACK, port, {
      timeoutMs: 1000,
      sessionId: keeper.sessionId,
      passwd: keeper.passwd,
      lastZxidSeen: made.zxid,
    });
    expect(back.sessionId).toBe(keeper.sessionId);
    // The leaver's session expires a full timeout after the restart, taking /left along.
    await watcher.nextEvent(EventType.NodeDeleted, "/left");
    expect(performance.now() - restartedAt).toBeGreaterThan(1000 - 2 * 50);
    expect(await watcher.exists("/left")).toBe(Err.NoNode);
    // The keeper, attached all along, still owns /kept and can use its session.
    expect((await back.getData("/kept")).stat?.ephemeralOwner).toBe(keeper.sessionId);
    expect((await back.setData("/kept", Buffer.from("still here"))).err).toBe(Err.Ok);
    // The expired session cannot come back.
    await expect(RawClient.connect(LOOPBACK, port, { sessionId: leaver.sessionId, passwd: leaver.passwd })).rejects.toBeInstanceOf(
      SessionExpiredError,
    );
    await back.close();
    expect(await watcher.exists("/kept")).toBe(Err.NoNode);
    await watcher.close();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 30_000);
});
