// Runs an example program (examples/<name>/*.mjs) as a user does, `node <file> <connect>`,
// as a child process, and follows what it prints: each stdout line is kept, and a test
// waits on a line (or a predicate over all lines) or on the exit, never on a sleep. The
// examples import the package by its name ("corral"), which resolves through package.json's
// "exports" to the build in dist/ (npm test builds it first); or, run from an app directory
// that installed the packed package (test/integration/package.test.ts), to the installed one.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILT = fileURLToPath(new URL("../../dist/src/client/index.js", import.meta.url));

/** How long a wait on an example's output or exit may take before the test fails. */
export const EXAMPLE_WAIT_MS = 20_000;
/** Lines of stderr and stdout kept for a failure message. */
const TAIL_LINES_MAX = 40;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Where an example runs from. */
export interface ExampleSite {
  /**
   * The directory that holds examples/ and is the example's working directory, so that
   * "corral" resolves from there (default: this repository, resolving to dist/).
   */
  root?: string;
}

export class ExampleProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  readonly #checks = new Set<() => void>();
  readonly #label: string;

  constructor(file: string, args: string[], env: Record<string, string> = {}, site: ExampleSite = {}) {
    const root = site.root ?? ROOT;
    if (site.root === undefined && !existsSync(BUILT)) throw new Error(`${BUILT} is missing: the examples import the built package; run npx tsc -p tsconfig.build.json first`);
    this.#label = `${file} ${args.join(" ")}`;
    this.proc = spawn(process.execPath, [join(root, "examples", file), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    this.proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
      this.#poke();
    });
    let errPartial = "";
    this.proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (errPartial + chunk).split("\n");
      errPartial = parts.pop() ?? "";
      this.stderr.push(...parts);
      if (this.stderr.length > TAIL_LINES_MAX) this.stderr.splice(0, this.stderr.length - TAIL_LINES_MAX);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once("close", (code, signal) => {
        if (partial !== "") this.lines.push(partial);
        this.#exit = { code, signal };
        resolve(this.#exit);
        this.#poke();
      });
    });
  }

  #poke(): void {
    for (const check of [...this.#checks]) check();
  }

  /** What the process printed, for a failure message. */
  describe(): string {
    const tail = (xs: string[]): string => xs.slice(-TAIL_LINES_MAX).join("\n");
    return `${this.#label}\n--- stdout ---\n${tail(this.lines)}\n--- stderr ---\n${tail(this.stderr)}`;
  }

  /** Resolves once `probe` holds over the lines printed so far; rejects if the process exits first or after the wait limit. */
  until(what: string, probe: (lines: readonly string[]) => boolean, waitMs = EXAMPLE_WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (probe(this.lines)) finish();
        else if (this.#exit !== undefined) finish(new Error(`exited (${JSON.stringify(this.#exit)}) before: ${what}\n${this.describe()}`));
      };
      const timer = setTimeout(() => finish(new Error(`no ${what} within ${waitMs} ms\n${this.describe()}`)), waitMs);
      const finish = (e?: Error): void => {
        clearTimeout(timer);
        this.#checks.delete(check);
        if (e === undefined) resolve();
        else reject(e);
      };
      this.#checks.add(check);
      check();
    });
  }

  /** Resolves with the first line matching `re` (printed already or later). */
  async line(re: RegExp, waitMs = EXAMPLE_WAIT_MS): Promise<string> {
    let found: string | undefined;
    await this.until(String(re), (lines) => (found = lines.find((l) => re.test(l))) !== undefined, waitMs);
    return found!;
  }

  /** Resolves with the exit, or rejects after the wait limit. */
  async exit(waitMs = EXAMPLE_WAIT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit within ${waitMs} ms\n${this.describe()}`)), waitMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the process for good (test cleanup). */
  async kill(): Promise<void> {
    if (this.#exit === undefined) this.proc.kill("SIGKILL");
    await this.exited;
  }
}
