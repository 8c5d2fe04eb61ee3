// zkCli 3.8's quota commands (setquota, listquota, delquota): like zkCli they write the
// quota nodes themselves — `/zookeeper/quota<path>/zookeeper_limits` with the limits as
// ZooKeeper's StatsTrack text, and `zookeeper_stats` at `count=0,bytes=0`, which the
// server then keeps at the subtree's usage — and print what zkCli prints, on the same
// streams, with the same exit codes (a bad value is reported and exits 0, as zkCli's
// `return false`; a missing path or a nested quota exits 1).

import type { CorralClient } from "../../client/index.js";
import { OptionError, parseOptions, type Parsed } from "./options.js";
import { pathProblem } from "./paths.js";
import { CliError, type Shell, type ShellCommand } from "./shell.js";

const QUOTA = "/zookeeper/quota";
const LIMITS = "zookeeper_limits";
const STATS = "zookeeper_stats";

type Field = "count" | "bytes" | "countHardLimit" | "byteHardLimit";
/** The option letters of zkCli's quota option group, in its order, and the field each sets. */
const GROUP: readonly (readonly [string, Field, string])[] = [
  ["n", "count", "num soft quota"],
  ["b", "bytes", "bytes soft quota"],
  ["N", "countHardLimit", "num hard quota"],
  ["B", "byteHardLimit", "bytes hard quota"],
];

/** StatsTrack's text (ZooKeeper 3.7+): count and bytes first, then the other keys sorted after `=;`. */
function parseStatsTrack(data: Buffer | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const pair of (data?.toString("utf8") ?? "").split(/[,;]+/)) {
    const [key, value] = pair.split("=");
    if (key !== undefined && key !== "" && value !== undefined && /^[+-]?\d{1,18}$/.test(value.trim())) out.set(key.trim(), Number(value.trim()));
  }
  return out;
}

function formatStatsTrack(stats: ReadonlyMap<string, number>): string {
  const head = `count=${stats.get("count") ?? -1},bytes=${stats.get("bytes") ?? -1}`;
  const rest = [...stats.keys()].filter((k) => k !== "count" && k !== "bytes").sort();
  return rest.length === 0 ? head : `${head}=;${rest.map((k) => `${k}=${stats.get(k)}`).join(";")}`;
}

const get = (m: ReadonlyMap<string, number>, k: Field): number => m.get(k) ?? -1;

/** Options of the quota group, with commons-cli's group errors; at most one may be given. */
function parseGroup(words: readonly string[], takesValue: boolean, required: boolean): Parsed {
  let p: Parsed;
  try {
    p = parseOptions(words, Object.fromEntries(GROUP.map(([o]) => [o, takesValue])));
  } catch (e) {
    if (e instanceof OptionError) throw new CliError(e.message);
    throw e;
  }
  const given = [...p.options.keys()];
  if (given.length > 1) {
    throw new CliError(
      `org.apache.commons.cli.AlreadySelectedException: The option '${given[1]}' was specified but an option from this group has already been selected: '${given[0]}'`,
    );
  }
  if (required && given.length === 0) {
    const names = GROUP.map(([o, , what]) => `-${o} ${what}`).join(", ");
    throw new CliError(`org.apache.commons.cli.MissingOptionException: Missing required option: [${names}]`);
  }
  return p;
}

function checkPath(path: string): void {
  const problem = pathProblem(path);
  if (problem !== undefined) throw new CliError(problem);
}

/** A ZooKeeper call whose error ends the command as zkCli's CliWrapperException would. */
async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

async function exists(zk: CorralClient, path: string): Promise<boolean> {
  return (await call(zk.exists(path))) !== null;
}

/** A quota below `path` (not its own): SetQuotaCommand.checkIfChildQuota. */
async function childQuota(zk: CorralClient, path: string): Promise<string | undefined> {
  const top = QUOTA + path;
  checkPath(top);
  if (!(await exists(zk, top))) return undefined;
  const stack = [top];
  // Bounded by the quota tree: each node is visited once.
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let children: string[];
    try {
      children = (await zk.getChildren(dir)).sort();
    } catch {
      continue; // deleted meanwhile
    }
    if (dir !== top && children.includes(LIMITS)) return dir.slice(QUOTA.length);
    for (const c of children.reverse()) if (c !== LIMITS && c !== STATS) stack.push(`${dir}/${c}`);
  }
  return undefined;
}

/** A quota on a proper ancestor of `path`: SetQuotaCommand.checkIfParentQuota. */
async function parentQuota(zk: CorralClient, path: string): Promise<string | undefined> {
  const parts = path.split("/").slice(1, -1);
  let dir = "";
  for (const part of parts) {
    dir += `/${part}`;
    if (await exists(zk, `${QUOTA}${dir}/${LIMITS}`)) return dir;
  }
  return undefined;
}

/** The values given, as zkCli reads them; undefined (after its message) when one is bad. */
function quotaValue(sh: Shell, option: string, raw: string): number | undefined {
  const isCount = option === "n" || option === "N";
  const digits = isCount ? /^[+-]?\d{1,10}$/ : /^[+-]?\d{1,19}$/;
  const n = digits.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isNaN(n) || (isCount && (n > 2147483647 || n < -2147483648))) {
    sh.io.err("NumberFormatException happens when parsing the option value\n");
    return undefined;
  }
  if (isCount && n <= 0) {
    sh.io.err("the num quota must be greater than zero\n");
    return undefined;
  }
  if (!isCount && n < 0) {
    sh.io.err("the bytes quota must be greater than or equal to zero\n");
    return undefined;
  }
  return n;
}

