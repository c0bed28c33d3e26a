/**
 * The pure core of a walk: given what each lane has read of its upstream list, decide whether a page can be
 * served, and if so assemble it in tributary's order with each lane's next and previous positions.
 * No I/O and no Hono here: lanes.ts reads, listing.ts verifies and signs cursors.
 */
import { compareItems, type Direction, isAfter, isBefore, type Keyed, type Keyset, timeBefore } from "./order";

/** What the facade does with an item for filters the upstream cannot apply itself. */
export type Verdict = "keep" | "skip" | "stop";

/** A contiguous stretch of one lane's upstream list, as read so far. */
export interface LaneView<T> {
  /** Upstream offset of items[0]. */
  start: number;
  /** In the upstream's order: by creation time, ties in whatever order the upstream chose. */
  items: T[];
  /** Which upstream response served each item: a tie group served by two responses may be inconsistent. */
  response: number[];
  /** Nothing follows the last item. */
  atEnd: boolean;
  /**
   * Every response reported the same total (a page-model list): positions agree across them, so a tie group cut
   * between two holds each of its items exactly once, unless the two ordered the group differently, which shows
   * as an id served twice.
   */
  oneSnapshot?: boolean;
}

/** Where a lane stands in the walk, apart from what it has read. */
export interface LaneBounds<T> {
  /** Forward: items strictly after it. Backward: items strictly before it. Null: from the lane's start. */
  key: Keyset | null;
  /** Creation time of the lane's first item when the walk began: anything newer arrived later. */
  head: string | null;
  filter?: (item: T) => Verdict;
}

/** Items of one creation time side by side in a view: the unit the order is decided in. */
export interface TieGroup {
  createdAt: string;
  /** Index range in the view's items. */
  from: number;
  to: number;
  /** Served by more than one upstream response, which may disagree on it: to read again as one. */
  mixed: boolean;
}

export function tieGroupsOf<T extends Keyed>(view: LaneView<T>): TieGroup[] {
  const groups: TieGroup[] = [];
  for (const [i, item] of view.items.entries()) {
    const last = groups.at(-1);
    if (last && last.createdAt === item.created_at) {
      last.to = i + 1;
      last.mixed ||= view.response[i] !== view.response[last.from];
    } else groups.push({ createdAt: item.created_at, from: i, to: i + 1, mixed: false });
  }
  if (view.oneSnapshot)
    for (const group of groups)
      if (group.mixed) {
        const ids = new Set(view.items.slice(group.from, group.to).map((item) => item.id));
        group.mixed = ids.size < group.to - group.from;
      }
  return groups;
}

/** Unknown items of a lane all lie beyond this creation time (inclusive); "none" when the lane is fully known. */
type Frontier = string | "none" | "unknown";

export interface LaneSummary<T> {
  /** Items this lane may contribute, in raw order (sorted later). */
  candidates: T[];
  frontier: Frontier;
  /** The view reaches far enough back (forward) or far enough ahead (backward) to contain the lane's position. */
  anchored: boolean;
  /** Complete tie groups served by two responses, to read again as one (by creation time). */
  mixed: TieGroup[];
}

/** Forward: what a lane offers after its key, and up to where it is known. */
export function summarizeForward<T extends Keyed>(
  view: LaneView<T>,
  bounds: LaneBounds<T>,
  dir: Direction,
): LaneSummary<T> {
  const { key, head, filter } = bounds;
  const first = view.items[0];
  // Everything before the view must come before the key's whole tie group: the view starts at the list's
  // start, or at an item strictly earlier in time than the key.
  const anchored =
    view.start === 0 || (key !== null && first !== undefined && timeBefore(first.created_at, key[0], dir));
  const out: LaneSummary<T> = { candidates: [], frontier: view.atEnd ? "none" : "unknown", anchored, mixed: [] };
  const groups = tieGroupsOf(view);
  const seen = new Set<string>();
  for (const [r, group] of groups.entries()) {
    const complete = r < groups.length - 1 || view.atEnd;
    const item0 = view.items[group.from] as T;
    if (filter && isAfter(item0, key, dir) && filter(item0) === "stop") {
      out.frontier = "none"; // a time bound: no later item can match
      break;
    }
    if (!complete) {
      out.frontier = group.createdAt;
      break;
    }
    if (key !== null && timeBefore(group.createdAt, key[0], dir)) continue;
    if (group.mixed) out.mixed.push(group);
    for (let i = group.from; i < group.to; i++) {
      const item = view.items[i] as T;
      if (!isAfter(item, key, dir) || (head !== null && timeBefore(item.created_at, head, dir))) continue;
      if (seen.has(item.id)) continue; // two responses disagreed; never serve an item twice
      seen.add(item.id);
      if (!filter || filter(item) === "keep") out.candidates.push(item);
    }
  }
  return out;
}

