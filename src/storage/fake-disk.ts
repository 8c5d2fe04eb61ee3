// An in-memory Disk for tests and simulations, with a crash model (disk.ts's contract):
// a file's bytes survive a crash only as far as its last sync(); a directory entry
// (create, rename, remove) only once its directory was synced; of the operations since,
// a crash keeps a random prefix and may tear the last write at a random byte.
//
// `crashAtOp: n` makes operation n (1-based, counting every call) the moment the
// machine dies: it and everything after it (and every operation still in flight) never
// settle, as in a process that is gone. `afterCrash(prng)` then gives the disk a
// restarted machine would find. Operations may settle after a few turns of the event
// loop (`maxDelayTurns`, drawn from the PRNG) so that concurrent users interleave; the
// same seed gives the same interleaving.

import { posix } from "node:path";
import { SeededPrng, type Prng } from "../util/index.js";
import type { Disk, DiskFile } from "./disk.js";

type PendingOp = { kind: "write"; position: number; data: Buffer } | { kind: "truncate"; length: number };

interface Inode {
  /** What a crash now would certainly keep. */
  durable: Buffer;
  /** What reads see. */
  current: Buffer;
  /** Operations since the last sync, in order: a crash keeps a prefix of them. */
  pending: PendingOp[];
}

interface Dir {
  live: Map<string, Inode>;
  durable: Map<string, Inode>;
}

export interface FakeDiskOptions {
  /** Drives delays and what a crash keeps; default a fixed seed. */
  prng?: Prng;
  /** Each operation settles after 0..maxDelayTurns setImmediate turns (default 0: at once). */
  maxDelayTurns?: number;
  /** sync() always takes this many extra turns, like a slow device (default 0). */
  syncTurns?: number;
  /** Operation number (1-based) at which the machine dies. */
  crashAtOp?: number;
  /** Whether a crash may keep part of the last unsynced write (default true). */
  tornWrites?: boolean;
}

