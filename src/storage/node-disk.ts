// The real Disk, on node:fs/promises (libuv's thread pool: never blocks the event
// loop). sync() is fdatasync; syncDir() opens the directory and fsyncs it, which is how
// POSIX makes a create or rename durable (a no-op where the platform refuses, as on
// Windows).

import { mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import type { Disk, DiskFile } from "./disk.js";

class NodeFile implements DiskFile {
  readonly path: string;
  readonly #fh: FileHandle;

  constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.#fh = fh;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#fh.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  sync(): Promise<void> {
    return this.#fh.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.#fh.truncate(length);
  }

  close(): Promise<void> {
    return this.#fh.close();
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
  async create(path) {
    return new NodeFile(path, await open(path, "w"));
  },
  async openForWrite(path) {
    return new NodeFile(path, await open(path, "r+"));
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
