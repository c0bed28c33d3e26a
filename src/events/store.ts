/** Rows of `events`: one by id, the stored body every attempt sends, and retention. Written only by record.ts. */
import type { EventType } from "../schemas/events";
import { findOwned } from "../storage/owned-rows";

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

export async function findEvent(db: D1Database, tenant: string, id: string): Promise<EventRow | null> {
  return findOwned<EventRow>(db, "events", tenant, id);
}

/**
 * Deletes up to `limit` events created before `cutoff`, with their deliveries and attempts, and records the highest
 * stream position deleted: a stream cursor below it has lost events (see `readStream`).
 */
export async function pruneEvents(db: D1Database, cutoff: string, limit: number): Promise<void> {
  const expired = "SELECT id FROM events WHERE created_at < ? ORDER BY created_at LIMIT ?";
  await db.batch([
    db
      .prepare(
        `INSERT INTO event_stream (id, last, pruned)
         SELECT 1, 0, COALESCE(MAX(position), 0) FROM events WHERE id IN (${expired})
         ON CONFLICT (id) DO UPDATE SET pruned = MAX(pruned, excluded.pruned)`,
      )
      .bind(cutoff, limit),
    db.prepare(`DELETE FROM delivery_attempts WHERE event_id IN (${expired})`).bind(cutoff, limit),
    db.prepare(`DELETE FROM deliveries WHERE event_id IN (${expired})`).bind(cutoff, limit),
    db.prepare(`DELETE FROM events WHERE id IN (${expired})`).bind(cutoff, limit),
  ]);
}
