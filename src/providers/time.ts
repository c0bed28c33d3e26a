import { z } from "@hono/zod-openapi";

// Indexed groups: named groups allocate an object per match, and this runs several times per upstream item.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/;

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

/**
 * The timestamp's UTC form, or why there is none. The fields are checked by arithmetic (proleptic Gregorian, as
 * `Date` counts), so the common case, a UTC timestamp, needs no `Date` at all: its digits are already the answer.
 */
function convert(s: string): string | Verdict {
  const m = ISO_8601.exec(s);
  if (!m) return Verdict.Malformed;
  const [y, mo, d, h, mi, sec] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  const oh = m[9] === undefined ? 0 : Number(m[9]);
  const om = m[10] === undefined ? 0 : Number(m[10]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59) {
    return Verdict.OutOfRange;
  }
  const micros = (m[7] ?? "").slice(0, 6).padEnd(6, "0");
  if (oh === 0 && om === 0) return `${s.slice(0, 10)}T${s.slice(11, 19)}.${micros}Z`;

  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999.
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, sec, 0);
  const offsetMinutes = (m[8] === "-" ? -1 : 1) * (oh * 60 + om);
  const utc = new Date(local.getTime() - offsetMinutes * 60_000);
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
