/**
 * One check of one watched source: the I/O half of change detection. It holds the source's lease, reads what is new
 * since the frontier (oldest first, with the walk engine) and the watched open items again, lets the pure core
 * decide (changes.ts for the items, check-rules.ts for the check), and commits events, watch rows and the new frontier
 * in one transaction.
 */
import { configOf } from "../config";
import { detectionCredential } from "../connections/read";
import { recordAndQueue } from "../events/record";
import type { Watcher } from "../events/watchers";
import { configuredCredential } from "../providers/credentials";
import { loggerOf } from "../shared/logger";
import { isoMicros } from "../shared/time";
import type { Credential } from "../upstream/credential";
import {
  type Change,
  compareWatched,
  created,
  fanOut,
  isTerminal,
  numbered,
  sequenceAfter,
  sightedIds,
  sightings,
  type WatchedItem,
  type WatchOutcome,
  watchRow,
  withSightings,
} from "./changes";
import {
  type CheckReport,
  type CheckResult,
  type Committing,
  conclusion,
  hintsAfterLookup,
  lookupAsk,
  lookupPlan,
  nothing,
  openAfter,
  segmentOf,
  type WatchRows,
} from "./check-rules";
import { announced, type Frontier, readHead, readSinceFrontier } from "./frontier";
import { CallBudget, scanPagesFor } from "./lookups";
import { type SourceDeps, type SourceSpec, sourceSpec } from "./sources";
import {
  claimSource,
  commitStatements,
  type DetectionState,
  endpointsWatching,
  type HeldSource,
  isCheckConflict,
  type RowShare,
  releaseSource,
  type WatchedRow,
  type WatchKey,
  watchedByIds,
} from "./store";

export type { CheckResult };

/**
 * Open watch rows a check reads: reading every one made a check's CPU grow with them (about 2.5 ms per thousand for
 * Inkit's rows; an 8x8 check also read every open instance's list entry, over 10 ms at a thousand).
 * - Inkit: the least recently checked. The direct reads take their turn from these (100 runs, or a batch), the horizon
 *   is checked on them, and the scan's other sightings are compared with their recorded rows.
 * - 8x8: the next segment in start-time order (`segmentOf`). The open lists are read within its start times only, so
 *   an instance missing from them still tells that it ended; the horizon is checked on these rows.
 */
const OPEN_ROWS: RowShare = { rows: 200, by: "checked" };
const OPEN_SEGMENT: RowShare = { rows: 200, by: "segment" };

/** The deployment's own credential: detection state is kept per credential, a connection's under its id. */
const CONFIGURED = "configured";

/**
 * What a check reads with: the deployment's credential, or the source's connection's. None while the connection is
 * `invalid` or deleted: the check makes no upstream call and its state waits, so nothing is lost.
 */
async function readWith(env: Env, deps: SourceDeps, spec: SourceSpec): Promise<Credential | null> {
  const { connection, provider } = spec.key;
  if (connection === undefined) return configuredCredential(env, provider);
  const read = await detectionCredential(env, connection, deps.waitUntil);
  return "credential" in read ? read.credential : null;
}

/**
 * Checks one source now: the lease makes a concurrent check of the same source answer `busy` at once. The first check
 * records a baseline without events. A check that could not read its whole backlog within its budget says so
 * (`backlog`), and the caller has the next check continue from where it stopped. A source read through a connection
 * that cannot be used is `paused`: no upstream call, no change to its state.
 */
