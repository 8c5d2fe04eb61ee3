// zkCli's commands (ZooKeeper 3.8, org.apache.zookeeper.cli.*), one function each, with
// the same option parsing, the same output on stdout (data, stat blocks, lists) and on
// stderr (confirmations such as "Created /x", errors), and the same quirks where
// scripts may rely on them (the deprecated `get path watch` forms, `delete path version`
// ignoring the version as zkCli 3.8 does, `setAcl -R` printing failures without a newline).

import { readFileSync } from "node:fs";
import { ClientWatchKind, WatcherType, ZooKeeperError, type ACL, type CorralClient, type NodeMode } from "../../client/index.js";
import { dynamicConfigText, parseDynamicConfig } from "../../config/index.js";
import { VERSION_LINE } from "../../server/index.js";
import { aclEntry, errorMessage, javaList, statLines } from "./format.js";
import { OptionError, parseOptions, splitLine, type OptionSpec, type Parsed } from "./options.js";
import { pathProblem } from "./paths.js";
import { delquota, listquota, setquota } from "./quota.js";
import { CliError, type Shell, type ShellCommand } from "./shell.js";

/** EphemeralType.TTL.maxValue(): 0x000000FFFFFFFFFF ms. */
const TTL_MAX = 1099511627775n;

function parse(words: readonly string[], spec: OptionSpec): Parsed {
  try {
    return parseOptions(words, spec);
  } catch (e) {
    if (e instanceof OptionError) throw new CliError(e.message);
    throw e;
  }
}

/** The Java client's path check (IllegalArgumentException -> MalformedPathException). */
function checkPath(path: string, sequential = false): void {
  const problem = pathProblem(path, sequential);
  if (problem !== undefined) throw new CliError(problem);
}

/** Runs a ZooKeeper call; a ZooKeeper error becomes zkCli's message (CliWrapperException). */
async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(errorMessage(e));
  }
}

/** Integer.parseInt, with NumberFormatException's message. */
function javaInt(raw: string): number {
  const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new CliError(`For input string: "${raw}"`);
  return n;
}

/** Integer.decode: decimal, 0x/0X/# hex, 0-prefixed octal. */
function javaDecode(raw: string): number {
  const m = /^([+-]?)(0[xX]|#|0(?=\d))?([0-9a-fA-F]+)$/.exec(raw);
  const radix = m?.[2] === undefined ? 10 : m[2] === "0" ? 8 : 16;
  const digits = m?.[3] ?? "";
  const valid = m !== null && (radix === 16 || /^[0-9]+$/.test(digits)) && (radix !== 8 || /^[0-7]+$/.test(digits));
  const n = valid ? Number.parseInt(digits, radix) * (m[1] === "-" ? -1 : 1) : Number.NaN;
  if (Number.isNaN(n) || n < -2147483648 || n > 2147483647) throw new CliError(`For input string: "${raw}"`);
  return n;
}

const usageOf = (name: string, usage: string): CliError => new CliError(`${name} ${usage}`);

/** AclParser.parse: bad entries are reported on stderr and skipped. */
function parseAcl(sh: Shell, text: string): ACL[] {
  const out: ACL[] = [];
  for (const a of text.split(",")) {
    const first = a.indexOf(":");
    const last = a.lastIndexOf(":");
    if (first === -1 || first === last) {
      sh.io.err(`${a} does not have the form scheme:id:perm\n`);
      continue;
    }
    let perms = 0;
    for (const ch of a.slice(last + 1)) {
      const bit = { r: 1, w: 2, c: 4, d: 8, a: 16 }[ch];
      if (bit === undefined) sh.io.err(`Unknown perm type: ${ch}\n`);
      else perms |= bit;
    }
    out.push({ perms, id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) } });
  }
  return out;
}

/** ZooKeeper.validateACL: an empty list is InvalidACL with no path. */
function checkAcl(acl: readonly ACL[]): void {
  if (acl.length === 0) throw new CliError("Acl is not valid : null");
}

