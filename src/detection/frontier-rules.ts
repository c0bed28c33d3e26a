/**
 * The frontier's rules, pure: where detection stands in one listing, which items it has announced, and how one page
 * of the walk that reads what is newer moves it on (tie groups announced in parts, the page size a small budget
 * shrinks, 8x8's definition versions). frontier.ts does the reads and lets these decide.
 */
import type { LaneState } from "../paging/lanes";
import type { Keyed, Keyset } from "../paging/order";
import type { DetectionHints, DetectionState } from "./store";

/** Where detection stands in one listing (the stored state without its commit version). */
export type Frontier = Omit<DetectionState, "version">;

/** Items one read asks for at most: one 8x8 answer, five of a capped Inkit. */
export const PAGE = 500;

/** Whether an item is at or behind the frontier: announced already, or older than everything announced. */
export function announced(frontier: Frontier, item: Keyed): boolean {
  if (frontier.frontierAt === null) return false;
  return (
    item.created_at < frontier.frontierAt ||
    (item.created_at === frontier.frontierAt && frontier.frontierIds.includes(item.id))
  );
}

/** The frontier as the walk engine's lane state: a position after every item of its instant, and its hints. */
export function frontierLane(frontier: Frontier): LaneState {
  const { hints } = frontier;
  // After every item created at the frontier's instant; those of them not announced yet pass the lane's filter.
  const key: Keyset | null = frontier.frontierAt === null ? null : [frontier.frontierAt, "\uffff", ""];
  return {
    key,
    at: hints.at,
    span: hints.span,
    total: hints.total,
    cap: hints.cap,
    reach: hints.reach,
    head: null,
    version: null,
    done: false,
  };
}

/** The frontier after announcing `items` (oldest first): the newest one's instant, and the ids announced there. */
export function advance(frontier: Frontier, items: Keyed[], lane: LaneState): Frontier {
  const at = items.at(-1)?.created_at ?? frontier.frontierAt;
  const before = at === frontier.frontierAt ? frontier.frontierIds : [];
  const ids = [...new Set([...before, ...items.filter((i) => i.created_at === at).map((i) => i.id)])];
  const hints: DetectionHints = {
    ...frontier.hints,
    at: lane.at,
    span: lane.span,
    total: lane.total,
    cap: lane.cap,
    reach: lane.reach,
  };
  return { ...frontier, frontierAt: at, frontierIds: ids, hints };
}

/** Where one check's walk stands between two pages. */
export interface Walk {
  frontier: Frontier;
  /** The default listing showed none of the frontier's version: this check reads that version pinned. */
  pinned: boolean;
  /** Newer items are left after the last page. */
  backlog: boolean;
}

/** Whether the walk reads the frontier's own version to its end (pinned) rather than the default listing. */
export const draining = (walk: Walk): boolean => walk.pinned || walk.frontier.hints.movedTo !== undefined;

/** The version the walk's next page lists: the frontier's own while draining, else the latest (null). */
export const listedVersion = (walk: Walk): string | null =>
  draining(walk) ? (walk.frontier.hints.version ?? null) : null;

/** How many items the next page asks for: its size (a small budget may have shrunk it), and the limit of this read. */
interface PageAsk {
  size: number;
  limit: number;
}

/** The next page's ask when `wanted` more items may be announced in this check. */
export function pageAsk(frontier: Frontier, wanted: number): PageAsk {
  const size = frontier.hints.page ?? PAGE;
  return { size, limit: Math.min(size, wanted) };
}

/**
 * The page size the next check asks for after a page that served `served` items, or undefined to keep it. Out of
 * calls before anything was certain (nothing served, not caught up): a quarter of this read's limit, so a silent cap
 * and a small budget still move forward. A full page grows a shrunk size back, doubling up to PAGE.
 */
export function nextPageSize(ask: PageAsk, page: { served: number; caughtUp: boolean }): number | undefined {
  if (page.served === 0 && !page.caughtUp) return Math.max(1, Math.floor(ask.limit / 4));
  if (page.served === ask.limit && ask.size < PAGE) return Math.min(PAGE, ask.size * 2);
  return undefined;
}

