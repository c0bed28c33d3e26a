/**
 * Reading watched open items again, with what each upstream offers, so the cost follows the number of open items
 * and what changed, never how deep the items sit in their listing:
 * - 8x8: its `status` filter lists every open instance (`Runnable`, `Suspended`) of a version in a few calls; a
 *   watched instance missing from those lists has moved on, and its start-time window finds its new state. A check
 *   reads a segment of the open instances, and the lists within its start times only (`segmentOf` in check-rules.ts).
 * - Inkit: a listing sorted by `updated_at` (newest first) has every changed item at its top, so the first page (more
 *   when a page holds only items that changed since the last check) shows most changes at once. Items carry no
 *   `updated_at`, so the scan cannot prove it saw every change: each check also reads the least recently checked
 *   watched items directly (runs: up to 100 by `data_id` in one call; batches: one item read), in turns, so every
 *   watched item is read again within (open items / turn size) checks even when the scan missed its change.
 */

import type { z } from "@hono/zod-openapi";
import type { UpstreamDeps } from "../cache/upstream-deps";
import type { OffsetReader } from "../paging/offset-reader";
import { versionOf as versionOfInstance } from "../providers/eightbyeight/source";
import type { InkitBatchSchema } from "../providers/inkit/schemas";
import {
  type InkitListing,
  inkitBatch,
  inkitDocumentBatches,
  inkitReader,
  inkitRuns,
  inkitRunsById,
  inkitWorkflowBatches,
  RUN_IDS_PER_LOOKUP,
} from "../providers/inkit/source";
import { openReader } from "../providers/readers";
import type { Batch } from "../schemas/batch";
import type { EightByEightRunNormalized } from "../schemas/run";
import type { SourceKey } from "../schemas/sources";
import { ProblemError } from "../shared/problem";
import type { Credential } from "../upstream/credential";
import { currentUpstreamScope } from "../upstream/scope";
import type { Lookup, WatchedItem } from "./changes";
import type { ScanResume, WatchedRow } from "./store";

/** Upstream calls one check may still make (retries included, as they are subrequests too). */
export class CallBudget {
  private readonly start: number;
  constructor(readonly limit: number) {
    this.start = currentUpstreamScope()?.attempts ?? 0;
  }
  get used(): number {
    return (currentUpstreamScope()?.attempts ?? 0) - this.start;
  }
  left(): number {
    return this.limit - this.used;
  }
}

export interface LookupRequest {
  deps: UpstreamDeps;
  credential: Credential;
  /** Least recently checked first. */
  watched: WatchedRow[];
  budget: CallBudget;
  /** The first check of the source: see every open item it lists, not only watched ones. */
  baseline: boolean;
  /** A cap learned on the open-items listings (0: none). */
  openCap: number;
  /** Inkit: the first ids of the last `updated_at` scan. */
  marks: string[];
  /** Inkit: where an unfinished scan goes on. */
  resume?: ScanResume;
  /** Inkit: the listing's total when the last scan read its top. */
  scanTotal?: number;
  /** Inkit: pages the scan may read in this check (`scanPagesFor`). */
  scanPages: number;
  /** 8x8: the definition's latest version, as far as detection knows it (undefined: not known). */
  latest?: string;
  /** 8x8: which open list takes its turn (see `openListsFor`). */
  turn: number;
  /**
   * 8x8: the start times the check's segment of open rows spans (`segmentOf`): its open lists are read within them,
   * and `last` says the segment is the last of a pass. Absent: the lists are read whole.
   */
  range?: { from: string | null; to: string | null; last: boolean };
}