/** ZKUtil.visitSubTreeDFS: the root (which must exist), then each level's children, sorted. */
async function visitSubTree(zk: CorralClient, root: string, watch: boolean, visit: (path: string) => Promise<void> | void, sh: Shell): Promise<void> {
  checkPath(root);
  await call(zk.getData(root, watch ? { watch: sh.watcher } : {}));
  await visit(root);
  const walk = async (path: string): Promise<void> => {
    let children: string[];
    try {
      children = (await zk.getChildren(path, watch ? { watch: sh.watcher } : {})).sort();
    } catch (e) {
      if (ZooKeeperError.is(e, "NoNode")) return;
      throw new CliError(errorMessage(e));
    }
    const full = children.map((c) => (path === "/" ? `/${c}` : `${path}/${c}`));
    for (const p of full) await visit(p);
    for (const p of full) await walk(p);
  };
  await walk(root);
}

const ls: ShellCommand = {
  name: "ls",
  usage: "[-s] [-w] [-R] path",
  async run(sh, words) {
    const spec = { "?": false, s: false, w: false, R: false };
    let p = parse(words, spec);
    if (p.options.has("?")) sh.io.out("usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n");
    if (p.args.length > 2) {
      words = [...words];
      words[2] = "-w";
      sh.io.err("'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.\n");
      p = parse(words, spec);
    }
    if (p.args.length < 2) throw usageOf("ls", this.usage);
    const path = p.args[1]!;
    const watch = p.options.has("w");
    const zk = await sh.zk();
    if (p.options.has("R")) {
      await visitSubTree(zk, path, watch, (x) => sh.io.out(`${x}\n`), sh);
      return;
    }
    checkPath(path);
    const opts = watch ? { watch: sh.watcher } : {};
    if (p.options.has("s")) {
      const r = await call(zk.getChildren2(path, opts));
      sh.io.out(`${javaList(r.children.sort())}\n${statLines(r.stat)}`);
    } else {
      sh.io.out(`${javaList((await call(zk.getChildren(path, opts))).sort())}\n`);
    }
  },
};

const get: ShellCommand = {
  name: "get",
  usage: "[-s] [-w] path",
  async run(sh, words) {
    const spec = { s: false, w: false };
    let p = parse(words, spec);
    if (p.args.length < 2) throw usageOf("get", this.usage);
    if (p.args.length > 2) {
      words = [...words];
      words[2] = "-w";
      sh.io.err("'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.\n");
      p = parse(words, spec);
    }
    const path = p.args[1]!;
    checkPath(path);
    const zk = await sh.zk();
    const r = await call(zk.getData(path, p.options.has("w") ? { watch: sh.watcher } : {}));
    sh.io.out(`${r.data === null ? "null" : r.data.toString("utf8")}\n`);
    if (p.options.has("s")) sh.io.out(statLines(r.stat));
  },
};

const stat: ShellCommand = {
  name: "stat",
  usage: "[-w] path",
  async run(sh, words) {
    const spec = { w: false };
    let p = parse(words, spec);
    if (p.args.length < 2) throw usageOf("stat", this.usage);
    if (p.args.length > 2) {
      words = [...words];
      words[2] = "-w";
      sh.io.err("'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.\n");
      p = parse(words, spec);
    }
    const path = p.args[1]!;
    checkPath(path);
    const zk = await sh.zk();
    const s = await call(zk.exists(path, p.options.has("w") ? { watch: sh.watcher } : {}));
    if (s === null) throw new CliError(`Node does not exist: ${path}`);
    sh.io.out(statLines(s));
  },
};

