// Builds Apache ZooKeeper's snapshot and log files byte by byte, per the formats documented
// in src/storage/zookeeper/format.ts and txn.ts, so the import can be tested on exact,
// hand-made input (including damage). The integration test checks the same code against
// files Apache ZooKeeper 3.8 wrote itself.

import { JuteWriter, type ACL } from "../../../src/jute/index.js";
import { adler32 } from "../../../src/storage/zookeeper/index.js";

export interface ZkNodeSpec {
  path: string;
  data?: string | null;
  acl?: bigint;
  czxid?: bigint;
  mzxid?: bigint;
  pzxid?: bigint;
  ctime?: bigint;
  mtime?: bigint;
  version?: number;
  cversion?: number;
  aversion?: number;
  owner?: bigint;
}

export interface ZkSnapshotSpec {
  sessions?: [bigint, number][];
  acls?: [bigint, ACL[]][];
  nodes: ZkNodeSpec[];
  digest?: { zxid: bigint; value: bigint };
  /** ZooKeeper 3.9's lastProcessedZxid trailer. */
  lastZxid?: bigint;
}

function writeAcl(w: JuteWriter, acl: readonly ACL[]): void {
  w.int(acl.length);
  for (const a of acl) {
    w.int(a.perms);
    w.ustring(a.id.scheme);
    w.ustring(a.id.id);
  }
}

function seal(w: JuteWriter): void {
  w.long(BigInt(adler32(w.view())));
  w.ustring("/");
}

export function zkSnapshot(spec: ZkSnapshotSpec): Buffer {
  const w = new JuteWriter();
  w.int(0x5a4b534e);
  w.int(2);
  w.long(-1n);
  const sessions = spec.sessions ?? [];
  w.int(sessions.length);
  for (const [id, t] of sessions) {
    w.long(id);
    w.int(t);
  }
  const acls = spec.acls ?? [];
  w.int(acls.length);
  for (const [i, acl] of acls) {
    w.long(i);
    writeAcl(w, acl);
  }
  for (const n of spec.nodes) {
    w.ustring(n.path);
    w.buffer(n.data === null ? null : Buffer.from(n.data ?? ""));
    w.long(n.acl ?? -1n);
    const czxid = n.czxid ?? 0n;
    w.long(czxid);
    w.long(n.mzxid ?? czxid);
    w.long(n.ctime ?? 1_000n);
    w.long(n.mtime ?? n.ctime ?? 1_000n);
    w.int(n.version ?? 0);
    w.int(n.cversion ?? 0);
    w.int(n.aversion ?? 0);
    w.long(n.owner ?? 0n);
    w.long(n.pzxid ?? czxid);
  }
  w.ustring("/");
  seal(w);
  if (spec.digest !== undefined) {
    w.long(spec.digest.zxid);
    w.int(2);
    w.long(spec.digest.value);
    seal(w);
  }
  if (spec.lastZxid !== undefined) {
    w.long(spec.lastZxid);
    seal(w);
  }
  return w.toBuffer();
}

/** One log entry: TxnHeader, the txn's fields, and a TxnDigest when asked. */
export function zkEntry(hdr: { session?: bigint; cxid?: number; zxid: bigint; time?: bigint; type: number }, body: (w: JuteWriter) => void, digest = false): Buffer {
  const w = new JuteWriter();
  w.long(hdr.session ?? 0n);
  w.int(hdr.cxid ?? 0);
  w.long(hdr.zxid);
  w.long(hdr.time ?? 2_000n);
  w.int(hdr.type);
  body(w);
  if (digest) {
    w.int(2);
    w.long(0x1234n);
  }
  return w.toBuffer();
}

export const body = {
  create: (path: string, data: string, opts: { acl?: ACL[]; ephemeral?: boolean; parentCVersion: number }) => (w: JuteWriter) => {
    w.ustring(path);
    w.buffer(Buffer.from(data));
    writeAcl(w, opts.acl ?? OPEN);
    w.bool(opts.ephemeral ?? false);
    w.int(opts.parentCVersion);
  },
  /** ZooKeeper 3.4's CreateTxnV0: no parentCVersion. */
  createV0: (path: string, data: string, ephemeral: boolean) => (w: JuteWriter) => {
    w.ustring(path);
    w.buffer(Buffer.from(data));
    writeAcl(w, OPEN);
    w.bool(ephemeral);
  },
  createTtl: (path: string, data: string, parentCVersion: number, ttl: bigint) => (w: JuteWriter) => {
    w.ustring(path);
    w.buffer(Buffer.from(data));
    writeAcl(w, OPEN);
    w.int(parentCVersion);
    w.long(ttl);
  },
  createContainer: (path: string, parentCVersion: number) => (w: JuteWriter) => {
    w.ustring(path);
    w.buffer(Buffer.alloc(0));
    writeAcl(w, OPEN);
    w.int(parentCVersion);
  },
  path: (path: string) => (w: JuteWriter) => w.ustring(path),
  setData: (path: string, data: string, version: number) => (w: JuteWriter) => {
    w.ustring(path);
    w.buffer(Buffer.from(data));
    w.int(version);
  },
  setAcl: (path: string, acl: ACL[], version: number) => (w: JuteWriter) => {
    w.ustring(path);
    writeAcl(w, acl);
    w.int(version);
  },
  check: (path: string, version: number) => (w: JuteWriter) => {
    w.ustring(path);
    w.int(version);
  },
  int: (v: number) => (w: JuteWriter) => w.int(v),
  closeSession: (paths: string[]) => (w: JuteWriter) => w.strings(paths),
  none: () => () => undefined,
  multi: (subs: { type: number; body: (w: JuteWriter) => void }[]) => (w: JuteWriter) => {
    w.int(subs.length);
    for (const s of subs) {
      const sub = new JuteWriter();
      s.body(sub);
      w.int(s.type);
      w.buffer(sub.toBuffer());
    }
  },
};

export const OPEN: ACL[] = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];

/** A log file: header, each entry as a record, then `zeros` bytes of preallocation. */
export function zkLog(entries: Buffer[], zeros = 64): Buffer {
  const w = new JuteWriter();
  w.int(0x5a4b4c47);
  w.int(2);
  w.long(0n);
  for (const e of entries) {
    w.long(BigInt(adler32(e)));
    w.buffer(e);
    w.raw(Uint8Array.of(0x42));
  }
  w.raw(Buffer.alloc(zeros));
  return w.toBuffer();
}

/** Offsets of each record in a log zkLog built from `entries`. */
export function recordOffsets(entries: Buffer[]): number[] {
  const out: number[] = [];
  let at = 16;
  for (const e of entries) {
    out.push(at);
    at += 8 + 4 + e.length + 1;
  }
  return out;
}