export interface LookupResult extends Lookup {
  /** Open items detection does not watch yet (8x8: the status lists show them all). */
  seenOpen: WatchedItem[];
  /** Inkit: items detection does not watch that the scan shows changed since the last one. */
  seenChanged: WatchedItem[];
  /**
   * Inkit: the scan's other items detection does not watch (at or below the last scan's marks, where an item that
   * changed again may still sit): a recorded status tells whether they moved.
   */
  seenListed: WatchedItem[];
  /** Whether unchanged watched rows must record this check (lookups that take turns). */
  touch: boolean;
  /** A cap learned on the open-items listings. */
  openCap: number;
  /** Inkit: the first ids of this scan, for the next one. */
  marks: string[];
  /** Inkit: where this scan goes on in the next check (undefined: it finished, or gave up). */
  resume?: ScanResume;
  /** Inkit: the listing's total when this scan read its top (absent: it did not). */
  scanTotal?: number;
  /** 8x8: the turn of the next check's open lists (it moves on once a pass of segments is over). */
  turn: number;
}

/** The lookup of a source's watched items. */
export function lookupFor(source: SourceKey): (req: LookupRequest) => Promise<LookupResult> {
  if (source.provider === "8x8") return (req) => eightByEightLookup(source, req);
  if (source.listing === "runs") return (req) => inkitLookup(inkitRuns, verifyRuns, req);
  const listing = source.listing === "batches" ? inkitDocumentBatches : inkitWorkflowBatches;
  return (req) => inkitLookup(listing, (rows, r, more) => verifyBatches(listing, rows, r, more), req);
}

/** Pages of the `updated_at` scan: items changed since the last check sit in the first ones. */
const SCAN_PAGE = 100;
/** Ids of the scan's first items, kept to tell next time whether a page holds only what changed since. */
const SCAN_MARKS = 20;
/** Pages one check's scan reads at most, when the check took no new items. */
const MAX_SCAN_PAGES = 5;
/** Pages one check's scan reads at least, whatever the check took: the top, and one more of what is left. */
const MIN_SCAN_PAGES = 2;
/**
 * How deep from the top a scan reads, over one check or several: past it (a long burst of new items, many changes)
 * the direct reads take over.
 */
const SCAN_DEPTH = 500;

/**
 * Pages a check's scan may read once the check took `taken` new items: a page fewer per hundred taken. A burst of
 * new items sits at the top of the `updated_at` order too, so a scan has to read through it to its marks; what it
 * cannot read now it goes on with in the next check (`ScanResume`), rather than adding its pages to the burst's.
 */
export const scanPagesFor = (taken: number): number =>
  Math.max(MIN_SCAN_PAGES, MAX_SCAN_PAGES - Math.ceil(taken / SCAN_PAGE));

/** What one stretch of the scan read: its items, those above the marks (changed since), where it stopped. */
interface Stretch {
  items: WatchedItem[];
  changed: WatchedItem[];
  reached: boolean;
  next: number;
  /** The listing's total at the stretch's first read (null: none read, or the upstream gave none). */
  total: number | null;
}

/** Reads the `updated_at` order in pages from `offset` until a page holds one of `marks` or the listing ends. */
async function scanDown(
  byUpdate: OffsetReader<WatchedItem>,
  offset: number,
  marks: Set<string>,
  mayRead: (stretch: Stretch) => boolean,
): Promise<Stretch> {
  const stretch: Stretch = { items: [], changed: [], reached: marks.size === 0, next: offset, total: null };
  while (!stretch.reached && mayRead(stretch)) {
    const { items, total } = await byUpdate.read(stretch.next, SCAN_PAGE, 0, { short: true });
    const mark = items.findIndex((item) => marks.has(item.id));
    stretch.items.push(...items);
    stretch.changed.push(...(mark < 0 ? items : items.slice(0, mark)));
    stretch.next += SCAN_PAGE;
    stretch.reached = items.length < SCAN_PAGE || mark >= 0;
    stretch.total ??= total;
  }
  return stretch;
}

/** Reads watched items directly, least recently checked first; `more` when the scan may have missed changes. */
type Verify = (
  rows: WatchedRow[],
  req: LookupRequest,
  more: boolean,
) => Promise<{ found: WatchedItem[]; gone: string[] }>;