const create: ShellCommand = {
  name: "create",
  usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
  async run(sh, words) {
    const p = parse(words, { e: false, s: false, c: false, t: true });
    if (p.args.length < 2) throw usageOf("create", this.usage);
    const [e, s, c, t] = ["e", "s", "c", "t"].map((k) => p.options.has(k));
    if (c && (e || s)) throw new CliError("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.");
    let ttl = 0n;
    if (t) {
      const raw = p.options.get("t") as string;
      if (!/^[+-]?\d+$/.test(raw) || BigInt(raw) > 0x7fffffffffffffffn || BigInt(raw) < -0x8000000000000000n) {
        throw new CliError("-t argument must be a long value");
      }
      ttl = BigInt(raw);
    }
    if (t && e) throw new CliError("TTLs cannot be used with Ephemeral znodes");
    if (t && c) throw new CliError("TTLs cannot be used with Container znodes");
    const mode: NodeMode =
      e && s ? "ephemeralSequential" : e ? "ephemeral" : s ? (t ? "persistentSequentialTtl" : "persistentSequential") : c ? "container" : t ? "persistentTtl" : "persistent";
    if (t && (ttl <= 0n || ttl > TTL_MAX)) throw new CliError(`ttl must be positive and cannot be larger than: ${TTL_MAX}`);
    const path = p.args[1]!;
    const data = p.args.length > 2 ? Buffer.from(p.args[2]!, "utf8") : null;
    const acl = p.args.length > 3 ? parseAcl(sh, p.args[3]!) : undefined;
    checkPath(path, s);
    if (acl !== undefined && acl.length === 0) {
      sh.io.err("KeeperErrorCode = InvalidACL\n");
      checkAcl(acl);
    }
    const zk = await sh.zk();
    try {
      const created = await zk.create(path, data, { mode, ...(acl === undefined ? {} : { acl }), ...(t ? { ttlMs: Number(ttl) } : {}) });
      sh.io.err(`Created ${created}\n`);
    } catch (err) {
      if (ZooKeeperError.is(err, "EphemeralOnLocalSession")) sh.io.err("Unable to create ephemeral node on a local session\n");
      if (ZooKeeperError.is(err, "InvalidAcl")) sh.io.err(`${err.message}\n`);
      throw new CliError(errorMessage(err));
    }
  },
};

const set: ShellCommand = {
  name: "set",
  usage: "[-s] [-v version] path data",
  async run(sh, words) {
    const p = parse(words, { s: false, v: true });
    if (p.args.length < 3) throw usageOf("set", this.usage);
    const path = p.args[1]!;
    const version = p.options.has("v") ? javaInt(p.options.get("v") as string) : -1;
    checkPath(path);
    const zk = await sh.zk();
    const s = await call(zk.setData(path, Buffer.from(p.args[2]!, "utf8"), { version }));
    if (p.options.has("s")) sh.io.out(statLines(s));
  },
};

const del: ShellCommand = {
  name: "delete",
  usage: "[-v version] path",
  async run(sh, words) {
    const p = parse(words, { v: true });
    if (p.args.length < 2) throw usageOf("delete", this.usage);
    // zkCli 3.8 warns about `delete path version` and then deletes any version.
    if (p.args.length > 2) sh.io.err("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.\n");
    const path = p.args[1]!;
    const version = p.options.has("v") ? javaInt(p.options.get("v") as string) : -1;
    checkPath(path);
    const zk = await sh.zk();
    await call(zk.delete(path, { version }));
  },
};

const deleteall: ShellCommand = {
  name: "deleteall",
  usage: "path [-b batch size]",
  async run(sh, words) {
    const p = parse(words, { b: true });
    if (p.args.length < 2) throw usageOf("deleteall", this.usage);
    let batch = 1000;
    if (p.options.has("b")) {
      const raw = p.options.get("b") as string;
      const n = /^[+-]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) throw new CliError("-b argument must be an int value");
      batch = n;
    }
    const root = p.args[1]!;
    checkPath(root);
    const zk = await sh.zk();
    // ZKUtil.deleteRecursive: list the subtree breadth first, delete deepest first in
    // multis of `batch` deletes; a failed multi stops it.
    const tree = [root];
    for (let i = 0; i < tree.length; i++) {
      const node = tree[i]!;
      for (const c of await call(zk.getChildren(node))) tree.push(node === "/" ? `/${c}` : `${node}/${c}`);
    }
    let ops: { op: "delete"; path: string }[] = [];
    for (let i = tree.length - 1; i >= 0; i--) {
      ops.push({ op: "delete", path: tree[i]! });
      if (ops.length === batch || i === 0) {
        try {
          await zk.multi(ops);
        } catch (e) {
          if (!(e instanceof ZooKeeperError)) throw e;
          sh.io.err("Failed to delete some node(s) in the subtree!\n");
          return;
        }
        ops = [];
      }
    }
  },
};

