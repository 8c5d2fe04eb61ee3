// The progress line on stderr, redrawn in place; only when stderr is a terminal.

import type { BenchStatus } from "./harness.js";

const BAR_WIDTH = 24;
const REDRAW_MS = 200;

export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #status: BenchStatus | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #startedAt = performance.now();

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#enabled = stream.isTTY === true;
  }

  update(status: BenchStatus): void {
    if (!this.#enabled) return;
    this.#status = status;
    this.#timer ??= setInterval(() => this.#draw(), REDRAW_MS);
    this.#timer.unref();
    this.#draw();
  }

  #draw(): void {
    const s = this.#status;
    if (s === undefined) return;
    const total = Math.max(1, s.runsTotal);
    const inRun = Math.min(1, (performance.now() - s.runStartedAt) / Math.max(1, s.runMs));
    const done = Math.min(1, (s.runsDone + inRun) / total);
    const filled = Math.round(done * BAR_WIDTH);
    const elapsed = Math.round((performance.now() - this.#startedAt) / 1000);
    const line = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${s.runsDone}/${s.runsTotal} ${elapsed}s  ${s.label}  ops=${s.ops()}`;
    const cols = this.#stream.columns ?? 120;
    this.#stream.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
  }

  /** Prints a line above the progress line. */
  log(line: string): void {
    if (this.#enabled) this.#stream.write(`\r\x1b[K${line}\n`);
    else this.#stream.write(`${line}\n`);
    this.#draw();
  }

  done(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#enabled) this.#stream.write("\r\x1b[K");
  }
}