/**
 * The scan reads from the top down to the last scan's marks (what changed since), then goes on with an unfinished
 * earlier scan, `scanPages` pages in all (one call always stays for the direct reads). One that stops short leaves a
 * `resume` for the next check. One that gives a stretch up (`more` to the direct reads: batches read more this time,
 * runs keep their turn) does so because no scan may show that stretch's changes: a newer stretch stopped short too,
 * the stretch reached SCAN_DEPTH, or the listing's total grew by SCAN_DEPTH since the last scan (new items alone then
 * fill the depth above its marks).
 */
async function inkitLookup(
  listing: InkitListing<z.ZodType, WatchedItem>,
  verify: Verify,
  req: LookupRequest,
): Promise<LookupResult> {
  const byUpdate = inkitReader(req.deps, listing, { sort: "-updated_at" }, req.credential);
  const newSince = (s: Stretch) => (s.total === null || req.scanTotal === undefined ? 0 : s.total - req.scanTotal);
  const unreachable = (s: Stretch) => newSince(s) >= SCAN_DEPTH;
  let pages = 0;
  const mayRead = (s: Stretch) => {
    if (pages >= req.scanPages || s.next >= SCAN_DEPTH || req.budget.left() <= 1 || unreachable(s)) return false;
    pages++;
    return true;
  };
  // The first check has nothing to compare: it only marks the top (below).
  const top = await scanDown(byUpdate, 0, new Set(req.marks), mayRead);
  const stretches = [top];
  let resume: ScanResume | undefined;
  let givenUp = false;
  if (!top.reached) {
    if (top.items.length === 0) resume = req.resume;
    else if (unreachable(top) || top.next >= SCAN_DEPTH) givenUp = true;
    else {
      resume = { offset: top.next, marks: req.marks };
      givenUp = req.resume !== undefined;
    }
  } else if (req.resume) {
    const rest = await scanDown(byUpdate, req.resume.offset, new Set(req.resume.marks), mayRead);
    stretches.push(rest);
    if (!rest.reached && rest.next >= SCAN_DEPTH) givenUp = true;
    else if (!rest.reached) resume = { offset: rest.next, marks: req.resume.marks };
  }
  if (req.baseline || req.marks.length === 0) {
    const { items, total } = await byUpdate.read(0, SCAN_MARKS, 0, { short: true });
    top.items.push(...items);
    top.total = total;
  }
  // Each item once, as last read (a resumed stretch may read again what moved down since).
  const scanned = [...new Map(stretches.flatMap((s) => s.items).map((item) => [item.id, item])).values()];
  const changed = [...new Map(stretches.flatMap((s) => s.changed).map((item) => [item.id, item])).values()];
  const watchedIds = new Set(req.watched.map((w) => w.item_id));
  const seen = new Set(scanned.map((item) => item.id));
  const changedIds = new Set(changed.map((item) => item.id));
  const verified = await verify(
    req.watched.filter((w) => !seen.has(w.item_id)),
    req,
    givenUp,
  );
  return {
    found: [...scanned.filter((item) => watchedIds.has(item.id)), ...verified.found],
    gone: verified.gone,
    seenOpen: [],
    // Changed items detection does not watch (open at the baseline below what it read, say): seen now.
    seenChanged: changed.filter((item) => !watchedIds.has(item.id)),
    // The rest of the scan.
    seenListed: scanned.filter((item) => !watchedIds.has(item.id) && !changedIds.has(item.id)),
    turn: req.turn,
    touch: true,
    openCap: req.openCap,
    marks: top.items.slice(0, SCAN_MARKS).map((item) => item.id),
    resume,
    ...(top.total === null ? {} : { scanTotal: top.total }),
  };
}

