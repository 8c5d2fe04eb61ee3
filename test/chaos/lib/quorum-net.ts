/**
 * Fault proxies on the quorum links of a real-process ensemble, so a test can partition one
 * member from the others (the leader or a follower) while the test process still reaches
 * every member's client port directly.
 *
 * Corral's quorum transport keeps one connection per pair of members, dialled by the member
 * with the higher id to the lower one's quorum port (src/net/quorum-transport.ts). So each
 * pair (a < b) gets one FaultProxy in front of a's quorum port, and b's zoo.cfg names that
 * proxy in its `server.a` line; every other line, and a's own, are the real ports. Isolating
 * member m acts on the proxies of every pair that contains m:
 *
 * - `cut`: every open connection reset and new ones refused (a clean partition: both sides
 *   see the link down at once);
 * - `blackhole`: no bytes either way and connections left open (a silent partition: each
 *   side finds out only by its own timeouts); held bytes are delivered in order on heal,
 *   as TCP would retransmit them (FaultProxy bounds what it holds).
 *
 * `heal(m)` undoes m's isolation on the pairs whose other end is not isolated too.
 */
import { FaultProxy } from "../../helpers/fault-proxy.js";

export type LinkFault = "cut" | "blackhole";

const HOST = "127.0.0.1";

export class QuorumNet {
  /** Proxy of the pair (a, b), a < b, keyed `${a}-${b}`. */
  readonly #pairs = new Map<string, FaultProxy>();
  /** Members isolated now, and how. */
  readonly #isolated = new Map<number, LinkFault>();

  private constructor() {}

  /**
   * Starts one proxy per pair of members (ids 1..n, quorum ports `quorumPorts[id - 1]`) and
   * returns the net and, per member, the quorum port its config must name for each member.
   */
  static async start(quorumPorts: readonly number[]): Promise<{ net: QuorumNet; portsSeenBy: number[][] }> {
    const net = new QuorumNet();
    const n = quorumPorts.length;
    const portsSeenBy = Array.from({ length: n }, () => [...quorumPorts]);
    for (let a = 1; a <= n; a++) {
      for (let b = a + 1; b <= n; b++) {
        const p = await FaultProxy.start({ host: HOST, port: quorumPorts[a - 1]! });
        net.#pairs.set(`${a}-${b}`, p);
        portsSeenBy[b - 1]![a - 1] = p.port; // b dials a through it
      }
    }
    return { net, portsSeenBy };
  }

  #linksOf(m: number): { proxy: FaultProxy; other: number }[] {
    const out: { proxy: FaultProxy; other: number }[] = [];
    for (const [key, proxy] of this.#pairs) {
      const [a, b] = key.split("-").map(Number) as [number, number];
      if (a === m) out.push({ proxy, other: b });
      else if (b === m) out.push({ proxy, other: a });
    }
    return out;
  }

  isolated(m: number): LinkFault | undefined {
    return this.#isolated.get(m);
  }

  /** Cuts member `m` off from every other member until `heal(m)`. */
  isolate(m: number, how: LinkFault): void {
    this.#isolated.set(m, how);
    for (const { proxy } of this.#linksOf(m)) {
      if (how === "cut") {
        proxy.refuse(true);
        proxy.cut();
      } else {
        proxy.blackhole();
      }
    }
  }

  heal(m: number): void {
    this.#isolated.delete(m);
    for (const { proxy, other } of this.#linksOf(m)) {
      const still = this.#isolated.get(other);
      if (still === "blackhole") {
        proxy.refuse(false); // the other end's black hole stays
      } else {
        proxy.heal();
        if (still === "cut") proxy.refuse(true);
      }
    }
  }

  healAll(): void {
    this.#isolated.clear();
    for (const p of this.#pairs.values()) p.heal();
  }

  async close(): Promise<void> {
    const all = [...this.#pairs.values()];
    this.#pairs.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}
