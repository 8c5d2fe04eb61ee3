// Command-line parsing as zkCli does it: a line is split into words the way
// ZooKeeperMain.MyCommandOptions.parseCommand splits it, and each command's options
// are parsed the way Apache commons-cli's DefaultParser parses them (options anywhere
// among the arguments, `-se` for `-s -e`, `-t1000` and `-t=1000`, `--` ending options,
// negative numbers taken as arguments), with commons-cli's messages, so a mistyped
// command fails with the text zkCli prints. Pure.

/** A failed parse; `message` is what zkCli prints (the Java exception's toString). */
export class OptionError extends Error {
  override readonly name = "OptionError";
}

/** Option name (a letter, or a word such as reconfig's "members") -> whether it takes a value. */
export type OptionSpec = Readonly<Record<string, boolean>>;

export interface Parsed {
  /** Non-option words, the command name first (commons-cli's getArgs()). */
  readonly args: string[];
  /** Options given; the value of those that take one (the first, as getOptionValue). */
  readonly options: ReadonlyMap<string, string | true>;
}

// ZooKeeperMain.MyCommandOptions: ARGS_PATTERN and QUOTED_PATTERN (Java's \s).
const ARGS = /[ \t\n\x0B\f\r]*([^"'][^ \t\n\x0B\f\r]*|"[^"]*"|'[^']*')[ \t\n\x0B\f\r]*/g;
const QUOTED = /^(['"])(.*)\1$/s;

/** The words of a shell line; surrounding quotes are stripped. */
export function splitLine(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(ARGS)) {
    const word = m[1]!;
    const q = QUOTED.exec(word);
    out.push(q === null ? word : q[2]!);
  }
  return out;
}

function isNegativeNumber(token: string): boolean {
  // commons-cli tries Double.parseDouble.
  return /^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(token) || token === "-Infinity" || token === "-NaN";
}

const UNRECOGNIZED = "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: ";
const MISSING = "org.apache.commons.cli.MissingArgumentException: Missing argument for option: ";

export function parseOptions(words: readonly string[], spec: OptionSpec): Parsed {
  const args: string[] = [];
  const options = new Map<string, string | true>();
  let pending: string | undefined; // an option still waiting for its value
  let rest = false;
  const isShortOption = (t: string): boolean => {
    if (!t.startsWith("-") || t.length === 1) return false;
    const eq = t.indexOf("=");
    const name = eq === -1 ? t.slice(1) : t.slice(1, eq);
    return name.length > 0 && (spec[name] !== undefined || spec[name[0]!] !== undefined);
  };
  const isArgument = (t: string): boolean => !isShortOption(t) || isNegativeNumber(t);
  const requireValue = (): void => {
    if (pending !== undefined) throw new OptionError(MISSING + pending);
  };
  const take = (name: string): void => {
    requireValue();
    if (spec[name]) pending = name;
    else options.set(name, true);
  };
  const setValue = (name: string, value: string): void => {
    if (!options.has(name)) options.set(name, value);
  };
  const unknown = (t: string): void => {
    if (t.startsWith("-") && t.length > 1) throw new OptionError(UNRECOGNIZED + t);
    args.push(t);
  };
  for (const t of words) {
    if (rest) args.push(t);
    else if (t === "--") rest = true;
    else if (pending !== undefined && isArgument(t)) {
      setValue(pending, t);
      pending = undefined;
    } else if (t.startsWith("--")) unknown(t);
    else if (t.startsWith("-") && t !== "-") {
      const body = t.slice(1);
      const eq = body.indexOf("=");
      if (body.length === 1) {
        if (spec[body] !== undefined) take(body);
        else unknown(t);
      } else if (eq !== -1) {
        const name = body.slice(0, eq);
        if (spec[name] === true) {
          requireValue();
          setValue(name, body.slice(eq + 1));
        } else unknown(t);
      } else if (spec[body] !== undefined) {
        take(body); // a word option (-members, -file, -add, -remove)
      } else {
        // Concatenated: each letter an option; the rest of the word is the value of the
        // first letter that takes one.
        for (let i = 0; i < body.length; i++) {
          const ch = body[i]!;
          if (spec[ch] === undefined) {
            unknown(t);
            break;
          }
          take(ch);
          if (pending !== undefined && i + 1 < body.length) {
            setValue(ch, body.slice(i + 1));
            pending = undefined;
            break;
          }
        }
      }
    } else {
      args.push(t);
    }
  }
  requireValue();
  return { args, options };
}
