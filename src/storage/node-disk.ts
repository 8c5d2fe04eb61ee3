// The real Disk, on node:fs (libuv's thread pool: never blocks the event loop). sync()
// is fdatasync; syncDir() opens the directory and fsyncs it, which is how POSIX makes a
// create or rename durable (a no-op where the platform refuses, as on Windows).
// Log files use fs's callback API on a plain descriptor rather than fs/promises'
// FileHandle: issuing a write or an fdatasync through a FileHandle costs the event loop
// 10-20 us (it allocates a promise-backed request with its own stat arrays), the
// callback form 1-5 us, and the log issues two per batch on the commit path.

import { close, fdatasync, ftruncate, open as openFd, write } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import type { Disk, DiskFile } from "./disk.js";

function settle(resolve: () => void, reject: (e: Error) => void): (e: NodeJS.ErrnoException | null) => void {
  return (e) => (e === null ? resolve() : reject(e));
}

function openDescriptor(path: string, flags: string, mode = 0o666): Promise<number> {
  return new Promise((resolve, reject) => openFd(path, flags, mode, (e, fd) => (e === null ? resolve(fd) : reject(e))));
}

class NodeFile implements DiskFile {
  readonly path: string;
  readonly #fd: number;

  constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      done += await new Promise<number>((resolve, reject) =>
        write(this.#fd, data, done, data.length - done, position + done, (e, n) => (e === null ? resolve(n) : reject(e))),
      );
    }
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.#fd, settle(resolve, reject)));
  }

  truncate(length: number): Promise<void> {
    return new Promise((resolve, reject) => ftruncate(this.#fd, length, settle(resolve, reject)));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => close(this.#fd, settle(resolve, reject)));
  }
}

const DIR_SYNC_UNSUPPORTED = new Set(["EISDIR", "EINVAL", "EPERM", "EACCES", "ENOTSUP"]);

export const nodeDisk: Disk = {
  async mkdirp(dir) {
    await mkdir(dir, { recursive: true });
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  },
  async create(path, mode) {
    return new NodeFile(path, await openDescriptor(path, "w", mode));
  },
  async openForWrite(path) {
    return new NodeFile(path, await openDescriptor(path, "r+"));
  },
  readFile(path) {
    return readFile(path);
  },
  async sizeOf(path) {
    try {
      return (await stat(path)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  },
  rename(from, to) {
    return rename(from, to);
  },
  remove(path) {
    return rm(path, { force: true });
  },
  async syncDir(dir) {
    let fh: FileHandle | undefined;
    try {
      fh = await open(dir, "r");
      await fh.sync();
    } catch (e) {
      if (!DIR_SYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? "")) throw e;
    } finally {
      await fh?.close();
    }
  },
};