const getAcl: ShellCommand = {
  name: "getAcl",
  usage: "[-s] path",
  async run(sh, words) {
    const p = parse(words, { s: false });
    if (p.args.length < 2) throw usageOf("getAcl", this.usage);
    const path = p.args[1]!;
    checkPath(path);
    const zk = await sh.zk();
    const r = await call(zk.getACL(path));
    sh.io.out(r.acl.map(aclEntry).join(""));
    if (p.options.has("s")) sh.io.out(statLines(r.stat));
  },
};

const setAcl: ShellCommand = {
  name: "setAcl",
  usage: "[-s] [-v version] [-R] path acl",
  async run(sh, words) {
    const p = parse(words, { s: false, v: true, R: false });
    if (p.args.length < 3) throw usageOf("setAcl", this.usage);
    const path = p.args[1]!;
    const acl = parseAcl(sh, p.args[2]!);
    const version = p.options.has("v") ? javaInt(p.options.get("v") as string) : -1;
    const zk = await sh.zk();
    if (p.options.has("R")) {
      await visitSubTree(
        zk,
        path,
        false,
        async (x) => {
          try {
            checkAcl(acl);
            await zk.setACL(x, acl, { version });
          } catch (e) {
            // zkCli prints each failure's message without a line end.
            sh.io.out(e instanceof ZooKeeperError ? e.message : (e as Error).message);
          }
        },
        sh,
      );
      return;
    }
    checkPath(path);
    checkAcl(acl);
    const s = await call(zk.setACL(path, acl, { version }));
    if (p.options.has("s")) sh.io.out(statLines(s));
  },
};

const addauth: ShellCommand = {
  name: "addauth",
  usage: "scheme auth",
  async run(sh, words) {
    const p = parse(words, {});
    if (p.args.length < 2) throw usageOf("addauth", this.usage);
    const zk = await sh.zk();
    // The Java client sends it and returns; a refusal shows as an AuthFailed event.
    await zk.addAuth(p.args[1]!, Buffer.from(p.args[2] ?? "", "utf8")).catch(() => undefined);
  },
};

const sync: ShellCommand = {
  name: "sync",
  usage: "path",
  async run(sh, words) {
    const p = parse(words, {});
    if (p.args.length < 2) throw usageOf("sync", this.usage);
    const path = p.args[1]!;
    checkPath(path);
    const zk = await sh.zk();
    try {
      await zk.sync(path);
      sh.io.out("Sync is OK\n");
    } catch (e) {
      if (!(e instanceof ZooKeeperError)) throw e;
      sh.io.out(`Sync has failed. rc=${e.errno}\n`);
    }
  },
};

const ADD_WATCH_USAGE = "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE";

const addWatch: ShellCommand = {
  name: "addWatch",
  usage: ADD_WATCH_USAGE,
  async run(sh, words) {
    const p = parse(words, { m: true });
    if (p.args.length !== 2) throw usageOf("addWatch", this.usage);
    let recursive = true;
    if (p.options.has("m")) {
      const mode = (p.options.get("m") as string).toUpperCase();
      if (mode !== "PERSISTENT" && mode !== "PERSISTENT_RECURSIVE") throw usageOf("addWatch", this.usage);
      recursive = mode === "PERSISTENT_RECURSIVE";
    }
    const path = p.args[1]!;
    checkPath(path);
    const zk = await sh.zk();
    await call(zk.addWatch(path, sh.watcher, { recursive }));
  },
};

