// The error that stops start-up: it names the file and the byte offset where recovery
// found something it must not paper over (ZOOKEEPER.md §1.11: never silently drop
// committed data).

export class StorageError extends Error {
  override name = "StorageError";
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, offset: number | undefined, reason: string, options?: { cause?: unknown }) {
    super(`${file}${offset === undefined ? "" : ` at offset ${offset}`}: ${reason}`, options);
    this.file = file;
    this.offset = offset;
  }
}
