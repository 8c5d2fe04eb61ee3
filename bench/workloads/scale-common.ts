// What the scale workloads share: the server's memory as it reports it (RSS from /proc,
// heap from its own `envi`), per-member CPU, a spy on every reply frame the driver's
// clients receive, a watch on the dataDirs' snapshots, bounded pipelines, and bounded
// polling. Nothing here sleeps where an answer can be awaited; every loop has a count or
// a deadline.

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { FrameError, FrameParser } from "../../src/jute/index.js";
import { fourLetterWord, serverMode } from "../servers/net.js";
import { sampleProcess } from "../servers/proc.js";
import type { ZooKeeperClient } from "../../src/client/index.js";
import type { ServerUnderTest } from "../servers/types.js";
import { CorrectnessViolation } from "../checks.js";
import type { CaseContext } from "./types.js";

/** ZooKeeper's default jute.maxbuffer (and Corral's): the largest frame a client should ever get. */
export const JUTE_MAXBUFFER = 0xfffff;
const MIB = 1024 * 1024;
const POLL_MS = 50;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Each member's client port (from the server, or its connect string). */
export function memberPorts(server: ServerUnderTest): number[] {
  return server.clientPorts !== undefined ? [...server.clientPorts] : server.connectString.split(",").map((hp) => Number(hp.slice(hp.lastIndexOf(":") + 1)));
}

/**
 * A member's heap in use as it says in `envi` (ZooKeeper: the JVM's totalMemory -
 * freeMemory; Corral: V8's total - used heap), in bytes, MiB resolution; null if unread.
 */
export async function heapUsedBytes(port: number): Promise<number | null> {
  const text = await fourLetterWord(port, "envi", 5_000).catch(() => "");
  const mb = (k: string): number | undefined => {
    const m = new RegExp(`^${k.replace(/\./g, "\\.")}=(\\d+)MB`, "m").exec(text);
    return m === null ? undefined : Number(m[1]);
  };
  const total = mb("os.memory.total");
  const free = mb("os.memory.free");
  return total === undefined || free === undefined ? null : (total - free) * MIB;
}

export interface MemberMemory {
  port: number;
  pid: number;
  mode: string | undefined;
  rssBytes: number | null;
  heapBytes: number | null;
}

/**
 * Every member's RSS and heap. The heap is the least of `reads` readings `gapMs` apart:
 * garbage not yet collected only adds, so the least is the closest to what is live.
 */
export async function memberMemory(server: ServerUnderTest, reads = 1, gapMs = 300): Promise<MemberMemory[]> {
  const ports = memberPorts(server);
  const pids = server.pids;
  return Promise.all(
    ports.map(async (port, i) => {
      let heap: number | null = null;
      for (let r = 0; r < reads; r++) {
        if (r > 0) await sleep(gapMs);
        const h = await heapUsedBytes(port);
        if (h !== null) heap = heap === null ? h : Math.min(heap, h);
      }
      const pid = pids[i] ?? pids[0]!;
      return { port, pid, mode: await serverMode(port), rssBytes: sampleProcess(pid)?.rssBytes ?? null, heapBytes: heap };
    }),
  );
}

export const sum = (xs: readonly (number | null)[]): number | null => (xs.some((x) => x === null) ? null : xs.reduce<number>((a, x) => a + x!, 0));

/** Polls `check` until it returns true, at most `timeoutMs`; false on time out or abort. */
export async function pollUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, signal: AbortSignal, intervalMs = POLL_MS): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!signal.aborted && performance.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return false;
}

/**
 * Runs `fn(i)` for i in [0, total) with at most `inFlight` running, until done, the
 * deadline passes, or `signal` fires. Stops starting new ones at the first failure when
 * `stopOnError`. Returns how many succeeded and the first error.
 */
export async function pipelined(
  total: number,
  inFlight: number,
  fn: (i: number) => Promise<void>,
  opts: { signal: AbortSignal; deadline: number; stopOnError?: boolean },
): Promise<{ done: number; failed: number; firstError: unknown; timedOut: boolean }> {
  let next = 0;
  let done = 0;
  let failed = 0;
  let firstError: unknown;
  let timedOut = false;
  const lane = async (): Promise<void> => {
    while (next < total && !opts.signal.aborted) {
      if (performance.now() > opts.deadline) {
        timedOut = true;
        return;
      }
      if (opts.stopOnError === true && failed > 0) return;
      const i = next++;
      try {
        await fn(i);
        done++;
      } catch (e) {
        if (e instanceof CorrectnessViolation) throw e;
        failed++;
        firstError ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, total)) }, lane));
  return { done, failed, firstError, timedOut };
}

