// The double barrier's rules: all enter once `count` participants are in, all leave once
// none is.

import { describe, expect, it } from "vitest";
import { canEnter, canLeave } from "../../../recipes/double-barrier/rules.js";

describe("double barrier rules", () => {
  it("enters at count participants or more", () => {
    expect(canEnter(2, 3)).toBe(false);
    expect(canEnter(3, 3)).toBe(true);
    expect(canEnter(4, 3)).toBe(true);
  });

  it("leaves when nobody is left", () => {
    expect(canLeave(1)).toBe(false);
    expect(canLeave(0)).toBe(true);
  });
});
