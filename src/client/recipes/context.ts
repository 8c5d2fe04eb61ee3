// What a recipe module gets from the client: the plain ZooKeeper calls, the request
// primitive for Corral's ops, the event router, the session tracker, the recipe mode and
// the chroot mapping. Narrow on purpose: recipe modules hold no client state of their own
// beyond what they are given here.

import type { JuteReader, JuteWriter } from "../../jute/index.js";
import type { CallOptions } from "../client.js";
import type { ZooKeeperClient } from "../zookeeper.js";
import type { EventRouter } from "./router.js";
import type { SessionScope, SessionTracker } from "./session.js";
import type { AckQueue } from "./acks.js";

/**
 * How the recipes run: "engine" against Corral (each call one request, grants pushed by
 * the server), "client" against anything else (Apache ZooKeeper: the classic client-side
 * recipes with watches).
 */
export type RecipeMode = "engine" | "client";

export interface RecipeContext {
  /** The client itself, for its plain ZooKeeper calls (paths are the caller's). */
  readonly zk: ZooKeeperClient;
  readonly router: EventRouter;
  readonly session: SessionTracker;
  readonly acks: AckQueue;
  /** Sends one Corral op (server paths in the body). */
  request<T>(op: number, path: string, body: (w: JuteWriter) => void, decode: ((r: JuteReader) => T) | undefined, opts?: CallOptions): Promise<T>;
  /** "engine" against Corral with protocol v2, "client" otherwise; waits out a lost connection. */
  mode(scope: SessionScope, signal?: AbortSignal): Promise<RecipeMode>;
  /** The mode, once known. */
  readonly resolvedMode: RecipeMode | undefined;
  /** Client path -> server path (chroot applied). */
  sp(path: string): string;
  /** Server path -> client path. */
  cp(path: string): string;
  /** Races lost by client-side takes (the queue benchmark's herd meter). */
  lostRaces: number;
}
