/**
 * The rules of one check besides the items' own (changes.ts) and the frontier's (frontier-rules.ts), pure: whether it
 * reads the watched items again and how many calls it leaves the new items, what it asks that lookup and which hints
 * the next check gets from it, and how many items stay watched. check.ts does the reads and
 * the commit.
 */
import type { LookupRequest, LookupResult } from "./lookups";
import type { DetectionHints, DetectionState, WatchedRow } from "./store";

/** How often a source's open items are read again while its checks continue a backlog. */
export const LOOKUP_EVERY_MS = 50_000;

/**
 * Whether a later check reads the watched items again (`lookup`), and how many of its `limit` calls the read of new
 * items may spend (`share`). A check that continues a backlog within LOOKUP_EVERY_MS of the last lookup leaves the
 * open items to a later one (their lookup would repeat with every continuation); one that follows a push always reads
 * them. The lookup runs also without watched items (Inkit's scan shows changed items detection never saw), and keeps
 * half the calls when there are some.
 */
export function lookupPlan(
  state: Pick<DetectionState, "backlog" | "hints">,
  counts: { watched: number; pushed: number },
  limit: number,
  nowMs: number,
): { lookup: boolean; share: number } {
  const { lookedAt } = state.hints;
  const recent = state.backlog && lookedAt !== undefined && nowMs - lookedAt < LOOKUP_EVERY_MS;
  const lookup = !recent || counts.pushed > 0;
  return { lookup, share: lookup && counts.watched > 0 ? Math.ceil(limit / 2) : limit };
}

/**
 * What a later check asks its lookup, besides the upstream and the budget: the watched rows, and what the last lookup
 * left in the hints (the open lists' cap, Inkit's marks, 8x8's turn). `latest`: the version the frontier lies in, when
 * known (8x8).
 */
export function lookupAsk(
  watched: WatchedRow[],
  hints: DetectionHints,
  latest: string | undefined,
): Omit<LookupRequest, "deps" | "credential" | "budget"> {
  return {
    watched,
    baseline: false,
    openCap: hints.openCap ?? 0,
    marks: hints.marks ?? [],
    turn: hints.turn ?? 0,
    ...(latest === undefined ? {} : { latest }),
  };
}

/**
 * The hints a lookup leaves the next check: the cap and turn it reached, its marks (or the last ones, when it made
 * none), and when it ran (`lookedAt`, unix ms).
 */
export function hintsAfterLookup(
  look: Pick<LookupResult, "openCap" | "marks" | "turn">,
  hints: DetectionHints,
  lookedAt: number,
): Partial<DetectionHints> {
  const marks = look.marks.length > 0 ? look.marks : (hints.marks ?? []);
  return { openCap: look.openCap, marks, lookedAt, turn: look.turn };
}

/** How many items are watched open once `rows` are applied. */
export function openAfter(watched: WatchedRow[], rows: { watch: WatchedRow[]; unwatch: string[] }): number {
  const gone = new Set(rows.unwatch);
  const status = new Map([...watched, ...rows.watch].map((w) => [w.item_id, w.open]));
  return [...status].filter(([id, isOpen]) => isOpen === 1 && !gone.has(id)).length;
}