/**
 * Batches one check reads directly at most when the scan may have missed changes (one otherwise). Runs stay at one
 * call of 100 whatever the scan did: each further call of 100 measured about 1 ms of a check's CPU (part 9 of the
 * bench, a burst of 500 with 300 open runs: 10.5 ms at 3 calls, 8.5 at 1), and the turns go on from the least recently
 * checked in the next checks, so every open run is read again within (open runs ÷ 100) checks anyway.
 */
const MORE_BATCH_READS = 3;

/** Runs by `data_id`, least recently checked first: 100 in one call. An id Inkit does not list is gone. */
async function verifyRuns(rows: WatchedRow[], req: LookupRequest) {
  const ids = rows.slice(0, RUN_IDS_PER_LOOKUP).map((w) => w.item_id);
  if (ids.length === 0 || req.budget.left() <= 0) return { found: [], gone: [] };
  const found = await inkitRunsById(req.deps, ids, req.credential);
  const listed = new Set(found.map((r) => r.id));
  return { found, gone: ids.filter((id) => !listed.has(id)) };
}

/**
 * Batches read one by one, least recently checked first: one per check, so a quiet check stays cheap, or up to
 * MORE_BATCH_READS when the scan may have missed changes. One Inkit no longer has is gone.
 */
async function verifyBatches(
  listing: InkitListing<typeof InkitBatchSchema, Batch>,
  rows: WatchedRow[],
  req: LookupRequest,
  more: boolean,
) {
  const found: Batch[] = [];
  const gone: string[] = [];
  for (const row of rows.slice(0, more ? MORE_BATCH_READS : 1)) {
    if (req.budget.left() <= 0) break;
    try {
      found.push(await inkitBatch(req.deps, listing, row.item_id, req.credential));
    } catch (err) {
      if (!(err instanceof ProblemError && err.type === "not-found")) throw err;
      gone.push(row.item_id);
    }
  }
  return { found, gone };
}

/** 8x8's names for the open statuses, as our status filter spells them. */
const OPEN_STATUSES = ["running", "suspended"] as const;
const MAX_LIMIT = 500;
/**
 * Open-list items one check reads at most, all lists together (shared out evenly, see `eightByEightLookup`): each is
 * parsed, validated and normalized, and each one not watched yet becomes a watch row (about 8 µs of CPU each, with its
 * row), so the lists' size would otherwise set the check's CPU (the baseline read every open instance of every version
 * while its 40 calls lasted: up to 20,000 items). A segment's 200 rows and the open instances not watched in its start
 * times fit (`segmentOf`); a list cut short by the bound judges no absence, and what it did show of instances not
 * watched yet is watched from then on, so the next pass of segments finds it shorter.
 */
export const OPEN_ITEMS_PER_CHECK = 500;

/** One of 8x8's open lists: a status of a version (null: the latest, the listing's default). */
interface OpenList {
  version: string | null;
  status: (typeof OPEN_STATUSES)[number];
}

const listKey = (list: OpenList) => `${list.version ?? "latest"}|${list.status}`;

/**
 * The open lists a check reads. The baseline reads every one, the latest version's and each older version's, so every
 * open instance is seen. Later checks read the latest version's `Runnable` list every time (most open instances are
 * there, and a watched one that left it is found again by its start time, whatever it became), and one other list in
 * turns: the latest version's `Suspended` list, then both lists of each older version with watched instances. So a
 * quiet check reads 2 lists, however many versions hold open instances; a change on another list is seen within as
 * many passes of segments (one a tick, see `segmentOf`) as there are such lists. Without the latest version's number
 * (state kept before it was), every list of every watched version is read each time.
 */
