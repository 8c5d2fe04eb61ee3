// The commit queue: prepared txns in zxid order, each handed to the CommitLog as it is
// issued and applied to the tree strictly in zxid order once the log says it is durable
// (standalone) or committed (an ensemble's leader: commitThrough). Owns the zxid counter.
// Applying a txn tells every subscriber (watches, sessions, storage, the recipe engine),
// then the txn's own `done`.

import type { ApplyResult, DataTree, Effect } from "../tree/index.js";
import type { Txn, TxnEntry } from "../txn/index.js";
import { asZxid, assert, type Clock, type SessionId, type Zxid } from "../util/index.js";
import type { CommitLog } from "./types.js";

/** Called after every applied txn, in zxid order. */
export type ApplySubscriber = (entry: TxnEntry, result: ApplyResult, effects: readonly Effect[]) => void;

interface Committing {
  readonly entry: TxnEntry;
  durable: boolean;
  readonly done: ((result: ApplyResult) => void) | undefined;
}

export class CommitQueue {
  readonly #tree: DataTree;
  readonly #log: CommitLog;
  readonly #clock: Clock;
  readonly #subscribers: ApplySubscriber[] = [];
  readonly #items: Committing[] = [];
  #head = 0;
  /**
   * The last promise the commit step returned, and the highest zxid it stands for: a
   * log that returns one promise for many appends (a group commit) gets one reaction,
   * not one per txn.
   */
  #awaited: { promise: Promise<void>; zxid: bigint } | undefined;
  /** Counts abandon() calls: a reaction from before one has nothing to commit. */
  #abandoned = 0;
  #lastZxid: bigint;

  constructor(tree: DataTree, log: CommitLog, clock: Clock) {
    this.#tree = tree;
    this.#log = log;
    this.#clock = clock;
    this.#lastZxid = tree.lastProcessedZxid;
  }

  subscribe(fn: ApplySubscriber): void {
    this.#subscribers.push(fn);
  }

  /** The zxid of the last txn issued (prepared), applied or not. */
  get lastZxid(): Zxid {
    return asZxid(this.#lastZxid);
  }

  /** The zxid the next txn gets. */
  get nextZxid(): bigint {
    return this.#lastZxid + 1n;
  }

  /** Txns issued and not yet applied. */
  get outstanding(): number {
    return this.#items.length - this.#head;
  }

  /** A new leader's zxids continue from the start of its epoch. */
  resetZxid(zxid: bigint): void {
    assert(this.outstanding === 0, "cannot move the zxid base with txns in flight");
    assert(zxid >= this.#tree.lastProcessedZxid, "the zxid base must not go back");
    this.#lastZxid = zxid;
  }

  /**
   * Drops every txn issued and not applied (a leader stepped down: the next leader
   * commits or truncates them); the zxid counter goes back to the tree's.
   */
  abandon(): void {
    this.#awaited = undefined;
    this.#abandoned++;
    this.#items.length = 0;
    this.#head = 0;
    this.#lastZxid = this.#tree.lastProcessedZxid;
  }

  /**
   * Applies a txn committed elsewhere (a learner's, or a new leader's inherited history):
   * no log step here, the driver logged it. Returns its result for the caller to answer.
   */
  applyRemote(entry: TxnEntry): ApplyResult {
    const effects: Effect[] = [];
    const result = this.#tree.apply(entry, effects);
    if (entry.hdr.zxid > this.#lastZxid) this.#lastZxid = entry.hdr.zxid;
    for (const fn of this.#subscribers) fn(entry, result, effects);
    return result;
  }

  /** Issues `txn` at `zxid` (the next one): logs it, applies it in turn, then `done`. */
  issue(sid: SessionId, cxid: number, opCode: number, txn: Txn, zxid: bigint, done: ((r: ApplyResult) => void) | undefined): void {
    assert(zxid === this.#lastZxid + 1n, "zxids must be issued in order");
    this.#lastZxid = zxid;
    const entry: TxnEntry = {
      hdr: { sessionId: sid, cxid, zxid: asZxid(zxid), timeMs: this.#clock.nowMs(), opCode },
      txn,
    };
    const item: Committing = { entry, durable: false, done };
    this.#items.push(item);
    let pending: Promise<void> | undefined;
    try {
      pending = this.#log.append(entry);
    } catch (e) {
      // The commit step refused it (e.g. not the leader any more): it never happened.
      this.#items.pop();
      this.#lastZxid = zxid - 1n;
      throw e;
    }
    if (pending === undefined) {
      item.durable = true;
      this.#applyCommitted();
      return;
    }
    const awaited = this.#awaited;
    if (awaited !== undefined && awaited.promise === pending) {
      awaited.zxid = zxid;
      return;
    }
    const next = { promise: pending, zxid };
    const abandoned = this.#abandoned;
    this.#awaited = next;
    pending.then(
      () => {
        if (this.#awaited === next) this.#awaited = undefined;
        if (abandoned === this.#abandoned) this.commitThrough(next.zxid);
      },
      (e: unknown) => {
        // A txn that cannot be made durable must not be acknowledged or applied; the
        // server cannot continue safely (ZooKeeper exits on a log write failure too).
        queueMicrotask(() => {
          throw e;
        });
      },
    );
  }

  /**
   * The commit step says every txn up to `zxid` is committed: apply them now, in order,
   * without waiting for the promises `append` returned (ZAB's driver needs the tree
   * current before it handles anything else in the same batch).
   */
  commitThrough(zxid: bigint): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (item.entry.hdr.zxid > zxid) break;
      item.durable = true;
    }
    this.#applyCommitted();
  }

  /** Applies committed txns from the head of the queue, in zxid order. */
  #applyCommitted(): void {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!;
      if (!item.durable) {
        // Under steady load the queue may never empty (the log keeps a batch in flight):
        // drop the applied head now and then instead of waiting for that.
        if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
          this.#items.splice(0, this.#head);
          this.#head = 0;
        }
        return;
      }
      this.#items[this.#head++] = undefined as unknown as Committing;
      const effects: Effect[] = [];
      const result = this.#tree.apply(item.entry, effects);
      for (const fn of this.#subscribers) fn(item.entry, result, effects);
      item.done?.(result);
    }
    this.#items.length = 0;
    this.#head = 0;
  }
}
