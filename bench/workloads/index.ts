// Every workload, by name, in the order they run and are reported.

import { barrierWorkload } from "./barrier.js";
import { electionWorkload } from "./election.js";
import { lockWorkloads } from "./locks.js";
import { queueWorkloads } from "./queues.js";
import { rawWorkloads } from "./raw.js";
import { scaleWorkloads } from "./scale.js";
import type { Workload } from "./types.js";

/** What `npm run bench` runs by default ("all"): every workload but the scale group's. */
export const DEFAULT_WORKLOADS: readonly Workload[] = [...rawWorkloads, ...lockWorkloads, ...queueWorkloads, barrierWorkload, electionWorkload];

export const WORKLOADS: readonly Workload[] = [...DEFAULT_WORKLOADS, ...scaleWorkloads];

export const WORKLOAD_GROUPS: Record<string, readonly string[]> = {
  all: DEFAULT_WORKLOADS.map((w) => w.name),
  scale: scaleWorkloads.map((w) => w.name),
  raw: WORKLOADS.filter((w) => w.group === "raw").map((w) => w.name),
  recipes: WORKLOADS.filter((w) => w.group === "recipe").map((w) => w.name),
  locks: ["lock", "mutex", "rwlock"],
  queues: ["queue", "jobqueue"],
};

/** Expands names and groups ("raw", "recipes", ...) into workloads; throws on an unknown name. */
export function selectWorkloads(names: readonly string[]): Workload[] {
  const wanted = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name === "") continue;
    const group = WORKLOAD_GROUPS[name];
    if (group !== undefined) for (const g of group) wanted.add(g);
    else if (WORKLOADS.some((w) => w.name === name)) wanted.add(name);
    else throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${WORKLOADS.map((w) => w.name).join(", ")} (groups: ${Object.keys(WORKLOAD_GROUPS).join(", ")})`);
  }
  return WORKLOADS.filter((w) => wanted.has(w.name));
}

export type { Workload, CaseSpec, PlanOptions, CaseContext } from "./types.js";
