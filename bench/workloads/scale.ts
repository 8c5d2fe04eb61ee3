// The scale group (`--workload scale`, issue 15 item 4): many mutexes, a long line of
// waiters, many sessions, a big tree, a big queue backlog, and the tail of a mixed load.
// Sizes come from --scale and the per-size options (bench/options.ts); every phase is
// bounded in count and time.

import { scaleLockWorkloads } from "./scale-locks.js";
import { mixedWorkload } from "./scale-mixed.js";
import { sessionsWorkload } from "./scale-sessions.js";
import { scaleTreeWorkloads } from "./scale-tree.js";
import type { Workload } from "./types.js";

export const scaleWorkloads: Workload[] = [...scaleLockWorkloads, sessionsWorkload, ...scaleTreeWorkloads, mixedWorkload];
