// The zoo.cfg the repository ships (the README's quick start runs it): parses with no
// warning at all, so a newcomer's first start logs nothing that looks wrong, and keeps its
// data under ./data of the directory the server starts from.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../../src/config/index.js";

const STOCK = new URL("../../../conf/zoo.cfg", import.meta.url).pathname;

describe("the stock conf/zoo.cfg", () => {
  it("loads without warnings, data under ./data of the working directory", async () => {
    const loaded = await loadConfigFile(STOCK);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.dataDir).toBe(join(process.cwd(), "data"));
  });
});
