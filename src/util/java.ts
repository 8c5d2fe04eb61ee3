// How Java prints a few values, for output that must match ZooKeeper's byte for byte
// (four-letter words, AdminServer JSON, zkCli's stat blocks). Pure; the local time zone
// is the process's, as the JVM's default zone is ZooKeeper's.

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** java.util.Date.toString in local time: `Sun Nov 22 03:25:00 UTC 2026`. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, "0");
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName")
      ?.value ?? "UTC";
  return (
    `${WEEKDAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone} ${d.getFullYear()}`
  );
}

/** Java's Double.toString: `0.0`, `3.5`, `0.1111`, `1.0E7`, `1.0E-4`. */
export function javaDouble(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
  const abs = Math.abs(x);
  if (abs === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  if (abs >= 1e-3 && abs < 1e7) {
    const t = String(x);
    return t.includes(".") ? t : `${t}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split("e") as [string, string];
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${exponent.replace(/^\+/, "")}`;
}

/** Long.toHexString: two's complement for negatives, no padding. */
export function javaHex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}
