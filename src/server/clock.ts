// The real clock and randomness, wired in here at the composition root only.

import { randomBytes, randomInt } from "node:crypto";
import type { Clock, Prng } from "../util/index.js";

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

export const cryptoPrng: Prng = {
  nextInt: (bound) => randomInt(bound),
  fill: (out) => {
    out.set(randomBytes(out.length));
  },
};
