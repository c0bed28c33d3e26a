import { z } from "@hono/zod-openapi";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

const daysInMonth = (y: number, mo: number) =>
  mo === 2
    ? y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
      ? 29
      : 28
    : mo === 4 || mo === 6 || mo === 9 || mo === 11
      ? 30
      : 31;

enum Verdict {
  Malformed,
  OutOfRange,
  OutsideYears,
}

/** The digit at `i` as a number, or -1. */
const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/** The two-digit number at `i`, or -1. */
const two = (s: string, i: number) => {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
};

const isSeparator = (s: string, i: number, a: string, b = a) => s[i] === a || s[i] === b;

/**
 * The timestamp's UTC form, or why there is none. It reads
 * `^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})$` by hand and checks the fields by
 * arithmetic (proleptic Gregorian, as `Date` counts), because it runs several times per upstream item: the common
 * case, a UTC timestamp, needs no regex match, no `Date`, and when already canonical, not even a new string.
 */
function convert(s: string): string | Verdict {
  const n = s.length;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  const h = two(s, 11);
  const mi = two(s, 14);
  const sec = two(s, 17);
  if (
    n < 20 ||
    (y1 | y2 | mo | d | h | mi | sec) < 0 ||
    s[4] !== "-" ||
    s[7] !== "-" ||
    !isSeparator(s, 10, "T", "t") ||
    s[13] !== ":" ||
    s[16] !== ":"
  ) {
    return Verdict.Malformed;
  }
  let i = 19;
  let fracEnd = i;
  if (isSeparator(s, i, ".", ",")) {
    fracEnd = i + 1;
    while (digit(s, fracEnd) >= 0) fracEnd++;
    if (fracEnd === i + 1) return Verdict.Malformed;
    i = fracEnd;
  }
  let sign = 0;
  let oh = 0;
  let om = 0;
  if (isSeparator(s, i, "Z", "z")) {
    if (n !== i + 1) return Verdict.Malformed;
  } else if (isSeparator(s, i, "+", "-")) {
    sign = s[i] === "-" ? -1 : 1;
    oh = two(s, i + 1);
    const colon = s[i + 3] === ":" ? 1 : 0;
    om = two(s, i + 3 + colon);
    if (oh < 0 || om < 0 || n !== i + 5 + colon) return Verdict.Malformed;
  } else {
    return Verdict.Malformed;
  }
  const y = y1 * 100 + y2;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59) {
    return Verdict.OutOfRange;
  }
  const frac = fracEnd - 20;
  if (oh === 0 && om === 0) {
    if (n === 27 && frac === 6 && s[10] === "T" && s[19] === "." && s[26] === "Z") return s;
    const micros = frac <= 0 ? "000000" : frac >= 6 ? s.slice(20, 26) : s.slice(20, fracEnd).padEnd(6, "0");
    return `${s.slice(0, 10)}T${s.slice(11, 19)}.${micros}Z`;
  }
  const micros = frac <= 0 ? "000000" : s.slice(20, Math.min(fracEnd, 26)).padEnd(6, "0");

  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999.
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, sec, 0);
  const utc = new Date(local.getTime() - sign * (oh * 60 + om) * 60_000);
  const year = utc.getUTCFullYear();
  if (year < 0 || year > 9999) return Verdict.OutsideYears;
  const date = `${pad(year, 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}`;
  const time = `${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}`;
  return `${date}T${time}.${micros}Z`;
}

/**
 * Normalizes an ISO 8601 / RFC 3339 timestamp to UTC with exactly six fractional digits, so that
 * comparing the strings compares the instants, whichever provider they came from.
 * Extra fractional digits are truncated, never rounded: rounding could carry into the seconds.
 *
 * @example toRfc3339("2021-06-30T03:20:39.3857479Z") // "2021-06-30T03:20:39.385747Z"
 * @example toRfc3339("2023-11-07T04:31:22.5+02:00") // "2023-11-07T02:31:22.500000Z"
 * @throws Error when the input is not a date-time with seconds and a `Z` or `±hh:mm` offset.
 */
export function toRfc3339(s: string): string {
  const out = convert(s);
  if (typeof out === "string") return out;
  if (out === Verdict.Malformed) {
    throw new Error(`Not an ISO 8601 timestamp with seconds and a UTC offset: ${JSON.stringify(s)}`);
  }
  if (out === Verdict.OutOfRange) throw new Error(`Timestamp has an out-of-range field: ${JSON.stringify(s)}`);
  throw new Error(`Timestamp falls outside years 0000..9999 in UTC: ${JSON.stringify(s)}`);
}

/** Whether {@link toRfc3339} accepts `s`. */
export function isIso8601(s: string): boolean {
  return typeof convert(s) === "string";
}

/** An upstream timestamp: any string {@link toRfc3339} can normalize, so normalizers never throw on validated input. */
export const UpstreamTimestampSchema = z
  .string()
  .refine(isIso8601, { message: "Expected an ISO 8601 timestamp with a UTC offset" });

/** An instant in the API's timestamp format: UTC with six fractional digits, so string order is time order. */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
