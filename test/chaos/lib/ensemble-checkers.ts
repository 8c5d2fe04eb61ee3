/**
 * Checkers for ZAB-level fault runs (ensemble-run.ts): pure functions over what the run
 * recorded (the writes and their outcomes, the leaders observed) and what it read back
 * from every member after healing (each member's tree). Each property is defined in the
 * doc comment of its checker; test/unit/chaos/ensemble-checkers.test.ts shows each can fail.
 */

export type EnsembleProperty = "lost-write" | "phantom-write" | "register" | "divergence" | "two-leaders-in-epoch" | "liveness" | "crash";

export interface EnsembleViolation {
  property: EnsembleProperty;
  detail: string;
}

/** One znode as read from one member: its data (utf8) and the zxids that created/changed it. */
export interface NodeView {
  data: string;
  czxid: string;
  mzxid: string;
  version: number;
}

/** One member's whole tree (outside /zookeeper), path -> node. */
export interface MemberTree {
  member: number;
  nodes: ReadonlyMap<string, NodeView>;
}

/** An outcome: acknowledged, failed (maybe applied: connection loss), or never settled. */
export type Outcome = "ok" | "failed" | "pending";

/** Creates of unique znodes under `createRoot`: path -> (data written, outcome). */
export type CreateLog = ReadonlyMap<string, { data: string; outcome: Outcome }>;

/** setData calls on registers, in the order their single writer issued them. */
export type RegisterLog = ReadonlyMap<string, readonly { value: string; outcome: Outcome }[]>;

/**
 * No acknowledged write is lost; no write appears that was never issued.
 *
 * `lost-write`: a create that returned success is missing on some member, or holds other
 * data. `phantom-write`: a node under `createRoot` that no client ever tried to create.
 */
export function checkCreates(trees: readonly MemberTree[], createRoot: string, creates: CreateLog): EnsembleViolation[] {
  const out: EnsembleViolation[] = [];
  for (const t of trees) {
    let missing = 0;
    const examples: string[] = [];
    for (const [path, w] of creates) {
      if (w.outcome !== "ok") continue;
      const n = t.nodes.get(path);
      if (n !== undefined && n.data === w.data) continue;
      missing++;
      if (examples.length < 5) examples.push(n === undefined ? path : `${path} (data ${JSON.stringify(n.data)})`);
    }
    if (missing > 0) out.push({ property: "lost-write", detail: `member ${t.member} lacks ${missing} acknowledged create(s), e.g. ${examples.join(", ")}` });
    for (const path of t.nodes.keys()) {
      if (path.startsWith(`${createRoot}/`) && !creates.has(path)) out.push({ property: "phantom-write", detail: `member ${t.member} has ${path}, which no client created` });
    }
  }
  return out;
}

/**
 * Every register holds a value its writer may have left there.
 *
 * Each register has one writer, which issues its setData calls one after another. Its
 * final value must be the last acknowledged one, or one issued after it whose outcome is
 * unknown (failed or never settled: it may have been applied); with nothing acknowledged,
 * the initial "" is allowed too. Anything else means an acknowledged write was lost or
 * reordered.
 *
 * This is stricter than linearizability, which would let a write of unknown outcome land
 * at any time after it was issued, even after a later acknowledged one. ZooKeeper forbids
 * that within one session (a session's requests apply in order, and a request from a server
 * the session has moved away from is refused: SESSIONMOVED). Across sessions it may
 * happen: if this fires, check whether the two writes went out on different sessions (a
 * writer whose session was lost goes on with a new one) before calling it a bug.
 */
export function checkRegisters(trees: readonly MemberTree[], registers: RegisterLog): EnsembleViolation[] {
  const out: EnsembleViolation[] = [];
  for (const [path, writes] of registers) {
    let lastOk = -1;
    writes.forEach((w, i) => {
      if (w.outcome === "ok") lastOk = i;
    });
    // From the last acknowledged write on (none acknowledged: every write) — all after it
    // have an unknown outcome.
    const allowed = new Set(writes.slice(Math.max(0, lastOk)).map((w) => w.value));
    if (lastOk === -1) allowed.add("");
    for (const t of trees) {
      const v = t.nodes.get(path)?.data;
      if (v === undefined || !allowed.has(v)) {
        out.push({
          property: "register",
          detail: `member ${t.member}: ${path} = ${JSON.stringify(v)}; last acknowledged ${lastOk === -1 ? "none" : JSON.stringify(writes[lastOk]!.value)}, allowed ${JSON.stringify([...allowed].slice(0, 5))}`,
        });
      }
    }
  }
  return out;
}

/**
 * No divergence: after healing and a sync, every member holds the same tree — the same
 * paths, each with the same data, czxid, mzxid and version (so the same zxid-ordered
 * history of every node). Reports the first few differences against the first member.
 */
export function checkDivergence(trees: readonly MemberTree[]): EnsembleViolation[] {
  const out: EnsembleViolation[] = [];
  const [ref, ...rest] = trees;
  if (ref === undefined) return out;
  const same = (a: NodeView, b: NodeView): boolean => a.data === b.data && a.czxid === b.czxid && a.mzxid === b.mzxid && a.version === b.version;
  for (const t of rest) {
    const diffs: string[] = [];
    let count = 0;
    for (const [path, a] of ref.nodes) {
      const b = t.nodes.get(path);
      if (b !== undefined && same(a, b)) continue;
      count++;
      if (diffs.length < 3) diffs.push(b === undefined ? `${path} only on ${ref.member}` : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    for (const path of t.nodes.keys()) {
      if (ref.nodes.has(path)) continue;
      count++;
      if (diffs.length < 3) diffs.push(`${path} only on ${t.member}`);
    }
    if (count > 0) out.push({ property: "divergence", detail: `members ${ref.member} and ${t.member} differ at ${count} node(s): ${diffs.join("; ")}` });
  }
  return out;
}

/** A member seen serving as leader, with the epoch it had acknowledged as current. */
export interface LeaderSighting {
  t: number;
  member: number;
  epoch: number;
}

/** At most one leader per epoch: two members never seen serving as leader in one epoch. */
export function checkLeaders(sightings: readonly LeaderSighting[]): EnsembleViolation[] {
  const first = new Map<number, LeaderSighting>();
  const out: EnsembleViolation[] = [];
  const reported = new Set<string>();
  for (const s of sightings) {
    const f = first.get(s.epoch);
    if (f === undefined) {
      first.set(s.epoch, s);
      continue;
    }
    const key = `${s.epoch}:${s.member}`;
    if (f.member !== s.member && !reported.has(key)) {
      reported.add(key);
      out.push({ property: "two-leaders-in-epoch", detail: `epoch ${s.epoch}: member ${f.member} led at t=${f.t} and member ${s.member} at t=${s.t}` });
    }
  }
  return out;
}
