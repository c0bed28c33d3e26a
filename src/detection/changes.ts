/**
 * The pure core of change detection: what a check saw, turned into changes, watch rows and events. No I/O here:
 * check.ts reads the upstream and the store, and commits what these functions decide.
 */

import { mintEvent } from "../events/model";
import type { NewDelivery } from "../events/record";
import type { EventRow } from "../events/store";
import { subscribes } from "../events/subscribes";
import type { Watcher } from "../events/watchers";
import type { Batch } from "../schemas/batch";
import type { BatchEventType, EventType, PreviousStatus, RunEventType, UnwatchReason } from "../schemas/events";
import type { Run } from "../schemas/run";
import { announced, type Frontier } from "./frontier-rules";
import type { WatchedRow } from "./store";

/** An item change detection watches: a normalized run or batch. */
export type WatchedItem = Run | Batch;

export type ItemKind = "run" | "batch";

/** Statuses after which an item never changes again (as far as detection is concerned). */
const TERMINAL = new Set(["completed", "failed", "terminated"]);

export const isTerminal = (item: { status: string }) => TERMINAL.has(item.status);

/** One observed change of one item and the event types it produces. */
export interface Change {
  item: WatchedItem;
  previous: PreviousStatus | null;
  types: EventType[];
  /** Set on `*.unwatched`: why detection stopped watching the item. */
  reason?: UnwatchReason;
}

/** The terminal event type a status reaches, if any. */
function terminalType(kind: ItemKind, status: string): EventType[] {
  if (status === "completed") return [kind === "run" ? "run.completed" : "batch.completed"];
  if (status === "failed" && kind === "run") return ["run.failed"];
  return [];
}

/** A new item: `*.created`, plus its terminal type when it was already over. */
export function created(kind: ItemKind, item: WatchedItem): Change {
  const type: RunEventType | BatchEventType = kind === "run" ? "run.created" : "batch.created";
  return { item, previous: null, types: [type, ...terminalType(kind, item.status)] };
}

/** A watched item read again: a change when its status or the upstream's text moved, else null. */
export function changed(kind: ItemKind, row: WatchedRow, item: WatchedItem): Change | null {
  if (row.status === item.status && row.provider_status === item.provider_status) return null;
  const previous = { status: row.status, provider_status: row.provider_status } as PreviousStatus;
  const type: RunEventType | BatchEventType = kind === "run" ? "run.status_changed" : "batch.status_changed";
  const reached = row.status === item.status ? [] : terminalType(kind, item.status);
  return { item, previous, types: [type, ...reached] };
}

/**
 * An item detection never watched, seen where the upstream shows what changed (Inkit's `updated_at` order): its
 * state now, with no previous one known, and its terminal type when it is over.
 */
function changedUnwatched(kind: ItemKind, item: WatchedItem): Change {
  const type: RunEventType | BatchEventType = kind === "run" ? "run.status_changed" : "batch.status_changed";
  return { item, previous: null, types: [type, ...terminalType(kind, item.status)] };
}

/** Detection stops watching an item that is still open: the consumer is told, never left waiting. */
function unwatched(kind: ItemKind, row: WatchedRow, reason: UnwatchReason): Change {
  const item = (row.object ? JSON.parse(row.object) : stub(row)) as WatchedItem;
  return { item, previous: null, types: [kind === "run" ? "run.unwatched" : "batch.unwatched"], reason };
}

/** A row carried over from the old snapshots has no stored object: what is known of it. */
const stub = (row: WatchedRow) => ({
  id: row.item_id,
  status: row.status,
  provider_status: row.provider_status,
  created_at: row.created_at,
});

/**
 * An item's JSON, made once per item object: a check stores each new item in its watch row and in its events' bodies
 * (see `eventBody`), and serializes it once for both. Items read from the upstream are never changed afterwards.
 */
const serialized = new WeakMap<WatchedItem, string>();
function itemJson(item: WatchedItem): string {
  let json = serialized.get(item);
  if (json === undefined) {
    json = JSON.stringify(item);
    serialized.set(item, json);
  }
  return json;
}

/**
 * The watch row of an item as seen now (`seenAt`: when it was first seen, now for a new watch). A terminal item's row
 * is closed: not read again by the checks, kept for inbound pushes that name it and for lookups that show the item
 * anyway (its recorded status tells whether it moved since, see `withSightings`).
 */
