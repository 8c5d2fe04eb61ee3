// The error-code catalogue (errors.ts) against ZooKeeper's own: KeeperException.Code from
// ZooKeeper 3.8.0 (values and KeeperException.getCodeMessage, stored in
// test/fixtures/jute/vectors.json by the Java oracle described in oracle.ts).

import { describe, it, expect } from "vitest";
import { Err, errMessage, errName, type ErrName } from "../../../src/jute/index.js";
import { vectors } from "./oracle.js";

const names = Object.keys(Err) as ErrName[];
const javaCodes = vectors.keeperExceptionCodes;

/** Our names are Java's enum constants in CamelCase: Java's name is ours upper-cased. */
const javaNameOf = (name: ErrName): string => name.toUpperCase();

// Where our message is not 3.8.0's getCodeMessage. Java has no message at all for two codes
// ("Unknown error X"), where ours says what the code means.
const MESSAGE_DIFFERS_FROM_JAVA: readonly ErrName[] = [
  "UnknownSession",
  "RequestTimeout",
];

describe("error code catalogue", () => {
  it("every code maps back to its name", () => {
    for (const name of names) expect(errName(Err[name])).toBe(name);
  });

  it("codes are unique", () => {
    const codes = names.map((n) => Err[n]);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("holds exactly KeeperException.Code of ZooKeeper 3.8.0, name for name and value for value", () => {
    const ours = Object.fromEntries(names.map((n) => [javaNameOf(n), Err[n]]));
    const java = Object.fromEntries(javaCodes.map((c) => [c.name, c.code]));
    expect(ours).toEqual(java);
    expect(javaCodes.length).toBe(names.length);
  });

  it("an unknown code has no name and a generic message", () => {
    for (const code of [1, -9, -11, -104, -126, -128, 0x7fff_ffff]) {
      expect(errName(code)).toBeUndefined();
      expect(errMessage(code)).toBe(`Unknown error ${code}`);
    }
  });

  it("every code has a message", () => {
    for (const name of names) expect(errMessage(Err[name]).length).toBeGreaterThan(0);
  });

  it("messages are KeeperException.getCodeMessage's, except the listed differences", () => {
    const byCode = new Map(javaCodes.map((c) => [c.code, c.message]));
    const differing = names.filter((n) => errMessage(Err[n]) !== byCode.get(Err[n]));
    expect(differing.sort()).toEqual([...MESSAGE_DIFFERS_FROM_JAVA].sort());
    expect(byCode.get(Err.UnknownSession)).toBe("Unknown error UNKNOWNSESSION");
    expect(byCode.get(Err.RequestTimeout)).toBe("Unknown error REQUESTTIMEOUT");
  });
});