export function openListsFor(req: Pick<LookupRequest, "baseline" | "latest" | "turn" | "watched">): OpenList[] {
  const both = (version: string | null): OpenList[] => OPEN_STATUSES.map((status) => ({ version, status }));
  const latest = req.latest ?? null;
  const older = (version: string | null) => version !== null && version !== latest;
  if (req.baseline) {
    const below =
      latest === null ? [] : Array.from({ length: Number(latest) - 1 }, (_, i) => String(Number(latest) - 1 - i));
    return [...both(null), ...below.flatMap(both)];
  }
  const versions = [...new Set(req.watched.map((w) => w.version))].filter(older) as string[];
  if (latest === null) {
    const lists = versions.flatMap(both);
    return req.watched.some((w) => w.version === null) || lists.length === 0 ? [...both(null), ...lists] : lists;
  }
  const turns: OpenList[] = [{ version: null, status: "suspended" }, ...versions.sort(byNumberDesc).flatMap(both)];
  return [{ version: null, status: "running" }, turns[req.turn % turns.length] as OpenList];
}

const byNumberDesc = (a: string, b: string) => Number(b) - Number(a);

/** The open list a watched instance is on, as `openListsFor` names it. */
function listOf(row: Pick<WatchedRow, "version" | "status">, latest: string | null): string {
  const version = row.version === null || row.version === latest ? null : row.version;
  return listKey({ version, status: row.status === "suspended" ? "suspended" : "running" });
}

/**
 * Reads the open lists within the check's range of start times (`LookupRequest.range`): what they show of the rows in
 * its segment, and of open instances detection does not watch with start times in it. A watched instance missing from
 * a list read to its end, within the range, has left it; one outside the range (a push named it) is looked for by its
 * start time. A pass of segments goes through every start time, and the turn of the second list moves on after each
 * pass, so each list a segment's rows are on is read within its range within as many passes as there are such lists.
 */
async function eightByEightLookup(
  source: Extract<SourceKey, { provider: "8x8" }>,
  req: LookupRequest,
): Promise<LookupResult> {
  const reader = (filters: Record<string, string>) =>
    openReader(source, req.deps, { credential: req.credential, filters });
  const window = req.openCap > 0 ? Math.min(req.openCap, MAX_LIMIT) : MAX_LIMIT;
  const listed = new Map<string, EightByEightRunNormalized>();
  /** Per list: the short answer that ended it (the bound cuts a read by asking less, never by a short answer). */
  const shortOf = new Map<string, number>();
  const complete = new Set<string>();
  const { from = null, to = null, last = true } = req.range ?? {};
  const bounds = { ...(from === null ? {} : { started_from: from }), ...(to === null ? {} : { started_to: to }) };
  const inRange = (w: WatchedRow) => (from === null || w.created_at >= from) && (to === null || w.created_at <= to);
  // The item bound is shared out as the lists go, the latest version's Runnable list last: each list gets an even
  // share of what is left, so every list (every version's, at the baseline) is read, and what the small ones leave
  // goes to the large one (most open instances are there, and it is read every check).
  const lists = openListsFor(req).reverse();
  let left = OPEN_ITEMS_PER_CHECK;
  for (const [i, list] of lists.entries()) {
    const open = reader({ status: list.status, ...(list.version ? { version: list.version } : {}), ...bounds });
    let share = Math.max(1, Math.floor(left / (lists.length - i)));
    // A short answer ends a list here; should it have been a silent cap, the missing instances' own windows
    // below find them still open, and the cap is learned.
    for (let offset = 0; share > 0 && req.budget.left() > 0; ) {
      const asked = Math.min(window, share);
      const { items } = await open.read(offset, asked, 0, { short: true });
      for (const item of items) listed.set(item.id, item);
      offset += items.length;
      share -= items.length;
      left -= items.length;
      if (items.length < asked) {
        if (items.length > 0) shortOf.set(listKey(list), items.length);
        complete.add(listKey(list));
        break;
      }
    }
  }
  const watchedIds = new Set(req.watched.map((w) => w.item_id));
  // Only a list read to its end says anything by an absence.
  const latest = req.latest ?? null;
  const unlisted = req.watched.filter((w) => !listed.has(w.item_id));
  const absent = unlisted.filter((w) => inRange(w) && complete.has(listOf(w, latest)));
  // Rows a push named outside the range are looked for apart from the absent rows, so none widens their windows.
  const named = await resolveMissing(
    reader,
    unlisted.filter((w) => !inRange(w)),
    req.budget,
  );
  const resolved = await resolveMissing(reader, absent, req.budget);
  // A missing instance found still on the list it was missing from means that list was cut short by a cap: read in
  // windows of that list's short answer from now on. (One found on the other open list moved there.)
  const rowList = new Map(absent.map((w) => [w.item_id, listOf(w, latest)]));
  const caps = resolved.found.flatMap((item) => {
    const list = rowList.get(item.id);
    const stillOn =
      (item.status === "running" || item.status === "suspended") &&
      list === listOf({ version: versionOfInstance(item), status: item.status }, latest);
    const cap = stillOn && list !== undefined ? shortOf.get(list) : undefined;
    return cap === undefined ? [] : [cap];
  });
  const openCap = caps.length > 0 ? Math.min(...caps) : req.openCap;
  return {
    found: [...[...listed.values()].filter((item) => watchedIds.has(item.id)), ...named.found, ...resolved.found],
    gone: [...named.gone, ...resolved.gone],
    seenOpen: [...listed.values()].filter((item) => !watchedIds.has(item.id)),
    seenChanged: [],
    seenListed: [],
    touch: false,
    openCap,
    marks: [],
    turn: last ? req.turn + 1 : req.turn,
  };
}

