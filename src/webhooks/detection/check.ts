/**
 * One check of one watched source: the I/O half of change detection. It holds the source's lease, reads what is new
 * since the frontier (oldest first, with the walk engine) and the watched open items again, lets the pure core
 * (changes.ts) decide, and commits events, watch rows and the new frontier in one transaction.
 */
import { configOf } from "../../config";
import { loggerOf } from "../../logger";
import { type Lane, type LaneState, readNewer } from "../../paging/lanes";
import type { OffsetReader } from "../../paging/offset-reader";
import type { Keyset } from "../../paging/order";
import { configuredCredential } from "../../providers/catalog";
import { isoMicros } from "../ids";
import { type SourceDeps, type SourceSpec, sourceSpec } from "../sources";
import {
  type CheckCommit,
  claimSource,
  commitStatements,
  type DetectionHints,
  type DetectionState,
  detectionState,
  endpointsWatching,
  isCheckConflict,
  recordAndQueue,
  releaseSource,
  type WatchedRow,
  type WatchKey,
  watchedByIds,
} from "../store";
import {
  type Change,
  compareWatched,
  created,
  fanOut,
  isTerminal,
  numbered,
  type WatchedItem,
  type Watcher,
  type WatchOutcome,
  watchRow,
} from "./changes";
import { CallBudget } from "./lookups";

export interface CheckResult {
  source: string;
  /**
   * `baseline`: first sight, recorded without events. `busy`: another check holds the source. `conflict`: another
   * check committed first. `partial`: an upstream failed midway; what was read before it is committed.
   */
  outcome: "baseline" | "checked" | "partial" | "busy" | "conflict" | "error";
  /** New items announced. */
  created: number;
  /** Event rows recorded (one per type and subscribed tenant). */
  events: number;
  /** Upstream calls made, retries included. */
  calls: number;
  /** Newer items were left for the next check. */
  backlog: boolean;
  /** Open items watched after the check. */
  watched: number;
  error?: string;
}

/** The deployment's own credential: detection state is kept per credential so tenants' own can follow. */
const CONFIGURED = "configured";

/** Items one creation read asks for at most: one 8x8 answer, five of a capped Inkit. */
const PAGE = 500;

/**
 * Checks one source now: the lease makes a concurrent check of the same source answer `busy` at once. The first check
 * records a baseline without events. A check that could not read its whole backlog within its budget says so
 * (`backlog`), and the caller has the next check continue from where it stopped.
 */
export async function checkSource(
  env: Env,
  deps: SourceDeps,
  text: string,
  options: { named?: string[] } = {},
): Promise<CheckResult> {
  const spec = sourceSpec(text);
  if (!spec) return { ...nothing(text), outcome: "error", error: "Unknown source key." };
  const key: WatchKey = { source: spec.key, credential: CONFIGURED };
  const config = configOf(env);
  // Longer than any check can run (its upstream budget), so a lease only lapses when its holder died.
  const lease = await claimSource(env.DB, key, Date.now(), Math.max(60_000, 3 * config.upstreamBudgetMs));
  if (lease === null) return { ...nothing(spec.key), outcome: "busy" };
  try {
    return await checkHeld(env, deps, spec, key, lease, options.named ?? []);
  } catch (err) {
    await releaseSource(env.DB, key, lease);
    throw err;
  }
}

const nothing = (source: string): Omit<CheckResult, "outcome"> => ({
  source,
  created: 0,
  events: 0,
  calls: 0,
  backlog: false,
  watched: 0,
});

