// The recipe API the workloads call, named exactly as Corral's client names it (issue 5:
// `client.mutex(path)`, `writeLock`, `readLock`, `queue`, `jobQueue`, `doubleBarrier`,
// `election`, `recipeMode`). `recipesFor(client)` prefers the client's own API whenever
// the client has it (`typeof client.mutex === "function"`: engine against Corral, its
// client-side fallback against ZooKeeper), and uses bench's classic stand-in otherwise
// (or when asked, to compare the engine with the classic protocol on the same server).

import type { ZooKeeperClient } from "../../src/client/index.js";
import { StandInRecipes } from "./standin.js";

export type RecipeMode = "engine" | "client";

export interface WaitOpts {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface LockHandle {
  /** Fencing token: the lock node's czxid, which only grows. */
  readonly token: bigint;
  /** Fires if the session is lost while the lock is held. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface QueueApi {
  offer(data: Buffer): Promise<string>;
  take(opts?: WaitOpts): Promise<Buffer>;
  size(): Promise<number>;
}

export interface JobApi {
  readonly id: string;
  readonly data: Buffer;
  ack(): Promise<void>;
}

export interface JobQueueApi {
  offer(data: Buffer): Promise<string>;
  take(opts?: WaitOpts): Promise<JobApi>;
}

export interface DoubleBarrierApi {
  enter(opts?: WaitOpts): Promise<void>;
  leave(opts?: WaitOpts): Promise<void>;
}

export interface ElectionApi {
  join(): Promise<void>;
  leave(): Promise<void>;
  leader(): Promise<{ id: string; data: Buffer } | null>;
  isLeader(): boolean;
  onLeadershipChange(cb: (isLeader: boolean) => void): () => void;
}

export interface RecipeClient {
  readonly recipeMode: RecipeMode;
  /** "client API" (src/client's recipes) or "bench stand-in" (bench/recipes/standin.ts). */
  readonly implementation: "client API" | "bench stand-in";
  mutex(path: string, opts?: WaitOpts): Promise<LockHandle>;
  writeLock(path: string, opts?: WaitOpts): Promise<LockHandle>;
  readLock(path: string, opts?: WaitOpts): Promise<LockHandle>;
  queue(path: string): QueueApi;
  jobQueue(path: string): JobQueueApi;
  doubleBarrier(path: string, count: number): DoubleBarrierApi;
  election(path: string, data: Buffer): ElectionApi;
  /** Races lost by client-side queue takes so far (0 with the engine). */
  lostRaces(): number;
}

/** Which implementation to use: the client's own when it has one ("auto"), or always the stand-in. */
export type RecipeChoice = "auto" | "standin";

/** Corral's client with the recipe API (issue 5), as far as bench relies on it. */
interface ClientWithRecipes {
  mutex(path: string, opts?: WaitOpts): Promise<LockHandle>;
  writeLock(path: string, opts?: WaitOpts): Promise<LockHandle>;
  readLock(path: string, opts?: WaitOpts): Promise<LockHandle>;
  queue(path: string): QueueApi;
  jobQueue(path: string): JobQueueApi;
  doubleBarrier(path: string, count: number): DoubleBarrierApi;
  election(path: string, data: Buffer): ElectionApi;
  recipeMode: RecipeMode | undefined;
  detectRecipeMode?: () => Promise<RecipeMode>;
  lostRaces?: number;
}

function hasRecipeApi(client: ZooKeeperClient): client is ZooKeeperClient & ClientWithRecipes {
  return typeof (client as unknown as Partial<ClientWithRecipes>).mutex === "function";
}

export async function recipesFor(client: ZooKeeperClient, choice: RecipeChoice = "auto"): Promise<RecipeClient> {
  if (choice === "auto" && hasRecipeApi(client)) {
    const c = client;
    const mode = (await c.detectRecipeMode?.()) ?? c.recipeMode ?? "client";
    return {
      recipeMode: mode,
      implementation: "client API",
      mutex: (p, o) => c.mutex(p, o),
      writeLock: (p, o) => c.writeLock(p, o),
      readLock: (p, o) => c.readLock(p, o),
      queue: (p) => c.queue(p),
      jobQueue: (p) => c.jobQueue(p),
      doubleBarrier: (p, n) => c.doubleBarrier(p, n),
      election: (p, d) => c.election(p, d),
      lostRaces: () => c.lostRaces ?? 0,
    };
  }
  return new StandInRecipes(client);
}