/**
 * Items the windows by start time read at most in one check (one full window): the instances that left the open lists
 * may sit among many others that ended, and each item read is parsed. What is left waits for the next pass.
 */
export const RESOLVE_ITEMS_PER_CHECK = 500;

/**
 * Finds instances that left the open lists, by start time: windows from the newest missing one down to the oldest,
 * 500 a call, so instances close in time share calls. Everything strictly newer than a window's last item was in the
 * window: a missing instance not there is gone. Stops (leaving the rest for a later check) when the budget is out or
 * RESOLVE_ITEMS_PER_CHECK items were read.
 */
async function resolveMissing(
  reader: (filters: Record<string, string>) => OffsetReader<EightByEightRunNormalized>,
  missing: WatchedRow[],
  budget: CallBudget,
): Promise<{ found: EightByEightRunNormalized[]; gone: string[] }> {
  const found: EightByEightRunNormalized[] = [];
  const gone: string[] = [];
  const byVersion = new Map<string | null, WatchedRow[]>();
  for (const row of missing) byVersion.set(row.version, [...(byVersion.get(row.version) ?? []), row]);
  let itemsLeft = RESOLVE_ITEMS_PER_CHECK;
  for (const [version, rows] of byVersion) {
    let left = [...rows].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    while (left.length > 0 && budget.left() > 0 && itemsLeft > 0) {
      const newest = left[0] as WatchedRow;
      const oldest = left.at(-1) as WatchedRow;
      const { items } = await reader({
        started_from: oldest.created_at,
        started_to: newest.created_at,
        ...(version ? { version } : {}),
      }).read(0, Math.min(MAX_LIMIT, itemsLeft), 0, { short: true });
      itemsLeft -= items.length;
      const byId = new Map(items.map((item) => [item.id, item]));
      const last = items.at(-1);
      const covered = (row: WatchedRow) =>
        items.length === 0 || (last !== undefined && row.created_at > last.created_at);
      const next: WatchedRow[] = [];
      for (const row of left) {
        const item = byId.get(row.item_id);
        if (item) found.push(item);
        else if (covered(row)) gone.push(row.item_id);
        else next.push(row);
      }
      // No progress: one instant holds more instances than an answer. Its missing ones stay watched as they are.
      left = next.length === left.length && last ? next.filter((r) => r.created_at < last.created_at) : next;
    }
  }
  return { found, gone };
}
