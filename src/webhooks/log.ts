import type { DeliveryAttempt, EventRecord, EventType } from "../schemas/events";
import type { DeliveryMessage } from "./schedule";

/** D1 allows at most 100 bound parameters per statement. */
const MAX_PARAMS = 100;

/** Multi-row INSERTs of `rows` (each `columns.length` values), chunked to stay within D1's parameter limit. */
export function insertMany(
  db: D1Database,
  table: string,
  columns: string[],
  rows: (string | number | null)[][],
  suffix = "",
): D1PreparedStatement[] {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const statements: D1PreparedStatement[] = [];
  const tuple = `(${columns.map(() => "?").join(", ")})`;
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
}

export const EVENT_COLUMNS = ["id", "tenant", "type", "source", "object_id", "created_at", "sequence", "payload"];
export const eventValues = (e: EventRow) => [
  e.id,
  e.tenant,
  e.type,
  e.source,
  e.object_id,
  e.created_at,
  e.sequence,
  e.payload,
];

export const DELIVERY_COLUMNS = [
  "event_id",
  "endpoint_id",
  "tenant",
  "status",
  "next_attempt_at",
  "created_at",
  "updated_at",
];
export const deliveryValues = (eventId: string, endpointId: string, tenant: string, now: string) => [
  eventId,
  endpointId,
  tenant,
  "pending",
  now,
  now,
  now,
];

/**
 * The delivered body of an event: exactly `{type, timestamp, sequence, data: {object, previous}}`, without
 * `sequence` for ping. Stored once, so every retry and replay sends the same bytes and the same sequence.
 */
export function eventPayload(
  type: EventType,
  timestamp: string,
  object: unknown,
  previous: unknown,
  sequence: number | null,
): string {
  return JSON.stringify({ type, timestamp, ...(sequence === null ? {} : { sequence }), data: { object, previous } });
}

/** The API shape of an event row. */
export function toEvent(row: EventRow): EventRecord {
  const payload = JSON.parse(row.payload) as { data: EventRecord["data"] };
  return {
    id: row.id,
    type: row.type,
    source: row.source,
    created_at: row.created_at,
    sequence: row.sequence,
    data: payload.data,
  };
}

export async function findEvent(db: D1Database, tenant: string, id: string): Promise<EventRow | null> {
  return db.prepare("SELECT * FROM events WHERE id = ? AND tenant = ?").bind(id, tenant).first<EventRow>();
}

export interface DeliveryRow {
  event_id: string;
  endpoint_id: string;
  tenant: string;
  status: "pending" | "delivered" | "failed";
  generation: number;
  next_attempt: number;
  next_attempt_at: string | null;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
}

export interface AttemptRow extends DeliveryAttempt {}

export const toAttempt = (row: AttemptRow): DeliveryAttempt => ({
  id: row.id,
  event_id: row.event_id,
  endpoint_id: row.endpoint_id,
  attempt: row.attempt,
  created_at: row.created_at,
  duration_ms: row.duration_ms,
  status_code: row.status_code,
  error: row.error,
  outcome: row.outcome,
  next_retry_at: row.next_retry_at,
});

/** Queues first attempts; Queues take at most 100 messages per batch. */
export async function enqueue(queue: Queue<DeliveryMessage>, messages: DeliveryMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
  }
}
