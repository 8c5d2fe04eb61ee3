// enforceQuota (ZooKeeper 3.7+): with it, prep refuses a create or setData that would
// take a quota's usage past a hard limit (countHardLimit, byteHardLimit) with
// QuotaExceeded (-125); soft limits never refuse. Limits are read from the
// zookeeper_limits node when the request is prepared, so a change shows at once.

import { describe, expect, it } from "vitest";
import { Err } from "../../../src/jute/index.js";
import { Harness, ManualCommitLog, rq, type Client } from "./harness.js";

/** What zkCli's setquota writes. */
function setquota(c: Client, root: string, limits: string): void {
  let dir = "/zookeeper/quota";
  for (const part of root.split("/").slice(1)) c.create((dir += `/${part}`), null);
  expect(c.create(`${dir}/zookeeper_limits`, limits).err).toBe(Err.Ok);
  expect(c.create(`${dir}/zookeeper_stats`, "count=0,bytes=0").err).toBe(Err.Ok);
}

const stats = (h: Harness, root: string): string | undefined => h.tree.get(`/zookeeper/quota${root}/zookeeper_stats`)?.data?.toString();

describe("enforceQuota", () => {
  it("refuses creates past countHardLimit and setData past byteHardLimit, at prep, naming no other path", () => {
    const h = new Harness({ enforceQuota: true });
    const c = h.connect();
    c.create("/a", null);
    c.create("/a/b", "hello");
    setquota(c, "/a", "count=3,bytes=10=;byteHardLimit=20;countHardLimit=4");
    expect(c.create("/a/c", "123456789012345").err).toBe(Err.Ok); // bytes 20: at the limit is allowed
    expect(c.create("/a/d", null).err).toBe(Err.Ok); // count 4, past the soft 3: allowed
    expect(c.create("/a/e", null).err).toBe(Err.QuotaExceeded);
    expect(c.create("/a/c/deep", null).err).toBe(Err.QuotaExceeded);
    expect(c.setData("/a/b", "123456").err).toBe(Err.QuotaExceeded); // 20 - 5 + 6 = 21
    expect(c.setData("/a/b", "12345").err).toBe(Err.Ok); // same size
    expect(c.setData("/a/b", "").err).toBe(Err.Ok); // shrinking is always allowed
    expect(stats(h, "/a")).toBe("count=4,bytes=15");
    // Outside the quota nothing is checked; a refused multi changes nothing.
    expect(c.create("/other", "x".repeat(100)).err).toBe(Err.Ok);
    const m = c.multi([rq.create("/other/1", null), rq.create("/a/f", null)]);
    expect(m.results.map((r) => r.err)).toEqual([Err.Ok, Err.QuotaExceeded]);
    expect(c.exists("/other/1").err).toBe(Err.NoNode);
    expect(h.pipeline.quotaExceededByNamespace()).toEqual(new Map([["a", 4]]));
    // Deleting makes room; raising the limit shows at once.
    expect(c.delete("/a/d")).toBe(Err.Ok);
    expect(c.create("/a/e", null).err).toBe(Err.Ok);
    expect(c.create("/a/f", null).err).toBe(Err.QuotaExceeded);
    expect(c.setData("/zookeeper/quota/a/zookeeper_limits", "count=3,bytes=10=;byteHardLimit=20;countHardLimit=5").err).toBe(Err.Ok);
    expect(c.create("/a/f", null).err).toBe(Err.Ok);
    // Without the limits node there is no quota.
    expect(c.delete("/zookeeper/quota/a/zookeeper_limits")).toBe(Err.Ok);
    expect(c.create("/a/g", "x".repeat(50)).err).toBe(Err.Ok);
  });

  it("without enforceQuota, and for soft limits, nothing is refused: usage past a limit is a warning", () => {
    const h = new Harness();
    const c = h.connect();
    c.create("/s", null);
    setquota(c, "/s", "count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=1");
    expect(c.create("/s/1", "ab").err).toBe(Err.Ok);
    expect(stats(h, "/s")).toBe("count=2,bytes=2");
    expect(h.tree.takeQuotaWarnings().warnings).toEqual([{ root: "/s", what: "count", usage: 2, limit: 1, hard: true }]);
    const e = new Harness({ enforceQuota: true });
    const ec = e.connect();
    ec.create("/s", null);
    setquota(ec, "/s", "count=1,bytes=1=;byteHardLimit=-1;countHardLimit=-1");
    expect(ec.create("/s/1", "ab").err).toBe(Err.Ok);
    expect(e.tree.takeQuotaWarnings().warnings.map((w) => `${w.what} ${w.hard}`)).toEqual(["count false", "bytes false"]);
  });

  it("counts prepared txns not yet applied: pipelined creates cannot pass a hard limit together, and a pending delete makes room", async () => {
    const log = new ManualCommitLog();
    log.holding = false;
    const h = new Harness({ log, enforceQuota: true });
    const [a, b] = [h.connect(), h.connect()];
    a.create("/p", null);
    setquota(a, "/p", "count=-1,bytes=-1=;byteHardLimit=12;countHardLimit=4");
    log.holding = true;
    const sent: [Client, number][] = [
      [a, a.send(rq.create("/p/1", "1234"))],
      [b, b.send(rq.create("/p/2", "1234"))],
      [a, a.send(rq.create("/p/3"))],
      [b, b.send(rq.create("/p/4"))],
    ];
    expect(h.tree.get("/p/1")).toBeUndefined(); // none applied yet
    await log.releaseAll();
    expect(sent.map(([c, x]) => c.replyTo(x)?.err)).toEqual([Err.Ok, Err.Ok, Err.Ok, Err.QuotaExceeded]);
    expect(stats(h, "/p")).toBe("count=4,bytes=8");
    // Bytes: a pending setData grows the usage before it applies.
    const grow = a.send(rq.setData("/p/1", "12345678"));
    const over = b.send(rq.create("/p/2/x", null));
    const tooBig = b.send(rq.setData("/p/2", "12345"));
    await log.releaseAll();
    expect([a.replyTo(grow)?.err, b.replyTo(over)?.err, b.replyTo(tooBig)?.err]).toEqual([Err.Ok, Err.QuotaExceeded, Err.QuotaExceeded]);
    expect(stats(h, "/p")).toBe("count=4,bytes=12");
    // A pending delete frees its count and bytes for the requests behind it.
    const del = a.send(rq.delete("/p/1"));
    const again = b.send(rq.create("/p/5", "12345678"));
    await log.releaseAll();
    expect([a.replyTo(del)?.err, b.replyTo(again)?.err]).toEqual([Err.Ok, Err.Ok]);
    expect(stats(h, "/p")).toBe("count=4,bytes=12");
    // In a multi, the earlier ops count for the later ones; a refused multi leaves nothing pending.
    log.holding = false;
    expect(a.delete("/p/5")).toBe(Err.Ok);
    const m = a.multi([rq.create("/p/6", null), rq.setData("/p/6", "1234"), rq.create("/p/7", null)]);
    expect(m.results.map((r) => r.err)).toEqual([Err.Ok, Err.Ok, Err.QuotaExceeded]);
    expect(a.create("/p/6", "123456789").err).toBe(Err.QuotaExceeded); // 4 + 9 bytes
    expect(a.create("/p/6", "12345678").err).toBe(Err.Ok);
    expect(stats(h, "/p")).toBe("count=4,bytes=12");
  });
});
