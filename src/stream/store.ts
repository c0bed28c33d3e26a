/** Reads of the event stream: a tenant's events in commit order (`position`, see migrations/0004) and its counter. */
import type { EventRow } from "../events/store";

/** An event as the stream reads it: with its position. */
type StreamRow = EventRow & { position: number };

/** What a stream is filtered on besides its tenant: canonical values, absent when not filtered. */
export interface StreamFilters {
  type?: string;
  source?: string;
}

/** The stream's counter: the last position handed out and the highest one retention deleted (0: none yet). */
interface StreamCounter {
  last: number;
  pruned: number;
}

function conditions(tenant: string, filters: StreamFilters) {
  const where = ["tenant = ?"];
  const params: string[] = [tenant];
  for (const [column, value] of [
    ["type", filters.type],
    ["source", filters.source],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  return { where: where.join(" AND "), params };
}

/**
 * Up to `limit` of the tenant's matching events after position `after`, in position order, and the counter, read
 * in one transaction: every position up to `counter.last` is committed and visible to the same read.
 */
export async function eventsAfter(
  db: D1Database,
  tenant: string,
  filters: StreamFilters,
  after: number,
  limit: number,
): Promise<{ rows: StreamRow[]; counter: StreamCounter }> {
  const { where, params } = conditions(tenant, filters);
  const [events, counter] = await db.batch([
    db
      .prepare(`SELECT * FROM events WHERE ${where} AND position > ? ORDER BY position LIMIT ?`)
      .bind(...params, after, limit),
    db.prepare("SELECT last, pruned FROM event_stream WHERE id = 1"),
  ]);
  return {
    rows: (events?.results ?? []) as StreamRow[],
    counter: (counter?.results[0] as StreamCounter | undefined) ?? { last: 0, pruned: 0 },
  };
}

/**
 * Where a stream starting at `since` stands: just before the first (lowest-positioned) of the tenant's matching
 * events created at or after `since`, or at the stream's end when there is none yet.
 */
export async function positionBefore(
  db: D1Database,
  tenant: string,
  filters: StreamFilters,
  since: string,
): Promise<number> {
  const { where, params } = conditions(tenant, filters);
  const row = await db
    .prepare(
      `SELECT COALESCE(
         (SELECT MIN(position) - 1 FROM events WHERE ${where} AND created_at >= ?),
         (SELECT last FROM event_stream WHERE id = 1),
         0) AS position`,
    )
    .bind(...params, since)
    .first<{ position: number }>();
  return row?.position ?? 0;
}

/** When the tenant's oldest event still kept was created, or null when it has none. */
export async function oldestEventTime(db: D1Database, tenant: string): Promise<string | null> {
  const row = await db
    .prepare("SELECT MIN(created_at) AS created_at FROM events WHERE tenant = ?")
    .bind(tenant)
    .first<{ created_at: string | null }>();
  return row?.created_at ?? null;
}
