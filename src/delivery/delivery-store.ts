/** Rows of `deliveries` and `delivery_attempts` as a delivery moves on. */

import type { DeliveryMessage } from "../events/outbox";
import type { DeliveryAttempt } from "../schemas/events";
import { insertMany } from "../storage/insert-many";

interface DeliveryRow {
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

/** A delivery a queue message names, with its event's payload (null when the event is gone). */
export interface DeliveryToSend extends DeliveryRow {
  payload: string | null;
}

/** `[event_id, endpoint_id]` pairs as one JSON parameter. */
const pairs = (keys: readonly { event_id: string; endpoint_id: string }[]) =>
  JSON.stringify(keys.map((k) => [k.event_id, k.endpoint_id]));

/** The deliveries `keys` name (those that exist), each with its event's payload: one statement for a whole batch. */
export function deliveriesToSend(db: D1Database, keys: readonly { event_id: string; endpoint_id: string }[]) {
  return db
    .prepare(
      `SELECT d.*, e.payload FROM deliveries d LEFT JOIN events e ON e.id = d.event_id
       WHERE (d.event_id, d.endpoint_id) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
    )
    .bind(pairs(keys));
}

/** The statement that marks a pending delivery failed without an HTTP attempt. */
export function abandonStatement(db: D1Database, m: DeliveryMessage, reason: string, now: string) {
  return db
    .prepare(
      "UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE event_id = ? AND endpoint_id = ? AND status = 'pending'",
    )
    .bind(reason, now, m.event_id, m.endpoint_id);
}

/**
 * The statement that moves held deliveries' `next_attempt_at` (each only while its message still matches it: pending,
 * same generation and attempt), however many: one statement.
 */
export function holdStatement(db: D1Database, holds: readonly { m: DeliveryMessage; nextAt: string }[]) {
  const rows = holds.map(({ m, nextAt }) => [m.event_id, m.endpoint_id, m.generation, m.attempt, nextAt]);
  return db
    .prepare(
      `UPDATE deliveries SET next_attempt_at = h.next_at
       FROM (SELECT value ->> 0 AS k_event, value ->> 1 AS k_endpoint, value ->> 2 AS k_generation,
               value ->> 3 AS k_attempt, value ->> 4 AS next_at FROM json_each(?)) AS h
       WHERE event_id = h.k_event AND endpoint_id = h.k_endpoint AND status = 'pending'
         AND generation = h.k_generation AND next_attempt = h.k_attempt`,
    )
    .bind(JSON.stringify(rows));
}

/** One attempt as recorded, and where it leaves its delivery. */
export interface AttemptRecord {
  attempt: AttemptRow;
  status: DeliveryRow["status"];
  generation: number;
  now: string;
}

const ATTEMPT_COLUMNS = [
  "id",
  "event_id",
  "endpoint_id",
  "attempt",
  "created_at",
  "duration_ms",
  "status_code",
  "error",
  "outcome",
  "next_retry_at",
] as const;

/**
 * The statements that record attempts and move their deliveries (each of its message's generation only) on: a
 * multi-row INSERT of the attempts and one UPDATE of every delivery, whatever their number (at most one record per
 * delivery). Run them in one batch: D1 commits a batch as one transaction.
 */
export function attemptStatements(db: D1Database, records: readonly AttemptRecord[]): D1PreparedStatement[] {
  if (records.length === 0) return [];
  const inserts = insertMany(
    db,
    "delivery_attempts",
    [...ATTEMPT_COLUMNS],
    records.map((r) => ATTEMPT_COLUMNS.map((column) => r.attempt[column])),
  );
  const moves = records.map((r) => {
    const a = r.attempt;
    return [
      a.event_id,
      a.endpoint_id,
      r.generation,
      r.status,
      a.attempt + 1,
      a.next_retry_at,
      a.status_code,
      a.error,
      r.now,
    ];
  });
  const update = db
    .prepare(
      `UPDATE deliveries SET status = u.v_status, attempts = attempts + 1, next_attempt = u.v_next, next_attempt_at = u.v_next_at,
         last_status_code = u.v_code, last_error = u.v_error, updated_at = u.v_now,
         delivered_at = CASE WHEN u.v_status = 'delivered' THEN u.v_now ELSE delivered_at END
       FROM (SELECT value ->> 0 AS k_event, value ->> 1 AS k_endpoint, value ->> 2 AS k_generation, value ->> 3 AS v_status,
               value ->> 4 AS v_next, value ->> 5 AS v_next_at, value ->> 6 AS v_code, value ->> 7 AS v_error,
               value ->> 8 AS v_now FROM json_each(?)) AS u
       WHERE event_id = u.k_event AND endpoint_id = u.k_endpoint AND generation = u.k_generation`,
    )
    .bind(JSON.stringify(moves));
  return [...inserts, update];
}

/** Pending deliveries due before `before`, oldest due first. */
export async function overdueDeliveries(db: D1Database, before: string, limit: number): Promise<DeliveryRow[]> {
  const { results } = await db
    .prepare(
      "SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at < ? ORDER BY next_attempt_at LIMIT ?",
    )
    .bind(before, limit)
    .all<DeliveryRow>();
  return results;
}

/** Marks deliveries as due `now`, so the sweep does not pick them again before their new message runs. */
export async function markDue(db: D1Database, rows: DeliveryRow[], now: string): Promise<void> {
  await db.batch(
    rows.map((d) =>
      db
        .prepare("UPDATE deliveries SET next_attempt_at = ? WHERE event_id = ? AND endpoint_id = ?")
        .bind(now, d.event_id, d.endpoint_id),
    ),
  );
}

/** A replay's candidates: the endpoint's undelivered, non-ping events in [from, to] from its sources. */
interface ReplayCandidate {
  id: string;
  type: string;
  source: string | null;
  object_id: string;
  generation: number | null;
  status: string | null;
}

export async function replayCandidates(
  db: D1Database,
  endpoint: { id: string; tenant: string; sources: string },
  from: string,
  to: string,
  limit: number,
): Promise<ReplayCandidate[]> {
  const { results } = await db
    .prepare(
      `SELECT e.id, e.type, e.source, e.object_id, d.generation, d.status
       FROM events e LEFT JOIN deliveries d ON d.event_id = e.id AND d.endpoint_id = ?
       WHERE e.tenant = ? AND e.created_at >= ? AND e.created_at <= ? AND e.type != 'ping'
         AND (d.status IS NULL OR d.status != 'delivered')
         AND e.source IN (SELECT value FROM json_each(?))
       ORDER BY e.created_at DESC, e.id DESC LIMIT ?`,
    )
    .bind(endpoint.id, endpoint.tenant, from, to, endpoint.sources, limit)
    .all<ReplayCandidate>();
  return results;
}

/** The statement that restarts existing deliveries as a new generation, due now. */
export function restartStatement(db: D1Database, endpointId: string, eventIds: string[], now: string) {
  return db
    .prepare(
      `UPDATE deliveries SET status = 'pending', generation = generation + 1, next_attempt = 1, next_attempt_at = ?, updated_at = ?
       WHERE endpoint_id = ? AND event_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(now, now, endpointId, JSON.stringify(eventIds));
}