export function errorText(e: unknown): string {
  if (e === undefined) return "";
  const code = (e as { code?: unknown }).code;
  return `${typeof code === "string" ? `${code}: ` : ""}${e instanceof Error ? e.message : String(e)}`;
}

/**
 * Every reply frame the driver's clients receive while installed: the largest, and the
 * ones refused for being over the client's limit (jute.maxbuffer + 1 KiB). One spy at a
 * time (cases run one after another).
 */
export class FrameSpy {
  maxFrameBytes = 0;
  /** Frames over jute.maxbuffer that the client took (between the limit and its 1 KiB slack). */
  overMaxbuffer = 0;
  /** Frames the client refused (FrameError): the connection was cut. */
  refused = 0;
  #restore: (() => void) | undefined;

  install(): this {
    const proto = FrameParser.prototype;
    const original = proto.push;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const spy = this;
    proto.push = function (this: FrameParser, chunk: Buffer): Buffer[] {
      let frames: Buffer[];
      try {
        frames = original.call(this, chunk);
      } catch (e) {
        if (e instanceof FrameError) spy.refused++;
        throw e;
      }
      for (const f of frames) {
        if (f.length > spy.maxFrameBytes) spy.maxFrameBytes = f.length;
        if (f.length > JUTE_MAXBUFFER) spy.overMaxbuffer++;
      }
      return frames;
    };
    this.#restore = () => {
      proto.push = original;
    };
    return this;
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }
}

interface SnapFile {
  firstSeen: number;
  lastChange: number;
  bytes: number;
  name: string;
}

/**
 * Watches the dataDirs' snapshot files (`snapshot.<zxid>`, and Corral's
 * `snapshot.<zxid>.tmp` before its rename) every 50 ms: a snapshot's write time is from
 * when its file first appears to when its size or name last changed, ±50 ms.
 */
export class SnapshotWatch {
  readonly #dirs: readonly string[];
  readonly #files = new Map<string, SnapFile>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(dataDirs: readonly string[]) {
    this.#dirs = dataDirs.map((d) => join(d, "version-2"));
  }

  async start(): Promise<this> {
    // Snapshots that exist already (the one a server writes at start) are not timed.
    await this.#poll(true);
    this.#timer = setInterval(() => void this.#poll(false), POLL_MS);
    this.#timer.unref();
    return this;
  }

  #poll(initial: boolean): Promise<void> {
    this.#polling ??= (async () => {
      const t = performance.now();
      for (const dir of this.#dirs) {
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const name of names.filter((n) => n.startsWith("snapshot."))) {
          const key = `${dir}/${name.replace(/\.tmp$/, "")}`;
          const bytes = await stat(join(dir, name)).then((s) => s.size).catch(() => -1);
          if (bytes < 0) continue;
          const f = this.#files.get(key);
          if (f === undefined) this.#files.set(key, { firstSeen: initial ? Number.NaN : t, lastChange: t, bytes, name });
          else if (f.bytes !== bytes || f.name !== name) Object.assign(f, { lastChange: t, bytes, name });
        }
      }
    })().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
    await this.#poll(false);
  }

  /** Snapshots first seen while watching, oldest first: bytes and write time (ms, ±50). */
  snapshots(): { bytes: number; ms: number }[] {
    return [...this.#files.values()]
      .filter((f) => Number.isFinite(f.firstSeen))
      .sort((a, b) => a.firstSeen - b.firstSeen)
      .map((f) => ({ bytes: f.bytes, ms: f.lastChange - f.firstSeen + POLL_MS }));
  }
}

/** CPU seconds of one process so far (utime + stime), or null. */
export function cpuSecondsOf(pid: number): number | null {
  return sampleProcess(pid)?.cpuSeconds ?? null;
}

/** Records a number for the report (rounded to 3 decimals; skipped when null or not finite). */
export function put(ctx: CaseContext, key: string, value: number | null | undefined): void {
  if (value === null || value === undefined || !Number.isFinite(value)) return;
  ctx.extra[key] = Math.round(value * 1000) / 1000;
}

/**
 * Counts the connection states the driver's sessions go through (SUSPENDED: a
 * connection lost; LOST: a session gone), so a run that lost them says so.
 */
export class ConnectionWatch {
  suspended = 0;
  lost = 0;

  attach(client: ZooKeeperClient): void {
    client.on("connectionState", (state: string) => {
      if (state === "SUSPENDED") this.suspended++;
      else if (state === "LOST") this.lost++;
    });
  }

  report(ctx: CaseContext): void {
    put(ctx, "connectionsLost", this.suspended);
    put(ctx, "sessionsLost", this.lost);
  }
}