/** Backward: what a lane offers before its key (and not before its head), and back to where it is known. */
export function summarizeBackward<T extends Keyed>(
  view: LaneView<T>,
  bounds: LaneBounds<T>,
  dir: Direction,
): LaneSummary<T> {
  const { key, head, filter } = bounds;
  const last = view.items.at(-1);
  // The view must pass the key's tie group: it ends with the list, or with an item strictly later in time.
  const anchored = view.atEnd || (key !== null && last !== undefined && timeBefore(key[0], last.created_at, dir));
  const groups = tieGroupsOf(view);
  const first = groups[0];
  // The lane's start is reached at offset 0, or once the view holds an item newer than the head's time.
  const atStart = view.start === 0 || (head !== null && first !== undefined && timeBefore(first.createdAt, head, dir));
  const out: LaneSummary<T> = {
    candidates: [],
    frontier: atStart ? "none" : (first?.createdAt ?? "unknown"),
    anchored,
    mixed: [],
  };
  const seen = new Set<string>();
  for (const [r, group] of groups.entries()) {
    if (r === 0 && !atStart) continue; // may start before the view
    if (key !== null && timeBefore(key[0], group.createdAt, dir)) break;
    if (head !== null && timeBefore(group.createdAt, head, dir)) continue;
    if (group.mixed) out.mixed.push(group);
    for (let i = group.from; i < group.to; i++) {
      const item = view.items[i] as T;
      if ((key !== null && !isBefore(item, key, dir)) || seen.has(item.id)) continue;
      seen.add(item.id);
      if (!filter || filter(item) === "keep") out.candidates.push(item);
    }
  }
  return out;
}

/**
 * What must be read before a page can be decided: lanes whose view does not yet contain their position (read toward
 * it), and tie groups served by two responses (read again as one).
 */
export function repairs<T>(summaries: (LaneSummary<T> | null)[]): {
  anchor: number[];
  settle: [lane: number, groups: TieGroup[]][];
} {
  const anchor: number[] = [];
  const settle: [number, TieGroup[]][] = [];
  for (const [i, s] of summaries.entries()) {
    if (!s) continue;
    if (!s.anchored) anchor.push(i);
    else if (s.mixed.length > 0) settle.push([i, s.mixed]);
  }
  return { anchor, settle };
}

/** Whether a candidate comes before every unknown item of a lane (forward), or after it (backward). */
function certain(item: Keyed, frontier: Frontier, dir: Direction, backward: boolean): boolean {
  if (frontier === "none") return true;
  if (frontier === "unknown") return false;
  return backward ? timeBefore(frontier, item.created_at, dir) : timeBefore(item.created_at, frontier, dir);
}

export type Decision<T> =
  | { ready: true; items: { item: T; lane: number }[]; more: boolean }
  | { ready: false; extend: number[] };

/**
 * Forward: the page is the first `limit` candidates of all lanes in order, once the first `limit + 1` are
 * certain (no unread item can come before them), or the first `limit` are and another item is known to follow, or
 * every lane is fully known. Otherwise it names the lanes
 * whose unread items could still come first. Backward mirrors it with the last `limit` candidates.
 */
