import { EIGHT_BY_EIGHT_STATUSES, type EightByEightStatus } from "../data/eightbyeight-catalog";
import { parseIso8601 } from "../data/time";

export interface EightByEightFilters {
  /** Undefined means "the latest version" on the emulated route, "every version" in the admin dump. */
  version?: number;
  status?: EightByEightStatus;
  /** Inclusive bounds on startedAt, in whole milliseconds. */
  fromMs?: number;
  toMs?: number;
}

interface EightByEightListQuery extends EightByEightFilters {
  limit: number;
  offset: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

/** limit, offset and the filters. Unknown parameters are ignored. */
export function parseListQuery(query: Record<string, string>): Parsed<EightByEightListQuery> {
  const limit = integer(query.limit, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
  if (!limit.ok) return limit;
  const offset = integer(query.offset, "offset", 0, Number.MAX_SAFE_INTEGER, 0);
  if (!offset.ok) return offset;
  const filters = parseFilters(query);
  if (!filters.ok) return filters;
  return { ok: true, value: { limit: limit.value, offset: offset.value, ...filters.value } };
}

/** version, status, startTimeFrom and startTimeTo. */
export function parseFilters(query: Record<string, string>): Parsed<EightByEightFilters> {
  const filters: EightByEightFilters = {};
  if (query.version !== undefined) {
    const version = integer(query.version, "version", 1, Number.MAX_SAFE_INTEGER, 1);
    if (!version.ok) return version;
    filters.version = version.value;
  }
  if (query.status !== undefined) {
    const status = EIGHT_BY_EIGHT_STATUSES.find((candidate) => candidate === query.status);
    if (status === undefined) return invalid("status", `must be one of ${EIGHT_BY_EIGHT_STATUSES.join(", ")}`);
    filters.status = status;
  }
  if (query.startTimeFrom !== undefined) {
    const from = parseIso8601(query.startTimeFrom);
    if (from === null) return invalid("startTimeFrom", "must be an ISO 8601 date and time");
    // startedAt has millisecond precision: a bound with a finer fraction rounds inward.
    filters.fromMs = from.hasSubMillisecond ? from.ms + 1 : from.ms;
  }
  if (query.startTimeTo !== undefined) {
    const to = parseIso8601(query.startTimeTo);
    if (to === null) return invalid("startTimeTo", "must be an ISO 8601 date and time");
    filters.toMs = to.ms;
  }
  return { ok: true, value: filters };
}

function integer(raw: string | undefined, name: string, min: number, max: number, fallback: number): Parsed<number> {
  if (raw === undefined) return { ok: true, value: fallback };
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    return invalid(
      name,
      max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer between ${min} and ${max}`,
    );
  }
  return { ok: true, value };
}

function invalid(name: string, rule: string): { ok: false; message: string } {
  return { ok: false, message: `Invalid value for parameter '${name}': ${rule}.` };
}
