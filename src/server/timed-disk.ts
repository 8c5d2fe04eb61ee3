// Times the storage layer's fsyncs without reaching into it: the composition root
// hands storage a Disk whose files report how long each sync() took (the fsync
// latency histogram of /metrics). Everything else passes straight through.

import type { Disk, DiskFile } from "../storage/index.js";

export function timedDisk(disk: Disk, observeMs: (ms: number) => void): Disk {
  const timed = (f: DiskFile): DiskFile => ({
    path: f.path,
    write: (data, position) => f.write(data, position),
    sync: async () => {
      const t0 = performance.now();
      await f.sync();
      observeMs(performance.now() - t0);
    },
    truncate: (length) => f.truncate(length),
    close: () => f.close(),
  });
  return {
    mkdirp: (dir) => disk.mkdirp(dir),
    list: (dir) => disk.list(dir),
    create: async (path, mode) => timed(await disk.create(path, mode)),
    openForWrite: async (path) => timed(await disk.openForWrite(path)),
    readFile: (path) => disk.readFile(path),
    sizeOf: (path) => disk.sizeOf(path),
    rename: (from, to) => disk.rename(from, to),
    remove: (path) => disk.remove(path),
    syncDir: async (dir) => {
      const t0 = performance.now();
      await disk.syncDir(dir);
      observeMs(performance.now() - t0);
    },
  };
}