async function checkHeld(
  env: Env,
  deps: SourceDeps,
  spec: SourceSpec,
  key: WatchKey,
  lease: string,
  named: string[],
): Promise<CheckResult> {
  const config = configOf(env);
  const { state, watched: openRows, lastSequence } = await detectionState(env.DB, key);
  // An inbound push names the item it concerns: read it again too, even if its watch is closed (it was terminal).
  const openIds = new Set(openRows.map((w) => w.item_id));
  const pushed = (await watchedByIds(env.DB, key, named)).filter((w) => !openIds.has(w.item_id));
  const watched = [...openRows, ...pushed];
  const budget = new CallBudget(config.webhookCheckCalls);
  const now = isoMicros(Date.now());
  const credential = configuredCredential(env, spec.source.provider);
  const open = () => spec.open(deps, env);

  if (state.version === 0) {
    const head = await readHead(open(), config.webhookCheckItems);
    const look = await spec.lookup({ deps, credential, watched: [], budget, baseline: true, openCap: 0 });
    const seen = [...head.items, ...look.seenOpen].filter((item) => !isTerminal(item) && announced(head.state, item));
    const watch = [...new Map(seen.map((item) => [item.id, watchRow(item, now, spec.versionOf(item))])).values()];
    const next = { ...head.state, hints: { ...head.state.hints, openCap: look.openCap } };
    return commit(
      env,
      spec,
      { key, lease, now, version: 0, state: next, lastSequence },
      [],
      { watch, unwatch: [] },
      {
        outcome: "baseline",
        budget,
        watched: watch.length,
        horizonStart: "",
      },
    );
  }

  // New items since the frontier, oldest first, a page at a time, while the check's budget lasts. The open items'
  // lookup keeps half the budget when there are any.
  const news = await readSinceFrontier(spec, open, state, {
    items: config.webhookCheckItems,
    calls: watched.length > 0 ? Math.ceil(budget.limit / 2) : budget.limit,
    budget,
  });
  const additions = news.items.map((item) => watchRow(item, now, spec.versionOf(item)));

  const horizonStart = isoMicros(Date.now() - config.webhookWatchHorizonDays * 86_400_000);
  let lookupError: unknown = null;
  let outcome: WatchOutcome = { changes: [], watch: [], unwatch: [] };
  let openCap = state.hints.openCap ?? 0;
  try {
    if (watched.length > 0) {
      const look = await spec.lookup({ deps, credential, watched, budget, baseline: false, openCap });
      openCap = look.openCap;
      outcome = compareWatched(spec.kind, watched, look, {
        horizonStart,
        now,
        touch: look.touch,
        versionOf: spec.versionOf,
      });
      // Open items listed but not watched yet (announced before they were seen open, e.g. carried over): watch them.
      const known = new Set([...watched.map((w) => w.item_id), ...news.items.map((i) => i.id)]);
      for (const item of look.seenOpen) {
        if (!known.has(item.id) && announced(news.state, item))
          outcome.watch.push(watchRow(item, now, spec.versionOf(item)));
      }
    }
  } catch (err) {
    // Without a lookup nothing is known of the open items: they stay as they were, and only the horizon applies.
    lookupError = err;
    outcome = compareWatched(spec.kind, watched, { found: [], gone: [] }, { horizonStart, now });
  }
  const error = news.error ?? lookupError;
  const changes = [...news.items.map((item) => created(spec.kind, item)), ...outcome.changes];
  const next = { ...news.state, hints: { ...news.state.hints, openCap } };
  const rows = { watch: [...additions, ...outcome.watch], unwatch: outcome.unwatch };
  const gone = new Set(rows.unwatch);
  const status = new Map([...watched, ...rows.watch].map((w) => [w.item_id, w.open]));
  const after = [...status].filter(([id, isOpen]) => isOpen === 1 && !gone.has(id));
  return commit(env, spec, { key, lease, now, version: state.version, state: next, lastSequence }, changes, rows, {
    outcome: error ? "partial" : "checked",
    budget,
    error,
    created: news.items.length,
    watched: after.length,
    horizonStart,
  });
}

/** Whether an item is at or behind the frontier, i.e. already announced (`*.created`) or older. */
function announced(state: Omit<DetectionState, "version">, item: WatchedItem): boolean {
  if (state.frontierAt === null) return false;
  return (
    item.created_at < state.frontierAt || (item.created_at === state.frontierAt && state.frontierIds.includes(item.id))
  );
}

/** Where detection stands in its listing, as the walk engine's lane state. */
function laneState(state: Omit<DetectionState, "version">): LaneState {
  const { hints } = state;
  // After every item created at the frontier's instant: the ones of them not announced yet are skipped by the filter.
  const key: Keyset | null = state.frontierAt === null ? null : [state.frontierAt, "\uffff", ""];
  return {
    key,
    at: hints.at,
    span: hints.span,
    total: hints.total,
    hint: hints.cap,
    head: null,
    version: null,
    done: false,
  };
}

/**
 * Reads the items newer than the frontier, oldest first, up to `limits.items` and while the creation share of the
 * call budget lasts. A failure after some pages keeps what they read (it is committed; the next check continues).
 */
async function readSinceFrontier(
  spec: SourceSpec,
  open: () => OffsetReader<WatchedItem>,
  start: DetectionState,
  limits: { items: number; calls: number; budget: CallBudget },
) {
  let state: Omit<DetectionState, "version"> = { ...start };
  const lane: Lane<WatchedItem> = {
    name: spec.key,
    open,
    // Items at the frontier's instant that were announced already (a tie group may arrive across checks).
    filter: (item) => (item.created_at === state.frontierAt && state.frontierIds.includes(item.id) ? "skip" : "keep"),
  };
  const items: WatchedItem[] = [];
  let error: unknown = null;
  let backlog = true;
  while (items.length < limits.items && limits.budget.used < limits.calls) {
    try {
      const page = await readNewer(lane, laneState(state), Math.min(PAGE, limits.items - items.length));
      items.push(...page.items);
      state = advance(state, page.items, page.state);
      backlog = !page.caughtUp;
      if (page.caughtUp) break;
    } catch (err) {
      error = err;
      break;
    }
  }
  return { items, state: { ...state, backlog }, error };
}

