import { configOf } from "../config";
import { loggerOf } from "../logger";
import type { BatchEventType, EventType, PreviousStatus, RunEventType } from "../schemas/events";
import { withUpstreamScope } from "../upstream/scope";
import { subscribes } from "./endpoints";
import { isoMicros, newId } from "./ids";
import { eventPayload } from "./log";
import { type SourceDeps, type SourceSpec, sourceSpec, type WatchedItem } from "./sources";
import {
  type EndpointRow,
  type EventRow,
  endpointsWatching,
  forgetSourcesExcept,
  isPollConflict,
  type NewDelivery,
  pollStatements,
  recordAndQueue,
  type SnapshotRow,
  sourceState,
  watchedSources,
} from "./store";

export interface CheckResult {
  source: string;
  /** `baseline`: first sight, recorded without events. `conflict`: a concurrent check of the source won. */
  outcome: "baseline" | "checked" | "conflict" | "error";
  items: number;
  events: number;
  error?: string;
}

interface Change {
  item: WatchedItem;
  previous: PreviousStatus | null;
  types: EventType[];
}

/** A change's event types, each with its sequence. */
type Numbered = Change & { sequences: number[] };

/**
 * Numbers every (change, type) from the source's last sequence on, oldest change first. The numbers do not depend
 * on who subscribes: every tenant's copy of one event carries the same sequence.
 */
function numbered(changes: Change[], last: number): Numbered[] {
  let next = last;
  return changes.map((change) => ({ ...change, sequences: change.types.map(() => ++next) }));
}

/** The event types one observed change produces. */
function changeTypes(kind: SourceSpec["kind"], item: WatchedItem, previous: PreviousStatus | null): EventType[] {
  const run = kind === "run";
  const types: (RunEventType | BatchEventType)[] = [];
  types.push(
    previous === null ? (run ? "run.created" : "batch.created") : run ? "run.status_changed" : "batch.status_changed",
  );
  const becameTerminal = previous === null || previous.status !== item.status;
  if (becameTerminal && item.status === "completed") types.push(run ? "run.completed" : "batch.completed");
  if (becameTerminal && run && item.status === "failed") types.push("run.failed");
  return types;
}

/** Compares the newest items with the stored snapshot; the snapshot's oldest item bounds what counts as new. */
function diff(
  kind: SourceSpec["kind"],
  items: WatchedItem[],
  snapshot: SnapshotRow[],
): { changes: Change[]; touched: WatchedItem[] } {
  const previous = new Map(snapshot.map((row) => [row.item_id, row]));
  const floor = snapshot.reduce<string | null>(
    (min, row) => (min === null || row.created_at < min ? row.created_at : min),
    null,
  );
  const changes: Change[] = [];
  const touched: WatchedItem[] = [];
  // Oldest first, so events are minted in the order the items appeared.
  for (const item of [...items].reverse()) {
    const seen = previous.get(item.id);
    if (!seen) {
      touched.push(item);
      // An unseen item older than everything watched so far scrolled into view from below: not new.
      if (floor === null || item.created_at >= floor)
        changes.push({ item, previous: null, types: changeTypes(kind, item, null) });
      continue;
    }
    if (seen.status !== item.status || seen.provider_status !== item.provider_status) {
      touched.push(item);
      const before = { status: seen.status, provider_status: seen.provider_status } as PreviousStatus;
      changes.push({ item, previous: before, types: changeTypes(kind, item, before) });
    }
  }
  return { changes, touched };
}

/** Events and deliveries for the changes: one event per change, type and tenant with a subscribed endpoint. */
function fanOut(source: string, changes: Numbered[], endpoints: EndpointRow[], now: string) {
  const events: EventRow[] = [];
  const deliveries: NewDelivery[] = [];
  const tenants = [...new Set(endpoints.map((e) => e.tenant))];
  for (const { item, previous, types, sequences } of changes) {
    for (const [i, type] of types.entries()) {
      const sequence = sequences[i] as number;
      for (const tenant of tenants) {
        const subscribers = endpoints.filter((e) => e.tenant === tenant && subscribes(e, type));
        if (subscribers.length === 0) continue;
        const id = newId("evt");
        events.push({
          id,
          tenant,
          type,
          source,
          object_id: item.id,
          created_at: now,
          sequence,
          payload: eventPayload(type, now, item, previous, sequence),
        });
        for (const endpoint of subscribers.filter((e) => e.enabled === 1)) {
          deliveries.push({ event_id: id, endpoint_id: endpoint.id, tenant });
        }
      }
    }
  }
  return { events, deliveries };
}

/**
 * Polls one source's newest items (the same OffsetReader code as the list routes), diffs them against the stored
 * snapshot, and records events, deliveries and the new snapshot in one transaction, then queues the deliveries.
 * The first check of a source records a baseline without events. Concurrent checks of one source cannot both
 * commit: the loser reports `conflict` after one retry.
 */
export async function checkSource(env: Env, deps: SourceDeps, key: string, retries = 1): Promise<CheckResult> {
  const spec = sourceSpec(key);
  if (!spec) return { source: key, outcome: "error", items: 0, events: 0, error: "Unknown source key." };
  const db = env.DB;
  const pollWindow = configOf(env).webhookPollWindow;
  const read = await spec.open(deps, env).read(0, pollWindow, 0);
  const items = read.items;

  const { snapshot, version, lastSequence } = await sourceState(db, spec.key);
  const baseline = version === 0;
  const now = isoMicros(Date.now());

  const found = baseline ? { changes: [], touched: items } : diff(spec.kind, items, snapshot);
  const changes = numbered(found.changes, lastSequence);
  const sequence = changes.at(-1)?.sequences.at(-1) ?? lastSequence;
  const { events, deliveries } =
    changes.length > 0
      ? fanOut(spec.key, changes, await endpointsWatching(db, spec.key), now)
      : { events: [], deliveries: [] };
  const oldest = items.at(-1);
  const poll = pollStatements(db, {
    source: spec.key,
    version,
    now,
    items: items.length,
    events: events.length,
    touched: found.touched,
    sequence: sequence > lastSequence ? sequence : null,
    // Items that scrolled out of the window are no longer watched.
    forgetBefore: oldest && (items.length === pollWindow || !read.hasMore) ? oldest.created_at : null,
  });
  try {
    await recordAndQueue(env, { alongside: poll, events, deliveries, now });
  } catch (err) {
    if (!isPollConflict(err)) throw err;
    if (retries > 0) return checkSource(env, deps, key, retries - 1);
    return { source: spec.key, outcome: "conflict", items: items.length, events: 0 };
  }
  return { source: spec.key, outcome: baseline ? "baseline" : "checked", items: items.length, events: events.length };
}

/** One cron tick of change detection: every watched source, a few at a time; one failing source spoils no other. */
export async function detectChanges(env: Env, deps: SourceDeps, concurrency = 4): Promise<CheckResult[]> {
  const watched = await watchedSources(env.DB);
  // Sources no enabled endpoint watches are forgotten: watching one again starts from a fresh baseline.
  await forgetSourcesExcept(env.DB, watched);
  const results: CheckResult[] = [];
  const queue = [...watched];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      // Each source gets its own upstream budget, retry policy and breaker settings, as a request would.
      const source = key;
      results.push(
        await withUpstreamScope(env, () => checkSource(env, deps, source)).catch((err) => failed(env, source, err)),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return results;
}

function failed(env: Env, source: string, err: unknown): CheckResult {
  const error = err instanceof Error ? err.message : String(err);
  loggerOf(env).error("change detection failed", { source, error });
  return { source, outcome: "error", items: 0, events: 0, error };
}