export async function checkSource(
  env: Env,
  deps: SourceDeps,
  text: string,
  options: { named?: string[] } = {},
): Promise<CheckResult> {
  const spec = sourceSpec(text);
  if (!spec) return { ...nothing(text), outcome: "error", error: "Unknown source key." };
  const credential = await readWith(env, deps, spec);
  if (credential === null) return { ...nothing(spec.name), outcome: "paused" };
  const key: WatchKey = { source: spec.name, credential: spec.key.connection ?? CONFIGURED };
  const config = configOf(env);
  // Longer than any check can run (its upstream budget), so a lease only lapses when its holder died.
  const held = await claimSource(
    env.DB,
    key,
    Date.now(),
    Math.max(60_000, 3 * config.upstreamBudgetMs),
    spec.key.provider === "inkit" ? OPEN_ROWS : OPEN_SEGMENT,
  );
  if (held === null) return { ...nothing(spec.name), outcome: "busy" };
  try {
    return await checkHeld({ env, deps, spec, key, lease: held.lease, credential }, held, options.named ?? []);
  } catch (err) {
    await releaseSource(env.DB, key, held.lease);
    throw err;
  }
}

/** What every step of one check reads: the source, its upstream, the check's call budget and its clock. */
interface Check {
  env: Env;
  deps: SourceDeps;
  spec: SourceSpec;
  key: WatchKey;
  lease: string;
  budget: CallBudget;
  now: string;
  credential: Credential;
  /** The source's listing; 8x8: one definition version, or the latest when null. */
  open: (version?: string | null) => ReturnType<SourceSpec["open"]>;
}

async function checkHeld(
  holding: Pick<Check, "env" | "deps" | "spec" | "key" | "lease" | "credential">,
  { state, watched: openRows, openCount, lastSequence }: HeldSource,
  named: string[],
): Promise<CheckResult> {
  const { env, deps, spec, key, credential } = holding;
  const check: Check = {
    ...holding,
    budget: new CallBudget(configOf(env).webhookCheckCalls),
    now: isoMicros(Date.now()),
    open: (version = null) => spec.open(deps, credential, version),
  };
  if (state.version === 0) return baseline(check, lastSequence);
  const share: OpenShare =
    spec.key.provider === "8x8"
      ? segmentOf(openRows, OPEN_SEGMENT.rows, state.hints, state.frontierAt)
      : { rows: openRows };
  // An inbound push names the item it concerns: read it again too, even if its watch is closed (it was terminal).
  const openIds = new Set(share.rows.map((w) => w.item_id));
  const pushed = (await watchedByIds(env.DB, key, named)).filter((w) => !openIds.has(w.item_id));
  return continueFrom(check, { ...state, lastSequence }, { ...share, count: openCount }, pushed);
}

/** The open rows a check reads, and (8x8) the start times their segment spans and where it ends. */
type OpenShare = Partial<ReturnType<typeof segmentOf>> & { rows: WatchedRow[] };

/** The first check: the listing's head becomes the frontier, and the open items it shows are watched; no events. */
async function baseline(check: Check, lastSequence: number): Promise<CheckResult> {
  const { spec, deps, credential, budget, now } = check;
  const head = await readHead(check.open(), configOf(check.env).webhookCheckItems);
  const version = head.items[0] ? (spec.versionOf(head.items[0]) ?? undefined) : undefined;
  const look = await spec.lookup({
    deps,
    credential,
    watched: [],
    budget,
    baseline: true,
    openCap: 0,
    marks: [],
    scanPages: scanPagesFor(head.items.length),
    turn: 0,
    ...(version === undefined ? {} : { latest: version }),
  });
  const seen = [...head.items, ...look.seenOpen].filter((item) => !isTerminal(item) && announced(head.frontier, item));
  const watch = [...new Map(seen.map((item) => [item.id, watchRow(item, now, spec.versionOf(item))])).values()];
  const state = {
    ...head.frontier,
    hints: { ...head.frontier.hints, openCap: look.openCap, marks: look.marks, scanTotal: look.scanTotal, version },
  };
  return commit(
    check,
    { version: 0, state, lastSequence },
    [],
    { watch, unwatch: [], touched: [] },
    {
      outcome: "baseline",
      watched: watch.length,
      horizonStart: "",
    },
  );
}

