/**
 * Recording: the one way events are written. Events and the deliveries they owe are inserted in one transaction,
 * each event taking the next stream position, and the deliveries are queued once that commits.
 */
import { insertExpressions, insertJson } from "../storage/insert-many";
import { type DeliveryMessage, enqueue } from "./outbox";
import type { EventRow } from "./store";

/** A first delivery of an event to an endpoint: pending, due at once. */
export interface NewDelivery {
  event_id: string;
  endpoint_id: string;
  tenant: string;
}

const DELIVERY_COLUMNS = ["event_id", "endpoint_id", "tenant", "status", "next_attempt_at", "created_at", "updated_at"];

/** The statements inserting first deliveries: pending, due at once. A row carries its time once, for three columns. */
function insertDeliveries(db: D1Database, deliveries: NewDelivery[], now: string): D1PreparedStatement[] {
  return insertJson(
    db,
    "deliveries",
    DELIVERY_COLUMNS,
    deliveries.map((d) => [d.event_id, d.endpoint_id, d.tenant, now]),
    { values: ["$0", "$1", "$2", "'pending'", "$3", "$3", "$3"] },
  );
}

interface Recording {
  /** Statements committed in the same transaction, before the inserts (e.g. the poll's optimistic lock). */
  alongside?: D1PreparedStatement[];
  events?: EventRow[];
  deliveries?: NewDelivery[];
  /** What to queue once committed; by default the first attempt of each new delivery. */
  messages?: DeliveryMessage[];
  now: string;
}

/**
 * Inserts events (each taking the next stream position, in the order given) and their deliveries in one transaction
 * with `alongside`, then queues the deliveries. Queued only after the commit: a message never names a delivery that
 * does not exist, and one lost after the commit is found again by the cron's sweep.
 */
export async function recordAndQueue(env: Env, r: Recording): Promise<void> {
  const db = env.DB;
  const deliveries = r.deliveries ?? [];
  const statements = [
    ...(r.alongside ?? []),
    ...insertEvents(db, r.events ?? []),
    ...insertDeliveries(db, deliveries, r.now),
  ];
  if (statements.length > 0) await db.batch(statements);
  const firstAttempts = deliveries.map((d) => ({
    event_id: d.event_id,
    endpoint_id: d.endpoint_id,
    attempt: 1,
    generation: 1,
  }));
  await enqueue(env.WEBHOOK_QUEUE, r.messages ?? firstAttempts);
}

/**
 * The statements inserting `events` with their stream positions, in the order given, then advancing the counter.
 * Run in one transaction: D1 has one writer, so positions follow commit order (see migrations/0004).
 */
function insertEvents(db: D1Database, events: EventRow[]): D1PreparedStatement[] {
  if (events.length === 0) return [];
  return [
    // Bound as values, 11 rows a statement, not as one JSON array (insertJson): each body is JSON text that a JSON
    // array would escape once more, which costs the isolate more CPU than the statements it saves D1.
    ...insertExpressions(
      db,
      "events",
      EVENT_COLUMNS,
      EVENT_VALUES,
      events.map((e, i) => [...eventValues(e), i + 1]),
      "",
    ),
    db
      .prepare(
        "INSERT INTO event_stream (id, last, pruned) VALUES (1, ?, 0) ON CONFLICT (id) DO UPDATE SET last = last + excluded.last",
      )
      .bind(events.length),
  ];
}

/** The last stream position handed out; 0 without the counter's row (migrations/0004 adds it; a test may empty it). */
const LAST_POSITION = "COALESCE((SELECT last FROM event_stream WHERE id = 1), 0)";

const EVENT_COLUMNS = ["id", "tenant", "type", "source", "object_id", "created_at", "sequence", "payload", "position"];

// The position: the counter as this transaction found it, plus the event's 1-based place among those it inserts (the
// counter moves once all are inserted).
const EVENT_VALUES = [...EVENT_COLUMNS.slice(0, -1).map(() => "?"), `${LAST_POSITION} + ?`];

const eventValues = (e: EventRow) => [
  e.id,
  e.tenant,
  e.type,
  e.source,
  e.object_id,
  e.created_at,
  e.sequence,
  e.payload,
];
