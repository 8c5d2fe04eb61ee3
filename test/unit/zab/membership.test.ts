// Quorum arithmetic of src/zab/membership.ts against brute force, and the committed /
// pending configuration tracking of dynamic reconfig (ZooKeeper 3.5).
import { describe, expect, it } from "vitest";
import { Configurations, majorityOf, membersOf, membershipOf } from "../../../src/zab/membership.js";
import type { Member } from "../../../src/zab/index.js";

const part = (...ids: number[]): Member[] => ids.map((id) => ({ id: BigInt(id), role: "participant" as const }));
const obs = (...ids: number[]): Member[] => ids.map((id) => ({ id: BigInt(id), role: "observer" as const }));

describe("membership", () => {
  it("a majority is more than half of the voters, duplicates and observers not counted (brute force over subsets)", () => {
    for (let n = 1; n <= 6; n++) {
      const voters = Array.from({ length: n }, (_, i) => i + 1);
      const m = membershipOf([...part(...voters), ...obs(10)], 0n);
      for (let mask = 0; mask < 1 << n; mask++) {
        const ids = voters.filter((_, i) => (mask >> i) & 1).map(BigInt);
        const expected = 2 * ids.length > n;
        expect(majorityOf(m, [...ids, ...ids, 10n])).toBe(expected);
      }
    }
  });

  it("lists members by id with their roles", () => {
    expect(membersOf(membershipOf([...obs(4), ...part(3, 1)], 7n))).toEqual([...part(1, 3), ...obs(4)]);
  });

  it("a logged reconfig is pending until it commits; quorums need both configurations meanwhile", () => {
    const c = new Configurations(part(1, 2, 3), 0n);
    const servers = part(3, 4, 5);
    c.noteLogged({ zxid: 0x1_0000_0005n, data: new Uint8Array() }, 0n, servers);
    expect(c.pending?.version).toBe(0x1_0000_0005n);
    expect(c.isQuorum([1n, 2n])).toBe(false); // a majority of the old one only
    expect(c.isQuorum([3n, 4n])).toBe(false); // of the new one only
    expect(c.isQuorum([2n, 3n, 4n])).toBe(true);
    expect(c.isVoter(5n)).toBe(true);
    expect(c.roleOf(5n)).toBe("participant");
    expect(c.isReconfig(0x1_0000_0005n)).toBe(true);
    expect(c.committedTxn(0x1_0000_0004n)).toBeUndefined();
    expect(c.committedTxn(0x1_0000_0005n)?.version).toBe(0x1_0000_0005n);
    expect(c.pending).toBeUndefined();
    expect(c.committed.voters).toEqual(new Set([3n, 4n, 5n]));
    expect(c.isVoter(1n)).toBe(false);
    expect(c.quorumSize).toBe(2);
  });

  it("a reconfig already committed, or a txn that is no reconfig, is not noted", () => {
    const c = new Configurations(part(1), 0n);
    c.noteLogged({ zxid: 5n, data: new Uint8Array() }, 5n, part(1, 2));
    c.noteLogged({ zxid: 6n, data: new Uint8Array() }, 5n, undefined);
    expect(c.pending).toBeUndefined();
    expect(c.isReconfig(5n)).toBe(false);
  });

  it("TRUNC forgets reconfigs after the truncation point; SNAP forgets all logged ones", () => {
    const c = new Configurations([...part(1, 2, 3), ...obs(4)], 0n);
    c.noteLogged({ zxid: 10n, data: new Uint8Array() }, 0n, part(1, 2, 3, 4));
    c.noteLogged({ zxid: 20n, data: new Uint8Array() }, 0n, part(1, 2));
    c.truncateAfter(15n);
    expect(c.isReconfig(20n)).toBe(false);
    expect(c.isReconfig(10n)).toBe(true);
    // The pending configuration was the one at 20: it is gone with its txn.
    expect(c.pending).toBeUndefined();
    expect(c.learnerRole(4n)).toBe("observer");
    c.forgetLogged();
    expect(c.isReconfig(10n)).toBe(false);
  });
});
