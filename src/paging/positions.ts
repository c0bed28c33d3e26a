/**
 * Where each lane of a walk stands: the state a cursor carries per lane, and the pure rules that derive it from what a
 * page read. No I/O here: lanes.ts reads, assemble.ts decides the page, and these say where each lane goes next.
 */
import {
  groupAt,
  headOf,
  type LaneBounds,
  type LaneSummary,
  type LaneView,
  summarizeBackward,
  summarizeForward,
  type Verdict,
} from "./assemble";
import { clampToHead, compareItems, type Direction, isAfter, type Keyed, type Keyset } from "./order";

/** A lane's place in a walk, as carried by the cursor. */
export interface LaneState {
  /** Forward: the lane's items strictly after it are next. Backward: the ones strictly before it. */
  key: Keyset | null;
  /** Upstream offset where the key's tie group began when last read, and how long it was: hints only. */
  at: number;
  span: number;
  /**
   * How many items of the key's tie group come at or before the key in the walk's order, when fewer than `span`: a
   * page then reads `limit` items past them, not past the whole group. Undefined: the key ends its group.
   */
  rank?: number;
  /** The upstream's total when `at` was measured, if it has one: its growth estimates head inserts. */
  total: number | null;
  /** A page-size cap learned from the upstream (0: none known): reads are aligned to it. */
  cap: number;
  /**
   * Change detection only: how many items above the key's group its last read had to start (a tie group there was
   * wider than its window), so the next read starts there at once.
   */
  reach?: number;
  /** Creation time of the lane's first item when the walk began (the pin); null before its first read. */
  head: string | null;
  version: string | null;
  /** Nothing follows the key: forward pages skip the lane (backward ones still read it). */
  done: boolean;
  /**
   * Forward, on feeds: the newest creation time the lane's next item after `key` can have, as the page that set the
   * key saw it. A later page reads the lane only when that item could be among its own: a feed page costs the lanes
   * that contribute to it, not every source. Undefined: not known, read the lane.
   */
  next?: string;
}

export const freshLane = (key: Keyset | null = null): LaneState => ({
  key,
  at: 0,
  span: 0,
  total: null,
  cap: 0,
  head: null,
  version: null,
  done: false,
});

/** What a page read of one lane, as plain values: its view, and the upstream figures measured on the way. */
export interface LaneRead<T> {
  view: LaneView<T>;
  /** The upstream's total, where it has one. */
  total: number | null;
  /** The page-size cap learned (0: none). */
  cap: number;
}

/** What a page did with one lane. */
export type LaneResult<T> =
  | { kind: "read"; read: LaneRead<T> }
  /** Not read: nothing follows its key (or it had no item at all). */
  | { kind: "skipped" }
  /** Not read: its next item is older than the page (see `LaneState.next`). */
  | { kind: "deferred"; next: string }
  | { kind: "failed"; error: unknown };

/** What the pure rules need of a lane besides its state and what was read of it (a `Lane` has all of it). */
interface LaneTraits<T> {
  /** Applied by the facade to every item; `stop` means no later item can match. */
  filter?: (item: T) => Verdict;
  /** The version an item belongs to, for upstreams whose default listing follows the latest version. */
  versionOf?: (item: T) => string | null;
  /** The filters rule out every item of this lane: it is never read. */
  empty?: boolean;
}

/**
 * Which lanes a page reads first. Forward pages of a feed defer the lanes whose next item (`LaneState.next`) is
 * known: they join only if the page turns out to reach that far. Lanes with nothing after their key (forward), or
 * that no item can match, are not read.
 */
export function firstReads<T>(
  lanes: LaneTraits<T>[],
  states: (LaneState | null)[],
  backward: boolean,
): { read: number[]; deferred: [lane: number, next: string][] } {
  const read: number[] = [];
  const deferred: [number, string][] = [];
  for (const [i, lane] of lanes.entries()) {
    const state = states[i];
    if (!state || lane.empty || (state.done && !backward)) continue;
    if (!backward && lanes.length > 1 && state.next !== undefined) deferred.push([i, state.next]);
    else read.push(i);
  }
  return { read, deferred };
}

/**
 * What each lane offers the page (see `summarizeForward`); a deferred lane offers nothing yet, and all its unread
 * items lie at or beyond its next item's time. Null: the lane takes no part (skipped or failed).
 */
export function summarizeLanes<T extends Keyed>(
  results: LaneResult<T>[],
  states: (LaneState | null)[],
  lanes: LaneTraits<T>[],
  dir: Direction,
  backward: boolean,
): (LaneSummary<T> | null)[] {
  return results.map((result, i) => {
    const state = states[i];
    if (result.kind === "deferred") return { candidates: [], frontier: result.next, anchored: true, mixed: [] };
    if (result.kind !== "read" || !state) return null;
    const bounds = laneBounds(state, dir, backward, lanes[i]?.filter);
    return (backward ? summarizeBackward : summarizeForward)(result.read.view, bounds, dir);
  });
}