/** SetQuotaCommand.checkQuota: a limit below what the subtree holds already is only a warning. */
function warnBelowUsage(sh: Shell, limits: ReadonlyMap<string, number>, stats: ReadonlyMap<string, number>): void {
  const count = get(stats, "count");
  const bytes = get(stats, "bytes");
  const below = (limit: number, used: number): boolean => limit > -1 && limit < used;
  if (below(get(limits, "count"), count) || below(get(limits, "countHardLimit"), count)) {
    sh.io.out(`[Warning]: the count quota you create is less than the existing count:${count}\n`);
  }
  if (below(get(limits, "bytes"), bytes) || below(get(limits, "byteHardLimit"), bytes)) {
    sh.io.out(`[Warning]: the bytes quota you create is less than the existing bytes:${bytes}\n`);
  }
}

export const setquota: ShellCommand = {
  name: "setquota",
  usage: "-n|-b|-N|-B val path",
  async run(sh, words) {
    const p = parseGroup(words, true, true);
    if (p.args.length < 2) throw new CliError(`setquota ${this.usage}`);
    const path = p.args[1]!;
    // A string prefix, as zkCli checks it: /zookeeper/quotax is refused too.
    if (path.startsWith(QUOTA)) {
      sh.io.err(`cannot set a quota under the path: ${QUOTA}\n`);
      return;
    }
    const [option, raw] = [...p.options][0]!;
    const value = quotaValue(sh, option, raw as string);
    if (value === undefined) return;
    const field = GROUP.find(([o]) => o === option)![1];
    checkPath(path);
    const zk = await sh.zk();
    if (!(await exists(zk, path))) throw new CliError(`${path} does not exist.`);
    const child = await childQuota(zk, path);
    if (child !== undefined) throw new CliError(`${path} has a child ${child} which has a quota`);
    const parent = await parentQuota(zk, path);
    if (parent !== undefined) throw new CliError(`${path} has a parent ${parent} which has a quota`);
    let dir = QUOTA;
    for (const part of path.split("/").slice(1)) {
      dir += `/${part}`;
      if (await exists(zk, dir)) continue;
      try {
        await zk.create(dir, null);
      } catch {
        // created by someone else meanwhile, as zkCli ignores NodeExists
      }
    }
    const limitsPath = `${dir}/${LIMITS}`;
    const statsPath = `${dir}/${STATS}`;
    if (!(await exists(zk, limitsPath))) {
      const limits = new Map<string, number>(GROUP.map(([, f]) => [f, f === field ? value : -1]));
      await call(zk.create(limitsPath, Buffer.from(formatStatsTrack(limits))));
      await call(zk.create(statsPath, Buffer.from("count=0,bytes=0")));
      const written = parseStatsTrack((await call(zk.getData(limitsPath))).data);
      warnBelowUsage(sh, written, parseStatsTrack((await call(zk.getData(statsPath))).data));
      return;
    }
    const limits = parseStatsTrack((await call(zk.getData(limitsPath))).data);
    limits.set(field, value);
    warnBelowUsage(sh, limits, parseStatsTrack((await call(zk.getData(statsPath))).data));
    await call(zk.setData(limitsPath, Buffer.from(formatStatsTrack(limits))));
  },
};

export const listquota: ShellCommand = {
  name: "listquota",
  usage: "path",
  async run(sh, words) {
    let p: Parsed;
    try {
      p = parseOptions(words, {});
    } catch (e) {
      throw e instanceof OptionError ? new CliError(e.message) : e;
    }
    if (p.args.length < 2) throw new CliError(`listquota ${this.usage}`);
    const path = p.args[1]!;
    const limitsPath = `${QUOTA}${path}/${LIMITS}`;
    sh.io.err(`absolute path is ${limitsPath}\n`);
    checkPath(limitsPath);
    const zk = await sh.zk();
    let lines: string[];
    try {
      const limits = parseStatsTrack((await zk.getData(limitsPath)).data);
      const stats = parseStatsTrack((await zk.getData(`${QUOTA}${path}/${STATS}`)).data);
      lines = [`Output quota for ${path} ${formatStatsTrack(limits)}`, `Output stat for ${path} ${formatStatsTrack(stats)}`];
    } catch {
      sh.io.err(`quota for ${path} does not exist.\n`);
      return;
    }
    for (const line of lines) sh.io.out(`${line}\n`);
  },
};

export const delquota: ShellCommand = {
  name: "delquota",
  usage: "[-n|-b|-N|-B] path",
  async run(sh, words) {
    const p = parseGroup(words, false, false);
    if (p.args.length < 2) throw new CliError(`delquota ${this.usage}`);
    const path = p.args[1]!;
    const dir = QUOTA + path;
    const limitsPath = `${dir}/${LIMITS}`;
    checkPath(limitsPath);
    const zk = await sh.zk();
    if (!(await exists(zk, limitsPath))) {
      sh.io.out(`Quota does not exist for ${path}\n`);
      return;
    }
    const option = [...p.options.keys()][0];
    if (option !== undefined) {
      const limits = parseStatsTrack((await call(zk.getData(limitsPath))).data);
      limits.set(GROUP.find(([o]) => o === option)![1], -1);
      await call(zk.setData(limitsPath, Buffer.from(formatStatsTrack(limits))));
      return;
    }
    for (const c of await call(zk.getChildren(dir))) await call(zk.delete(`${dir}/${c}`));
    // Then the quota directories left empty, up to /zookeeper/quota (DelQuotaCommand.trimProcQuotas).
    for (let d = dir; d !== QUOTA && d.startsWith(QUOTA + "/"); d = d.slice(0, d.lastIndexOf("/"))) {
      if ((await call(zk.getChildren(d))).length > 0) break;
      await call(zk.delete(d));
    }
  },
};