const NEVER: Promise<never> = new Promise<never>(() => {});

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`), { code: "ENOENT" });
}

function applyOp(buf: Buffer, op: PendingOp): Buffer {
  if (op.kind === "truncate") {
    if (op.length <= buf.length) return buf.subarray(0, op.length);
    return Buffer.concat([buf, Buffer.alloc(op.length - buf.length)]);
  }
  const end = op.position + op.data.length;
  const out = end > buf.length ? Buffer.concat([buf, Buffer.alloc(end - buf.length)]) : Buffer.from(buf);
  op.data.copy(out, op.position);
  return out;
}

export class FakeDisk implements Disk {
  readonly #dirs = new Map<string, Dir>();
  readonly #opts: FakeDiskOptions;
  readonly #prng: Prng;
  /** Operations started so far (the crash clock). */
  ops = 0;
  writes = 0;
  syncs = 0;
  dirSyncs = 0;
  crashed = false;
  /** Resolves when the machine dies (for drivers that must stop waiting on it). */
  readonly whenCrashed: Promise<void>;
  #onCrash: () => void = () => {};

  constructor(opts: FakeDiskOptions = {}) {
    this.#opts = opts;
    this.#prng = opts.prng ?? new SeededPrng(1);
    this.whenCrashed = new Promise((resolve) => (this.#onCrash = resolve));
  }

  /** Kills the machine now: nothing in flight or later settles. */
  crash(): void {
    this.crashed = true;
    this.#onCrash();
  }

  /**
   * The disk a restarted machine finds: durable directory entries, each file's synced
   * bytes plus a random prefix of the operations since (the last one possibly torn).
   */
  afterCrash(prng: Prng, opts: FakeDiskOptions = {}): FakeDisk {
    const next = new FakeDisk(opts);
    const survived = new Map<Inode, Inode>();
    const torn = this.#opts.tornWrites ?? true;
    const keep = (inode: Inode): Inode => {
      let out = survived.get(inode);
      if (out !== undefined) return out;
      let content = inode.durable;
      const k = prng.nextInt(inode.pending.length + 1);
      for (let i = 0; i < k; i++) content = applyOp(content, inode.pending[i]!);
      const next = inode.pending[k];
      if (torn && next !== undefined && next.kind === "write") {
        const cut = prng.nextInt(next.data.length + 1);
        content = applyOp(content, { kind: "write", position: next.position, data: next.data.subarray(0, cut) });
      }
      out = { durable: content, current: content, pending: [] };
      survived.set(inode, out);
      return out;
    };
    for (const [path, dir] of this.#dirs) {
      const entries = new Map<string, Inode>();
      for (const [name, inode] of dir.durable) entries.set(name, keep(inode));
      next.#dirs.set(path, { live: entries, durable: new Map(entries) });
    }
    return next;
  }

  /** Every file and its current bytes (for tests and debugging). */
  files(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [path, dir] of this.#dirs) for (const [name, inode] of dir.live) out.set(posix.join(path, name), inode.current);
    return out;
  }

  /** Puts a durable file in place (tests). */
  plant(path: string, data: Buffer): void {
    const { dir, name } = this.#locate(path);
    const inode: Inode = { durable: data, current: data, pending: [] };
    dir.live.set(name, inode);
    dir.durable.set(name, inode);
  }

  /** Overwrites bytes of a file, durably, as bit rot would (tests). */
  corrupt(path: string, offset: number, bytes: Buffer): void {
    const inode = this.#inode(path);
    const change = (b: Buffer): Buffer => applyOp(b, { kind: "write", position: offset, data: bytes });
    inode.current = change(inode.current);
    inode.durable = change(inode.durable);
  }

  // Disk

  mkdirp(dir: string): Promise<void> {
    return this.#op(() => {
      let p = posix.normalize(dir);
      for (;;) {
        if (!this.#dirs.has(p)) this.#dirs.set(p, { live: new Map(), durable: new Map() });
        const parent = posix.dirname(p);
        if (parent === p) break;
        p = parent;
      }
    });
  }

  list(dir: string): Promise<string[]> {
    return this.#op(() => [...(this.#dirs.get(posix.normalize(dir))?.live.keys() ?? [])].sort());
  }

  /** `mode` is not modelled: a FakeDisk has no permissions. */
  create(path: string, _mode?: number): Promise<DiskFile> {
    return this.#op(() => {
      const { dir, name } = this.#locate(path);
      const inode: Inode = { durable: Buffer.alloc(0), current: Buffer.alloc(0), pending: [] };
      dir.live.set(name, inode);
      return this.#file(path, inode);
    });
  }

  openForWrite(path: string): Promise<DiskFile> {
    return this.#op(() => this.#file(path, this.#inode(path)));
  }

  readFile(path: string): Promise<Buffer> {
    return this.#op(() => Buffer.from(this.#inode(path).current));
  }

  sizeOf(path: string): Promise<number | undefined> {
    return this.#op(() => {
      const { dir, name } = this.#locate(path, false);
      return dir?.live.get(name)?.current.length;
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.#op(() => {
      const src = this.#locate(from);
      const dst = this.#locate(to);
      const inode = src.dir.live.get(src.name);
      if (inode === undefined) throw enoent(from);
      src.dir.live.delete(src.name);
      dst.dir.live.set(dst.name, inode);
    });
  }

  remove(path: string): Promise<void> {
    return this.#op(() => {
      const { dir, name } = this.#locate(path, false);
      dir?.live.delete(name);
    });
  }

  syncDir(dir: string): Promise<void> {
    return this.#op(() => {
      const d = this.#dirs.get(posix.normalize(dir));
      if (d === undefined) throw enoent(dir);
      this.dirSyncs++;
      d.durable = new Map(d.live);
    });
  }

  #file(path: string, inode: Inode): DiskFile {
    let closed = false;
    const open = (): void => {
      if (closed) throw new Error(`${path}: file is closed`);
    };
    return {
      path,
      write: (data, position) =>
        this.#op(() => {
          open();
          const op: PendingOp = { kind: "write", position, data: Buffer.from(data) };
          this.writes++;
          inode.current = applyOp(inode.current, op);
          inode.pending.push(op);
        }),
      sync: () =>
        this.#op(() => {
          open();
          this.syncs++;
          inode.durable = inode.current;
          inode.pending = [];
        }, this.#opts.syncTurns ?? 0),
      truncate: (length) =>
        this.#op(() => {
          open();
          const op: PendingOp = { kind: "truncate", length };
          inode.current = applyOp(inode.current, op);
          inode.pending.push(op);
        }),
      close: () =>
        this.#op(() => {
          closed = true;
        }),
    };
  }

  /** Runs `fn` once the operation's delay has passed, unless the machine died first. */
  #op<T>(fn: () => T, extraTurns = 0): Promise<T> {
    if (this.crashed) return NEVER;
    this.ops++;
    if (this.#opts.crashAtOp !== undefined && this.ops >= this.#opts.crashAtOp) {
      this.crash();
      return NEVER;
    }
    const max = this.#opts.maxDelayTurns ?? 0;
    let turns = extraTurns + (max > 0 ? this.#prng.nextInt(max + 1) : 0);
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        if (this.crashed) return;
        if (turns > 0) {
          turns--;
          setImmediate(run);
          return;
        }
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      };
      run();
    });
  }

  #locate(path: string): { dir: Dir; name: string };
  #locate(path: string, must: false): { dir: Dir | undefined; name: string };
  #locate(path: string, must = true): { dir: Dir | undefined; name: string } {
    const p = posix.normalize(path);
    const dir = this.#dirs.get(posix.dirname(p));
    if (dir === undefined && must) throw enoent(path);
    return { dir, name: posix.basename(p) };
  }

  #inode(path: string): Inode {
    const { dir, name } = this.#locate(path);
    const inode = dir.live.get(name);
    if (inode === undefined) throw enoent(path);
    return inode;
  }
}
