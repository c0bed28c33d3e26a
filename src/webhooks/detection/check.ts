/**
 * One check of one watched source: the I/O half of change detection. It holds the source's lease, reads what is new
 * since the frontier (oldest first, with the walk engine) and the watched open items again, lets the pure core
 * (changes.ts) decide, and commits events, watch rows and the new frontier in one transaction.
 */
import { configOf } from "../../config";
import { loggerOf } from "../../logger";
import { configuredCredential } from "../../providers/catalog";
import { isoMicros } from "../ids";
import { type SourceDeps, type SourceSpec, sourceSpec } from "../sources";
import {
  type CheckCommit,
  claimSource,
  commitStatements,
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
  type Watcher,
  type WatchOutcome,
  watchRow,
} from "./changes";
import { announced, type Frontier, readHead, readSinceFrontier } from "./frontier";
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

/** How often a source's open items are read again while its checks continue a backlog. */
const LOOKUP_EVERY_MS = 50_000;

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
  const open = (version: string | null = null) => spec.open(deps, env, version);

  if (state.version === 0) {
    const head = await readHead(open(), config.webhookCheckItems);
    const look = await spec.lookup({ deps, credential, watched: [], budget, baseline: true, openCap: 0, marks: [] });
    const seen = [...head.items, ...look.seenOpen].filter(
      (item) => !isTerminal(item) && announced(head.frontier, item),
    );
    const watch = [...new Map(seen.map((item) => [item.id, watchRow(item, now, spec.versionOf(item))])).values()];
    const version = head.items[0] ? (spec.versionOf(head.items[0]) ?? undefined) : undefined;
    const hints = { ...head.frontier.hints, openCap: look.openCap, marks: look.marks, version };
    const next = { ...head.frontier, hints };
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
  // A check that continues a backlog within the minute leaves the open items to the next tick: their lookup would
  // repeat with every continuation, and nothing is lost by reading them a little later. A push always reads them.
  let lookedAt = state.hints.lookedAt;
  const recent = state.backlog && lookedAt !== undefined && Date.now() - lookedAt < LOOKUP_EVERY_MS;
  const lookup = watched.length > 0 && (!recent || pushed.length > 0);
  const share = lookup ? Math.ceil(budget.limit / 2) : budget.limit;
  const news = await readSinceFrontier(
    open,
    state,
    { items: config.webhookCheckItems, callsLeft: () => share - budget.used },
    spec.versionOf,
  );
  const additions = news.items.map((item) => watchRow(item, now, spec.versionOf(item)));

  const horizonStart = isoMicros(Date.now() - config.webhookWatchHorizonDays * 86_400_000);
  let lookupError: unknown = null;
  let outcome: WatchOutcome = { changes: [], watch: [], unwatch: [] };
  let openCap = state.hints.openCap ?? 0;
  let marks = state.hints.marks ?? [];
  try {
    if (lookup) {
      lookedAt = Date.now();
      const look = await spec.lookup({ deps, credential, watched, budget, baseline: false, openCap, marks });
      openCap = look.openCap;
      marks = look.marks.length > 0 ? look.marks : marks;
      outcome = compareWatched(spec.kind, watched, look, {
        horizonStart,
        now,
        touch: look.touch,
        versionOf: spec.versionOf,
      });
      // Open items listed but not watched yet (announced before they were seen open, e.g. carried over): watch them.
      const known = new Set([...watched.map((w) => w.item_id), ...news.items.map((i) => i.id)]);
      for (const item of look.seenOpen) {
        if (!known.has(item.id) && announced(news.frontier, item))
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
  const next = { ...news.frontier, hints: { ...news.frontier.hints, openCap, marks, lookedAt } };
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

interface Committing {
  key: WatchKey;
  lease: string;
  now: string;
  version: number;
  state: Frontier;
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