export function decide<T extends Keyed>(
  summaries: (LaneSummary<T> | null)[],
  limit: number,
  dir: Direction,
  backward: boolean,
  /** Forward, how many blocking lanes one round reads at most (those whose unread items come first). */
  wave = Number.POSITIVE_INFINITY,
): Decision<T> {
  const all = summaries
    .flatMap((s, lane) => (s ? s.candidates.map((item) => ({ item, lane })) : []))
    .sort((a, b) => compareItems(a.item, b.item, dir));
  const ordered = backward ? [...all].reverse() : all;
  const live = summaries.flatMap((s, lane) => (s && s.frontier !== "none" ? [lane] : []));
  let n = 0;
  while (
    n < ordered.length &&
    live.every((lane) => certain(ordered[n]?.item as T, (summaries[lane] as LaneSummary<T>).frontier, dir, backward))
  )
    n++;
  if (n >= limit + 1 || live.length === 0) {
    const taken = ordered.slice(0, limit);
    return { ready: true, items: backward ? taken.reverse() : taken, more: ordered.length > limit };
  }
  // Forward, the first `limit` certain and another item known to follow (a candidate, or a lane's unfinished tie
  // group) make the page too: the item after a page need not be certain, only there. So a window of the page plus
  // one item either side can be read in one call.
  const follows = (lane: number) => !["none", "unknown"].includes((summaries[lane] as LaneSummary<T>).frontier);
  if (!backward && n >= limit && (ordered.length > limit || live.some(follows))) {
    return { ready: true, items: ordered.slice(0, limit), more: true };
  }
  const next = ordered[n]?.item;
  const frontier = (lane: number) => (summaries[lane] as LaneSummary<T>).frontier;
  if (next === undefined) {
    // Nothing left to serve: only the lanes whose unread items come first are read (those with an unknown frontier,
    // else the newest), not every lane, since on a feed of many sources most wait far behind.
    const unknown = live.filter((lane) => frontier(lane) === "unknown");
    if (unknown.length > 0 || backward) return { ready: false, extend: unknown.length > 0 ? unknown : live };
    const times = live.map(frontier);
    const first = times.reduce((a, b) => (timeBefore(b, a, dir) ? b : a));
    return { ready: false, extend: live.filter((lane) => frontier(lane) === first) };
  }
  // Every lane whose unread items could come before `next` blocks the page; forward, those whose unread items come
  // first are read, a wave at a time and no more than could still complete it: a feed page reads the sources that
  // contribute to it, not every source that might.
  const blockers = live.filter((lane) => !certain(next, frontier(lane), dir, backward));
  if (backward) return { ready: false, extend: blockers };
  const rank = (lane: number) => (frontier(lane) === "unknown" ? "\uffff" : frontier(lane));
  const newestFirst = [...blockers].sort((a, b) => (rank(a) === rank(b) ? 0 : rank(a) > rank(b) ? -1 : 1));
  return { ready: false, extend: newestFirst.slice(0, Math.max(1, Math.min(limit + 1 - n, wave))) };
}

/**
 * Forward: how many more of a lane's items a page of `limit` could still take: `limit + 1` (the page and the item
 * that proves it) less the candidates, of any lane, that come before the lane's frontier, since every unread item
 * of the lane comes after them. A read that extends the lane for the page need ask no more.
 * @example roomIn(summaries, 2, 50, "desc") // 51 when no candidate comes before lane 2's frontier
 */
export function roomIn<T extends Keyed>(
  summaries: (LaneSummary<T> | null)[],
  lane: number,
  limit: number,
  dir: Direction,
): number {
  const summary = summaries[lane];
  if (!summary || summary.frontier === "none") return 0;
  const { frontier } = summary;
  let ahead = 0;
  for (const [i, s] of summaries.entries()) {
    if (!s) continue;
    if (frontier === "unknown") ahead += i === lane ? s.candidates.length : 0;
    else for (const item of s.candidates) if (timeBefore(item.created_at, frontier, dir)) ahead++;
  }
  return Math.max(0, limit + 1 - ahead);
}

/**
 * Where the tie group of creation time `createdAt` begins in a lane's view (as an upstream offset), and how
 * long it is there: the next read starts one item before it, so it can tell the group was not cut.
 */
export function groupAt<T extends Keyed>(
  view: LaneView<T>,
  createdAt: string,
  dir: Direction,
): { at: number; span: number } {
  let i = 0;
  while (i < view.items.length && timeBefore((view.items[i] as T).created_at, createdAt, dir)) i++;
  let j = i;
  while (j < view.items.length && (view.items[j] as T).created_at === createdAt) j++;
  return { at: view.start + i, span: j - i };
}

/** The creation time of the lane's first item, when its view starts at the list's start. */
export function headOf<T extends Keyed>(view: LaneView<T>): string | null {
  return view.start === 0 ? (view.items[0]?.created_at ?? null) : null;
}
