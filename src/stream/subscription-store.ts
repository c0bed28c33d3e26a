/** Rows of `event_subscriptions`: poll-only subscriptions, and every statement over them. */

import { insertWith } from "../storage/insert-many";
import { findOwned } from "../storage/owned-rows";

export interface SubscriptionRow {
  id: string;
  tenant: string;
  description: string | null;
  /** JSON array of event types; null = every type. */
  event_types: string | null;
  /** JSON array of canonical source keys. */
  sources: string;
  created_at: string;
  updated_at: string;
}

export const insertSubscription = (db: D1Database, row: SubscriptionRow, alongside: D1PreparedStatement[] = []) =>
  insertWith(db, "event_subscriptions", row, alongside);

/** The tenant's subscription, or null (another tenant's is reported as missing, never as forbidden). */
export async function findSubscription(db: D1Database, tenant: string, id: string): Promise<SubscriptionRow | null> {
  return findOwned<SubscriptionRow>(db, "event_subscriptions", tenant, id);
}

/** A condition that holds while the subscription is still exactly `row`: the guard of a write under `If-Match`. */
function unchangedSince(row: SubscriptionRow): { sql: string; params: (string | null)[] } {
  return {
    sql: "description IS ? AND event_types IS ? AND sources = ? AND updated_at = ?",
    params: [row.description, row.event_types, row.sources, row.updated_at],
  };
}

/** Writes a subscription's changeable columns; with `expected`, only if the stored row still equals it. */
export async function saveSubscription(db: D1Database, row: SubscriptionRow, expected?: SubscriptionRow) {
  const guard = expected ? unchangedSince(expected) : { sql: "1", params: [] };
  const result = await db
    .prepare(
      `UPDATE event_subscriptions SET description = ?, event_types = ?, sources = ?, updated_at = ? WHERE id = ? AND ${guard.sql}`,
    )
    .bind(row.description, row.event_types, row.sources, row.updated_at, row.id, ...guard.params)
    .run();
  return result.meta.changes > 0;
}

/**
 * Deletes a subscription (with `expected`, only if the stored row still equals it); the events recorded for it stay
 * in the log until retention removes them. Returns whether it was deleted.
 */
export async function deleteSubscription(db: D1Database, id: string, expected?: SubscriptionRow): Promise<boolean> {
  const guard = expected ? unchangedSince(expected) : { sql: "1", params: [] };
  const result = await db
    .prepare(`DELETE FROM event_subscriptions WHERE id = ? AND ${guard.sql}`)
    .bind(id, ...guard.params)
    .run();
  return result.meta.changes > 0;
}
