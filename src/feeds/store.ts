/** Rows of `feeds` (saved feeds, migration 0006), and every D1 statement over them. */

import { insertWith } from "../storage/insert-many";
import { findOwned } from "../storage/owned-rows";

export interface FeedRow {
  id: string;
  tenant: string;
  description: string | null;
  /** JSON array of canonical feed sources. */
  sources: string;
  created_at: string;
}

export const insertFeed = (db: D1Database, row: FeedRow, alongside: D1PreparedStatement[] = []) =>
  insertWith(db, "feeds", row, alongside);

/** The tenant's feed, or null (another tenant's is reported as missing, never as forbidden). */
export async function findFeed(db: D1Database, tenant: string, id: string): Promise<FeedRow | null> {
  return findOwned<FeedRow>(db, "feeds", tenant, id);
}

/**
 * Deletes the tenant's feed; returns whether it was there. Feeds never change, so a row that still exists is still the
 * state an `If-Match` was taken from: no further guard is needed.
 */
export async function deleteFeed(db: D1Database, tenant: string, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM feeds WHERE id = ? AND tenant = ?").bind(id, tenant).run();
  return result.meta.changes > 0;
}
