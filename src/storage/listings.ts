/** Reads for the list routes over D1 tables: endpoints, subscriptions, events, attempts and saved feeds. */

/** Tables listed newest first by the list routes; each has `id` and `created_at` columns. */
export type ListedTable =
  | "webhook_endpoints"
  | "event_subscriptions"
  | "events"
  | "delivery_attempts"
  | "feeds"
  | "connections";

/**
 * Up to `limit` rows from `offset` in the order of every listing, `created_at DESC, id DESC`, where all of
 * `where` hold (SQL conditions with `?` placeholders, bound to `params`).
 */
export async function newestFirst<Row>(
  db: D1Database,
  table: ListedTable,
  where: string[],
  params: (string | number)[],
  limit: number,
  offset: number,
): Promise<Row[]> {
  const conditions = where.length > 0 ? where.join(" AND ") : "1 = 1";
  const { results } = await db
    .prepare(`SELECT * FROM ${table} WHERE ${conditions} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
    .bind(...params, limit, offset)
    .all<Row>();
  return results;
}
