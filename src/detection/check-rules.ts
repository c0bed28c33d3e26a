/**
 * The rules of one check besides the items' own (changes.ts) and the frontier's (frontier-rules.ts), pure: whether it
 * reads the watched items again and how many calls it leaves the new items, what it asks that lookup and which hints
 * the next check gets from it, how many items stay watched, and what it commits and reports (`CheckResult`). check.ts
 * does the reads and the commit.
 */
import type { Frontier } from "./frontier-rules";
import type { LookupRequest, LookupResult } from "./lookups";
import type { CheckCommit, DetectionHints, DetectionState, WatchedRow, WatchKey } from "./store";

/** What one check did, as its caller (the queue consumer, an inbound push) sees it. */
export interface CheckResult {
  source: string;
  /**
   * `baseline`: first sight, recorded without events. `busy`: another check holds the source. `conflict`: another
   * check committed first. `partial`: an upstream failed midway; what was read before it is committed.
   */
  outcome: "baseline" | "checked" | "partial" | "busy" | "conflict" | "paused" | "error";
  /** New items announced. */
  created: number;
  /** Event rows recorded (one per type and subscribed tenant). */
  events: number;
  /** Upstream calls made, retries included. */
  calls: number;
  /** Newer items were left for the next check. */
  backlog: boolean;
  /**
   * 8x8: open rows below this check's segment are left for the next check (`segmentOf`), which goes on with the pass
   * at once: one pass of segments reads every open row within a tick, each check only its share of them.
   */
  moreOpen: boolean;
  /** Open items watched after the check. */
  watched: number;
  error?: string;
}

/** A check's result before its outcome: nothing announced, recorded, called or watched. */
export const nothing = (source: string): Omit<CheckResult, "outcome"> => ({
  source,
  created: 0,
  events: 0,
  calls: 0,
  backlog: false,
  moreOpen: false,
  watched: 0,
});

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
): Omit<LookupRequest, "deps" | "credential" | "budget" | "scanPages"> {
  return {
    watched,
    baseline: false,
    openCap: hints.openCap ?? 0,
    marks: hints.marks ?? [],
    ...(hints.resume === undefined ? {} : { resume: hints.resume }),
    ...(hints.scanTotal === undefined ? {} : { scanTotal: hints.scanTotal }),
    turn: hints.turn ?? 0,
    ...(latest === undefined ? {} : { latest }),
  };
}

/**
 * The hints a lookup leaves the next check: the cap and turn it reached, its marks (or the last ones, when it made
 * none), where its scan goes on (none: `resume` undefined, which drops the last one), the listing's total its scan
 * saw, when it ran (`lookedAt`, unix ms), and where its segment of open rows ended (`below`; undefined: the next
 * starts at the top).
 */
export function hintsAfterLookup(
  look: Pick<LookupResult, "openCap" | "marks" | "turn" | "resume" | "scanTotal">,
  hints: DetectionHints,
  lookedAt: number,
  below?: EndOfSegment,
): Partial<DetectionHints> {
  const marks = look.marks.length > 0 ? look.marks : (hints.marks ?? []);
  const scanTotal = look.scanTotal ?? hints.scanTotal;
  return { openCap: look.openCap, marks, resume: look.resume, scanTotal, lookedAt, turn: look.turn, below };
}

/**
 * One check's segment of an 8x8 source's open rows, and the start times its open lists are read within (inclusive;
 * null: unbounded). `read`: the rows the claim read below the last segment's end (`hints.below`), newest first, one
 * more than `share` when more lie below.
 * - The range reaches from the segment's end down to its oldest row, and to the bottom when it is the last segment.
 * - At the top, it reaches up to the frontier (or the newest row, were that newer): newer items are not announced yet.
 * - Below the top, it reaches up to where the last segment ended.
 * So one pass of segments covers every start time up to the frontier, and every open row sits in one segment's range,
 * with all the rows that share its start times but a tie group cut at the segment's edge.
 */
