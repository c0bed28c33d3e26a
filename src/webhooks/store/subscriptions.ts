/** Rows of `event_subscriptions`: poll-only subscriptions, and every statement over them. */

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

export async function insertSubscription(db: D1Database, row: SubscriptionRow): Promise<void> {
  await db
    .prepare(
      `INSERT INTO event_subscriptions (id, tenant, description, event_types, sources, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(row.id, row.tenant, row.description, row.event_types, row.sources, row.created_at, row.updated_at)
    .run();
}

/** The tenant's subscription, or null (another tenant's is reported as missing, never as forbidden). */
export async function findSubscription(db: D1Database, tenant: string, id: string): Promise<SubscriptionRow | null> {
  return db
    .prepare("SELECT * FROM event_subscriptions WHERE id = ? AND tenant = ?")
    .bind(id, tenant)
    .first<SubscriptionRow>();
}

/** Writes a subscription's changeable columns. */
export async function saveSubscription(db: D1Database, row: SubscriptionRow): Promise<void> {
  await db
    .prepare(
      "UPDATE event_subscriptions SET description = ?, event_types = ?, sources = ?, updated_at = ? WHERE id = ?",
    )
    .bind(row.description, row.event_types, row.sources, row.updated_at, row.id)
    .run();
}

/** Deletes a subscription; the events recorded for it stay in the log until retention removes them. */
export async function deleteSubscription(db: D1Database, id: string): Promise<void> {
  await db.prepare("DELETE FROM event_subscriptions WHERE id = ?").bind(id).run();
}
