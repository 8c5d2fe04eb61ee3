// The session-password secret (src/storage/secret.ts) on a real file system: created once
// readable by the server's user only (mode 0600), and read back unchanged on every start.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { SECRET_FILE, loadOrCreateSecret, nodeDisk } from "../../../src/storage/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("corral-secret", () => {
  it("is written with mode 0600 and read back unchanged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-secret-"));
    dirs.push(dir);
    const first = await loadOrCreateSecret(nodeDisk, dir, randomBytes);
    expect(statSync(join(dir, SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSecret(nodeDisk, dir, randomBytes)).toEqual(first);
  });
});
