import { int, type Rng } from "./random";

/**
 * The fixed "now" of both generated datasets. Generated timestamps all fall
 * before it; items inserted through the admin API come after it.
 */
export const DATASET_NOW_MS = Date.parse("2026-11-01T00:00:00Z");

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Inkit keeps microseconds, so its generator counts in them. */
export const NOW_US = DATASET_NOW_MS * 1000;
export const SECOND_US = 1_000_000;
export const DAY_US = DAY_MS * 1000;

/** Items created in the last two days are the ones still likely to be in flight. */
export function isRecent(createdUs: number): boolean {
  return NOW_US - createdUs < 2 * DAY_US;
}

/** Inkit style: always six fractional digits, `2023-11-07T02:31:22.232287Z`. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const fraction = String(micros % 1_000_000).padStart(6, "0");
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

/**
 * 8x8 style (.NET `FFFFFFF`): up to seven fractional digits with trailing zeros
 * trimmed, and no dot at all for a whole second: `2021-06-30T03:20:39.49Z`.
 * `ticks` adds 100 ns units (0..9999) below the millisecond.
 */
export function formatDotNet(ms: number, ticks = 0): string {
  const iso = new Date(ms).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(ticks).padStart(4, "0")}`.replace(/0+$/, "");
  return `${iso.slice(0, 19)}${fraction === "" ? "" : `.${fraction}`}Z`;
}

/** An instant read from an ISO 8601 string: whole milliseconds plus any finer remainder. */
interface ParsedInstant {
  ms: number;
  /** True when the string had digits below the millisecond that were not zero. */
  hasSubMillisecond: boolean;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses the ISO 8601 forms a .NET API accepts in a query string: a date, or a
 * date and time with optional seconds, fraction and offset (no offset = UTC).
 * Returns null for anything else, including impossible dates.
 */
export function parseIso8601(text: string): ParsedInstant | null {
  const match = ISO_8601.exec(text.trim());
  if (match === null) return null;
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction = "", zone = "Z"] = match;
  const fields = [year, month, day, hour, minute, second].map(Number);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = fields;
  const base = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(base);
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    return null;
  }
  const millis = Number(fraction.slice(0, 3).padEnd(3, "0"));
  const offsetMinutes = zone.toUpperCase() === "Z" ? 0 : zoneOffsetMinutes(zone);
  return {
    ms: base + millis - offsetMinutes * MINUTE_MS,
    hasSubMillisecond: /[1-9]/.test(fraction.slice(3)),
  };
}

function zoneOffsetMinutes(zone: string): number {
  const digits = zone.slice(1).replace(":", "");
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
  return zone.startsWith("-") ? -minutes : minutes;
}

/**
 * A deterministic clock for items inserted at the head of a listing: every
 * call returns a time strictly later than the last (a random step between
 * minStep and maxStep, in the caller's unit).
 */
export class HeadClock {
  #now: number;

  constructor(
    start: number,
    private readonly rng: Rng,
    private readonly minStep: number,
    private readonly maxStep: number,
  ) {
    this.#now = start;
  }

  next(): number {
    this.#now += int(this.rng, this.minStep, this.maxStep);
    return this.#now;
  }

  /** The last time handed out (or the start). */
  get now(): number {
    return this.#now;
  }
}
