/**
 * The frontier of change detection: the position, in tributary's order, of the newest item announced (`*.created`)
 * in one listing, and the walk that reads everything newer, oldest first, with the walk engine's machinery (ties,
 * silent caps, head inserts during the read). Upstream offsets in its hints only make the next read cheap. The reads
 * are here; how each page moves the frontier is decided in frontier-rules.ts.
 */
import { type Lane, readNewer } from "../paging/lanes";
import type { OffsetReader } from "../paging/offset-reader";
import type { Keyed } from "../paging/order";
import {
  afterPage,
  draining,
  type Frontier,
  frontierLane,
  listedVersion,
  PAGE,
  pageAsk,
  type VersionsSeen,
  type Walk,
} from "./frontier-rules";

/** The frontier itself and its position rules, where its callers know them. */
export { advance, announced, type Frontier, frontierLane } from "./frontier-rules";

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
  let walk: Walk = { frontier: start, pinned: false, backlog: true };
  const items: T[] = [];
  while (items.length < limits.items && limits.callsLeft() > 0) {
    const ask = pageAsk(walk.frontier, limits.items - items.length);
    const seen: VersionsSeen = { versions: new Set(), empty: false };
    const lane = detectionLane(open, walk, versionOf, seen);
    let page: Awaited<ReturnType<typeof readNewer<T>>>;
    try {
      page = await readNewer(lane, frontierLane(walk.frontier), ask.limit, () => limits.callsLeft() > 0);
    } catch (err) {
      return { items, frontier: { ...walk.frontier, backlog: walk.backlog }, error: err };
    }
    // Only a page of the default listing says which version it lists.
    const step = afterPage(walk, page, ask, versionOf && !draining(walk) ? seen : null);
    items.push(...step.announce);
    walk = step.walk;
    if (!step.more) break;
  }
  return { items, frontier: { ...walk.frontier, backlog: walk.backlog }, error: null };
}

/**
 * The walk engine's lane over what the walk lists now (`listedVersion`), noting in `seen` the versions the page's
 * reads serve (with `versionOf`, 8x8). Items at the frontier's instant that were announced already are skipped (a tie
 * group may arrive across checks).
 */
function detectionLane<T extends Keyed>(
  open: (version: string | null) => OffsetReader<T>,
  walk: Walk,
  versionOf: ((item: T) => string | null) | undefined,
  seen: VersionsSeen,
): Lane<T> {
  const { frontier } = walk;
  return {
    name: "detection",
    open: () => {
      const reader = open(listedVersion(walk));
      return versionOf ? observed(reader, versionOf, seen) : reader;
    },
    filter: (item) =>
      item.created_at === frontier.frontierAt && frontier.frontierIds.includes(item.id) ? "skip" : "keep",
  };
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