export function watchRow(item: WatchedItem, now: string, version: string | null = null, seenAt = now): WatchedRow {
  return {
    item_id: item.id,
    status: item.status,
    provider_status: item.provider_status,
    created_at: item.created_at,
    version,
    object: itemJson(item),
    seen_at: seenAt,
    checked_at: now,
    open: isTerminal(item) ? 0 : 1,
  };
}

/** What reading the watched items again told (see the source's `lookup`). */
export interface Lookup {
  /** The current state of watched items that were read. */
  found: WatchedItem[];
  /** Watched ids the upstream confirmed absent. */
  gone: string[];
}

/** What the watched items' lookup decides: changes to record, rows to update, ids to stop watching. */
export interface WatchOutcome {
  changes: Change[];
  watch: WatchedRow[];
  unwatch: string[];
  /** Unchanged watched items the lookup read again: only their check time moves (turns go by it). */
  touched: string[];
}

/**
 * Compares the watched items with what the lookup read, oldest item first: a status that moved is a change, and a
 * terminal one closes the watch (the row stays, for pushes that name it; a closed item that opens again is watched
 * again). An open item gone upstream, or still open when its watch passes the horizon (first seen before
 * `horizonStart`), is reported as `*.unwatched` and dropped. Items the lookup did not read stay as they were.
 * An unchanged item the lookup read is `touched` when `touch` asks (lookups that take turns go by its check time):
 * only its check time is written, not its row, which keeps the item as last announced or changed (rewriting every row
 * read again made a check's writes grow with the open items).
 */
