// docs/migration.md's copy-tree.js, as written on the page, run as a newcomer runs it
// (`AUTH=digest:... node copy-tree.js FROM TO`) between two real servers: persistent nodes
// arrive with their data and ACLs (also below a node whose ACL forbids creating children,
// and nodes only their creator may read), ephemerals and /zookeeper stay behind.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, CREATOR_ALL_ACL, READ_ACL_UNSAFE, type CorralClient } from "../../src/client/index.js";
import { startStandaloneForTest } from "../../src/server/index.js";
import { docApp, docFiles } from "../helpers/doc-apps.js";

const PAGE = "docs/migration.md";
type Server = Awaited<ReturnType<typeof startStandaloneForTest>>;
let from: Server;
let to: Server;
let app: { dir: string; remove(): void };

beforeAll(async () => {
  [from, to] = await Promise.all([startStandaloneForTest(), startStandaloneForTest()]);
  app = docApp(PAGE);
});

afterAll(async () => {
  app?.remove();
  await Promise.all([from?.stop(), to?.stop()]);
});

/** Runs the script as a child process (asynchronously: the servers live in this process). */
async function copyTree(): Promise<string> {
  const r = await promisify(execFile)(process.execPath, ["copy-tree.js", from.connectString, to.connectString], {
    cwd: app.dir,
    timeout: 20_000,
    env: { ...process.env, AUTH: "digest:app:secret" },
  });
  expect(r.stderr).toBe("");
  return r.stdout;
}

describe("docs/migration.md", () => {
  it("has copy-tree.js to copy", () => {
    expect([...docFiles(PAGE).keys()]).toEqual(["copy-tree.js"]);
  });

  it("copy-tree.js copies persistent nodes with data and ACLs, not ephemerals", async () => {
    const src: CorralClient = await connect(from.connectString);
    const dst: CorralClient = await connect(to.connectString);
    try {
      await src.addAuth("digest", "app:secret");
      await dst.addAuth("digest", "app:secret");
      await src.create("/app", "root");
      await src.create("/app/config", "v1");
      await src.create("/app/config/db", "pg");
      await src.setACL("/app/config", READ_ACL_UNSAFE); // no CREATE: the copy sets it after the children
      await src.create("/app/private", "p", { acl: CREATOR_ALL_ACL });
      await src.create("/app/q", null);
      await src.create("/app/q/qn-", "item", { mode: "persistentSequential" });
      await src.create("/app/live", "e", { mode: "ephemeral" });

      expect(await copyTree()).toBe("copied 6 nodes\n");
      expect((await dst.getData("/app")).data?.toString()).toBe("root");
      expect((await dst.getData("/app/config")).data?.toString()).toBe("v1");
      expect((await dst.getACL("/app/config")).acl).toEqual([...READ_ACL_UNSAFE]);
      expect((await dst.getData("/app/config/db")).data?.toString()).toBe("pg");
      expect((await dst.getACL("/app/private")).acl).toEqual((await src.getACL("/app/private")).acl);
      expect(await dst.getChildren("/app/q")).toEqual(["qn-0000000000"]);
      expect(await dst.exists("/app/live")).toBeNull();
      expect(await dst.getChildren("/")).toEqual(expect.arrayContaining(["app", "zookeeper"]));

    } finally {
      await Promise.all([src.close(), dst.close()]);
    }
  });
});
