// The Disk interface: everything storage does to files goes through it, so tests can
// swap in FakeDisk (fake-disk.ts), which loses unsynced bytes and can crash between any
// two operations. Every call is async: nothing here may block the event loop.
//
// Durability contract (what a crash may undo), which NodeDisk gets from POSIX and
// FakeDisk simulates:
//  - bytes written to a file are durable once `sync()` on that file has resolved;
//  - a file's existence under its name (create, rename, remove) is durable once
//    `syncDir()` on its directory has resolved;
//  - an operation that has not resolved may or may not have happened, and the last
//    unsynced write may be torn (a prefix of it reached the disk).

export interface DiskFile {
  readonly path: string;
  /** Writes all of `data` at byte `position` (past the end extends the file). */
  write(data: Uint8Array, position: number): Promise<void>;
  /** fdatasync: the file's bytes and size are durable when this resolves. */
  sync(): Promise<void>;
  /** Cuts (or zero-extends) the file to `length` bytes. Durable after sync(). */
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface Disk {
  /** Creates `dir` and its missing parents. */
  mkdirp(dir: string): Promise<void>;
  /** Names (not paths) of the entries of `dir`; [] when it does not exist. */
  list(dir: string): Promise<string[]>;
  /**
   * Creates an empty file at `path` (truncating one that exists) and opens it for writing.
   * `mode` (default 0o666, less the umask) applies to a file that did not exist: 0o600
   * for secrets.
   */
  create(path: string, mode?: number): Promise<DiskFile>;
  /** Opens an existing file for writing, keeping its contents. */
  openForWrite(path: string): Promise<DiskFile>;
  readFile(path: string): Promise<Buffer>;
  /** The file's size in bytes, or undefined when there is none. */
  sizeOf(path: string): Promise<number | undefined>;
  /** Renames within one directory, replacing `to` if it exists. */
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Makes the directory's entries (creates, renames, removes) durable. */
  syncDir(dir: string): Promise<void>;
}