/**
 * A later check: what is new since the frontier, oldest first, while the budget lasts, then the watched open items
 * read again (`lookupPlan` says whether, and what share of the budget the new items get). A check that continues a
 * backlog within the minute leaves the open items to the next tick (their lookup would repeat with every
 * continuation, and nothing is lost by reading them a little later); a push always reads them.
 */
async function continueFrom(
  check: Check,
  state: DetectionState & { lastSequence: number },
  open: OpenShare & { count: number },
  pushed: WatchedRow[],
): Promise<CheckResult> {
  const { spec, budget, now } = check;
  const config = configOf(check.env);
  const watched = [...open.rows, ...pushed];
  const counts = { watched: open.count + pushed.length, pushed: pushed.length };
  const { lookup, share } = lookupPlan(state, counts, budget.limit, Date.now());
  const news = await readSinceFrontier(
    check.open,
    state,
    { items: config.webhookCheckItems, callsLeft: () => share - budget.used },
    spec.versionOf,
  );
  const horizonStart = isoMicros(Date.now() - config.webhookWatchHorizonDays * 86_400_000);
  const looked = lookup
    ? await lookUpWatched(check, { ...open, rows: watched }, state.hints, news, horizonStart)
    : NOT_LOOKED;
  const error = news.error ?? looked.error;
  const changes = [...news.items.map((item) => created(spec.kind, item)), ...looked.outcome.changes];
  const next = { ...news.frontier, hints: { ...news.frontier.hints, ...looked.hints } };
  const additions = news.items.map((item) => watchRow(item, now, spec.versionOf(item)));
  const rows = {
    watch: [...additions, ...looked.outcome.watch],
    unwatch: looked.outcome.unwatch,
    touched: looked.outcome.touched,
  };
  return commit(check, { version: state.version, state: next, lastSequence: state.lastSequence }, changes, rows, {
    outcome: error ? "partial" : "checked",
    error,
    created: news.items.length,
    // The rows read before anything was written, for what each item was (the open ones read, those a push named, the
    // recorded rows of what the lookup showed), and the open ones in all (a push names only rows the count holds).
    watched: openAfter([...looked.recorded, ...watched], rows, open.count),
    horizonStart,
    // A pass of segments goes on after a check that skipped its lookup too (continuing a backlog): it is never left
    // halfway for a tick.
    moreOpen: next.hints.below !== undefined,
  });
}

/** What reading the watched items again decided, the hints it leaves the next check, and the failure it met. */
interface Looked {
  outcome: WatchOutcome;
  hints: Partial<DetectionState["hints"]>;
  error: unknown;
  /** Recorded rows of items the lookup showed that the check had not read (sightings, rows it stops watching). */
  recorded: WatchedRow[];
}

/** A check that leaves the open items to a later one: nothing is known of them, and they stay as they were. */
const NOT_LOOKED: Looked = {
  outcome: { changes: [], watch: [], unwatch: [], touched: [] },
  hints: {},
  error: null,
  recorded: [],
};

/**
 * Reads the watched items again and lets the pure core compare them. Items the lookup shows that are not watched
 * open (announced before they were seen open, carried over, open at the baseline below what it read, or recorded
 * terminal) are compared with their recorded rows, read first: a closed one whose status moved since is reported
 * with it as `previous`. Those never recorded are watched from now on when open, and those seen changed report their
 * state now (`sightings`, `withSightings`). Without a lookup nothing is known of the open items: they stay as they
 * were, and only the horizon applies.
 */
