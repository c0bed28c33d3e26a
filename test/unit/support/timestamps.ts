import fc from "fast-check";

// Timestamp-like strings near every edge toRfc3339 checks: field ranges (month lengths, leap years, hour 24,
// second 60), years 0000..9999 and offsets that push past them, separators, fraction lengths, offset forms.
const pick = (...xs: string[]) => fc.constantFrom(...xs);
const digits = (min: number, max: number, width = 2) =>
  fc.integer({ min, max }).map((n) => String(n).padStart(width, "0"));
const edge2 = pick("00", "01", "12", "13", "23", "24", "28", "29", "30", "31", "32", "59", "60", "99");
const year = fc.oneof(
  pick("0000", "0001", "0099", "0100", "1900", "2000", "2023", "2024", "2100", "9999"),
  digits(0, 9999, 4),
);
const fraction = fc.oneof(
  pick("", ".0", ".123456", ".1234567", ".999999999", ",5"),
  fc.stringMatching(/^[.,]\d{1,10}$/),
);
const offset = fc.oneof(
  pick("Z", "z", "+00:00", "-00:00", "+0000", "-0000", "+01:00", "-01:00", "+05:30", "+23:59", "-23:59"),
  fc.tuple(pick("+", "-"), digits(0, 23), pick(":", ""), digits(0, 59)).map((p) => p.join("")),
);
const badOffset = pick("+24:00", "+12:60", "+1:00", "", " Z", "UTC", "+99:99");

const plausible = fc
  .tuple(
    year,
    digits(1, 12),
    digits(1, 31),
    pick("T", "t"),
    digits(0, 23),
    digits(0, 59),
    digits(0, 59),
    fraction,
    offset,
  )
  .map(([y, mo, d, t, h, mi, s, f, o]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${f}${o}`);
const edgy = fc
  .tuple(
    fc.oneof(year, pick("999", "10000", "20x3")),
    fc.oneof(edge2, digits(0, 99)),
    fc.oneof(edge2, digits(0, 99)),
    pick("T", "t", " ", "TT"),
    fc.oneof(edge2, digits(0, 99)),
    fc.oneof(edge2, digits(0, 99)),
    fc.oneof(edge2, digits(0, 99)),
    fc.oneof(fraction, pick(".", ".x")),
    fc.oneof(offset, badOffset),
  )
  .map(([y, mo, d, t, h, mi, s, f, o]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${f}${o}`);
const iso = fc
  .date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

/** Mostly timestamps that parse, many that miss by one field, some that are not timestamps at all. */
export const timestampLike: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: plausible },
  { weight: 4, arbitrary: edgy },
  { weight: 1, arbitrary: iso },
  { weight: 1, arbitrary: fc.string() },
);
