import { locate } from "./locate";
import { memoize } from "./memo";
import { type Anchor, isAfter, isAtOrAfter, type Keyed } from "./order";
import type { Source, SourceRead } from "./source";

/** What the facade does with an item for filters the upstream cannot apply itself. */
export type Verdict = "keep" | "skip" | "stop";

/** One upstream listing inside a walk: a provider route has one lane, a merged feed one per source. */
export interface Lane<T extends Keyed> {
  /** Names the lane in errors and `page.errors`, e.g. `inkit` or `8x8:acme-ops/<definition>`. */
  name: string;
  /**
   * The lane's source. `pin` is the created_at of the lane's newest item when the walk began: a source
   * that can filter by creation time excludes anything newer, so head inserts cannot shift its offsets.
   */
  open: (pin: string | null) => Source<T>;
  /** Whether `open` honours `pin`. */
  pinnable?: boolean;
  /** Applied by the facade to every item, in order; `stop` means no later item can match. */
  filter?: (item: T) => Verdict;
  /** Where the lane's matching items begin (e.g. skip everything newer than `created_before`). */
  start?: (item: T) => boolean;
  /** The filters rule out every item of this lane: it is never called. */
  empty?: boolean;
}

/** A lane's place in a walk, as carried by the cursor. */
export interface LaneState {
  /** Raw item offset: where a forward page starts, or where a backward page ends. */
  pos: number;
  /** Upstream knowledge learned on the way (see Source). */
  hint: number;
  /** The upstream's total when the cursor was issued, if it has one: its change estimates drift. */
  total: number | null;
  /** Forward: the item just before `pos`. Backward: the item at `pos`. */
  anchor: Anchor | null;
  pin: string | null;
}

/** What one lane contributes to a page. */
interface LaneRead<T> {
  items: T[];
  /** Raw offset of each item. */
  positions: number[];
  /** Whether matching items may follow the collected ones (forward) or precede them (backward). */
  more: boolean;
  /** Where the lane's window starts (forward) or ends (backward), after resynchronisation. */
  at: number;
  total: number | null;
  hint: number;
  /** Backward only: the item just before `at` in raw order, when known. */
  before: T | null;
}

const keepAll = (): Verdict => "keep";

/** Reads up to `want` matching items forward from the lane's position, resynchronised to its anchor. */
export async function readForward<T extends Keyed>(
  lane: Lane<T>,
  state: LaneState,
  want: number,
  resync: boolean,
): Promise<LaneRead<T>> {
  const source = memoize(lane.open(state.pin));
  const filter = lane.filter ?? keepAll;
  let pos = state.pos;
  const anchor = state.anchor;
  if (resync && anchor) {
    // The upstream's total grew by the number of items inserted since the cursor was issued.
    const shiftOf = (read: SourceRead<T>) =>
      read.total === null || state.total === null ? null : read.total - state.total;
    pos = await locate(source, pos, want, state.hint, (item) => isAfter(item, anchor), shiftOf);
  } else if (!anchor && pos === 0 && lane.start) {
    pos = await locate(source, 0, want, state.hint, lane.start);
  }
  const out: LaneRead<T> = {
    items: [],
    positions: [],
    more: true,
    at: pos,
    total: null,
    hint: state.hint,
    before: null,
  };
  // A filtered lane collects one extra match, so `more` is exact without a total.
  const target = lane.filter ? want + 1 : want;
  let p = pos;
  while (out.items.length < target) {
    const read = await source.read(p, want, out.hint);
    out.total = read.total;
    out.hint = read.hint;
    for (const [k, item] of read.items.entries()) {
      const verdict = filter(item);
      if (verdict === "stop") {
        out.more = false;
        return trimExtra(out, want);
      }
      if (verdict === "keep") {
        out.items.push(item);
        out.positions.push(p + k);
        if (out.items.length === target) {
          out.more = k < read.items.length - 1 || read.hasMore;
          return trimExtra(out, want);
        }
      }
    }
    p += read.items.length;
    if (!read.hasMore || read.items.length === 0) {
      out.more = false;
      break;
    }
  }
  return trimExtra(out, want);
}

function trimExtra<T>(out: LaneRead<T>, want: number): LaneRead<T> {
  if (out.items.length > want) {
    out.items.length = want;
    out.positions.length = want;
    out.more = true;
  }
  return out;
}

/** Reads up to `want` matching items backward from the lane's position (the page just before it). */
export async function readBackward<T extends Keyed>(
  lane: Lane<T>,
  state: LaneState,
  want: number,
  resync: boolean,
): Promise<LaneRead<T>> {
  const source = memoize(lane.open(state.pin));
  const filter = lane.filter ?? keepAll;
  let end = state.pos;
  const anchor = state.anchor;
  if (resync && anchor && state.pin === null) {
    // A pinned lane cannot drift. Otherwise read the page itself first: an upstream total that has not
    // changed means nothing arrived, so the page is where it was and the read is the answer (one call).
    const from = Math.max(0, end - want);
    const page = end > from ? await source.read(from, end - from, state.hint) : null;
    if (page === null || page.total === null || page.total !== state.total) {
      end = await locate(source, end, want, state.hint, (item) => isAtOrAfter(item, anchor));
    }
  }
  const out: LaneRead<T> = {
    items: [],
    positions: [],
    more: true,
    at: end,
    total: null,
    hint: state.hint,
    before: null,
  };
  let e = end;
  while (out.items.length < want && e > 0) {
    const from = Math.max(0, e - want);
    const read = await source.read(from, e - from, out.hint);
    out.total = read.total;
    out.hint = read.hint;
    if (out.before === null) out.before = read.items.at(-1) ?? null;
    for (let k = read.items.length - 1; k >= 0 && out.items.length < want; k--) {
      const item = read.items[k] as T;
      if (filter(item) === "keep" && !(lane.start && !lane.start(item))) {
        out.items.unshift(item);
        out.positions.unshift(from + k);
      }
    }
    e = from;
  }
  out.more = e > 0 || (out.positions[0] ?? 0) > 0;
  return out;
}