async function lookUpWatched(
  check: Check,
  { rows: watched, range, below }: OpenShare,
  hints: DetectionState["hints"],
  news: { items: WatchedItem[]; frontier: Frontier },
  horizonStart: string,
): Promise<Looked> {
  const { spec, deps, credential, budget, now } = check;
  const lookedAt = Date.now();
  try {
    const ask = { ...lookupAsk(watched, hints, news.frontier.hints.version), ...(range ? { range } : {}) };
    // The scan's pages shrink with the new items the check took: the two together stay bounded (lookups.ts).
    const look = await spec.lookup({ deps, credential, budget, scanPages: scanPagesFor(news.items.length), ...ask });
    const seen = sightings(look, watched, news);
    // The recorded rows of what the lookup showed of items not watched open, and the stored items of those it may stop
    // watching: one D1 read (90 ids a statement), none when there are none. Bounded by what the lookup read anyway:
    // Inkit, the scan's pages (at most 5 of 100 items, one page on a quiet check: 100 ids, 2 statements); 8x8, the
    // open instances not watched, which after the baseline are only a few (open again, or dropped at the horizon).
    const { rows, recorded } = await withStoredItems(
      check,
      watched,
      new Set(look.gone),
      horizonStart,
      sightedIds(seen),
    );
    const compared = compareWatched(spec.kind, rows, look, {
      horizonStart,
      now,
      touch: look.touch,
      versionOf: spec.versionOf,
    });
    const outcome = withSightings(spec.kind, compared, seen, recorded, { now, versionOf: spec.versionOf });
    return { outcome, hints: hintsAfterLookup(look, hints, lookedAt, below), error: null, recorded };
  } catch (err) {
    const { rows } = await withStoredItems(check, watched, new Set(), horizonStart, []);
    const outcome = compareWatched(spec.kind, rows, { found: [], gone: [] }, { horizonStart, now });
    return { outcome, hints: { lookedAt }, error: err, recorded: [] };
  }
}

/**
 * The check reads its open rows without their stored items (`object` is "" then: a thousand of them are most of what a
 * check reads from D1). A row the check may stop watching (gone, or past the horizon) is reported with its stored
 * item, so those are read whole, with the rows of `ids`, in one D1 read.
 */
async function withStoredItems(
  check: Check,
  watched: WatchedRow[],
  gone: Set<string>,
  horizonStart: string,
  ids: string[],
): Promise<{ rows: WatchedRow[]; recorded: WatchedRow[] }> {
  const ending = watched.filter((w) => w.object === "" && (gone.has(w.item_id) || w.seen_at < horizonStart));
  const wanted = [...new Set([...ids, ...ending.map((w) => w.item_id)])];
  const recorded = wanted.length > 0 ? await watchedByIds(check.env.DB, check.key, wanted) : [];
  if (ending.length === 0) return { rows: watched, recorded };
  const whole = new Map(recorded.map((w) => [w.item_id, w]));
  return { rows: watched.map((w) => (w.object === "" ? (whole.get(w.item_id) ?? w) : w)), recorded };
}

/** Numbers the changes, fans them out to the source's watchers and commits everything in one transaction. */
async function commit(
  check: Check,
  c: Committing,
  changes: Change[],
  rows: WatchRows,
  report: CheckReport,
): Promise<CheckResult> {
  const { env, spec, key, lease, now } = check;
  const ordered = numbered(changes, c.lastSequence);
  const watchers: Watcher[] = ordered.length > 0 ? await endpointsWatching(env.DB, key.source) : [];
  const { events, deliveries } = fanOut(spec.name, ordered, watchers, now);
  const made = { calls: check.budget.used, events: events.length, sequence: sequenceAfter(ordered, c.lastSequence) };
  const { commitment, result } = conclusion({ key, lease, now }, c, rows, report, made);
  try {
    await recordAndQueue(env, { alongside: commitStatements(env.DB, commitment), events, deliveries, now });
  } catch (err) {
    if (!isCheckConflict(err)) throw err;
    await releaseSource(env.DB, key, lease);
    return { ...nothing(spec.name), outcome: "conflict", calls: made.calls };
  }
  if (result.error !== undefined)
    loggerOf(env).warn("change detection read failed midway; the next check continues", {
      source: spec.name,
      error: result.error,
    });
  return result;
}