export function compareWatched(
  kind: ItemKind,
  watched: WatchedRow[],
  lookup: Lookup,
  options: { horizonStart: string; now: string; touch?: boolean; versionOf?: (item: WatchedItem) => string | null },
): WatchOutcome {
  const { horizonStart, now, touch = false, versionOf = () => null } = options;
  const found = new Map(lookup.found.map((item) => [item.id, item]));
  const gone = new Set(lookup.gone);
  const out: WatchOutcome = { changes: [], watch: [], unwatch: [], touched: [] };
  const byAge = [...watched].sort((a, b) => cmp(a.created_at, b.created_at) || cmp(a.item_id, b.item_id));
  for (const row of byAge) {
    const item = found.get(row.item_id);
    if (!item) {
      if (row.open === 1 && (gone.has(row.item_id) || row.seen_at < horizonStart)) {
        out.changes.push(unwatched(kind, row, gone.has(row.item_id) ? "gone" : "horizon"));
        out.unwatch.push(row.item_id);
      } else if (gone.has(row.item_id)) out.unwatch.push(row.item_id);
      continue;
    }
    const change = changed(kind, row, item);
    if (change) out.changes.push(change);
    const open = isTerminal(item) ? 0 : 1;
    // The row (and the item's JSON in it) is built only when it is written or reported: an 8x8 check finds every open
    // watched instance on its open lists, most of them unchanged.
    const current = () => watchRow(item, now, versionOf(item) ?? row.version, row.seen_at);
    if (open === 1 && row.seen_at < horizonStart) {
      out.changes.push(unwatched(kind, current(), "horizon"));
      out.unwatch.push(row.item_id);
    } else if (change || row.object === null || open !== row.open) out.watch.push(current());
    else if (touch) out.touched.push(row.item_id);
  }
  return out;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Items a lookup showed that detection does not watch open: open ones (8x8's open lists), ones the scan shows changed
 * since the last one (Inkit's `updated_at` order above its marks), and the scan's other items (`listed`: their place
 * in it says nothing of a change).
 */
interface Sightings {
  open: WatchedItem[];
  changed: WatchedItem[];
  listed: WatchedItem[];
}

/**
 * What a lookup showed of items detection does not watch open (announced before they were seen open, carried over,
 * open at the baseline below what it read, or recorded terminal): those neither watched nor new in this check, at or
 * behind the frontier (a newer one is announced by a later check's read of new items).
 */
export function sightings(
  look: { seenOpen: WatchedItem[]; seenChanged: WatchedItem[]; seenListed: WatchedItem[] },
  watched: WatchedRow[],
  news: { items: WatchedItem[]; frontier: Frontier },
): Sightings {
  const known = new Set([...watched.map((w) => w.item_id), ...news.items.map((i) => i.id)]);
  const unseen = (item: WatchedItem) => !known.has(item.id) && announced(news.frontier, item);
  return {
    open: look.seenOpen.filter(unseen),
    changed: look.seenChanged.filter(unseen),
    listed: look.seenListed.filter(unseen),
  };
}

/** The ids whose recorded rows `withSightings` compares the sightings with: every one sighted, each once. */
export const sightedIds = (seen: Sightings): string[] => [
  ...new Set([...seen.open, ...seen.changed, ...seen.listed].map((item) => item.id)),
];

/**
 * The watch outcome with what the sightings add, after the outcome's own. A sighted item with a recorded row in
 * `recorded` (a closed watch: its end was reported) is compared with it, as a watched item is: a status that moved
 * since is `*.status_changed` with the recorded one as `previous`, plus its terminal type when it reaches one, and
 * the row is rewritten (and open again when the item is). Without a row: an item seen open is watched from now on;
 * one seen changed is reported in its state now (no previous one known) and watched from here on while open; one only
 * listed says nothing.
 */
export function withSightings(
  kind: ItemKind,
  outcome: WatchOutcome,
  seen: Sightings,
  recorded: WatchedRow[],
  options: { now: string; versionOf: (item: WatchedItem) => string | null },
): WatchOutcome {
  const { now, versionOf } = options;
  const rows = new Map(recorded.map((w) => [w.item_id, w]));
  const changes = [...outcome.changes];
  const watch = [...outcome.watch];
  // `unrecorded`: what an item without a row means, and whether it is watched from now on.
  const sighted = (item: WatchedItem, unrecorded: { change: Change | null; watch: boolean }) => {
    const row = rows.get(item.id);
    const current = watchRow(item, now, versionOf(item), row?.seen_at);
    const change = row ? changed(kind, row, item) : unrecorded.change;
    if (change) changes.push(change);
    if (row ? change !== null || current.open !== row.open : unrecorded.watch) watch.push(current);
  };
  for (const item of seen.open) sighted(item, { change: null, watch: true });
  for (const item of seen.changed) sighted(item, { change: changedUnwatched(kind, item), watch: true });
  for (const item of seen.listed) sighted(item, { change: null, watch: false });
  return { changes, watch, unwatch: outcome.unwatch, touched: outcome.touched };
}

/** A change's event types, each with its sequence. */
type Numbered = Change & { sequences: number[] };

/**
 * Numbers every (change, type) from the source's last sequence on, in the order given (oldest change first). The
 * numbers do not depend on who subscribes: every tenant's copy of one event carries the same sequence.
 */
export function numbered(changes: Change[], last: number): Numbered[] {
  let next = last;
  return changes.map((change) => ({ ...change, sequences: change.types.map(() => ++next) }));
}

/** The source's last sequence after `changes` were numbered from `last`: null when none was handed out. */
export function sequenceAfter(changes: Numbered[], last: number): number | null {
  const sequence = changes.at(-1)?.sequences.at(-1) ?? last;
  return sequence > last ? sequence : null;
}

/** Events and deliveries for the changes: one event per change, type and tenant that subscribes to it. */
export function fanOut(source: string, changes: Numbered[], watchers: Watcher[], now: string) {
  const events: EventRow[] = [];
  const deliveries: NewDelivery[] = [];
  const tenants = [...new Set(watchers.map((w) => w.tenant))];
  // Who hears of each type, per tenant: worked out once per type, not for every change.
  const heard = new Map<EventType, { tenant: string; subscribers: Watcher[]; delivered: Watcher[] }[]>();
  const hearing = (type: EventType) => {
    let found = heard.get(type);
    if (found === undefined) {
      found = tenants
        .map((tenant) => {
          const subscribers = watchers.filter((w) => w.tenant === tenant && subscribes(w, type));
          return { tenant, subscribers, delivered: subscribers.filter((w) => w.enabled === 1 && w.delivers !== 0) };
        })
        .filter((t) => t.subscribers.length > 0);
      heard.set(type, found);
    }
    return found;
  };
  for (const { item, previous, types, sequences, reason } of changes) {
    for (const [i, type] of types.entries()) {
      const sequence = sequences[i] as number;
      for (const { tenant, delivered } of hearing(type)) {
        const event = mintEvent({
          tenant,
          type,
          source,
          objectId: item.id,
          object: item,
          objectJson: itemJson(item),
          previous,
          sequence,
          reason,
          now,
        });
        events.push(event);
        for (const watcher of delivered) deliveries.push({ event_id: event.id, endpoint_id: watcher.id, tenant });
      }
    }
  }
  return { events, deliveries };
}
