// The logger shape every layer may accept (pino's, so the server can pass pino itself).
// Layers below net never log on the hot path; they return values.

export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: object): Logger;
}

const noop: LogFn = () => {};

/** A logger that drops everything (tests, embedded use). */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