export function segmentOf(
  read: WatchedRow[],
  share: number,
  hints: Pick<DetectionHints, "below">,
  frontierAt: string | null,
): { rows: WatchedRow[]; range: { from: string | null; to: string | null; last: boolean }; below?: EndOfSegment } {
  const rows = read.slice(0, share);
  const end = read.length > share ? rows.at(-1) : undefined;
  const newest = rows[0]?.created_at ?? null;
  const top = frontierAt === null || (newest !== null && newest > frontierAt) ? newest : frontierAt;
  return {
    rows,
    range: { from: end?.created_at ?? null, to: hints.below?.at ?? top, last: end === undefined },
    ...(end ? { below: { at: end.created_at, id: end.item_id } } : {}),
  };
}

type EndOfSegment = NonNullable<DetectionHints["below"]>;

/**
 * How many items are watched open once `rows` are applied: the `open` ones before (by default those among `known`),
 * plus what the rows changed. `known`: rows read before the check wrote any, each giving its item's state then; an item
 * not among them was not watched open. A check that reads only a share of the open rows passes their number in all.
 */
export function openAfter(
  known: WatchedRow[],
  rows: { watch: WatchedRow[]; unwatch: string[] },
  open = known.filter((w) => w.open === 1).length,
): number {
  const before = new Map(known.map((w) => [w.item_id, w.open]));
  const after = new Map(rows.watch.map((w) => [w.item_id, w.open]));
  for (const id of rows.unwatch) after.set(id, 0);
  let count = open;
  for (const [id, isOpen] of after) count += (isOpen === 1 ? 1 : 0) - (before.get(id) === 1 ? 1 : 0);
  return count;
}

/** What a check commits: the commit version and frontier it read, the last sequence it holds. */
export interface Committing {
  version: number;
  state: Frontier;
  lastSequence: number;
}

/** The watch rows a check writes, and the ids it stops watching. */
export interface WatchRows {
  watch: WatchedRow[];
  unwatch: string[];
  /** Unchanged watched items read again: their check time moves. */
  touched: string[];
}

/** What a check reports besides what its commit counts (calls and events). */
export interface CheckReport {
  outcome: CheckResult["outcome"];
  error?: unknown;
  created?: number;
  watched: number;
  horizonStart: string;
  moreOpen?: boolean;
}

/**
 * What a check commits under its lease (`held`), and the result it reports once committed: the figures it records
 * (`made`: the calls it made and the events it minted; items announced, 0 unless reported), the sequence the source's
 * counter moves to (null when no number was handed out), and the message of a failure it met midway.
 */
export function conclusion(
  held: { key: WatchKey; lease: string; now: string },
  c: Committing,
  rows: WatchRows,
  report: CheckReport,
  made: { calls: number; events: number; sequence: number | null },
): { commitment: CheckCommit; result: CheckResult } {
  const figures = { calls: made.calls, created: report.created ?? 0, events: made.events, watched: report.watched };
  const commitment: CheckCommit = {
    ...held,
    version: c.version,
    state: c.state,
    watch: rows.watch,
    unwatch: rows.unwatch,
    touched: rows.touched,
    horizonStart: report.horizonStart,
    sequence: made.sequence,
    figures,
  };
  const error = failureMessage(report.error);
  const result: CheckResult = {
    source: held.key.source,
    outcome: report.outcome,
    created: figures.created,
    events: figures.events,
    calls: figures.calls,
    backlog: c.state.backlog,
    moreOpen: report.moreOpen ?? false,
    watched: figures.watched,
    ...(error ? { error } : {}),
  };
  return { commitment, result };
}

/** The message a check reports for a failure it met (`error`), or undefined when it met none. */
function failureMessage(error: unknown): string | undefined {
  if (!error) return undefined;
  return error instanceof Error ? error.message : String(error);
}
