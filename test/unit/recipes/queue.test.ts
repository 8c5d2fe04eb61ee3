// The queue's rules: items and the head, in-flight names (old and protected, with and
// without a visibility timeout) and what they hold.

import { describe, expect, it } from "vitest";
import { protectedName } from "../../../recipes/common/rules.js";
import { VISIBILITY_MS_MAX, head, inflightName, isInflight, isItem, items, parseInflight } from "../../../recipes/queue/rules.js";

const id = "c0ffee00-1234-4567-89ab-cdef01234567";

describe("queue rules", () => {
  it("items are qn- children; the head is the lowest sequence; in-flight nodes are not items", () => {
    const children = ["qn-0000000004", protectedName(id, "inflight-qn-0000000001"), "qn-0000000002", "inflight-qn-0000000003"];
    expect(items(children)).toEqual(["qn-0000000002", "qn-0000000004"]);
    expect(head(children)).toBe("qn-0000000002");
    expect(head([])).toBeUndefined();
    expect(isItem(protectedName(id, "inflight-qn-0000000001"))).toBe(false);
  });

  it("in-flight names, old and protected, hold their item and visibility timeout", () => {
    expect(inflightName("qn-0000000001", 0)).toBe("inflight-qn-0000000001");
    expect(inflightName("qn-0000000001", 500)).toBe("inflight-qn-0000000001~500");
    expect(parseInflight("inflight-qn-0000000001")).toEqual({ item: "qn-0000000001", visibilityMs: 0 });
    expect(parseInflight(protectedName(id, "inflight-qn-0000000001"))).toEqual({ item: "qn-0000000001", visibilityMs: 0 });
    expect(parseInflight(protectedName(id, "inflight-qn-0000000009~2500"))).toEqual({ item: "qn-0000000009", visibilityMs: 2500 });
    expect(isInflight(protectedName(id, "inflight-qn-0000000009~2500"))).toBe(true);
  });

  it("anything else is not an in-flight node", () => {
    for (const name of ["qn-0000000001", "inflight-x", "inflight-qn-1~0", "inflight-qn-1~-5", `inflight-qn-1~${VISIBILITY_MS_MAX + 1}`, "inflight-qn-1~1e3", protectedName(id, "n_0000000001")]) {
      expect(parseInflight(name), name).toBeUndefined();
    }
  });
});
