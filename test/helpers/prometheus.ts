/**
 * A strict parser of Prometheus' text exposition format (version 0.0.4), for tests that
 * check /metrics by parsing it rather than by eye: every line must be a HELP, a TYPE or
 * a sample; every sample must belong to a family declared by TYPE (histograms own their
 * `_bucket`, `_sum` and `_count` series); names, labels and values must be well formed.
 * `checkHistograms` then checks what a histogram promises: cumulative buckets in `le`
 * order, ending in +Inf, whose count equals `_count`.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string | undefined;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(raw: string, line: string): number {
  if (raw === "+Inf" || raw === "Inf") return Number.POSITIVE_INFINITY;
  if (raw === "-Inf") return Number.NEGATIVE_INFINITY;
  if (raw === "NaN") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad sample value ${JSON.stringify(raw)} in: ${line}`);
  return Number(raw);
}

/** Labels `{a="x",b="y"}` starting at text[0] === "{"; returns them and the rest of the line. */
function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf("=", i);
    if (eq === -1) throw new Error(`bad labels in: ${line}`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)} in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`label value not quoted in: ${line}`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const n = text[++j];
        if (n === "n") value += "\n";
        else if (n === "\\" || n === '"') value += n;
        else throw new Error(`bad escape in label value in: ${line}`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`duplicate label ${name} in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`expected , or } after a label in: ${line}`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const familyOf = (sample: string): Family | undefined => {
    const direct = families.get(sample);
    if (direct !== undefined) return direct;
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      if (!sample.endsWith(suffix)) continue;
      const f = families.get(sample.slice(0, -suffix.length));
      if (f !== undefined && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
    }
    return undefined;
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      let f = families.get(name);
      if (f === undefined) families.set(name, (f = { name, help: undefined, type: "untyped", samples: [] }));
      if (kind === "HELP") f.help = rest;
      else {
        if (!TYPES.has(rest)) throw new Error(`bad metric type in: ${line}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        f.type = rest as Family["type"];
      }
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`bad sample line: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    let rest = line.slice(nameEnd);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/ +/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === "") throw new Error(`bad sample line: ${line}`);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1]!)) throw new Error(`bad timestamp in: ${line}`);
    const f = familyOf(name);
    if (f === undefined) throw new Error(`sample of an undeclared family: ${line}`);
    f.samples.push({ name, labels, value: parseValue(parts[0]!, line) });
  }
  return families;
}

const key = (labels: Record<string, string>): string =>
  JSON.stringify(Object.entries(labels).filter(([k]) => k !== "le").sort(([a], [b]) => (a < b ? -1 : 1)));

/** Checks every histogram's series; throws on the first inconsistency. */
export function checkHistograms(families: Map<string, Family>): void {
  for (const f of families.values()) {
    if (f.type !== "histogram") continue;
    const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
    for (const s of f.samples) {
      const k = key(s.labels);
      let e = series.get(k);
      if (e === undefined) series.set(k, (e = { buckets: [] }));
      if (s.name === `${f.name}_bucket`) {
        if (s.labels["le"] === undefined) throw new Error(`${f.name}: bucket without le`);
        e.buckets.push([parseValue(s.labels["le"], s.name), s.value]);
      } else if (s.name === `${f.name}_count`) e.count = s.value;
      else if (s.name === `${f.name}_sum`) e.sum = s.value;
      else throw new Error(`${f.name}: unexpected series ${s.name}`);
    }
    for (const [k, e] of series) {
      const where = `${f.name}${k}`;
      if (e.count === undefined || e.sum === undefined) throw new Error(`${where}: _count or _sum missing`);
      const last = e.buckets.at(-1);
      if (last === undefined || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${where}: no +Inf bucket last`);
      for (let i = 1; i < e.buckets.length; i++) {
        if (!(e.buckets[i]![0] > e.buckets[i - 1]![0])) throw new Error(`${where}: le not increasing`);
        if (e.buckets[i]![1] < e.buckets[i - 1]![1]) throw new Error(`${where}: buckets not cumulative`);
      }
      if (last[1] !== e.count) throw new Error(`${where}: +Inf bucket ${last[1]} != _count ${e.count}`);
      if (e.sum < 0) throw new Error(`${where}: negative _sum`);
    }
  }
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
