// The implementation of toRfc3339 before its fast path (commit 30eb861), kept verbatim as the reference the
// current one must equal: same output, same accepted inputs, same error messages.
const ISO_8601 =
  /^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})[Tt](?<h>\d{2}):(?<mi>\d{2}):(?<s>\d{2})(?:[.,](?<frac>\d+))?(?:[Zz]|(?<sign>[+-])(?<oh>\d{2}):?(?<om>\d{2}))$/;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * Normalizes an ISO 8601 / RFC 3339 timestamp to UTC with exactly six fractional digits, so that
 * comparing the strings compares the instants, whichever provider they came from.
 * Extra fractional digits are truncated, never rounded: rounding could carry into the seconds.
 *
 * @example toRfc3339("2021-06-30T03:20:39.3857479Z") // "2021-06-30T03:20:39.385747Z"
 * @example toRfc3339("2023-11-07T04:31:22.5+02:00") // "2023-11-07T02:31:22.500000Z"
 * @throws Error when the input is not a date-time with seconds and a `Z` or `±hh:mm` offset.
 */
export function referenceToRfc3339(s: string): string {
  const g = ISO_8601.exec(s)?.groups;
  if (!g) throw new Error(`Not an ISO 8601 timestamp with seconds and a UTC offset: ${JSON.stringify(s)}`);
  const n = (v: string | undefined) => Number(v ?? 0);
  const [y, mo, d, h, mi, sec, oh, om] = [n(g.y), n(g.mo), n(g.d), n(g.h), n(g.mi), n(g.s), n(g.oh), n(g.om)];

  // setUTCFullYear, unlike Date.UTC, does not map years 0..99 to 1900..1999.
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, sec, 0);
  const inRange =
    local.getUTCFullYear() === y &&
    local.getUTCMonth() === mo - 1 &&
    local.getUTCDate() === d &&
    local.getUTCHours() === h &&
    local.getUTCMinutes() === mi &&
    local.getUTCSeconds() === sec &&
    oh <= 23 &&
    om <= 59;
  if (!inRange) throw new Error(`Timestamp has an out-of-range field: ${JSON.stringify(s)}`);

  const offsetMinutes = (g.sign === "-" ? -1 : 1) * (oh * 60 + om);
  const utc = new Date(local.getTime() - offsetMinutes * 60_000);
  const year = utc.getUTCFullYear();
  if (year < 0 || year > 9999) throw new Error(`Timestamp falls outside years 0000..9999 in UTC: ${JSON.stringify(s)}`);

  const date = `${pad(year, 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}`;
  const time = `${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}`;
  const micros = (g.frac ?? "").slice(0, 6).padEnd(6, "0");
  return `${date}T${time}.${micros}Z`;
}
