/**
 * The frontier of change detection: the position, in tributary's order, of the newest item announced (`*.created`)
 * in one listing, and the walk that reads everything newer, oldest first, with the walk engine's machinery (ties,
 * silent caps, head inserts during the read). Upstream offsets in its hints only make the next read cheap.
 */
import { type Lane, type LaneState, readNewer } from "../paging/lanes";
import type { OffsetReader } from "../paging/offset-reader";
import type { Keyed, Keyset } from "../paging/order";
import type { DetectionHints, DetectionState } from "./store";

/** Where detection stands in one listing (the stored state without its commit version). */
export type Frontier = Omit<DetectionState, "version">;

/** Items one read asks for at most: one 8x8 answer, five of a capped Inkit. */
const PAGE = 500;

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

/**
 * The items newer than the frontier, oldest first: pages of the walk engine's `readNewer` until caught up, `limits.items`
 * are announced, or no call is left (`callsLeft`). A failure after some pages keeps what they read (the caller commits it,
 * the next check continues from there); the new frontier says whether a backlog is left.
 *
 * With `versionOf` (8x8, whose default listing follows a definition's latest version), `open(version)` reads one
 * version pinned. When the default listing shows a newer version than the frontier's, or none of its items (a new
 * version without instances yet), the frontier's own version is read to its end pinned: instances started on it just
 * before the new version was published are new too. Then detection starts at the beginning of the newer version.
 */
export async function readSinceFrontier<T extends Keyed>(
  open: (version: string | null) => OffsetReader<T>,
  start: Frontier,
  limits: { items: number; callsLeft: () => number },
  versionOf?: (item: T) => string | null,
): Promise<{ items: T[]; frontier: Frontier; error: unknown }> {
  let frontier: Frontier = { ...start };
  let seen: VersionsSeen = { versions: new Set(), empty: false };
  // The default listing shows none of the frontier's version: read that version pinned in this check.
  let pinned = false;
  const draining = () => pinned || frontier.hints.movedTo !== undefined;
  const lane: Lane<T> = {
    name: "detection",
    open: () => {
      const reader = open(draining() ? (frontier.hints.version ?? null) : null);
      return versionOf ? observed(reader, versionOf, seen) : reader;
    },
    // Items at the frontier's instant that were announced already (a tie group may arrive across checks).
    filter: (item) =>
      item.created_at === frontier.frontierAt && frontier.frontierIds.includes(item.id) ? "skip" : "keep",
  };
  const items: T[] = [];
  let error: unknown = null;
  let backlog = true;
  while (items.length < limits.items && limits.callsLeft() > 0) {
    const wasDraining = draining();
    seen = { versions: new Set(), empty: false };
    let page: Awaited<ReturnType<typeof readNewer<T>>>;
    const size = frontier.hints.page ?? PAGE;
    const limit = Math.min(size, limits.items - items.length);
    try {
      page = await readNewer(lane, frontierLane(frontier), limit, () => limits.callsLeft() > 0);
    } catch (err) {
      error = err;
      break;
    }
    if (versionOf && !wasDraining) {
      const move = versionMove(frontier, seen);
      if (move === "adopt") frontier = { ...frontier, hints: { ...frontier.hints, version: [...seen.versions][0] } };
      else if (move !== null) {
        // What this page read belongs to the other version (or there was nothing): read the frontier's own first.
        if (move === "pin") pinned = true;
        else frontier = { ...frontier, hints: { ...frontier.hints, movedTo: move.to } };
        continue;
      }
    }
    items.push(...page.items);
    frontier = advance(frontier, page.items, page.state);
    backlog = !page.caughtUp;
    // Out of calls before anything was certain (its hints now say how far down the frontier sits): the next check
    // asks a smaller page, so a silent cap and a small budget still move forward. A full page grows it back.
    if (page.items.length === 0 && !page.caughtUp) frontier.hints.page = Math.max(1, Math.floor(limit / 4));
    else if (page.items.length === limit && size < PAGE) frontier.hints.page = Math.min(PAGE, size * 2);
    if (page.caughtUp && frontier.hints.movedTo !== undefined) {
      frontier = startOfVersion(frontier, frontier.hints.movedTo);
      continue;
    }
    if (page.caughtUp || page.items.length === 0) break;
  }
  return { items, frontier: { ...frontier, backlog }, error };
}

/** What one page's reads showed of the listing's versions. */
interface VersionsSeen {
  versions: Set<string>;
  /** The listing's head was read and held nothing. */
  empty: boolean;
}

/** A reader that notes the version of every item it serves, and whether the listing was empty. */
function observed<T>(
  reader: OffsetReader<T>,
  versionOf: (item: T) => string | null,
  seen: VersionsSeen,
): OffsetReader<T> {
  const note = (items: T[]) => {
    for (const item of items) {
      const version = versionOf(item);
      if (version !== null) seen.versions.add(version);
    }
  };
  const ties = reader.ties?.bind(reader);
  return {
    async read(offset, count, cap, options) {
      const window = await reader.read(offset, count, cap, options);
      note(window.items);
      if (offset === 0 && window.items.length === 0) seen.empty = true;
      return window;
    },
    ...(ties && {
      async ties(createdAt: string, from: number, to: number, cap: number) {
        const group = await ties(createdAt, from, to, cap);
        if (Array.isArray(group)) note(group);
        return group;
      },
    }),
  };
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

/**
 * The baseline: the listing's newest instant becomes the frontier, its tie group read whole from the head (nothing up
 * to it is announced). Also returns every item read: detection has seen them.
 */
export async function readHead<T extends Keyed>(
  reader: OffsetReader<T>,
  count: number,
): Promise<{ items: T[]; frontier: Frontier }> {
  const items: T[] = [];
  let cap = 0;
  let total: number | null = null;
  for (let more = true; more; ) {
    const read = await reader.read(items.length, Math.min(count, PAGE), cap, { short: true });
    items.push(...read.items);
    ({ cap, total } = read);
    // Read on only while everything read is one instant: the head's tie group may continue.
    more = read.hasMore && read.items.length > 0 && items.every((i) => i.created_at === items[0]?.created_at);
  }
  const newest = items.reduce<string | null>(
    (max, i) => (max === null || i.created_at > max ? i.created_at : max),
    null,
  );
  const group = items.filter((i) => i.created_at === newest);
  return {
    items,
    frontier: {
      frontierAt: newest,
      frontierIds: group.map((i) => i.id),
      hints: { at: 0, span: group.length, total, cap },
      backlog: false,
    },
  };
}