/** What one page's reads showed of the listing's versions. */
export interface VersionsSeen {
  versions: Set<string>;
  /** The listing's head was read and held nothing. */
  empty: boolean;
}

/**
 * Whether the default listing still lists the frontier's version: `adopt` a version when the frontier has none yet
 * (kept before versions were), `{ to }` when it lists a newer one, `pin` when it lists nothing although the frontier
 * lies in a version (a new one without instances), null when it lists the frontier's own.
 */
function versionMove(frontier: Frontier, seen: VersionsSeen): "adopt" | "pin" | { to: string } | null {
  const { version } = frontier.hints;
  const other = [...seen.versions].find((v) => v !== version);
  if (version === undefined) return other === undefined ? null : "adopt";
  if (other !== undefined) return { to: other };
  return seen.empty && frontier.frontierAt !== null ? "pin" : null;
}

/** The frontier at the beginning of a newer version: nothing of it was announced. Caps and lookup hints are kept. */
function startOfVersion(frontier: Frontier, version: string): Frontier {
  const {
    at: _at,
    span: _span,
    total: _total,
    reach: _reach,
    page: _page,
    movedTo: _movedTo,
    ...kept
  } = frontier.hints;
  return { frontierAt: null, frontierIds: [], hints: { ...kept, at: 0, span: 0, total: null, version }, backlog: true };
}

/** One page the walk engine served (see `readNewer`): items oldest first, the lane where it stopped. */
interface ServedPage<T extends Keyed> {
  items: T[];
  state: LaneState;
  caughtUp: boolean;
}

/** The walk after one page, the items it announces, and whether the walk reads on (while items and calls last). */
interface Step<T extends Keyed> {
  walk: Walk;
  announce: T[];
  more: boolean;
}

/**
 * The walk after one page. With `seen` (8x8, a page of the default listing), the versions it showed come first: a
 * frontier without a version adopts the one listed; when the listing shows a newer version, or nothing although the
 * frontier lies in one, the page belongs to the other version and announces nothing: the frontier's own version is
 * read to its end first (see `versionMove`). Otherwise the page is announced (see `announcePage`).
 */
export function afterPage<T extends Keyed>(
  walk: Walk,
  page: ServedPage<T>,
  ask: PageAsk,
  seen: VersionsSeen | null,
): Step<T> {
  const move = seen === null ? null : versionMove(walk.frontier, seen);
  if (move === null) return announcePage(walk, page, ask);
  const { frontier } = walk;
  if (move === "adopt") {
    const version = [...(seen as VersionsSeen).versions][0];
    return announcePage({ ...walk, frontier: { ...frontier, hints: { ...frontier.hints, version } } }, page, ask);
  }
  if (move === "pin") return { walk: { ...walk, pinned: true }, announce: [], more: true };
  return {
    walk: { ...walk, frontier: { ...frontier, hints: { ...frontier.hints, movedTo: move.to } } },
    announce: [],
    more: true,
  };
}

/**
 * A page announced: the frontier advances over its items and the page size follows what it served. A caught-up read
 * of the frontier's own version, once the listing moved to a newer one, starts at the beginning of that one and reads
 * on. Otherwise the walk reads on unless it caught up or the page served nothing.
 */
function announcePage<T extends Keyed>(walk: Walk, page: ServedPage<T>, ask: PageAsk): Step<T> {
  const advanced = advance(walk.frontier, page.items, page.state);
  const size = nextPageSize(ask, { served: page.items.length, caughtUp: page.caughtUp });
  const frontier = size === undefined ? advanced : { ...advanced, hints: { ...advanced.hints, page: size } };
  const backlog = !page.caughtUp;
  const { movedTo } = frontier.hints;
  if (page.caughtUp && movedTo !== undefined) {
    // Nothing of the newer version is read yet: a walk that stops here (out of items) leaves it as a backlog, so the
    // check queues the next one at once rather than leaving it to the next tick.
    return {
      walk: { ...walk, frontier: startOfVersion(frontier, movedTo), backlog: true },
      announce: page.items,
      more: true,
    };
  }
  return {
    walk: { ...walk, frontier, backlog },
    announce: page.items,
    more: !(page.caughtUp || page.items.length === 0),
  };
}
