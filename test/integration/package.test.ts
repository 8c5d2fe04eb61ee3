// The npm package as a user gets it: `npm pack` the built package, `npm install` the
// tarball into a fresh app directory (offline: the app's package-lock.json is seeded with
// the project's own production dependency entries, so npm takes every tarball from the
// cache by its integrity; --prefer-offline if one is missing), then in that app import both exports, run a TestingServer and a
// 3-member TestingCluster from the installed package, type-check both exports, and find the
// packaged default config from a directory that has none; and the shipped examples, copied
// out of the installed package into the app (so their `import ... from "corral"` is the
// installed tarball), run as test/examples runs them (the same runs, test/examples/
// scenarios.ts) against a TestingServer from the installed package's corral/testing.
// Checked on the way: the tarball holds only what users run (no bench, no tests, no source
// maps), and installing it prints no warning and runs no build (no lifecycle script).
//
// Needs dist/ built (npm test builds first).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceDiscoveryRun, shortSessions, workerPoolRun } from "../examples/scenarios.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
/** The examples' short sessions (a killed instance's session expires within 3 s), as in test/examples. */
const EXAMPLE_TICK_MS = 150;

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command to its end; the environment without the outer npm's npm_* variables. */
function run(cmd: string, args: readonly string[], cwd: string): Promise<Ran> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
  const p = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
  p.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
  return new Promise((resolve, reject) => {
    p.once("error", reject);
    p.once("exit", (code) => resolve({ code, out, err }));
  });
}

/** The app's lockfile: the project's production dependencies as locked, nothing else. */
async function seededLock(): Promise<string> {
  const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = { "": { name: "app", version: "1.0.0" } };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== "" && entry.dev !== true) packages[path] = entry;
  return JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 1);
}

const APP_TEST = `
import { connect } from "corral";
import { TestingCluster, TestingServer } from "corral/testing";

const server = await TestingServer.start();
const client = await connect(server.connectString);
await client.create("/from-the-app", "hello");
const read = String((await client.getData("/from-the-app")).data);
await client.close();
await server.stop();

const cluster = await TestingCluster.start({ size: 3 });
const c2 = await connect(cluster.connectString, { sessionTimeoutMs: 10_000 });
const leader = await cluster.leaderIndex();
await cluster.kill(leader);
const next = await cluster.leaderIndex();
await c2.create("/after", "1");
await cluster.restart(leader);
await c2.close();
await cluster.stop();
console.log(JSON.stringify({ read, members: cluster.members.map((m) => m.myid), newLeader: next !== leader }));
`;

const APP_TYPES = `
import { connect, type CorralClient } from "corral";
import { ConnectionFaults, TestingCluster, TestingServer, expireSession, type TestingMember } from "corral/testing";

export async function typed(): Promise<void> {
  const server: TestingServer = await TestingServer.start({ tickTimeMs: 100 });
  const client: CorralClient = await connect(server.connectString);
  const faults: ConnectionFaults = await ConnectionFaults.start(server);
  faults.cut();
  await expireSession(server, client);
  const cluster = await TestingCluster.start({ size: 3 });
  const first: TestingMember | undefined = cluster.members[0];
  const port: number | undefined = first?.clientPort;
  void port;
  // @ts-expect-error: restart takes a member index
  await cluster.restart("1");
}
`;

/** Whether something listens on 127.0.0.1:port. */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** [major, minor, patch] of "20", "20.4" or "20.4.0". */
function versionOf(v: string): number[] {
  return [...v.split(".").map(Number), 0, 0].slice(0, 3);
}