const removewatches: ShellCommand = {
  name: "removewatches",
  usage: "path [-c|-d|-a] [-l]",
  async run(sh, words) {
    const p = parse(words, { c: false, d: false, a: false, l: false });
    if (p.args.length < 2) throw usageOf("removewatches", this.usage);
    const path = p.args[1]!;
    const type = p.options.has("c") ? WatcherType.Children : p.options.has("d") ? WatcherType.Data : WatcherType.Any;
    checkPath(path);
    const zk = await sh.zk();
    // The Java client tells the removed watchers: one event per kind of watch removed.
    const K = ClientWatchKind;
    const kinds = [
      { kinds: [K.Data, K.Exist], event: "DataWatchRemoved", code: 5, removedBy: WatcherType.Data },
      { kinds: [K.Child], event: "ChildWatchRemoved", code: 6, removedBy: WatcherType.Children },
      { kinds: [K.Persistent, K.PersistentRecursive], event: "PersistentWatchRemoved", code: 7, removedBy: WatcherType.Any },
    ] as const;
    const held = kinds.filter((k) => (type === WatcherType.Any || type === k.removedBy) && k.kinds.some((kind) => zk.watches.has(kind, path)));
    await call(zk.removeWatches(path, type, undefined, { local: p.options.has("l") }));
    for (const k of held) sh.watcher({ type: k.event, code: k.code, path });
  },
};

const getEphemerals: ShellCommand = {
  name: "getEphemerals",
  usage: "path",
  async run(sh, words) {
    const p = parse(words, {});
    const path = p.args[1] ?? "/";
    checkPath(path);
    const zk = await sh.zk();
    sh.io.out(`${javaList(await call(zk.getEphemerals(path)))}\n`);
  },
};

const getAllChildrenNumber: ShellCommand = {
  name: "getAllChildrenNumber",
  usage: "path",
  async run(sh, words) {
    const p = parse(words, {});
    if (p.args.length < 2) throw usageOf("getAllChildrenNumber", this.usage);
    const path = p.args[1]!;
    checkPath(path);
    const zk = await sh.zk();
    sh.io.out(`${await call(zk.getAllChildrenNumber(path))}\n`);
  },
};

const whoami: ShellCommand = {
  name: "whoami",
  usage: "",
  async run(sh) {
    const zk = await sh.zk();
    const ids = await call(zk.whoAmI());
    sh.io.out("Auth scheme: User\n" + ids.map((i) => `${i.authScheme}: ${i.user}\n`).join(""));
  },
};

/** ConfigUtils.getClientConfigStr: `version host:port,host:port` from the dynamic config. */
function clientConfigStr(config: string): string {
  let version = "";
  const hosts: string[] = [];
  for (const raw of config.split("\n")) {
    const eq = raw.indexOf("=");
    if (eq === -1) continue;
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (key === "version") version = value;
    if (!key.startsWith("server.")) continue;
    const client = value.split(";")[1];
    if (client === undefined) continue;
    const colon = client.lastIndexOf(":");
    hosts.push(colon === -1 ? `0.0.0.0:${client}` : client);
  }
  return `${version} ${hosts.join(",")}`;
}

const config: ShellCommand = {
  name: "config",
  usage: "[-c] [-w] [-s]",
  async run(sh, words) {
    const p = parse(words, { s: false, w: false, c: false });
    const zk = await sh.zk();
    const r = await call(zk.getData("/zookeeper/config", p.options.has("w") ? { watch: sh.watcher } : {}));
    const text = r.data === null ? "null" : r.data.toString("utf8");
    sh.io.out(`${p.options.has("c") ? clientConfigStr(text) : text}\n`);
    if (p.options.has("s")) sh.io.out(statLines(r.stat));
  },
};

const RECONFIG_USAGE =
  "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | " +
  "[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]";