/** What a lane offers around its position: after its key forward (clamped to its head), before it backward. */
function laneBounds<T extends Keyed>(
  state: LaneState,
  dir: Direction,
  backward: boolean,
  filter?: (item: T) => Verdict,
): LaneBounds<T> {
  return { key: backward ? state.key : clampToHead(state.key, state.head, dir), head: state.head, filter };
}

/** Lanes a page reads in one wave of connections: above this many, a fresh page may open each lane lean. */
const LEAN_ABOVE_LANES = 6;
/** The fewest items a lean opening reads of a lane: enough to see most lanes' frontier past the page's items. */
export const LEAN_OPENING = 2;

/**
 * How many items an unshared forward first page reads first of each of `lanes` fresh lanes, when fewer than the
 * usual `limit + 1`; null for the usual opening. A page can use `limit + 1` items in all, so a feed of many sources
 * opens each with an even share of them (at least `LEAN_OPENING`), and extends only the lanes the page turns out to
 * need: about `limit + 3 × lanes` items in all instead of a block per lane. Extensions cost calls, so only a page with
 * room for twice its lanes' calls (`room`: the upstream calls one request may make) opens lean; with fewer lanes than
 * a wave of connections, the usual opening costs no more time than a lean one's extensions would.
 * @example leanOpening(100, 50, 1000) // 3
 * @example leanOpening(4, 50, 1000) // null
 */
export function leanOpening(lanes: number, limit: number, room: number): number | null {
  if (lanes <= LEAN_ABOVE_LANES || room < 2 * lanes) return null;
  const share = Math.max(LEAN_OPENING, Math.ceil((limit + 1) / lanes));
  return share < limit + 1 ? share : null;
}

/**
 * The stretch of a lane's upstream list a page reads first, at the lane's hints: it may supply the whole page, plus
 * the items that prove the page (one either side; a first page has none before it). Forward it starts one item
 * before the key's tie group, and what is left of that group comes first (all of it is read); backward it ends one
 * item after the group.
 * @example openingWindow({ ...freshLane(["t", "id", "i"]), at: 40, span: 3 }, 10, false) // { from: 39, count: 15 }
 */
export function openingWindow(state: LaneState, limit: number, backward: boolean): { from: number; count: number } {
  if (state.key === null) return { from: 0, count: limit + 1 };
  if (!backward) return { from: state.at - 1, count: Math.max((state.rank ?? state.span) + limit, state.span) + 2 };
  const end = state.at + state.span + 1;
  const from = Math.max(0, end - (limit + state.span + 2));
  return { from, count: end - from };
}

/**
 * Where a lane stands at `key`, from what a page read of it: the offset and span of the key's tie group, the
 * upstream total and the learned cap (hints for the next read), the lane's head and version (kept from its state, or
 * found at the list's start), and how far into its tie group the key is.
 */
export function positionAt<T extends Keyed>(
  read: LaneRead<T>,
  state: LaneState,
  key: Keyset | null,
  dir: Direction,
  versionOf?: (item: T) => string | null,
): LaneState {
  const { view } = read;
  const head = state.head ?? headOf(view);
  const from = clampToHead(key, head, dir);
  const { at, span } = from ? groupAt(view, from[0], dir) : { at: view.start, span: 0 };
  const first = view.start === 0 ? view.items[0] : undefined;
  const version = state.version ?? (first && versionOf ? versionOf(first) : null);
  const next: LaneState = { key, at, span, total: read.total, cap: read.cap, head, version, done: false };
  const group = view.items.slice(at - view.start, at - view.start + span);
  const rank = from ? group.filter((item) => !isAfter(item, from, dir)).length : span;
  if (rank < span) next.rank = rank;
  return next;
}

/**
 * Every lane's state at a page's edge `key`, in tributary's order. A lane that failed keeps its place; one that was
 * not read (nothing left after its key, or its next item older than the page) moves with the walk. Forward
 * (`forwardNext`), a lane with nothing left after the edge is marked done, one that had no item at all when the walk
 * began drops out (null), and the others carry how new their next item can be (`next`), so the next page reads
 * only the lanes that could contribute to it.
 */
export function nextPositions<T extends Keyed>(
  results: LaneResult<T>[],
  states: (LaneState | null)[],
  traits: LaneTraits<T>[],
  key: Keyset | null,
  dir: Direction,
  forwardNext: boolean,
): (LaneState | null)[] {
  return results.map((result, i): LaneState | null => {
    const state = states[i] ?? null;
    if (state === null || key === null || result.kind === "failed") return state;
    if (result.kind === "skipped" || result.kind === "deferred") return { ...state, key };
    const { view } = result.read;
    const next = positionAt(result.read, state, key, dir, traits[i]?.versionOf);
    if (!forwardNext) return next;
    const rest = summarizeForward(view, { key, head: next.head, filter: traits[i]?.filter }, dir);
    if (rest.frontier === "none" && rest.candidates.length === 0)
      return view.start === 0 && view.items.length === 0 ? null : { ...next, done: true };
    const newest = [...rest.candidates].sort((a, b) => compareItems(a, b, dir))[0];
    const bound = newest?.created_at ?? (rest.frontier === "unknown" ? undefined : rest.frontier);
    return bound === undefined ? next : { ...next, next: bound };
  });
}
