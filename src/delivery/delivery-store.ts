/** Rows of `deliveries` and `delivery_attempts` as a delivery moves on. */

import type { DeliveryMessage } from "../events/outbox";
import type { DeliveryAttempt } from "../schemas/events";

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

export async function findDelivery(db: D1Database, eventId: string, endpointId: string): Promise<DeliveryRow | null> {
  return db
    .prepare("SELECT * FROM deliveries WHERE event_id = ? AND endpoint_id = ?")
    .bind(eventId, endpointId)
    .first<DeliveryRow>();
}

/** Marks a pending delivery failed without an HTTP attempt. */
export async function abandonDelivery(db: D1Database, m: DeliveryMessage, reason: string, now: string): Promise<void> {
  await db
    .prepare(
      "UPDATE deliveries SET status = 'failed', last_error = ?, next_attempt_at = NULL, updated_at = ? WHERE event_id = ? AND endpoint_id = ? AND status = 'pending'",
    )
    .bind(reason, now, m.event_id, m.endpoint_id)
    .run();
}

/** Moves a held delivery's `next_attempt_at` (only while the message still matches it: pending, same attempt). */
export async function holdDelivery(db: D1Database, m: DeliveryMessage, nextAt: string): Promise<void> {
  await db
    .prepare(
      `UPDATE deliveries SET next_attempt_at = ? WHERE event_id = ? AND endpoint_id = ? AND status = 'pending'
         AND generation = ? AND next_attempt = ?`,
    )
    .bind(nextAt, m.event_id, m.endpoint_id, m.generation, m.attempt)
    .run();
}

/** One attempt as recorded, and where it leaves its delivery. */
interface AttemptRecord {
  attempt: AttemptRow;
  status: DeliveryRow["status"];
  generation: number;
  now: string;
}

/** Records an attempt and moves its delivery (of the message's generation only) on, with `alongside`, at once. */
export async function recordAttempt(
  db: D1Database,
  r: AttemptRecord,
  alongside: D1PreparedStatement[] = [],
): Promise<void> {
  const a = r.attempt;
  await db.batch([
    db
      .prepare(
        `INSERT INTO delivery_attempts (id, event_id, endpoint_id, attempt, created_at, duration_ms, status_code, error, outcome, next_retry_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        a.id,
        a.event_id,
        a.endpoint_id,
        a.attempt,
        a.created_at,
        a.duration_ms,
        a.status_code,
        a.error,
        a.outcome,
        a.next_retry_at,
      ),
    db
      .prepare(
        `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_attempt = ?, next_attempt_at = ?, last_status_code = ?,
           last_error = ?, updated_at = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
         WHERE event_id = ? AND endpoint_id = ? AND generation = ?`,
      )
      .bind(
        r.status,
        a.attempt + 1,
        a.next_retry_at,
        a.status_code,
        a.error,
        r.now,
        r.status,
        r.now,
        a.event_id,
        a.endpoint_id,
        r.generation,
      ),
    ...alongside,
  ]);
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