function atLeast(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

it("engines: the package's minimum Node satisfies every production dependency's engines from there up", async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
  const ours = /^>=(\d+(?:\.\d+){0,2})$/.exec(pkg.engines.node)?.[1];
  expect(ours, pkg.engines.node).toBeDefined();
  // Symbol.asyncDispose (the lock handles' `await using`) is in Node from 20.4.0.
  expect(atLeast(versionOf(ours!), [20, 4, 0])).toBe(true);
  const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; engines?: { node?: string } }> };
  const unmet: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = entry.engines?.node;
    if (path === "" || entry.dev === true || range === undefined) continue;
    // Met when one alternative is ">=X" with X at or below our minimum (a "^N" alternative stops at N's end).
    const floors = range.split("||").map((alt) => /^\s*>=\s*v?(\d+(?:\.\d+){0,2})(?:\.x)?\s*$/.exec(alt)?.[1]);
    if (!floors.some((f) => f !== undefined && atLeast(versionOf(ours!), versionOf(f)))) unmet.push(`${path}: ${range}`);
  }
  expect(unmet).toEqual([]);
});

describe("the npm package", () => {
  let tmp = "";
  let files: string[] = [];
  let tarball = "";
  let app = "";
  let install: Ran = { code: null, out: "", err: "" };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dist", "src", "testing", "index.js"))) throw new Error("dist/ is not built: run `npm run build` first (npm test does)");
    tmp = await mkdtemp(join(tmpdir(), "corral-package-"));
    const pack = await run("npm", ["pack", "--json", "--pack-destination", tmp], ROOT);
    expect(pack).toMatchObject({ code: 0 });
    expect(pack.err).not.toMatch(/warn/i);
    const [info] = JSON.parse(pack.out) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((f) => f.path);
    tarball = join(tmp, info!.filename);
    app = join(tmp, "app");
    await mkdir(app);
    await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
    await writeFile(join(app, "package-lock.json"), await seededLock());
    const args = ["install", tarball, "--no-audit", "--no-fund", "--foreground-scripts"];
    install = await run("npm", [...args, "--offline"], app);
    // A cache that lacks one of the locked tarballs (a machine whose npm install did not
    // fetch it): let npm fetch what is missing, taking the rest from the cache.
    if (install.code !== 0 && /ENOTCACHED/.test(install.err)) install = await run("npm", [...args, "--prefer-offline"], app);
  }, 60_000);

  afterAll(async () => {
    if (tmp !== "") await rm(tmp, { recursive: true, force: true });
  });

  it("holds only what users run: the built client, server, CLI and testing export, configs, docs, the web console and the examples the README links; no bench, tests or source maps", () => {
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "bin/corral.js", "conf/zoo.cfg", "dist/src/client/index.js", "dist/src/client/index.d.ts", "dist/src/testing/index.js", "dist/src/testing/index.d.ts", "dist/src/testing/child-main.js", "dist/src/cli/main.js", "console/index.html", "console/console.css", "console/console.js"]));
    // The README's Examples section links examples/: every example ships, with its README.
    const examples = ["examples/README.md", "examples/worker-pool/worker.mjs", "examples/config-watch/config-watch.mjs", "examples/fenced-file/fenced-file.mjs", "examples/service-discovery/discovery.mjs"];
    expect(files).toEqual(expect.arrayContaining(examples));
    expect(files.filter((f) => /(^|\/)(bench|test)(\/|$)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => !/^(bin|conf|console|docs|examples|dist\/(src|recipes))\/|^(package\.json|README\.md)$/.test(f))).toEqual([]);
  });

  it("installs offline with no warning and runs no build", async () => {
    expect(install).toMatchObject({ code: 0 });
    expect(install.out + install.err).not.toMatch(/warn/i);
    expect(install.out).not.toMatch(/> corral@/); // a lifecycle script (prepare, install) would print its banner
    const installed = JSON.parse(await readFile(join(app, "node_modules", "corral", "package.json"), "utf8")) as { scripts?: Record<string, string> };
    expect(Object.keys(installed.scripts ?? {}).filter((s) => /^(pre|post)?(install|prepare)$/.test(s))).toEqual([]);
    expect(existsSync(join(app, "node_modules", "corral", "src"))).toBe(false);
  });

  it("ships no reference to a source map (the build emits none)", async () => {
    const js = files.filter((f) => f.endsWith(".js"));
    expect(js.length).toBeGreaterThan(100);
    const withMap: string[] = [];
    for (const f of js) if ((await readFile(join(app, "node_modules", "corral", f), "utf8")).includes("sourceMappingURL")) withMap.push(f);
    expect(withMap).toEqual([]);
  });

  it("runs a TestingServer and a 3-member TestingCluster from the installed package, and exits by itself", async () => {
    await writeFile(join(app, "app.test.mjs"), APP_TEST);
    const r = await run(process.execPath, ["app.test.mjs"], app);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ read: "hello", members: [1, 2, 3], newLeader: true });
  }, 60_000);

  it("runs the shipped worker-pool and service-discovery examples in the app, on the installed package, against a TestingServer from it", async () => {
    // corral/testing as the app resolves it (through the installed package's "exports").
    const installedTesting = createRequire(join(app, "package.json")).resolve("corral/testing");
    expect(installedTesting).toBe(join(app, "node_modules", "corral", "dist", "src", "testing", "index.js"));
    const { TestingServer } = (await import(pathToFileURL(installedTesting).href)) as typeof import("../../src/testing/index.js");
    // The examples as the package ships them, copied into the app as the README suggests:
    // there, "corral" resolves to app/node_modules/corral, nothing of this repository.
    await cp(join(app, "node_modules", "corral", "examples"), join(app, "examples"), { recursive: true });
    const site = { root: app };

    const pool = await TestingServer.start();
    try {
      await workerPoolRun(pool.connectString, site);
    } finally {
      await pool.stop();
    }
    const discovery = await TestingServer.start(shortSessions(EXAMPLE_TICK_MS));
    try {
      await serviceDiscoveryRun(discovery.connectString, site);
    } finally {
      await discovery.stop();
    }
  }, 90_000);

  it("types both exports for TypeScript (nodenext)", async () => {
    await writeFile(join(app, "types.ts"), APP_TYPES);
    const args = [TSC, "--noEmit", "--strict", "--target", "es2022", "--lib", "es2023", "--module", "nodenext", "--moduleResolution", "nodenext", "--typeRoots", join(ROOT, "node_modules", "@types"), "--types", "node", "types.ts"];
    const r = await run(process.execPath, args, app);
    expect(r.out + r.err).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);

  it("`corral server` in an app directory with no conf/zoo.cfg uses the packaged config and says where the data goes", async () => {
    const r = await run(join(app, "node_modules", ".bin", "corral"), ["server", "print-cmd"], app);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`Using config: ${join(app, "node_modules", "corral", "conf", "zoo.cfg")}`);
    expect(r.err).toContain(`data directory: ${join(app, "data")}`);
    expect(r.out).toContain("server start-foreground");
  });

  it("`corral server start` runs the packaged config in an app directory (data under ./data); status and stop find it", async (ctx) => {
    // The packaged config's fixed ports (client 2181, admin 8080, metrics 7000): skip if taken here.
    const taken = await Promise.all([2181, 8080, 7000].map((port) => portTaken(port)));
    if (taken.some((t) => t)) ctx.skip();
    const corral = join(app, "node_modules", ".bin", "corral");
    const started = await run(corral, ["server", "start"], app);
    try {
      expect(started.out).toContain("STARTED");
      expect(started.code).toBe(0);
      expect(started.err).toContain(`data directory: ${join(app, "data")}`);
      expect(existsSync(join(app, "data", "corral_server.pid"))).toBe(true);
      const status = await run(corral, ["server", "status"], app);
      expect(status.out).toContain("Mode: standalone");
    } finally {
      const stopped = await run(corral, ["server", "stop"], app);
      expect(stopped.out).toContain("STOPPED");
    }
  }, 60_000);
});