/** The frontier after serving `items` (oldest first): the newest one's instant, and the ids announced there. */
function advance(
  state: Omit<DetectionState, "version">,
  items: WatchedItem[],
  lane: LaneState,
): Omit<DetectionState, "version"> {
  const newest = items.at(-1);
  const at = newest?.created_at ?? state.frontierAt;
  const before = at === state.frontierAt ? state.frontierIds : [];
  const ids = [...new Set([...before, ...items.filter((i) => i.created_at === at).map((i) => i.id)])];
  const hints: DetectionHints = { ...state.hints, at: lane.at, span: lane.span, total: lane.total, cap: lane.hint };
  return { ...state, frontierAt: at, frontierIds: ids, hints };
}

/**
 * The baseline: the listing's newest tie group becomes the frontier (nothing before it is announced), read whole from
 * the head, and every item read is seen.
 */
async function readHead(reader: OffsetReader<WatchedItem>, count: number) {
  const items: WatchedItem[] = [];
  let hint = 0;
  let total: number | null = null;
  for (let more = true; more; ) {
    const read = await reader.read(items.length, Math.min(count, PAGE), hint, { short: true });
    items.push(...read.items);
    ({ hint, total } = read);
    // Read on only while everything read is one instant: the head's tie group may continue.
    more = read.hasMore && read.items.length > 0 && items.every((i) => i.created_at === items[0]?.created_at);
  }
  const newest = items.reduce<string | null>(
    (max, i) => (max === null || i.created_at > max ? i.created_at : max),
    null,
  );
  const group = items.filter((i) => i.created_at === newest);
  const state: Omit<DetectionState, "version"> = {
    frontierAt: newest,
    frontierIds: group.map((i) => i.id),
    hints: { at: 0, span: group.length, total, cap: hint },
    backlog: false,
  };
  return { items, state };
}

interface Committing {
  key: WatchKey;
  lease: string;
  now: string;
  version: number;
  state: Omit<DetectionState, "version">;
  lastSequence: number;
}

/** Numbers the changes, fans them out to the source's watchers and commits everything in one transaction. */
async function commit(
  env: Env,
  spec: SourceSpec,
  c: Committing,
  changes: Change[],
  rows: { watch: WatchedRow[]; unwatch: string[] },
  report: {
    outcome: CheckResult["outcome"];
    budget: CallBudget;
    error?: unknown;
    created?: number;
    watched: number;
    horizonStart: string;
  },
): Promise<CheckResult> {
  const ordered = numbered(changes, c.lastSequence);
  const sequence = ordered.at(-1)?.sequences.at(-1) ?? c.lastSequence;
  const watchers: Watcher[] = ordered.length > 0 ? await endpointsWatching(env.DB, c.key.source) : [];
  const { events, deliveries } = fanOut(spec.key, ordered, watchers, c.now);
  const figures = {
    calls: report.budget.used,
    created: report.created ?? 0,
    events: events.length,
    watched: report.watched,
  };
  const commitment: CheckCommit = {
    key: c.key,
    version: c.version,
    lease: c.lease,
    now: c.now,
    state: c.state,
    watch: rows.watch,
    unwatch: rows.unwatch,
    horizonStart: report.horizonStart,
    sequence: sequence > c.lastSequence ? sequence : null,
    figures,
  };
  try {
    await recordAndQueue(env, { alongside: commitStatements(env.DB, commitment), events, deliveries, now: c.now });
  } catch (err) {
    if (!isCheckConflict(err)) throw err;
    await releaseSource(env.DB, c.key, c.lease);
    return { ...nothing(spec.key), outcome: "conflict", calls: figures.calls };
  }
  const error = report.error
    ? report.error instanceof Error
      ? report.error.message
      : String(report.error)
    : undefined;
  if (error)
    loggerOf(env).warn("change detection read failed midway; the next check continues", { source: spec.key, error });
  return {
    source: spec.key,
    outcome: report.outcome,
    created: figures.created,
    events: events.length,
    calls: figures.calls,
    backlog: c.state.backlog,
    watched: figures.watched,
    ...(error ? { error } : {}),
  };
}
