/**
 * The frontier of change detection: the position, in tributary's order, of the newest item announced (`*.created`)
 * in one listing, and the walk that reads everything newer, oldest first, with the walk engine's machinery (ties,
 * silent caps, head inserts during the read). Upstream offsets in its hints only make the next read cheap.
 */
import { type Lane, type LaneState, readNewer } from "../../paging/lanes";
import type { OffsetReader } from "../../paging/offset-reader";
import type { Keyed, Keyset } from "../../paging/order";
import type { DetectionHints, DetectionState } from "../store";

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
 */
export async function readSinceFrontier<T extends Keyed>(
  open: () => OffsetReader<T>,
  start: Frontier,
  limits: { items: number; callsLeft: () => number },
): Promise<{ items: T[]; frontier: Frontier; error: unknown }> {
  let frontier: Frontier = { ...start };
  const lane: Lane<T> = {
    name: "detection",
    open,
    // Items at the frontier's instant that were announced already (a tie group may arrive across checks).
    filter: (item) =>
      item.created_at === frontier.frontierAt && frontier.frontierIds.includes(item.id) ? "skip" : "keep",
  };
  const items: T[] = [];
  let error: unknown = null;
  let backlog = true;
  while (items.length < limits.items && limits.callsLeft() > 0) {
    try {
      const size = frontier.hints.page ?? PAGE;
      const limit = Math.min(size, limits.items - items.length);
      const page = await readNewer(lane, frontierLane(frontier), limit, () => limits.callsLeft() > 0);
      items.push(...page.items);
      frontier = advance(frontier, page.items, page.state);
      backlog = !page.caughtUp;
      // Out of calls before anything was certain (its hints now say how far down the frontier sits): the next check
      // asks a smaller page, so a silent cap and a small budget still move forward. A full page grows it back.
      if (page.items.length === 0 && !page.caughtUp) frontier.hints.page = Math.max(1, Math.floor(limit / 4));
      else if (page.items.length === limit && size < PAGE) frontier.hints.page = Math.min(PAGE, size * 2);
      if (page.caughtUp || page.items.length === 0) break;
    } catch (err) {
      error = err;
      break;
    }
  }
  return { items, frontier: { ...frontier, backlog }, error };
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
