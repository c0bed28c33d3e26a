/** Rows of `events` and `deliveries` as written together, and the one way events and deliveries are recorded. */
import type { EventType } from "../../schemas/events";
import type { DeliveryMessage } from "../schedule";

/** D1 allows at most 100 bound parameters per statement. */
const MAX_PARAMS = 100;

/** The last stream position handed out; 0 without the counter's row (migrations/0004 adds it; a test may empty it). */
const LAST_POSITION = "COALESCE((SELECT last FROM event_stream WHERE id = 1), 0)";

/** Multi-row INSERTs of `rows` (each `columns.length` values), chunked to stay within D1's parameter limit. */
export function insertMany(
  db: D1Database,
  table: string,
  columns: string[],
  rows: (string | number | null)[][],
  suffix = "",
): D1PreparedStatement[] {
  return insertExpressions(
    db,
    table,
    columns,
    columns.map(() => "?"),
    rows,
    suffix,
  );
}

/** `insertMany` where each column's value is an SQL expression (`values`) binding exactly one `?`. */
function insertExpressions(
  db: D1Database,
  table: string,
  columns: string[],
  values: string[],
  rows: (string | number | null)[][],
  suffix: string,
): D1PreparedStatement[] {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const statements: D1PreparedStatement[] = [];
  const tuple = `(${values.join(", ")})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    statements.push(
      db
        .prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")} ${suffix}`)
        .bind(...chunk.flat()),
    );
  }
  return statements;
}

export interface EventRow {
  id: string;
  tenant: string;
  type: EventType;
  source: string | null;
  object_id: string;
  created_at: string;
  /** Per source, strictly increasing (see migrations/0002); null for ping. */
  sequence: number | null;
  payload: string;
  /**
   * Commit order across every event (see migrations/0004): set by `recordAndQueue` in the inserting transaction, so
   * absent on rows not yet inserted.
   */
  position?: number | null;
}

const EVENT_COLUMNS = ["id", "tenant", "type", "source", "object_id", "created_at", "sequence", "payload", "position"];
// The position: the counter as this transaction found it, plus the event's 1-based place among those it inserts.
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

/** A first delivery of an event to an endpoint: pending, due at once. */
export interface NewDelivery {
  event_id: string;
  endpoint_id: string;
  tenant: string;
}

const DELIVERY_COLUMNS = ["event_id", "endpoint_id", "tenant", "status", "next_attempt_at", "created_at", "updated_at"];
const deliveryValues = (d: NewDelivery, now: string) => [d.event_id, d.endpoint_id, d.tenant, "pending", now, now, now];

export async function findEvent(db: D1Database, tenant: string, id: string): Promise<EventRow | null> {
  return db.prepare("SELECT * FROM events WHERE id = ? AND tenant = ?").bind(id, tenant).first<EventRow>();
}

/** The stored body of an event, byte for byte what every attempt sends. */
export async function eventPayload(db: D1Database, id: string): Promise<string | null> {
  const row = await db.prepare("SELECT payload FROM events WHERE id = ?").bind(id).first<{ payload: string }>();
  return row?.payload ?? null;
}

/** Queues delivery messages; Queues take at most 100 messages per batch. */
export async function enqueue(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
  }
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
    ...insertMany(
      db,
      "deliveries",
      DELIVERY_COLUMNS,
      deliveries.map((d) => deliveryValues(d, r.now)),
    ),
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