/** ReconfigCommand: incremental (-add/-remove) or bulk (-members, or -file with a dynamic config). */
const reconfig: ShellCommand = {
  name: "reconfig",
  usage: RECONFIG_USAGE,
  async run(sh, words) {
    const p = parse(words, { s: false, v: true, file: true, members: true, add: true, remove: true });
    const has = (o: string): boolean => p.options.has(o);
    const value = (o: string): string | undefined => (has(o) ? (p.options.get(o) as string).toLowerCase() : undefined);
    if (!has("file") && !has("members") && !has("add") && !has("remove")) throw usageOf("reconfig", this.usage);
    let fromConfig = -1n;
    if (has("v")) {
      const v = p.options.get("v") as string;
      if (!/^[+-]?[0-9a-fA-F]{1,16}$/.test(v)) throw new CliError("-v must be followed by a long (configuration version)");
      fromConfig = BigInt.asIntN(64, BigInt(v.startsWith("-") ? `-0x${v.slice(1)}` : `0x${v.replace(/^\+/, "")}`));
    }
    if ((has("file") || has("members")) && (has("add") || has("remove"))) {
      throw new CliError(
        "Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)",
      );
    }
    if (has("file") && has("members")) throw new CliError("Can't use -file and -members together (conflicting non-incremental modes)");
    let members = value("members");
    if (has("file")) {
      // As zkCli: the file is checked here and sent as the configuration's text.
      const path = p.options.get("file") as string;
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        throw new CliError(`Error processing ${path}${(e as Error).message}`);
      }
      const parsed = parseDynamicConfig(text);
      if (!parsed.ok) throw new CliError(`Error processing ${path}${parsed.problem}`);
      members = dynamicConfigText(parsed.value.servers, parsed.value.version);
    }
    const zk = await sh.zk();
    const change = {
      ...(has("add") ? { joining: value("add")! } : {}),
      ...(has("remove") ? { leaving: value("remove")! } : {}),
      ...(members === undefined ? {} : { members }),
      fromConfig,
    };
    const r = await call(zk.reconfig(change));
    sh.io.out(`Committed new configuration:\n${r.data === null ? "null" : r.data.toString("utf8")}\n`);
    if (has("s")) sh.io.out(statLines(r.stat));
  },
};

const close: ShellCommand = {
  name: "close",
  usage: "",
  async run(sh) {
    await sh.closeSession();
  },
};

const version: ShellCommand = {
  name: "version",
  usage: "",
  run(sh, words) {
    if (parse(words, {}).args.length > 1) throw usageOf("version", this.usage);
    sh.io.out(`ZooKeeper CLI version: ${VERSION_LINE.replace(/^Zookeeper version: /, "")}\n`);
  },
};

/** Listed, as zkCli lists them, but Corral's shell does not run them yet. */
const unsupported = (name: string, usage: string): ShellCommand => ({
  name,
  usage,
  run() {
    throw new CliError(`${name} is not supported by corral cli`);
  },
});

// Commands zkCli runs itself (ZooKeeperMain.processZKCmd), before its connection check.

const connect: ShellCommand = {
  name: "connect",
  usage: "host:port",
  local: true,
  async run(sh, words) {
    try {
      await sh.connect(words[1] ?? sh.host);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  },
};

const history: ShellCommand = {
  name: "history",
  usage: "",
  local: true,
  run(sh) {
    for (let i = sh.commandCount - 10; i <= sh.commandCount; i++) {
      if (i >= 0) sh.io.out(`${i} - ${sh.history.get(i)}\n`);
    }
  },
};

const redo: ShellCommand = {
  name: "redo",
  usage: "cmdno",
  local: true,
  async run(sh, words) {
    if (words.length < 2) return;
    const i = javaDecode(words[1]!);
    if (sh.commandCount <= i || i < 0) throw new CliError("Command index out of range");
    const line = sh.history.get(i)!;
    const again = splitLine(line);
    if (again[0] === "redo") throw new CliError("No redoing redos");
    sh.history.set(sh.commandCount, line);
    await sh.run(again);
  },
};

const printwatches: ShellCommand = {
  name: "printwatches",
  usage: "on|off",
  local: true,
  run(sh, words) {
    if (words.length === 1) sh.io.out(`printwatches is ${sh.printWatches ? "on" : "off"}\n`);
    else sh.printWatches = words[1] === "on";
  },
};

const quit: ShellCommand = { name: "quit", usage: "", local: true, run() {} };

export const ZK_COMMANDS: readonly ShellCommand[] = [
  addWatch,
  addauth,
  close,
  config,
  connect,
  create,
  del,
  deleteall,
  delquota,
  get,
  getAcl,
  getAllChildrenNumber,
  getEphemerals,
  history,
  listquota,
  ls,
  printwatches,
  quit,
  reconfig,
  redo,
  removewatches,
  set,
  setAcl,
  setquota,
  stat,
  sync,
  version,
  whoami,
];
