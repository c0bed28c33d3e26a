/** Tables whose rows belong to one tenant and are addressed by `id`. */
type OwnedTable = "webhook_endpoints" | "event_subscriptions" | "events" | "feeds" | "connections";

/**
 * The tenant's row of `table` with this id, or null: another tenant's row is reported as missing, never as
 * forbidden, so ids reveal nothing across tenants.
 * @example await findOwned<FeedRow>(env.DB, "feeds", tenant, "feed_01J…")
 */
export function findOwned<Row>(db: D1Database, table: OwnedTable, tenant: string, id: string): Promise<Row | null> {
  return db.prepare(`SELECT * FROM ${table} WHERE id = ? AND tenant = ?`).bind(id, tenant).first<Row>();
}
