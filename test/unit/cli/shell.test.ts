// The shell's pure parts: zkCli's line splitting, commons-cli's option rules and
// messages, PathUtils' messages, and tab completion.
import { describe, expect, it } from "vitest";
import type { CorralClient } from "../../../src/client/index.js";
import { completer } from "../../../src/cli/shell/main.js";
import { OptionError, parseOptions, splitLine } from "../../../src/cli/shell/options.js";
import { pathProblem } from "../../../src/cli/shell/paths.js";
import type { ShellCommand } from "../../../src/cli/shell/shell.js";
import { aclEntry, permString } from "../../../src/cli/shell/format.js";

describe("splitLine (ZooKeeperMain.parseCommand)", () => {
  it("splits on blanks and strips one pair of surrounding quotes", () => {
    expect(splitLine("create /a 'hello world'")).toEqual(["create", "/a", "hello world"]);
    expect(splitLine('set /a "x y"  ')).toEqual(["set", "/a", "x y"]);
    expect(splitLine("  ls   /  ")).toEqual(["ls", "/"]);
    expect(splitLine("get a\"b")).toEqual(["get", 'a"b']);
    expect(splitLine("")).toEqual([]);
  });
});

describe("parseOptions (commons-cli DefaultParser)", () => {
  const spec = { s: false, e: false, t: true, v: true };
  it("takes options anywhere, concatenated flags, attached values, and -- ", () => {
    const p = parseOptions(["create", "-se", "/a", "-t1000", "data"], spec);
    expect(p.args).toEqual(["create", "/a", "data"]);
    expect([...p.options]).toEqual([["s", true], ["e", true], ["t", "1000"]]);
    expect(parseOptions(["set", "-v=3", "/a", "x"], spec).options.get("v")).toBe("3");
    // As zkCli 3.8: a negative number is a value for an option, but not an argument.
    expect(() => parseOptions(["set", "/a", "-1"], spec)).toThrow("Unrecognized option: -1");
    expect(parseOptions(["set", "-v", "-1", "/a", "x"], spec).options.get("v")).toBe("-1");
    expect(parseOptions(["create", "--", "-s", "/a"], spec).args).toEqual(["create", "-s", "/a"]);
  });
  it("fails with commons-cli's exception text", () => {
    expect(() => parseOptions(["create", "-x"], spec)).toThrow(new OptionError("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"));
    expect(() => parseOptions(["create", "-sx"], spec)).toThrow("Unrecognized option: -sx");
    expect(() => parseOptions(["create", "/a", "-t"], spec)).toThrow(
      new OptionError("org.apache.commons.cli.MissingArgumentException: Missing argument for option: t"),
    );
    expect(() => parseOptions(["create", "-t", "-s"], spec)).toThrow("Missing argument for option: t");
  });
});

describe("pathProblem (PathUtils.validatePath)", () => {
  it("gives ZooKeeper's messages", () => {
    expect(pathProblem("/a/b")).toBeUndefined();
    expect(pathProblem("/")).toBeUndefined();
    expect(pathProblem("a")).toBe("Path must start with / character");
    expect(pathProblem("")).toBe("Path length must be > 0");
    expect(pathProblem("/a/")).toBe("Path must not end with / character");
    expect(pathProblem("/a/", true)).toBeUndefined();
    expect(pathProblem("//a")).toBe('Invalid path string "//a" caused by empty node name specified @1');
    expect(pathProblem("/a/./b")).toBe('Invalid path string "/a/./b" caused by relative paths not allowed @3');
    expect(pathProblem("/a/..")).toBe('Invalid path string "/a/.." caused by relative paths not allowed @4');
    expect(pathProblem("/a\u0001")).toBe('Invalid path string "/a\u0001" caused by invalid character @2');
    expect(pathProblem("/a..b")).toBeUndefined();
  });
});

describe("ACL printing", () => {
  it("renders Ids as jute's ToStringOutputArchive and perms as ZKUtil", () => {
    expect(permString(31)).toBe("cdrwa");
    expect(permString(1 | 4)).toBe("cr");
    expect(aclEntry({ perms: 31, id: { scheme: "world", id: "anyone" } })).toBe("'world,'anyone\n: cdrwa\n");
    expect(aclEntry({ perms: 1, id: { scheme: "ip", id: "10.0.0.0/8,x%" } })).toBe("'ip,'10.0.0.0/8%2Cx%25\n: r\n");
  });
});

describe("tab completion", () => {
  const cmd = (name: string): ShellCommand => ({ name, usage: "", run: () => {} });
  const commands = new Map(["create", "close", "connect", "ls", "lock", "queue"].map((n) => [n, cmd(n)]));
  const client = {
    getChildren: async (path: string) => {
      if (path === "/") return ["zookeeper", "zoo", "app"];
      if (path === "/app") return ["b", "a"];
      throw new Error("NoNode");
    },
  } as unknown as CorralClient;
  const complete = (line: string): Promise<[string[], string]> =>
    new Promise((resolve) => completer({ commands, alive: true, client })(line, (_e, r) => resolve(r)));

  it("completes command names, recipe verbs and znode paths", async () => {
    expect(await complete("c")).toEqual([["close", "connect", "create"], "c"]);
    expect(await complete("lock w")).toEqual([["write"], "w"]);
    expect(await complete("queue ")).toEqual([["offer", "take", "peek", "size"], ""]);
    expect(await complete("ls /zoo")).toEqual([["/zoo", "/zookeeper"], "/zoo"]);
    expect(await complete("get -s /app/")).toEqual([["/app/a", "/app/b"], "/app/"]);
    expect(await complete("ls /nothing/x")).toEqual([[], "/nothing/x"]);
  });
});
